#include "metainfo/file_rename.hpp"

#include <gtest/gtest.h>

namespace shoal::metainfo {
namespace {

TorrentInfo multi_file() {
  TorrentInfo info;
  info.name = "album";
  info.multi_file = true;
  for (const char* p : {"album/cd1/01.flac", "album/cd1/02.flac", "album/cd2/01.flac", "album/cover.jpg"})
    info.files.push_back(FileEntry{p, 10});
  return info;
}

TorrentInfo single_file() {
  TorrentInfo info;
  info.name = "movie.mkv";
  info.files.push_back(FileEntry{"movie.mkv", 10});
  return info;
}

TEST(FileRename, AFileGetsItsNewLastComponent) {
  auto info = multi_file();
  auto plan = plan_rename(info, "album/cd1/02.flac", "02 - Second.flac");
  ASSERT_TRUE(plan) << plan.error();
  EXPECT_EQ(plan->to, "album/cd1/02 - Second.flac");
  ASSERT_EQ(plan->files.size(), 1u);
  EXPECT_EQ(plan->files[0].first, 1u);
  EXPECT_FALSE(plan->renames_root);
  apply_rename(info, *plan);
  EXPECT_EQ(info.files[1].path, "album/cd1/02 - Second.flac");
  EXPECT_EQ(info.files[1].torrent_path, "album/cd1/02.flac");  // what web seeds serve it as
  EXPECT_TRUE(info.files[0].torrent_path.empty());
  EXPECT_EQ(info.name, "album");
}

TEST(FileRename, AFolderMovesEveryFileBelowItAndNoOther) {
  auto info = multi_file();
  auto plan = plan_rename(info, "album/cd1/", "disc one");
  ASSERT_TRUE(plan) << plan.error();
  apply_rename(info, *plan);
  EXPECT_EQ(info.files[0].path, "album/disc one/01.flac");
  EXPECT_EQ(info.files[1].path, "album/disc one/02.flac");
  EXPECT_EQ(info.files[2].path, "album/cd2/01.flac");
  // "cd" is a prefix of "cd1" and "cd2" but no folder: nothing to rename.
  EXPECT_FALSE(plan_rename(info, "album/cd", "x"));
}

TEST(FileRename, RenamingTheTopFolderOrTheSingleFileRenamesTheTorrent) {
  auto info = multi_file();
  auto plan = plan_rename(info, "album", "Album (2026)");
  ASSERT_TRUE(plan) << plan.error();
  EXPECT_TRUE(plan->renames_root);
  apply_rename(info, *plan);
  EXPECT_EQ(info.name, "Album (2026)");
  EXPECT_EQ(info.files[3].path, "Album (2026)/cover.jpg");

  auto one = single_file();
  plan = plan_rename(one, "movie.mkv", "film.mkv");
  ASSERT_TRUE(plan) << plan.error();
  apply_rename(one, *plan);
  EXPECT_EQ(one.name, "film.mkv");
  EXPECT_EQ(one.files[0].path, "film.mkv");
}

TEST(FileRename, NamesThatCouldEscapeOrAreNotPlainAreRefused) {
  auto info = multi_file();
  for (const char* bad : {"", ".", "..", "a/b", "/etc", "nul\x01", "CON", "trailing.", "x\\..\\y"})
    EXPECT_FALSE(plan_rename(info, "album/cover.jpg", bad)) << bad;
  EXPECT_FALSE(plan_rename(info, "album/cover.jpg", std::string(300, 'a')));
  EXPECT_FALSE(plan_rename(info, "", "x"));
  EXPECT_FALSE(plan_rename(info, "album/nothing", "x"));
}

TEST(FileRename, ANameAnotherFileOrFolderHasIsRefused) {
  auto info = multi_file();
  auto clash = plan_rename(info, "album/cd1", "cd2");
  ASSERT_FALSE(clash);
  EXPECT_NE(clash.error().find("already"), std::string::npos);
  EXPECT_FALSE(plan_rename(info, "album/cover.jpg", "cd1"));
  EXPECT_FALSE(plan_rename(info, "album/cover.jpg", "cover.jpg"));
}

TEST(FileRename, StoredPathsAreCheckedBeforeUse) {
  auto info = multi_file();
  auto skipped = apply_file_paths(info, {{0, "renamed/cd1/01.flac"},
                                         {1, "album/../../etc/passwd"},
                                         {2, "/abs/path"},
                                         {3, "album/cd1/02.flac"},  // file 1 is there
                                         {9, "album/x"}});
  EXPECT_EQ(skipped.size(), 4u);
  EXPECT_EQ(info.files[0].path, "renamed/cd1/01.flac");
  EXPECT_EQ(info.files[1].path, "album/cd1/02.flac");
  EXPECT_EQ(info.files[2].path, "album/cd2/01.flac");
  EXPECT_EQ(info.files[3].path, "album/cover.jpg");
  EXPECT_EQ(info.name, "renamed");
}

}  // namespace
}  // namespace shoal::metainfo
