// Decodes arbitrary bytes as a BEP 14 announce; whatever decodes must survive encoding and decoding again
// unchanged, and every refusal must name its reason. The same bytes then go through the incoming side of
// lsd::LsdState, whose peers must be for our torrent and carry the announced port.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lsd/lsd_message.hpp"
#include "lsd/lsd_state.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shoal;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto announce = lsd::decode(input);

  // The info-hash of the seed corpus, so the fuzzer starts from announces that name our torrent.
  static const auto ours = *Sha1Digest::from_hex("0123456789abcdef0123456789abcdef01234567");
  lsd::LsdState state("fuzz");
  state.add_torrent(ours, 6881, lsd::TimePoint{});
  auto peers = state.on_packet(input, *Endpoint::parse("192.168.1.2:6771"),
                               *Endpoint::parse("239.192.152.143:6771"), lsd::TimePoint{});
  if (peers) {
    if (!announce || peers->size() != 1 || (*peers)[0].info_hash != ours ||
        (*peers)[0].endpoint.port != announce->port)
      __builtin_trap();
  } else if (peers.error().message().empty()) {
    __builtin_trap();
  }

  if (!announce) {
    if (lsd::describe(announce.error()).empty()) __builtin_trap();
    return 0;
  }
  if (announce->info_hashes.empty() || announce->info_hashes.size() > lsd::kMaxInfoHashes ||
      announce->port == 0)
    __builtin_trap();
  auto packet = lsd::encode(*announce);
  if (packet.size() > lsd::kMaxPacketSize) __builtin_trap();
  auto again = lsd::decode(packet);
  if (!again || !(*again == *announce)) __builtin_trap();
  return 0;
}
