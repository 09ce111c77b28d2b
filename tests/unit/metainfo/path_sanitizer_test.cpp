#include "metainfo/path_sanitizer.hpp"

#include <gtest/gtest.h>

#include "bencode/value.hpp"
#include "metainfo/torrent_info.hpp"
#include "runtime/file_io.hpp"

namespace shoal::metainfo {
namespace {

std::string keep(std::string_view in) {
  auto out = sanitize_component(in);
  EXPECT_EQ(out.verdict, ComponentVerdict::keep) << in;
  return out.name;
}

TEST(SanitizeComponent, DropsEmptyAndDotRejectsDotDot) {
  EXPECT_EQ(sanitize_component("").verdict, ComponentVerdict::drop);
  EXPECT_EQ(sanitize_component(".").verdict, ComponentVerdict::drop);
  EXPECT_EQ(sanitize_component("..").verdict, ComponentVerdict::reject);
}

TEST(SanitizeComponent, SeparatorsAndControlCharactersBecomeUnderscores) {
  EXPECT_EQ(keep("/etc/passwd"), "_etc_passwd");
  EXPECT_EQ(keep("a\\..\\b"), "a_.._b");
  EXPECT_EQ(keep(std::string_view("a\0b", 3)), "a_b");
  EXPECT_EQ(keep("tab\there\x7f"), "tab_here_");
  EXPECT_EQ(keep("C:\\Windows"), "C:_Windows");
}

TEST(SanitizeComponent, TrailingDotsAndSpacesAreTrimmed) {
  EXPECT_EQ(keep("name. . "), "name");
  EXPECT_EQ(keep("..."), "_");
  EXPECT_EQ(keep(". ."), "_");
}

TEST(SanitizeComponent, WindowsReservedNamesArePrefixed) {
  EXPECT_EQ(keep("CON"), "_CON");
  EXPECT_EQ(keep("con.txt"), "_con.txt");
  EXPECT_EQ(keep("Lpt9"), "_Lpt9");
  EXPECT_EQ(keep("COM0"), "COM0");
  EXPECT_EQ(keep("CONSOLE"), "CONSOLE");
}

TEST(SanitizeComponent, InvalidUtf8IsReplacedValidKept) {
  EXPECT_EQ(keep("\xe6\x97\xa5\xe6\x9c\xac.txt"), "\xe6\x97\xa5\xe6\x9c\xac.txt");
  EXPECT_EQ(keep("bad\xff\xfe"), "bad__");
  EXPECT_EQ(keep("overlong\xc0\xaf"), "overlong__");
  EXPECT_EQ(keep("surrogate\xed\xa0\x80"), "surrogate___");
  EXPECT_EQ(keep("cut\xe6\x97"), "cut__");
}

TEST(SanitizeComponent, LongNamesAreCutKeepingExtensionAndUtf8) {
  std::string name(300, 'a');
  name += ".mkv";
  auto out = keep(name);
  EXPECT_EQ(out.size(), kMaxComponentBytes);
  EXPECT_TRUE(out.ends_with(".mkv"));
  std::string wide;
  for (int i = 0; i < 200; ++i)
    wide += "\xe6\x97\xa5";  // 600 bytes of 3-byte characters
  auto cut = keep(wide);
  EXPECT_LE(cut.size(), kMaxComponentBytes);
  EXPECT_TRUE(is_valid_utf8(cut));
}

// Hostile torrents checked in under tests/data/hostile: each either fails with invalid_path or yields paths
// that stay inside the download folder.
TEST(HostileTorrents, NeverEscapeTheDownloadFolder) {
  int checked = 0;
  for (const char* file : {"dotdot.torrent", "absolute.torrent", "backslash.torrent", "nul.torrent",
                           "reserved.torrent", "long.torrent", "badutf8.torrent", "dots.torrent"}) {
    auto bytes = runtime::read_file(std::string(SHOAL_TEST_DATA_DIR) + "/hostile/" + file, 1 << 20);
    ASSERT_TRUE(bytes) << file;
    auto t = parse_torrent(*bytes);
    ++checked;
    if (!t) {
      EXPECT_EQ(t.error().code, Errc::invalid_path) << file << ": " << t.error().message();
      continue;
    }
    for (const auto& f : t->files) {
      EXPECT_FALSE(f.path.empty()) << file;
      EXPECT_NE(f.path.front(), '/') << file;
      EXPECT_EQ(f.path.find('\\'), std::string::npos) << file;
      EXPECT_EQ(f.path.find('\0'), std::string::npos) << file;
      for (std::size_t start = 0;;) {
        auto slash = f.path.find('/', start);
        std::string_view part = std::string_view(f.path).substr(start, slash - start);
        EXPECT_NE(part, "..") << file << ": " << f.path;
        EXPECT_NE(part, ".") << file << ": " << f.path;
        EXPECT_FALSE(part.empty()) << file << ": " << f.path;
        EXPECT_LE(part.size(), kMaxComponentBytes) << file;
        if (slash == std::string::npos) break;
        start = slash + 1;
      }
    }
  }
  EXPECT_EQ(checked, 8);
}

TEST(HostileTorrents, DotDotIsRejected) {
  auto bytes = runtime::read_file(std::string(SHOAL_TEST_DATA_DIR) + "/hostile/dotdot.torrent", 1 << 20);
  ASSERT_TRUE(bytes);
  auto t = parse_torrent(*bytes);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, Errc::invalid_path);
}

}  // namespace
}  // namespace shoal::metainfo
