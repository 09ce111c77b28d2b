// A v2-only torrent started from a btmh magnet: the metainfo the session saves once the piece layers have
// come from peers carries them ("piece layers", each checked against its pieces root when parsed), under the
// same info-hash; a session restarted from its state rechecks the download with them and finds every piece.
// A hybrid from a magnet with btih and btmh gets its layers from its data once SHA-1 has verified it, and
// saves them the same way.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include "metainfo/torrent_info.hpp"
#include "session_test_util.hpp"
#include "shoal/session.hpp"
#include "shoal/torrent_file.hpp"

namespace shoal {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

void write_random(const fs::path& file, std::size_t size, unsigned seed) {
  fs::create_directories(file.parent_path());
  std::string data(size, '\0');
  std::mt19937 rng(seed);
  for (auto& c : data)
    c = static_cast<char>(rng());
  std::ofstream(file, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
}

SessionSettings settings_in(const fs::path& state, bool remember) {
  auto s = test::loopback_settings(state);
  s.remember_torrents = remember;
  return s;
}

// Waits (on events, up to a minute) until `pred` accepts one.
bool wait_for(Session& session, const std::function<bool(const Event&)>& pred) {
  return test::EventLog(session).wait(pred, 60s);
}

class V2MagnetSavedMetainfo : public test::SessionTestBase {
 protected:
  void download_restart_and_recheck(TorrentVersion version);
};

void V2MagnetSavedMetainfo::download_restart_and_recheck(TorrentVersion version) {
  auto data = root_ / "seed";
  // Two files of several 16 KiB pieces each (each has a piece layer) and one of a single piece (none).
  write_random(data / "tree" / "a.bin", 300'001, 1);
  write_random(data / "tree" / "sub" / "b.bin", 123'457, 2);
  write_random(data / "tree" / "c.txt", 999, 3);
  CreateTorrentParams create;
  create.path = data / "tree";
  create.piece_size = 16 * 1024;
  create.version = version;
  auto torrent = create_torrent(create);
  ASSERT_TRUE(torrent) << torrent.error();
  auto published = parse_torrent(*torrent);
  ASSERT_TRUE(published) << published.error();
  ASSERT_NE(published->magnet.find("urn:btmh:"), std::string::npos);
  // v2-only: btmh alone; a hybrid: both.
  ASSERT_EQ(published->magnet.find("urn:btih:") != std::string::npos, version == TorrentVersion::hybrid);

  Session seeder(settings_in(root_ / "seed-state", false));
  AddTorrentParams seed_params;
  seed_params.torrent_bytes = *torrent;
  seed_params.save_path = data;
  auto seeding = seeder.add_torrent(seed_params);
  ASSERT_TRUE(seeding) << seeding.error();
  ASSERT_TRUE(wait_for(seeder, [](const Event& e) { return std::holds_alternative<TorrentFinished>(e); }));
  auto port = seeder.stats().listen_port;

  auto out = root_ / "out";
  auto state = root_ / "state";
  std::string hex;
  {
    Session leecher(settings_in(state, true));
    AddTorrentParams p;
    p.magnet = published->magnet;
    p.save_path = out;
    p.peers = {"127.0.0.1:" + std::to_string(port)};
    auto added = leecher.add_torrent(p);
    ASSERT_TRUE(added) << added.error();
    hex = added->info_hash();
    // A v2-only torrent has its layers before any piece; a hybrid computes them once it is complete.
    bool layers_saved = false;
    bool finished = false;
    ASSERT_TRUE(wait_for(leecher, [&](const Event& e) {
      if (auto* m = std::get_if<MetadataReceived>(&e); m && m->piece_layers) layers_saved = true;
      if (std::holds_alternative<TorrentFinished>(e)) finished = true;
      return layers_saved && finished;
    }));
    leecher.shutdown();
  }
  seeder.shutdown();

  // The saved .torrent: same info-hash, every multi-piece file's layer (checked against its root on parse).
  auto saved_bytes = test::read_all(state / "torrents" / (hex + ".torrent"));
  auto saved = metainfo::parse_torrent(saved_bytes);
  ASSERT_TRUE(saved) << saved.error().message();
  auto original = metainfo::parse_torrent(*torrent);
  ASSERT_TRUE(original);
  EXPECT_EQ(saved->info_hash, original->info_hash);
  EXPECT_EQ(saved->info_hash_v2, original->info_hash_v2);
  EXPECT_EQ(saved->piece_layers.size(), 2u);
  EXPECT_EQ(saved->piece_layers, original->piece_layers);

  // Restarted from its state, a recheck finds every piece (with no peer to ask for anything).
  Session again(settings_in(state, true));
  auto torrents = again.torrents();
  ASSERT_EQ(torrents.size(), 1u);
  ASSERT_EQ(torrents[0].info_hash(), hex);
  ASSERT_TRUE(wait_for(again, [](const Event& e) { return std::holds_alternative<TorrentFinished>(e); }));
  torrents[0].force_recheck();
  ASSERT_TRUE(wait_for(again, [&](const Event& e) {
    auto* c = std::get_if<CheckFinished>(&e);
    return c && c->info_hash == hex;
  }));
  auto status = torrents[0].status();
  EXPECT_EQ(status.pieces_have, original->num_pieces());
  EXPECT_EQ(status.progress, 1.0);
}

TEST_F(V2MagnetSavedMetainfo, AV2OnlyMagnetKeepsItsPieceLayersAndRechecksWithThem) {
  download_restart_and_recheck(TorrentVersion::v2);
}

TEST_F(V2MagnetSavedMetainfo, AHybridMagnetKeepsItsPieceLayersComputedFromItsData) {
  download_restart_and_recheck(TorrentVersion::hybrid);
}

}  // namespace
}  // namespace shoal
