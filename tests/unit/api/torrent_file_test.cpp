// The public torrent helpers (shoal/torrent_file.hpp), used as an embedder would: only include/shoal/.
#include "shoal/torrent_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace shoal {
namespace {

namespace fs = std::filesystem;

class TorrentFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("shoal-api-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& relative, std::size_t size, char fill) {
    fs::path p = root_ / relative;
    fs::create_directories(p.parent_path());
    std::string data(size, fill);
    std::ofstream(p, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
  }

  fs::path root_;
};

TEST_F(TorrentFileTest, CreatesAFolderTorrentThatParsesBackWithEveryField) {
  write("tree/a.bin", 40000, 'a');
  write("tree/sub/b.bin", 30000, 'b');
  CreateTorrentParams params;
  params.path = root_ / "tree";
  params.trackers = {{"http://127.0.0.1:1/announce", "udp://127.0.0.1:2"}, {"http://127.0.0.1:3/announce"}};
  params.piece_size = 16 * 1024;
  params.is_private = true;
  params.web_seeds = {"http://127.0.0.1:4/files/"};
  params.comment = "a comment";
  params.source = "unit";
  params.creation_date = 1600000000;
  params.threads = 2;
  std::int64_t last_done = -1;
  std::int64_t last_total = -1;
  params.progress = [&](std::int64_t done, std::int64_t total) {
    EXPECT_GE(done, last_done);
    last_done = done;
    last_total = total;
  };
  auto bytes = create_torrent(params);
  ASSERT_TRUE(bytes) << bytes.error();
  EXPECT_EQ(last_done, 70000);
  EXPECT_EQ(last_total, 70000);

  auto info = parse_torrent(*bytes);
  ASSERT_TRUE(info) << info.error();
  EXPECT_EQ(info->info_hash.size(), 40u);
  EXPECT_EQ(info->name, "tree");
  EXPECT_EQ(info->total_size, 70000);
  EXPECT_EQ(info->piece_length, 16 * 1024);
  EXPECT_EQ(info->num_pieces, 5);  // ceil(70000 / 16384)
  ASSERT_EQ(info->files.size(), 2u);
  EXPECT_EQ(info->files[0].path, "tree/a.bin");
  EXPECT_EQ(info->files[0].size, 40000);
  EXPECT_FALSE(info->files[0].pad);
  EXPECT_EQ(info->files[1].path, "tree/sub/b.bin");
  EXPECT_EQ(info->trackers, params.trackers);
  EXPECT_EQ(info->web_seeds, params.web_seeds);
  EXPECT_TRUE(info->is_private);
  EXPECT_EQ(info->comment, "a comment");
  EXPECT_EQ(info->source, "unit");
  EXPECT_EQ(info->creation_date, 1600000000);
  EXPECT_EQ(info->created_by.rfind("Shoal ", 0), 0u);

  // The magnet link it gives names the same torrent, and parse_magnet reads it back.
  auto magnet = parse_magnet(info->magnet);
  ASSERT_TRUE(magnet) << magnet.error();
  EXPECT_EQ(magnet->info_hash, info->info_hash);
  EXPECT_EQ(magnet->name, "tree");
  EXPECT_EQ(magnet->trackers, (std::vector<std::string>{"http://127.0.0.1:1/announce", "udp://127.0.0.1:2",
                                                        "http://127.0.0.1:3/announce"}));
  EXPECT_EQ(magnet->web_seeds, params.web_seeds);
}

TEST_F(TorrentFileTest, SameInputGivesTheSameBytesAndNoDateUnlessAsked) {
  write("one.bin", 100000, 'x');
  CreateTorrentParams params;
  params.path = root_ / "one.bin";
  params.threads = 1;
  auto a = create_torrent(params);
  params.threads = 3;
  auto b = create_torrent(params);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->find("creation date"), std::string::npos);
  auto info = parse_torrent(*a);
  ASSERT_TRUE(info) << info.error();
  EXPECT_EQ(info->name, "one.bin");
  EXPECT_FALSE(info->creation_date.has_value());
  EXPECT_TRUE(info->trackers.empty());
  EXPECT_GE(info->piece_length, kMinCreatePieceSize);  // automatic
  ASSERT_EQ(info->files.size(), 1u);
  EXPECT_EQ(info->files[0].path, "one.bin");
  EXPECT_EQ(info->files[0].size, 100000);
}

