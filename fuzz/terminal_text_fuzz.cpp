// Escapes arbitrary bytes for a terminal: the result never holds a byte a terminal acts on (C0 controls, DEL,
// C1 controls as UTF-8, or any byte outside valid UTF-8), and text with nothing to escape comes back
// unchanged.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "shoal/terminal_text.hpp"

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string out = shoal::escape_for_terminal(input);
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto b = static_cast<unsigned char>(out[i]);
    check(b >= 0x20 && b != 0x7f);
    if (b == 0xc2 && i + 1 < out.size()) check(static_cast<unsigned char>(out[i + 1]) > 0x9f);
  }
  check(shoal::escape_for_terminal(out) == out);  // nothing left to escape
  bool plain = true;
  for (char c : input)
    plain = plain && c >= 0x20 && c < 0x7f;
  if (plain) check(out == input);
  return 0;
}
