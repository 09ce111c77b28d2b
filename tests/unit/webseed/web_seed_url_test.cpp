#include "webseed/web_seed_url.hpp"

#include <gtest/gtest.h>

namespace shoal::webseed {
namespace {

TEST(WebSeedUrl, SingleFileUrlIsTheFile) {
  EXPECT_EQ(file_url("http://h/x/file.iso", "file.iso", false), "http://h/x/file.iso");
}

TEST(WebSeedUrl, SingleFileUrlEndingInSlashGetsTheName) {
  EXPECT_EQ(file_url("http://h/x/", "my file.iso", false), "http://h/x/my%20file.iso");
}

TEST(WebSeedUrl, MultiFileAppendsNameAndPathEachComponentEscaped) {
  EXPECT_EQ(file_url("http://h/pub/", "Album/Disc 1/01 #intro?.flac", true),
            "http://h/pub/Album/Disc%201/01%20%23intro%3F.flac");
}

TEST(WebSeedUrl, MultiFileWithoutTrailingSlashGetsOne) {
  EXPECT_EQ(file_url("http://h/pub", "T/a.txt", true), "http://h/pub/T/a.txt");
}

TEST(WebSeedUrl, NonAsciiBytesAreEscaped) {
  EXPECT_EQ(file_url("https://h/", "T/\xc3\xa9t\xc3\xa9.txt", true), "https://h/T/%C3%A9t%C3%A9.txt");
}

TEST(WebSeedUrl, AbsoluteLocation) {
  EXPECT_EQ(resolve_location("http://a/x/y", "https://b/z"), "https://b/z");
}

TEST(WebSeedUrl, HostRelativeLocation) {
  EXPECT_EQ(resolve_location("http://a:8080/x/y?q=1", "/z/w"), "http://a:8080/z/w");
}

TEST(WebSeedUrl, DirectoryRelativeLocation) {
  EXPECT_EQ(resolve_location("http://a/x/y?q=/1", "w"), "http://a/x/w");
}

TEST(WebSeedUrl, SchemeRelativeLocationKeepsTheScheme) {
  EXPECT_EQ(resolve_location("https://a/x", "//b/c"), "https://b/c");
}

TEST(WebSeedUrl, UnusableLocations) {
  EXPECT_FALSE(resolve_location("http://a/x", ""));
  EXPECT_FALSE(resolve_location("http://a/x", "ftp://b/c"));
  EXPECT_FALSE(resolve_location("http://a/x", "file:///etc/passwd"));
}

}  // namespace
}  // namespace shoal::webseed
