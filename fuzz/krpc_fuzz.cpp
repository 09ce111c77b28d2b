// A KRPC packet from anyone on the internet: decoded, and re-encoded when it decodes. What we encode from a
// decoded message must decode again, and BEP 44 items must survive the round trip unchanged (their values are
// hashed and signed as the exact bytes, so any drift would break targets and signatures).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <variant>

#include "dht/krpc.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto m = shoal::dht::decode(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!m) return 0;
  std::visit(
      [](const auto& msg) {
        auto again = shoal::dht::decode(shoal::dht::encode(msg));
        if (!again) __builtin_trap();
        using T = std::decay_t<decltype(msg)>;
        if constexpr (!std::is_same_v<T, shoal::dht::ErrorReply>) {
          const auto* back = std::get_if<T>(&*again);
          if (back == nullptr || !(back->item == msg.item)) __builtin_trap();
        }
      },
      *m);
  return 0;
}
