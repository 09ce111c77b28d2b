// The public API's costly reports (peers, bitfield, availability), resume data handed to the embedder and
// back, start-now past the queue, and a peer limit applied to a running torrent.
#include <set>

#include "session_test_util.hpp"

namespace shoal::test {
namespace {

using namespace std::chrono_literals;

class SessionDetailsTest : public SessionTestBase {
 protected:
  void SetUp() override {
    SessionTestBase::SetUp();
    seed_dir_ = root_ / "seed";
    one_ = make_torrent(seed_dir_, "one.bin", {{"", 300 * 1024 + 17}}, 16 * 1024, 1);
    two_ = make_torrent(seed_dir_, "two.bin", {{"", 64 * 1024}}, 16 * 1024, 2);
  }
  AddTorrentParams params_for(const TestTorrent& t, const fs::path& save) {
    AddTorrentParams p;
    p.torrent_bytes = t.bytes;
    p.save_path = save;
    return p;
  }
  static bool all_ones(const std::string& bits, std::int32_t n) {
    for (std::int32_t i = 0; i < n; ++i) {
      if ((static_cast<unsigned char>(bits[static_cast<std::size_t>(i / 8)]) & (0x80u >> (i % 8))) == 0)
        return false;
    }
    return true;
  }
  fs::path seed_dir_;
  TestTorrent one_;
  TestTorrent two_;
};

TEST_F(SessionDetailsTest, PeersBitfieldAndAvailabilityOfBothEnds) {
  Session seeder(loopback_settings(root_ / "state-seed"));
  EventLog seeder_log(seeder);
  ASSERT_TRUE(seeder.add_torrent(params_for(one_, seed_dir_)));
  ASSERT_TRUE(seeder_log.wait_for<CheckFinished>(one_.info_hash));
  auto d = seeder.details({one_.info_hash}, {.pieces = true});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].info_hash, one_.info_hash);
  ASSERT_EQ(d[0].pieces.size(), static_cast<std::size_t>((one_.num_pieces + 7) / 8));
  EXPECT_TRUE(all_ones(d[0].pieces, one_.num_pieces));
  EXPECT_TRUE(d[0].peers.empty());         // not asked for
  EXPECT_TRUE(d[0].availability.empty());  // not asked for

  Session leecher(loopback_settings(root_ / "state-leech"));
  EventLog log(leecher);
  auto p = params_for(one_, root_ / "out");
  p.peers = {"127.0.0.1:" + std::to_string(seeder.stats().listen_port)};
  p.max_download_rate = 64 * 1024;  // still running when looked at
  auto handle = leecher.add_torrent(p);
  ASSERT_TRUE(handle);
  ASSERT_TRUE(log.wait_for<PieceFinished>(one_.info_hash));

  DetailsQuery all{.peers = true, .pieces = true, .availability = true};
  auto mine = handle->details(all);
  ASSERT_EQ(mine.peers.size(), 1u);
  const auto& s = mine.peers[0];
  EXPECT_EQ(s.address, p.peers[0]);
  EXPECT_EQ(s.origin, PeerOrigin::user);
  EXPECT_FALSE(s.incoming);
  EXPECT_TRUE(s.seed);
  EXPECT_DOUBLE_EQ(s.progress, 1.0);
  EXPECT_EQ(s.client.rfind("Shoal", 0), 0u) << s.client;
  EXPECT_TRUE(s.am_interested);
  EXPECT_FALSE(s.peer_choking);
  ASSERT_EQ(mine.availability.size(), static_cast<std::size_t>(one_.num_pieces));
  for (auto a : mine.availability)
    EXPECT_EQ(a, 1);  // the one seed
  EXPECT_FALSE(all_ones(mine.pieces, one_.num_pieces));

  auto theirs = seeder.details({one_.info_hash, std::string(40, '0')}, all);
  ASSERT_EQ(theirs.size(), 2u);
  ASSERT_EQ(theirs[0].peers.size(), 1u);
  EXPECT_TRUE(theirs[0].peers[0].incoming);
  EXPECT_EQ(theirs[0].peers[0].origin, PeerOrigin::incoming);
  EXPECT_TRUE(theirs[0].info_hash == one_.info_hash);
  EXPECT_TRUE(theirs[1].info_hash.empty());  // unknown: empty details

  // The bitfield outlives a pause.
  ASSERT_TRUE(log.wait_for<TorrentFinished>(one_.info_hash));
  handle->pause();
  ASSERT_TRUE(log.wait_for<TorrentStopped>(one_.info_hash));
  auto paused = handle->details({.peers = true, .pieces = true});
  EXPECT_TRUE(all_ones(paused.pieces, one_.num_pieces));
  EXPECT_TRUE(paused.peers.empty());
}

