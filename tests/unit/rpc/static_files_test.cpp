#include "rpc/static_files.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

namespace shoal::rpc {
namespace {

TEST(StaticFiles, MapsPathsInsideTheRootOnly) {
  auto base =
      std::filesystem::temp_directory_path() / ("shoal-web-" + std::to_string(std::random_device{}()));
  auto root = base / "web";
  std::filesystem::create_directories(root / "js");
  std::ofstream(root / "index.html") << "<html>";
  std::ofstream(root / "js" / "app.js") << "x";
  std::ofstream(base / "secret.txt") << "no";
  std::filesystem::create_symlink(base / "secret.txt", root / "link.txt");
  auto canonical_root = std::filesystem::canonical(root);

  EXPECT_EQ(static_file(root, "/"), canonical_root / "index.html");
  EXPECT_EQ(static_file(root, "/js/app.js?v=1"), canonical_root / "js" / "app.js");
  EXPECT_EQ(static_file(root, "/transmission/web/"), canonical_root / "index.html");
  EXPECT_EQ(static_file(root, "/js/%61pp.js"), canonical_root / "js" / "app.js");
  for (auto bad : {"/../secret.txt", "/js/../../secret.txt", "/%2e%2e/secret.txt", "/link.txt", "/missing",
                   "relative", "/js/%zz", "/a%00b"})
    EXPECT_FALSE(static_file(root, bad).has_value()) << bad;
  EXPECT_EQ(content_type("a.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type("a.unknown"), "application/octet-stream");
  std::filesystem::remove_all(base);
}

}  // namespace
}  // namespace shoal::rpc
