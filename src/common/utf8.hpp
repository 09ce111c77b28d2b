// Strict UTF-8 decoding of one sequence, shared by everything that judges untrusted text (file names from
// torrents, strings printed on a terminal).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace shoal {

// Length and code point of the valid UTF-8 sequence at text[i], or length 0 when there is none. Overlong
// forms (they could smuggle an ASCII control past a byte-wise check), surrogates and code points beyond
// U+10FFFF are not valid.
struct Utf8Sequence {
  std::size_t length = 0;
  std::uint32_t code_point = 0;
};

inline Utf8Sequence decode_utf8(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char b0 = byte(i);
  if (b0 < 0x80) return {1, b0};
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if ((b0 & 0xe0) == 0xc0) {
    n = 2;
    cp = b0 & 0x1fu;
  } else if ((b0 & 0xf0) == 0xe0) {
    n = 3;
    cp = b0 & 0x0fu;
  } else if ((b0 & 0xf8) == 0xf0) {
    n = 4;
    cp = b0 & 0x07u;
  } else {
    return {};
  }
  if (i + n > text.size()) return {};
  for (std::size_t k = 1; k < n; ++k) {
    unsigned char b = byte(i + k);
    if ((b & 0xc0) != 0x80) return {};
    cp = (cp << 6) | (b & 0x3fu);
  }
  static constexpr std::array<std::uint32_t, 5> kMinForLength = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return {};
  return {n, cp};
}

}  // namespace shoal
