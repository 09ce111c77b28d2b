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

bool is_hex(std::string_view text) {
  return text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// Over-long names: cut to NAME_MAX on a UTF-8 boundary, "~" + 8 hex digits of the original's SHA-1,
// extension.
TEST(SanitizeComponent, LongNamesMapToNameMaxWithAHashOfTheOriginal) {
  struct Case {
    const char* what;
    std::string in;
    std::string extension;  // what the mapped name must end with after the hash
  };
  std::string cjk;
  for (int i = 0; i < 100; ++i)
    cjk += "\xe6\x97\xa5";  // 300 bytes of 3-byte characters
  std::vector<Case> cases = {
      {"ascii with extension", std::string(300, 'a') + ".mkv", ".mkv"},
      {"no extension", std::string(300, 'b'), ""},
      {"extension too long to keep", std::string(300, 'c') + "." + std::string(20, 'e'), ""},
      {"3-byte characters", cjk + ".txt", ".txt"},
      {"4-byte characters",
       [] {
         std::string t;
         for (int i = 0; i < 70; ++i)
           t += "\xf0\x9f\x98\x80";
         return t;
       }(),
       ""},
      {"control bytes replaced first", std::string(300, '\x01') + ".bin", ".bin"},
  };
  for (const auto& c : cases) {
    auto out = sanitize_component(c.in);
    ASSERT_EQ(out.verdict, ComponentVerdict::keep) << c.what;
    EXPECT_TRUE(out.shortened) << c.what;
    EXPECT_LE(out.name.size(), kMaxComponentBytes) << c.what;
    EXPECT_GE(out.name.size(), kMaxComponentBytes - 3) << c.what;  // cut at most one character short
    EXPECT_TRUE(is_valid_utf8(out.name)) << c.what;
    ASSERT_TRUE(out.name.ends_with(c.extension)) << c.what << ": " << out.name;
    std::string_view rest = std::string_view(out.name).substr(0, out.name.size() - c.extension.size());
    ASSERT_GE(rest.size(), 9u) << c.what;
    EXPECT_EQ(rest[rest.size() - 9], '~') << c.what << ": " << out.name;
    EXPECT_TRUE(is_hex(rest.substr(rest.size() - 8))) << c.what << ": " << out.name;
    EXPECT_EQ(sanitize_component(c.in).name, out.name) << c.what << ": not deterministic";
  }
}

TEST(SanitizeComponent, LongNamesSharingTheirStartStayDistinct) {
  std::string common(300, 'x');
  auto a = sanitize_component(common + "1.mkv");
  auto b = sanitize_component(common + "2.mkv");
  EXPECT_NE(a.name, b.name);
  EXPECT_EQ(a.name.substr(0, 200), b.name.substr(0, 200));
}

TEST(SanitizeComponent, NamesThatFitAreNotMarkedShortened) {
  EXPECT_FALSE(sanitize_component(std::string(kMaxComponentBytes, 'a')).shortened);
  EXPECT_EQ(sanitize_component(std::string(kMaxComponentBytes, 'a')).name,
            std::string(kMaxComponentBytes, 'a'));
  EXPECT_FALSE(sanitize_component("a\x01b").shortened);  // replaced characters are not a shortening
  EXPECT_TRUE(sanitize_component(std::string(kMaxComponentBytes + 1, 'a')).shortened);
}

std::string torrent_with_paths(const std::string& name, const std::vector<std::vector<std::string>>& paths) {
  bencode::Value::List files;
  for (const auto& p : paths) {
    bencode::Value::List parts;
    for (const auto& part : p)
      parts.emplace_back(part);
    files.emplace_back(bencode::Value::Dict{{"length", 10}, {"path", std::move(parts)}});
  }
  auto count = static_cast<std::size_t>((10 * paths.size() + 16383) / 16384);
  bencode::Value::Dict info{{"name", name},
                            {"piece length", 16384},
                            {"pieces", std::string(20 * count, 'h')},
                            {"files", std::move(files)}};
  return bencode::encode(bencode::Value(bencode::Value::Dict{{"info", std::move(info)}}));
}

TEST(ParseTorrent, LongComponentsAreMappedAndListedOnce) {
  std::string long_dir(400, 'd');
  std::string common(300, 'f');
  auto t = parse_torrent(torrent_with_paths(
      std::string(260, 'n'), {{long_dir, common + "1.bin"}, {long_dir, common + "2.bin"}, {"short.txt"}}));
  ASSERT_TRUE(t) << t.error().message();
  ASSERT_EQ(t->files.size(), 3u);
  EXPECT_NE(t->files[0].path, t->files[1].path);
  EXPECT_LE(t->name.size(), kMaxComponentBytes);
  EXPECT_TRUE(t->files[0].path.starts_with(t->name + "/"));
  EXPECT_EQ(t->files[2].path, t->name + "/short.txt");
  // The name, the folder (once, though two files use it) and the two file names.
  ASSERT_EQ(t->shortened_names.size(), 4u);
  EXPECT_EQ(t->shortened_names[0].original, std::string(260, 'n'));
  EXPECT_EQ(t->shortened_names[0].used, t->name);
  EXPECT_EQ(t->shortened_names[1].original, long_dir);
  EXPECT_EQ(t->shortened_names[2].original, common + "1.bin");
  EXPECT_TRUE(t->files[0].path.ends_with("/" + t->shortened_names[2].used));
  auto plain = parse_torrent(torrent_with_paths("n", {{"a"}}));
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain->shortened_names.empty());
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