TEST_F(TorrentFileTest, CreatesV2AndHybridTorrents) {
  write("tree/b.bin", 40000, 'b');
  write("tree/a/x.bin", 20000, 'x');
  write("tree/a.txt", 10, 't');
  for (auto version : {TorrentVersion::v2, TorrentVersion::hybrid}) {
    CreateTorrentParams params;
    params.path = root_ / "tree";
    params.piece_size = 16384;
    params.version = version;
    auto bytes = create_torrent(params);
    ASSERT_TRUE(bytes) << bytes.error();
    auto info = parse_torrent(*bytes);
    ASSERT_TRUE(info) << info.error();
    EXPECT_EQ(info->meta_version, version == TorrentVersion::v2 ? "v2" : "hybrid");
    EXPECT_EQ(info->info_hash_v2.size(), 64u);
    // File tree order: the folder a/ before a.txt; each file on a piece boundary after a pad.
    std::vector<std::string> real;
    for (const auto& f : info->files)
      if (!f.pad) real.push_back(f.path);
    EXPECT_EQ(real, (std::vector<std::string>{"tree/a/x.bin", "tree/a.txt", "tree/b.bin"}));
    EXPECT_EQ(info->total_size,
              6 * 16384);  // 20000 + pad to 32 KiB, 10 + pad to 16 KiB, 40000 + pad to 48 KiB
  }
}

TEST_F(TorrentFileTest, CreateRefusesBadInputWithAReason) {
  CreateTorrentParams params;
  params.path = root_ / "missing";
  auto missing = create_torrent(params);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("missing"), std::string::npos) << missing.error();

  fs::create_directories(root_ / "empty");
  params.path = root_ / "empty";
  auto empty = create_torrent(params);
  ASSERT_FALSE(empty);
  EXPECT_FALSE(empty.error().empty());

  write("data.bin", 1000, 'd');
  params.path = root_ / "data.bin";
  for (std::int64_t bad :
       {std::int64_t{1000}, std::int64_t{8192}, std::int64_t{512} * 1024 * 1024, std::int64_t{-16384}}) {
    params.piece_size = bad;
    auto r = create_torrent(params);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().find("piece size"), std::string::npos) << r.error();
  }
  params.piece_size = 0;
  params.creation_date = -1;
  auto dated = create_torrent(params);
  ASSERT_FALSE(dated);
  EXPECT_NE(dated.error().find("creation date"), std::string::npos) << dated.error();
  params.creation_date.reset();
  params.trackers = {{""}};
  auto no_url = create_torrent(params);
  ASSERT_FALSE(no_url);
  EXPECT_NE(no_url.error().find("tracker"), std::string::npos) << no_url.error();
}

TEST_F(TorrentFileTest, CreateStopsWhenCancelled) {
  write("big.bin", 4 * 1024 * 1024, 'c');
  std::atomic<bool> cancel{true};
  CreateTorrentParams params;
  params.path = root_ / "big.bin";
  params.piece_size = 16 * 1024;
  params.cancel = &cancel;
  auto r = create_torrent(params);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "cancelled");
  cancel = false;
  EXPECT_TRUE(create_torrent(params));
}

TEST(ParseTorrentTest, MalformedBytesGiveAClearError) {
  for (std::string_view bad :
       {std::string_view(""), std::string_view("not bencode"), std::string_view("d4:infoi1ee"),
        std::string_view("d8:announce3:abce"), std::string_view("d4:infod4:name1:xee"),
        std::string_view("l1:ae"), std::string_view("d4:info")}) {
    auto r = parse_torrent(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_FALSE(r.error().empty()) << bad;
  }
  auto r = parse_torrent("not bencode");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("not a valid torrent"), std::string::npos) << r.error();
}

