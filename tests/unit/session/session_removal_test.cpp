// Safe removal: a torrent removed while reads, writes, dials and hashes are in flight finishes or cancels
// each of them and frees everything. The debug build runs this under ASan with leak detection, which turns
// any job or coroutine that outlives its torrent into a use-after-free or a leak report.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "session_test_util.hpp"

namespace shoal::test {
namespace {

using namespace std::chrono_literals;

int open_descriptors() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd"))
    ++n;
  return n;
}

// A port on 127.0.0.1 that refuses connections (bound, then closed), and one that accepts at the TCP level
// but never reads or answers: dials to it hang in the handshake until their timeout.
struct DeadPeers {
  DeadPeers() {
    int refusing = ::socket(AF_INET, SOCK_STREAM, 0);
    refused_port = bind_loopback(refusing);
    ::close(refusing);
    silent_fd = ::socket(AF_INET, SOCK_STREAM, 0);
    silent_port = bind_loopback(silent_fd);
    ::listen(silent_fd, 1024);
  }
  ~DeadPeers() { ::close(silent_fd); }
  std::vector<std::string> endpoints() const {
    return {"127.0.0.1:" + std::to_string(refused_port), "127.0.0.1:" + std::to_string(silent_port)};
  }

  std::uint16_t refused_port = 0;
  std::uint16_t silent_port = 0;
  int silent_fd = -1;
};

class SessionRemovalTest : public SessionTestBase {};

// What to wait for before removing: nothing (the check or its hashing is running), the end of the check
// (dials in flight), or the first verified piece (writes and hashes in flight).
enum class RemoveAt { at_once, after_check, after_first_piece };

TEST_F(SessionRemovalTest, AddAndRemoveAThousandTimesDuringTransfers) {
  constexpr int kRounds = 1000;
  constexpr int kSeederRounds = 200;
  const int fds_before = open_descriptors();
  {
    const auto seed_dir = root_ / "seed";
    // Many small pieces, so that a round catches pieces between write and hash.
    auto big = make_torrent(seed_dir, "big.bin", {{"", 3 * 1024 * 1024 + 7}}, 16 * 1024, 7);
    auto other = make_torrent(seed_dir, "other", {{"x.bin", 600000}, {"y/z.bin", 300001}}, 16 * 1024, 8);
    DeadPeers dead;

    Session seeder(loopback_settings(root_ / "state-seed"));
    EventLog seeder_log(seeder);
    for (const auto* t : {&big, &other}) {
      AddTorrentParams p;
      p.torrent_bytes = t->bytes;
      p.save_path = seed_dir;
      ASSERT_TRUE(seeder.add_torrent(p));
      ASSERT_TRUE(seeder_log.wait_for<CheckFinished>(t->info_hash));
    }
    const std::string seeder_at = "127.0.0.1:" + std::to_string(seeder.stats().listen_port);

    // Phase 1: the downloading side adds and removes `big` while it transfers.
    // The dial budget is not under test: each round dials anew, and 20 dials a second would make rounds wait.
    auto leecher_settings = loopback_settings(root_ / "state-leech");
    leecher_settings.max_dials_per_second = 10000;
    leecher_settings.max_half_open = 1000;
    Session leecher(leecher_settings);
    EventLog log(leecher);
    const auto out = root_ / "out";
    AddTorrentParams params;
    params.torrent_bytes = big.bytes;
    params.save_path = out;
    params.peers = dead.endpoints();
    params.peers.push_back(seeder_at);
    const auto n = big.num_pieces;
    int pieces_seen = 0;
    for (int round = 0; round < kRounds; ++round) {
      SCOPED_TRACE("round " + std::to_string(round));
      auto added = leecher.add_torrent(params);
      ASSERT_TRUE(added) << added.error();
      switch (static_cast<RemoveAt>(round % 3)) {
        case RemoveAt::at_once:
          break;
        case RemoveAt::after_check:
          ASSERT_TRUE(log.wait_for<CheckFinished>(big.info_hash));
          break;
        case RemoveAt::after_first_piece:
          ASSERT_TRUE(log.wait([&](const Event& e) {
            if (info_hash_of(e) != big.info_hash) return false;
            if (std::holds_alternative<PieceFinished>(e)) return ++pieces_seen, true;
            const auto* c = std::get_if<CheckFinished>(&e);
            return std::holds_alternative<TorrentFinished>(e) || (c && c->pieces_have == n);
          }));
          break;
      }
      // Every fourth round the data goes too, so that the transfer never runs out of work.
      leecher.remove_torrent(*added, round % 4 == 3 ? RemoveMode::delete_data : RemoveMode::keep_data);
      ASSERT_TRUE(log.wait_for<TorrentRemoved>(big.info_hash, {}, 20s));
      EXPECT_FALSE(added->valid());
      log.forget();
    }
    EXPECT_GT(pieces_seen, 0) << "the rounds never caught a transfer";
    EXPECT_EQ(leecher.stats().torrents, 0);

    // Then it is left alone and completes.
    auto last = leecher.add_torrent(params);
    ASSERT_TRUE(last);
    ASSERT_TRUE(log.wait_for<TorrentFinished>(big.info_hash, {}, 60s));
    EXPECT_TRUE(read_all(out / "big.bin") == big.files[0].second);

    // Phase 2: the seeding side adds and removes `other` while the leecher downloads it: reads in flight.
    AddTorrentParams want_other;
    want_other.torrent_bytes = other.bytes;
    want_other.save_path = out;
    want_other.peers = {seeder_at};
    ASSERT_TRUE(leecher.add_torrent(want_other));
    AddTorrentParams seed_other;
    seed_other.torrent_bytes = other.bytes;
    seed_other.save_path = seed_dir;
    for (int round = 0; round < kSeederRounds; ++round) {
      SCOPED_TRACE("seeder round " + std::to_string(round));
      auto h = seeder.find_torrent(other.info_hash);
      if (!h.valid()) {
        auto added = seeder.add_torrent(seed_other);
        ASSERT_TRUE(added) << added.error();
        h = *added;
      }
      if (round % 2 == 1) {
        ASSERT_TRUE(seeder_log.wait_for<CheckFinished>(other.info_hash));
      }
      seeder.remove_torrent(h);
      ASSERT_TRUE(seeder_log.wait_for<TorrentRemoved>(other.info_hash, {}, 20s));
      seeder_log.forget();
    }
    ASSERT_TRUE(seeder.add_torrent(seed_other));
    ASSERT_TRUE(log.wait_for<TorrentFinished>(other.info_hash, {}, 60s));
    for (const auto& [path, content] : other.files)
      EXPECT_TRUE(read_all(out / path) == content) << path;
    // The seeder's data was only ever read.
    for (const auto& [path, content] : other.files)
      EXPECT_TRUE(read_all(seed_dir / path) == content) << path;
  }
  // Both sessions are gone: every socket, file and pipe they opened is closed.
  EXPECT_EQ(open_descriptors(), fds_before);
}

}  // namespace
}  // namespace shoal::test
