// Reads arbitrary bytes as a PCP (RFC 6887) MAP answer from the router: every refusal names its reason, a
// refusal for a result code hands back the answer, and whatever is read back matches the bytes it came from.
#include <cstddef>
#include <cstdint>

#include "nat/pcp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shoal::nat;
  PcpMapResponse refused;
  auto r = read_map_response({data, size}, &refused);
  if (!r) {
    if (r.error().message().empty()) __builtin_trap();
    if (r.error() == PcpError::refused && refused.raw_result == 0) __builtin_trap();
    return 0;
  }
  if (size < kPcpMapMessageSize || data[3] != 0 || r->external_port != ((data[42] << 8) | data[43]))
    __builtin_trap();
  if (to_string(r->external_address).empty()) __builtin_trap();
  return 0;
}
