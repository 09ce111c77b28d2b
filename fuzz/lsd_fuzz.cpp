// Decodes arbitrary bytes as a BEP 14 announce; whatever decodes must survive encoding and decoding again
// unchanged, and every refusal must name its reason.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lsd/lsd_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto announce = shoal::lsd::decode(input);
  if (!announce) {
    if (shoal::lsd::describe(announce.error()).empty()) __builtin_trap();
    return 0;
  }
  if (announce->info_hashes.empty() || announce->info_hashes.size() > shoal::lsd::kMaxInfoHashes ||
      announce->port == 0)
    __builtin_trap();
  auto packet = shoal::lsd::encode(*announce);
  if (packet.size() > shoal::lsd::kMaxPacketSize) __builtin_trap();
  auto again = shoal::lsd::decode(packet);
  if (!again || !(*again == *announce)) __builtin_trap();
  return 0;
}
