// A session with remember_torrents comes back with the torrents it had: same save path, same selection, data
// taken from resume data (no download), paused ones still paused.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

#include "hash/sha.hpp"
#include "metainfo/torrent_builder.hpp"
#include "session_test_util.hpp"
#include "shoal/session.hpp"

namespace shoal {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Each test in a temporary folder of its own (root_).
class RememberTorrents : public test::SessionTestBase {};
class RenamePath : public test::SessionTestBase {};
class SeedLimits : public test::SessionTestBase {};

// A single-file torrent over `size` pseudo-random bytes written to dir/name.
std::string make_torrent(const fs::path& dir, const std::string& name, std::size_t size, unsigned seed) {
  std::string data(size, '\0');
  std::mt19937 rng(seed);
  for (auto& c : data)
    c = static_cast<char>(rng());
  std::ofstream(dir / name, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
  metainfo::BuildInput in;
  in.name = name;
  in.files = {{name, static_cast<std::int64_t>(size)}};
  in.piece_length = 16 * 1024;
  for (std::size_t off = 0; off < size; off += 16 * 1024) {
    auto len = std::min<std::size_t>(16 * 1024, size - off);
    auto h = hash::sha1(std::span(reinterpret_cast<const std::byte*>(data.data() + off), len));
    in.piece_hashes.append(reinterpret_cast<const char*>(h.bytes.data()), h.bytes.size());
  }
  return metainfo::build_torrent(in);
}

SessionSettings quiet_settings(const fs::path& state) {
  SessionSettings s;
  s.state_dir = state;
  s.remember_torrents = true;
  s.listen_address = "127.0.0.1";
  s.dht.enabled = false;
  s.lsd.enabled = false;
  return s;
}

// Waits for an event matching `pred`, up to `limit`.
template <class Pred>
bool wait_for(Session& session, Pred pred, std::chrono::seconds limit = 30s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    session.wait_for_events(200ms);
    for (const auto& e : session.pop_events()) {
      if (pred(e)) return true;
    }
  }
  return false;
}

TEST_F(RememberTorrents, ASessionComesBackWithItsTorrents) {
  auto data = root_ / "data";
  fs::create_directories(data);
  auto a = make_torrent(data, "a.bin", 100'000, 1);
  auto b = make_torrent(data, "b.bin", 50'000, 2);
  std::string hash_a;
  std::string hash_b;
  {
    Session session(quiet_settings(root_ / "state"));
    AddTorrentParams pa;
    pa.torrent_bytes = a;
    pa.save_path = data;
    auto ha = session.add_torrent(pa);
    ASSERT_TRUE(ha) << ha.error();
    hash_a = ha->info_hash();
    AddTorrentParams pb;
    pb.torrent_bytes = b;
    pb.save_path = data;
    pb.paused = true;
    auto hb = session.add_torrent(pb);
    ASSERT_TRUE(hb) << hb.error();
    hash_b = hb->info_hash();
    ASSERT_TRUE(wait_for(session, [&](const Event& e) {
      auto* f = std::get_if<TorrentFinished>(&e);
      return f && f->info_hash == hash_a;
    }));
  }
  Session again(quiet_settings(root_ / "state"));
  auto torrents = again.torrents();
  ASSERT_EQ(torrents.size(), 2u);
  EXPECT_EQ(torrents[0].info_hash(), hash_a);
  EXPECT_EQ(torrents[1].info_hash(), hash_b);
  ASSERT_TRUE(wait_for(again, [&](const Event& e) {
    auto* f = std::get_if<TorrentFinished>(&e);
    return f && f->info_hash == hash_a;
  }));
  EXPECT_EQ(torrents[0].status().state, TorrentState::seeding);
  EXPECT_EQ(torrents[1].status().state, TorrentState::paused);
  // A removed torrent is forgotten.
  again.remove_torrent(torrents[1]);
  ASSERT_TRUE(wait_for(again, [&](const Event& e) { return std::holds_alternative<TorrentRemoved>(e); }));
  again.shutdown();
  Session third(quiet_settings(root_ / "state"));
  ASSERT_EQ(third.torrents().size(), 1u);
}

// torrent-rename-path through the engine: a running torrent stops, its file moves on disk, it runs again
// under the new name, and a restarted session applies the name before it looks for the data.
TEST_F(RenamePath, AFileIsRenamedOnDiskAndStaysRenamedAfterARestart) {
  auto data = root_ / "data";
  fs::create_directories(data);
  auto a = make_torrent(data, "a.bin", 100'000, 4);
  {
    Session session(quiet_settings(root_ / "state"));
    AddTorrentParams p;
    p.torrent_bytes = a;
    p.save_path = data;
    auto h = session.add_torrent(p);
    ASSERT_TRUE(h) << h.error();
    ASSERT_TRUE(wait_for(session, [](const Event& e) { return std::holds_alternative<TorrentFinished>(e); }));
    EXPECT_FALSE(h->rename_path("nothing.bin", "x.bin"));
    EXPECT_FALSE(h->rename_path("a.bin", "../x.bin"));
    EXPECT_FALSE(h->rename_path("a.bin", "sub/x.bin"));
    // A link planted in place of the file is not followed (nor renamed).
    fs::rename(data / "a.bin", data / "real.bin");
    fs::create_symlink(data / "real.bin", data / "a.bin");
    h->pause();
    auto until = std::chrono::steady_clock::now() + 20s;
    while (h->status().state != TorrentState::paused && std::chrono::steady_clock::now() < until)
      session.wait_for_events(50ms);
    ASSERT_EQ(h->status().state, TorrentState::paused);
    auto through_link = h->rename_path("a.bin", "linked.bin");
    EXPECT_FALSE(through_link);
    EXPECT_FALSE(fs::exists(data / "linked.bin"));
    fs::remove(data / "a.bin");
    fs::rename(data / "real.bin", data / "a.bin");
    h->resume();
    auto renamed = h->rename_path("a.bin", "renamed.bin");
    ASSERT_TRUE(renamed) << renamed.error();
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!(fs::exists(data / "renamed.bin") && h->status().state == TorrentState::seeding) &&
           std::chrono::steady_clock::now() < deadline)
      session.wait_for_events(50ms);
    EXPECT_TRUE(fs::exists(data / "renamed.bin"));
    EXPECT_FALSE(fs::exists(data / "a.bin"));
    EXPECT_EQ(h->status().state, TorrentState::seeding);
    EXPECT_EQ(h->status().name, "renamed.bin");
  }
  Session again(quiet_settings(root_ / "state"));
  ASSERT_EQ(again.torrents().size(), 1u);
  auto h = again.torrents()[0];
  EXPECT_EQ(h.status().name, "renamed.bin");
  // Found whole under its new name: nothing to download (there are no peers), so it finishes from disk.
  ASSERT_TRUE(wait_for(again, [](const Event& e) { return std::holds_alternative<TorrentFinished>(e); }));
  EXPECT_FALSE(fs::exists(data / "a.bin"));
}

// A torrent that stops itself (its seed time is up) is drained and let go like any other: the session's
// shutdown does not wait out its timeout for it, and its status says stopped.
TEST_F(SeedLimits, ATorrentThatStopsItselfIsDrained) {
  auto data = root_ / "data";
  fs::create_directories(data);
  auto bytes = make_torrent(data, "a.bin", 40'000, 3);
  auto settings = quiet_settings(root_ / "state");
  settings.remember_torrents = false;
  Session session(settings);
  AddTorrentParams p;
  p.torrent_bytes = bytes;
  p.save_path = data;
  p.seed_time_seconds = 0;
  auto handle = session.add_torrent(p);
  ASSERT_TRUE(handle) << handle.error();
  ASSERT_TRUE(wait_for(session, [](const Event& e) { return std::holds_alternative<TorrentStopped>(e); }));
  // Its stop drains in the background (there is no event for that): the state says when.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (handle->status().state != TorrentState::stopped && std::chrono::steady_clock::now() < deadline)
    session.wait_for_events(50ms);
  EXPECT_EQ(handle->status().state, TorrentState::stopped);
  EXPECT_TRUE(handle->valid());  // stopped, still in the session
  auto start = std::chrono::steady_clock::now();
  session.shutdown(std::chrono::seconds(10));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(RememberTorrents, ADamagedStateFileStartsEmptyWithAWarning) {
  fs::create_directories(root_ / "state");
  std::ofstream(root_ / "state" / "session.state") << "d7:versioni1e8:torrentsl";
  Session session(quiet_settings(root_ / "state"));
  EXPECT_TRUE(session.torrents().empty());
  bool warned = false;
  for (const auto& e : session.pop_events())
    warned = warned || std::holds_alternative<SessionWarning>(e);
  EXPECT_TRUE(warned);
}

}  // namespace
}  // namespace shoal
