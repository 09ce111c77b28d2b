// Parses arbitrary bytes as a magnet link; whatever parses must survive generation and reparsing unchanged.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "magnet/magnet_link.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto link = shoal::magnet::parse_magnet(input);
  if (!link) {
    (void)link.error().message();
    return 0;
  }
  auto again = shoal::magnet::parse_magnet(shoal::magnet::to_uri(*link));
  if (!again || !(*again == *link)) __builtin_trap();
  return 0;
}
