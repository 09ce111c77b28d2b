#include "shoal/terminal_text.hpp"

#include <gtest/gtest.h>

namespace shoal {
namespace {

TEST(EscapeForTerminal, EachKindOfByte) {
  struct Case {
    const char* what;
    std::string in;
    std::string out;
  };
  const std::vector<Case> cases = {
      {"empty", "", ""},
      {"plain ASCII", "hello, world ~!", "hello, world ~!"},
      {"backslash kept", "C:\\dir", "C:\\dir"},
      {"ESC of a CSI sequence", "\x1b[2J", "\\x1b[2J"},
      {"OSC title rewrite ended by BEL", "\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"},
      {"NUL", std::string("a\0b", 3), "a\\x00b"},
      {"tab newline return", "a\tb\nc\rd", "a\\tb\\nc\\rd"},
      {"other C0", "\x01\x08\x0b\x1f", "\\x01\\x08\\x0b\\x1f"},
      {"DEL", "x\x7fy", "x\\x7fy"},
      {"C1 CSI as UTF-8",
       "\xc2\x9b"
       "2J",
       "\\u009b2J"},
      {"C1 first and last", "\xc2\x80\xc2\x9f", "\\u0080\\u009f"},
      {"first code point after C1 kept", "\xc2\xa0", "\xc2\xa0"},
      {"Latin, CJK and emoji kept", "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80",
       "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80"},
      {"lone 8-bit C1 byte (invalid UTF-8)",
       "a\x9b"
       "b",
       "a\\x9bb"},
      {"invalid lead bytes", "\xff\xfe", "\\xff\\xfe"},
      {"overlong ESC", "\xc0\x9b", "\\xc0\\x9b"},
      {"overlong slash", "\xe0\x80\xaf", "\\xe0\\x80\\xaf"},
      {"surrogate", "\xed\xa0\x80", "\\xed\\xa0\\x80"},
      {"above U+10FFFF", "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"},
      {"truncated sequence at the end", "ok\xe6\x97", "ok\\xe6\\x97"},
      {"continuation byte alone", "\x80", "\\x80"},
  };
  for (const auto& c : cases)
    EXPECT_EQ(escape_for_terminal(c.in), c.out) << c.what;
}

TEST(EscapeForTerminal, OutputNeverHoldsAControlByte) {
  std::string every;
  for (int b = 0; b < 256; ++b)
    every.push_back(static_cast<char>(b));
  for (int lead = 0xc2; lead <= 0xc3; ++lead) {
    for (int cont = 0x80; cont <= 0xbf; ++cont) {
      every.push_back(static_cast<char>(lead));
      every.push_back(static_cast<char>(cont));
    }
  }
  std::string out = escape_for_terminal(every);
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto b = static_cast<unsigned char>(out[i]);
    EXPECT_FALSE(b < 0x20 || b == 0x7f) << "control byte at " << i;
    if (b == 0xc2 && i + 1 < out.size()) {
      EXPECT_GT(static_cast<unsigned char>(out[i + 1]), 0x9f) << "C1 control at " << i;
    }
  }
}

}  // namespace
}  // namespace shoal
