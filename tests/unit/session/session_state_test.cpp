#include "session/session_state.hpp"

#include <gtest/gtest.h>

#include "metainfo/torrent_info.hpp"

namespace shoal::session {
namespace {

SavedTorrent sample() {
  SavedTorrent t;
  t.info_hash = std::string(40, 'a');
  t.save_path = "/srv/downloads";
  t.paused = true;
  t.sequential = true;
  t.seed_when_complete = false;
  t.seed_ratio = 1.5;
  t.seed_time_seconds = 3600;
  t.only = {"*.mkv", "docs/*"};
  t.file_mask = {true, false, true};
  t.max_download_rate = 1000;
  t.max_upload_rate = 2000;
  t.file_paths = {{0, "renamed/a.bin"}, {3, "renamed/b"}};
  return t;
}

TEST(SessionState, RoundTripsEveryField) {
  auto magnet = sample();
  magnet.info_hash = std::string(40, 'b');
  magnet.magnet = "magnet:?xt=urn:btih:" + magnet.info_hash;
  magnet.seed_ratio.reset();
  auto decoded = decode_session_state(encode_session_state({sample(), magnet}));
  ASSERT_TRUE(decoded) << decoded.error();
  ASSERT_EQ(decoded->size(), 2u);
  const auto& a = (*decoded)[0];
  EXPECT_EQ(a.info_hash, std::string(40, 'a'));
  EXPECT_EQ(a.save_path, "/srv/downloads");
  EXPECT_TRUE(a.magnet.empty());
  EXPECT_TRUE(a.paused);
  EXPECT_TRUE(a.sequential);
  EXPECT_FALSE(a.seed_when_complete);
  ASSERT_TRUE(a.seed_ratio);
  EXPECT_DOUBLE_EQ(*a.seed_ratio, 1.5);
  EXPECT_EQ(a.seed_time_seconds, 3600);
  EXPECT_EQ(a.only, (std::vector<std::string>{"*.mkv", "docs/*"}));
  EXPECT_EQ(a.file_mask, (std::vector<bool>{true, false, true}));
  EXPECT_EQ(a.max_download_rate, 1000);
  EXPECT_EQ(a.max_upload_rate, 2000);
  EXPECT_EQ(a.file_paths, (std::map<int, std::string>{{0, "renamed/a.bin"}, {3, "renamed/b"}}));
  EXPECT_EQ((*decoded)[1].magnet, magnet.magnet);
  EXPECT_FALSE((*decoded)[1].seed_ratio);
}

TEST(SessionState, DamagedFilesAreRefusedWhole) {
  auto good = encode_session_state({sample()});
  EXPECT_FALSE(decode_session_state(good.substr(0, good.size() - 3)));  // truncated
  EXPECT_FALSE(decode_session_state("d7:versioni9ee"));                 // unknown version
  EXPECT_FALSE(decode_session_state("d7:versioni1ee"));                 // no list
  EXPECT_FALSE(decode_session_state("d8:torrentsli1ee7:versioni1ee"));  // entry not a dict
  // A bad info-hash in any entry refuses the whole file.
  auto bad = sample();
  bad.info_hash = "not hex";
  EXPECT_FALSE(decode_session_state(encode_session_state({sample(), bad})));
}

TEST(SessionState, TorrentFileFromInfoKeepsTheInfoHash) {
  std::string info_bytes = "d6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae";
  auto info = metainfo::parse_info_dict(info_bytes);
  ASSERT_TRUE(info);
  info->trackers = {{"http://t1/announce", "http://t2/announce"}, {"udp://t3:80"}};
  auto file = torrent_file_from_info(*info);
  auto parsed = metainfo::parse_torrent(file);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->info_hash, info->info_hash);
  ASSERT_EQ(parsed->trackers.size(), 2u);
  EXPECT_EQ(parsed->trackers[0].size(), 2u);
}

// BEP 19 in magnets: the link's ws= web seeds join the metadata once it arrives (and the link's trackers,
// each once), and the .torrent kept in the state directory lists them, so a restart uses them too.
TEST(SessionState, AMagnetsWebSeedsJoinItsMetadataAndAreKept) {
  std::string info_bytes = "d6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae";
  auto info = metainfo::parse_info_dict(info_bytes);
  ASSERT_TRUE(info);
  ASSERT_TRUE(info->web_seeds.empty());
  auto link = magnet::parse_magnet("magnet:?xt=urn:btih:" + info->info_hash.to_hex() +
                                   "&tr=http%3A%2F%2Ft1%2Fannounce&ws=http%3A%2F%2Fws1%2Fx"
                                   "&ws=https%3A%2F%2Fws2%2Fdir%2F&tr=http%3A%2F%2Ft1%2Fannounce");
  ASSERT_TRUE(link) << link.error().message();
  add_magnet_sources(*info, *link);
  add_magnet_sources(*info, *link);  // twice: nothing twice
  EXPECT_EQ(info->web_seeds, (std::vector<std::string>{"http://ws1/x", "https://ws2/dir/"}));
  ASSERT_EQ(info->trackers.size(), 1u);
  EXPECT_EQ(info->trackers[0], std::vector<std::string>{"http://t1/announce"});
  auto parsed = metainfo::parse_torrent(torrent_file_from_info(*info));
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->info_hash, info->info_hash);
  EXPECT_EQ(parsed->web_seeds, info->web_seeds);
}

TEST(SessionState, AMagnetWithoutWebSeedsAddsNone) {
  std::string info_bytes = "d6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae";
  auto info = metainfo::parse_info_dict(info_bytes);
  ASSERT_TRUE(info);
  auto link = magnet::parse_magnet("magnet:?xt=urn:btih:" + info->info_hash.to_hex());
  ASSERT_TRUE(link);
  add_magnet_sources(*info, *link);
  EXPECT_TRUE(info->web_seeds.empty());
  EXPECT_EQ(torrent_file_from_info(*info).find("url-list"), std::string::npos);
}

}  // namespace
}  // namespace shoal::session
