// The HTTP tracker's announce response, as a hostile tracker might send it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tracker/announce.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto r =
      shoal::tracker::parse_announce_response(std::string_view(reinterpret_cast<const char*>(data), size));
  if (r && r->peers.size() > shoal::tracker::kMaxPeersPerResponse) __builtin_trap();
  return 0;
}
