// BEP 46 feed values as any DHT node may return them: parse arbitrary bytes; whatever names an info-hash must
// name the same one once written back.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dht/feed.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto ih = shoal::dht::parse_feed_value(input);
  if (!ih) {
    (void)shoal::dht::to_string(ih.error());
    return 0;
  }
  auto again = shoal::dht::parse_feed_value(shoal::dht::encode_feed_value(*ih));
  if (!again || !(*again == *ih)) __builtin_trap();
  return 0;
}