// BEP 52 torrents made by `shoal create` (their hashes are the ones libtorrent 2.0 reports for them).
TEST(ParseTorrentTest, ReadsV2AndHybridTorrentsWithBothHashes) {
  auto read = [](const char* name) {
    std::ifstream in(std::string(SHOAL_TEST_DATA_DIR) + "/v2/" + name, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  auto hybrid = parse_torrent(read("hybrid-single.torrent"));
  ASSERT_TRUE(hybrid) << hybrid.error();
  EXPECT_EQ(hybrid->meta_version, "hybrid");
  EXPECT_EQ(hybrid->info_hash, "d8d80acc9bb9cda3167334185285d7bb552d9bec");
  EXPECT_EQ(hybrid->info_hash_v2, "a26cb0bbb2f30e10b22c4bb694bcd9ff45abe40d640dd34e144245535c1a44fa");
  EXPECT_NE(hybrid->magnet.find("xt=urn:btih:d8d80acc"), std::string::npos) << hybrid->magnet;
  EXPECT_NE(hybrid->magnet.find("xt=urn:btmh:1220a26cb0bb"), std::string::npos) << hybrid->magnet;

  auto v2 = parse_torrent(read("v2-multi.torrent"));
  ASSERT_TRUE(v2) << v2.error();
  EXPECT_EQ(v2->meta_version, "v2");
  EXPECT_EQ(v2->info_hash_v2, "eeb36485c34970ad70a1b56d149b66fee72732f491199a68b7a5e6fb6273522f");
  EXPECT_EQ(v2->info_hash, v2->info_hash_v2.substr(0, 40));  // what peers know a v2-only torrent by
  EXPECT_EQ(v2->magnet.find("btih"), std::string::npos) << v2->magnet;

  auto v1 =
      parse_torrent("d4:infod6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee");
  ASSERT_TRUE(v1) << v1.error();
  EXPECT_EQ(v1->meta_version, "v1");
  EXPECT_TRUE(v1->info_hash_v2.empty());
}

TEST(ParseMagnetTest, ReadsEveryField) {
  auto m = parse_magnet(
      "magnet:?xt=urn:btih:0123456789ABCDEF0123456789abcdef01234567&dn=My%20File&tr=http%3A%2F%2F127.0.0.1%"
      "2Fa"
      "&tr=udp://127.0.0.1:9&x.pe=127.0.0.1:6881&x.pe=[::1]:6882&ws=http://127.0.0.1/w");
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->info_hash, "0123456789abcdef0123456789abcdef01234567");
  EXPECT_TRUE(m->info_hash_v2.empty());
  EXPECT_EQ(m->name, "My File");
  EXPECT_EQ(m->trackers, (std::vector<std::string>{"http://127.0.0.1/a", "udp://127.0.0.1:9"}));
  EXPECT_EQ(m->peers, (std::vector<std::string>{"127.0.0.1:6881", "[::1]:6882"}));
  EXPECT_EQ(m->web_seeds, (std::vector<std::string>{"http://127.0.0.1/w"}));
}

TEST(ParseMagnetTest, MalformedLinksGiveAClearError) {
  struct Case {
    std::string_view uri;
    std::string_view says;
  };
  for (const Case& c :
       {Case{"http://example/", "invalid magnet link"}, Case{"magnet:?dn=x", "invalid magnet link"},
        Case{"magnet:?xt=urn:btih:123", "invalid magnet link"},
        Case{"magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=%G1", "invalid magnet link"},
        Case{"", "invalid magnet link"}}) {
    auto r = parse_magnet(c.uri);
    ASSERT_FALSE(r) << c.uri;
    EXPECT_NE(r.error().find(c.says), std::string::npos) << r.error();
    EXPECT_GT(r.error().size(), c.says.size() + 2) << "no reason after the prefix: " << r.error();
  }
}

}  // namespace
}  // namespace shoal
