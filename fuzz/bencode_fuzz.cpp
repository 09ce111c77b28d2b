// Decodes arbitrary bytes; whatever decodes must re-encode to exactly the same bytes (the decoder only
// accepts canonical bencode) and decode again to the same value.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "bencode/decoder.hpp"
#include "bencode/value.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto doc = shoal::bencode::decode(input);
  if (!doc) {
    (void)doc.error().message();
    return 0;
  }
  auto value = shoal::bencode::to_value(doc->root());
  std::string encoded = shoal::bencode::encode(value);
  if (encoded != input) __builtin_trap();
  auto again = shoal::bencode::decode(encoded);
  if (!again || !(shoal::bencode::to_value(again->root()) == value)) __builtin_trap();
  return 0;
}
