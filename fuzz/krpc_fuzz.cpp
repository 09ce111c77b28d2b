// A KRPC packet from anyone on the internet: decoded, and re-encoded when it decodes.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "dht/krpc.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto m = shoal::dht::decode(std::string_view(reinterpret_cast<const char*>(data), size));
  if (m) {
    std::visit([](const auto& msg) { (void)shoal::dht::encode(msg); }, *m);
  }
  return 0;
}