TEST_F(SessionDetailsTest, ResumeDataGoesToTheEmbedderAndComesBack) {
  auto settings = loopback_settings({});  // no state directory at all
  settings.resume_data_events = true;
  const auto file = seed_dir_ / "one.bin";
  std::string resume;
  {
    Session session(settings);
    EventLog log(session);
    ASSERT_TRUE(session.add_torrent(params_for(one_, seed_dir_)));
    ASSERT_TRUE(log.wait_for<ResumeDataSaved>(one_.info_hash, [&](const ResumeDataSaved& r) {
      resume = r.data;
      return true;
    }));
    EXPECT_FALSE(resume.empty());
  }
  // A change the resume data cannot see (same size, same mtime): trusted resume data reports every piece,
  // a recheck would find one bad.
  auto mtime = fs::last_write_time(file);
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(5);
    char c = static_cast<char>(one_.files[0].second[5] ^ 0x55);
    f.write(&c, 1);
  }
  fs::last_write_time(file, mtime);
  {
    Session session(settings);
    EventLog log(session);
    auto p = params_for(one_, seed_dir_);
    p.resume_data = resume;
    p.paused = true;
    auto handle = session.add_torrent(p);
    ASSERT_TRUE(handle);
    // Paused, it shows the pieces its resume data names.
    EXPECT_TRUE(all_ones(handle->details({.pieces = true}).pieces, one_.num_pieces));
    handle->resume();
    std::int32_t have = -1;
    ASSERT_TRUE(log.wait_for<CheckFinished>(one_.info_hash, [&](const CheckFinished& c) {
      have = c.pieces_have;
      return true;
    }));
    EXPECT_EQ(have, one_.num_pieces);
  }
  {
    // Without it: rechecked, and the changed piece is found missing.
    Session session(settings);
    EventLog log(session);
    ASSERT_TRUE(session.add_torrent(params_for(one_, seed_dir_)));
    std::int32_t have = -1;
    ASSERT_TRUE(log.wait_for<CheckFinished>(one_.info_hash, [&](const CheckFinished& c) {
      have = c.pieces_have;
      return true;
    }));
    EXPECT_EQ(have, one_.num_pieces - 1);
  }
}

TEST_F(SessionDetailsTest, ForceStartRunsATorrentTheQueueHoldsBack) {
  auto settings = loopback_settings(root_ / "state");
  settings.max_active_downloads = 1;
  Session session(settings);
  EventLog log(session);
  // Nothing on disk and no peers: both stay downloading, so the second waits in the queue.
  auto first = session.add_torrent(params_for(one_, root_ / "empty"));
  ASSERT_TRUE(first);
  ASSERT_TRUE(log.wait_for<CheckFinished>(one_.info_hash));
  auto second = session.add_torrent(params_for(two_, root_ / "empty"));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status().state, TorrentState::queued);
  second->force_start();
  ASSERT_TRUE(log.wait_for<CheckFinished>(two_.info_hash));
  EXPECT_EQ(second->status().state, TorrentState::downloading);
  EXPECT_EQ(first->status().state, TorrentState::downloading);  // not pushed out either
}

TEST_F(SessionDetailsTest, APeerLimitTakesEffectOnARunningTorrent) {
  Session seeder(loopback_settings(root_ / "state-seed"));
  EventLog seeder_log(seeder);
  auto seeding = seeder.add_torrent(params_for(one_, seed_dir_));
  ASSERT_TRUE(seeding);
  ASSERT_TRUE(seeder_log.wait_for<CheckFinished>(one_.info_hash));
  // Two leechers, throttled so that both stay connected.
  std::vector<std::unique_ptr<Session>> leechers;
  for (int i = 0; i < 2; ++i) {
    leechers.push_back(std::make_unique<Session>(loopback_settings(root_ / ("state-l" + std::to_string(i)))));
    auto p = params_for(one_, root_ / ("out" + std::to_string(i)));
    p.peers = {"127.0.0.1:" + std::to_string(seeder.stats().listen_port)};
    p.max_download_rate = 16 * 1024;
    ASSERT_TRUE(leechers.back()->add_torrent(p));
  }
  for (auto& l : leechers) {
    EventLog log(*l);
    ASSERT_TRUE(log.wait_for<PieceFinished>(one_.info_hash));
  }
  ASSERT_EQ(seeding->details({.peers = true}).peers.size(), 2u);
  seeding->set_max_connections(1);
  EXPECT_EQ(seeding->details({.peers = true}).peers.size(), 1u);
}

}  // namespace
}  // namespace shoal::test
