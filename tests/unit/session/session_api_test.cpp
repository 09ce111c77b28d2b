// The public Session API end to end: two sessions in one process on 127.0.0.1, one seeding, one downloading.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>

#include "session_test_util.hpp"

namespace shoal::test {
namespace {

using namespace std::chrono_literals;

class SessionApiTest : public SessionTestBase {
 protected:
  void SetUp() override {
    SessionTestBase::SetUp();
    seed_dir_ = root_ / "seed";
    // A single file whose last piece is short, and a tree whose pieces span file boundaries.
    one_ = make_torrent(seed_dir_, "one.bin", {{"", 300 * 1024 + 17}}, 16 * 1024, 1);
    tree_ = make_torrent(seed_dir_, "tree",
                         {{"a.bin", 70001}, {"sub/b.bin", 16384}, {"sub/deep/c.bin", 99999}}, 32 * 1024, 2);
  }

  AddTorrentParams params_for(const TestTorrent& t, const fs::path& save) {
    AddTorrentParams p;
    p.torrent_bytes = t.bytes;
    p.save_path = save;
    return p;
  }

  // Adds both torrents to `session` as seeds and waits until each has checked its data complete.
  void seed_both(Session& session, EventLog& log) {
    for (const auto* t : {&one_, &tree_}) {
      auto added = session.add_torrent(params_for(*t, seed_dir_));
      ASSERT_TRUE(added) << added.error();
      const auto n = t->num_pieces;
      ASSERT_TRUE(log.wait_for<CheckFinished>(t->info_hash, [n](const CheckFinished& c) {
        return c.pieces_have == n;
      })) << t->name;
    }
  }

  static void expect_same_files(const TestTorrent& t, const fs::path& dir) {
    for (const auto& [path, content] : t.files)
      EXPECT_TRUE(read_all(dir / path) == content) << path;
  }

  fs::path seed_dir_;
  TestTorrent one_;
  TestTorrent tree_;
};

TEST_F(SessionApiTest, OneSessionSeedsTwoTorrentsToAnotherThatDownloadsBoth) {
  Session seeder(loopback_settings(root_ / "state-seed"));
  EventLog seeder_log(seeder);
  seed_both(seeder, seeder_log);
  const auto port = seeder.stats().listen_port;
  ASSERT_NE(port, 0);
  EXPECT_EQ(seeder.stats().torrents, 2);

  Session leecher(loopback_settings(root_ / "state-leech"));
  EventLog log(leecher);
  const auto out = root_ / "out";
  std::vector<TorrentHandle> handles;
  for (const auto* t : {&one_, &tree_}) {
    auto p = params_for(*t, out);
    p.peers = {"127.0.0.1:" + std::to_string(port)};
    auto added = leecher.add_torrent(p);
    ASSERT_TRUE(added) << added.error();
    EXPECT_EQ(added->info_hash(), t->info_hash);
    EXPECT_TRUE(added->valid());
    handles.push_back(*added);
  }
  std::set<std::string> finished;
  ASSERT_TRUE(log.wait([&](const Event& e) {
    if (const auto* f = std::get_if<TorrentFinished>(&e)) finished.insert(f->info_hash);
    return finished.size() == 2;
  }));

  for (const auto* t : {&one_, &tree_}) {
    SCOPED_TRACE(t->name);
    expect_same_files(*t, out);
    EXPECT_EQ(log.count<TorrentAdded>(t->info_hash), 1);
    EXPECT_EQ(log.count<CheckFinished>(t->info_hash), 1);
    EXPECT_EQ(log.count<TorrentFinished>(t->info_hash), 1);
    // Every piece is announced once, each by its own index.
    std::set<std::int32_t> pieces;
    for (const auto& e : log.seen()) {
      if (const auto* p = std::get_if<PieceFinished>(&e); p && p->info_hash == t->info_hash) {
        EXPECT_TRUE(pieces.insert(p->piece).second) << "piece " << p->piece << " announced twice";
      }
    }
    EXPECT_EQ(static_cast<std::int32_t>(pieces.size()), t->num_pieces);
    EXPECT_EQ(*pieces.begin(), 0);
    EXPECT_EQ(*pieces.rbegin(), t->num_pieces - 1);
  }
  for (auto& h : handles) {
    auto st = h.status();
    EXPECT_EQ(st.state, TorrentState::seeding);
    EXPECT_EQ(st.pieces_have, st.num_pieces);
    EXPECT_EQ(st.have_wanted, st.total_wanted);
    EXPECT_GE(st.downloaded, st.total_size);
  }
  // The added event carries the torrent's name.
  bool named = false;
  for (const auto& e : log.seen()) {
    if (const auto* a = std::get_if<TorrentAdded>(&e); a && a->info_hash == tree_.info_hash)
      named = a->name == "tree";
  }
  EXPECT_TRUE(named);
  EXPECT_EQ(leecher.torrents().size(), 2u);
  EXPECT_EQ(leecher.find_torrent(one_.info_hash).info_hash(), one_.info_hash);
}

// A daemon's magnet (no deadline), with no DHT, no tracker and no peer in the link, does not fail: it waits
// until a peer dials in, and gets the metadata and the data from it.
TEST_F(SessionApiTest, AMagnetWithoutADeadlineWaitsForAPeerThatDialsIn) {
  Session leecher(loopback_settings(root_ / "state-leech"));
  EventLog log(leecher);
  AddTorrentParams p;
  p.magnet = "magnet:?xt=urn:btih:" + tree_.info_hash + "&dn=tree";
  p.save_path = root_ / "out";
  p.metadata_timeout_seconds = 0;
  auto added = leecher.add_torrent(p);
  ASSERT_TRUE(added) << added.error();

  Session seeder(loopback_settings(root_ / "state-seed"));
  EventLog seeder_log(seeder);
  seed_both(seeder, seeder_log);
  auto dialer = seeder.find_torrent(tree_.info_hash);
  ASSERT_TRUE(dialer.add_peer("127.0.0.1:" + std::to_string(leecher.stats().listen_port)));
  ASSERT_TRUE(log.wait_for<TorrentFinished>(tree_.info_hash));
  EXPECT_EQ(log.count<TorrentError>(tree_.info_hash), 0);
  EXPECT_EQ(log.count<MetadataReceived>(tree_.info_hash), 1);
  expect_same_files(tree_, root_ / "out");
}

TEST_F(SessionApiTest, AddingATorrentTwiceIsRefused) {
  Session session(loopback_settings(root_ / "state"));
  ASSERT_TRUE(session.add_torrent(params_for(one_, seed_dir_)));
  auto again = session.add_torrent(params_for(one_, root_ / "elsewhere"));
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().find("already"), std::string::npos) << again.error();
  // The same torrent as a magnet link is the same torrent.
  AddTorrentParams magnet;
  magnet.magnet = "magnet:?xt=urn:btih:" + one_.info_hash;
  magnet.save_path = root_ / "elsewhere";
  EXPECT_FALSE(session.add_torrent(magnet));
  EXPECT_EQ(session.stats().torrents, 1);
}

TEST_F(SessionApiTest, BadSourcesAreErrorsNotTorrents) {
  Session session(loopback_settings(root_ / "state"));
  struct Case {
    const char* what;
    AddTorrentParams params;
    std::string says;
  };
  std::vector<Case> cases;
  {
    AddTorrentParams p;
    p.magnet = "magnet:?xt=urn:btih:nothex";
    cases.push_back({"invalid magnet", p, "magnet"});
  }
  {
    AddTorrentParams p;
    p.magnet = "http://example.invalid/not-a-magnet";
    cases.push_back({"not a magnet at all", p, "magnet"});
  }
  {
    AddTorrentParams p;
    p.torrent_file = root_ / "missing.torrent";
    cases.push_back({"file that does not exist", p, "missing.torrent"});
  }
  {
    AddTorrentParams p;
    p.torrent_file = root_;  // a folder: not readable as a file
    cases.push_back({"a folder as torrent file", p, root_.filename().string()});
  }
  {
    AddTorrentParams p;
    p.torrent_bytes = "d4:infod4:name";
    cases.push_back({"truncated torrent bytes", p, "torrent"});
  }
  {
    AddTorrentParams p;
    cases.push_back({"no source", p, "exactly one"});
  }
  {
    AddTorrentParams p;
    p.torrent_bytes = one_.bytes;
    p.magnet = "magnet:?xt=urn:btih:" + one_.info_hash;
    cases.push_back({"two sources", p, "exactly one"});
  }
  {
    AddTorrentParams p = params_for(one_, seed_dir_);
    p.peers = {"not-an-endpoint"};
    cases.push_back({"bad peer", p, "not-an-endpoint"});
  }
  for (auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto added = session.add_torrent(c.params);
    ASSERT_FALSE(added);
    EXPECT_NE(added.error().find(c.says), std::string::npos) << added.error();
  }
  EXPECT_EQ(session.stats().torrents, 0);
  EXPECT_TRUE(session.torrents().empty());
  EXPECT_TRUE(session.pop_events().empty());  // nothing was added, nothing is said
}

// A raw TCP client on 127.0.0.1: sends a BitTorrent handshake and reports whether the other side closed.
class RawPeer {
 public:
  explicit RawPeer(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    timeval tv{10, 0};  // a safety net only: the test waits for the close, which comes at once
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~RawPeer() { ::close(fd_); }
  bool connected() const { return connected_; }
  void send_handshake(const std::string& info_hash_hex) {
    std::string h =
        "\x13"
        "BitTorrent protocol";
    h += std::string(8, '\0');
    h += Sha1Digest::from_hex(info_hash_hex)->raw();
    h += "-XX0000-abcdefghijkl";
    ASSERT_EQ(::send(fd_, h.data(), h.size(), MSG_NOSIGNAL), static_cast<ssize_t>(h.size()));
  }
  // Reads until the peer closes (true) or sends something / times out (false). `got` is what arrived.
  bool closed_by_peer(std::string& got) {
    char buf[4096];
    for (;;) {
      auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
      if (n < 0) return false;
      got.append(buf, static_cast<std::size_t>(n));
      if (got.size() >= 68) return false;  // a handshake came back: the torrent was found
    }
  }

 private:
  int fd_;
  bool connected_ = false;
};

TEST_F(SessionApiTest, HandshakeForAnUnknownTorrentIsCountedAndClosed) {
  Session session(loopback_settings(root_ / "state"));
  EventLog log(session);
  auto added = session.add_torrent(params_for(one_, seed_dir_));
  ASSERT_TRUE(added);
  ASSERT_TRUE(log.wait_for<CheckFinished>(one_.info_hash));
  const auto port = session.stats().listen_port;
  EXPECT_EQ(session.stats().unknown_handshakes, 0);

  for (int i = 1; i <= 3; ++i) {
    RawPeer stranger(port);
    ASSERT_TRUE(stranger.connected());
    stranger.send_handshake(tree_.info_hash);  // a torrent this session does not have
    std::string got;
    EXPECT_TRUE(stranger.closed_by_peer(got));
    EXPECT_TRUE(got.empty()) << "no handshake goes back for an unknown torrent";
    EXPECT_EQ(session.stats().unknown_handshakes, i);
  }
  // The torrent it has answers on the same port, and is not counted as unknown.
  RawPeer friendly(port);
  friendly.send_handshake(one_.info_hash);
  std::string got;
  EXPECT_FALSE(friendly.closed_by_peer(got));
  ASSERT_GE(got.size(), 68u);
  EXPECT_EQ(got.substr(28, 20), Sha1Digest::from_hex(one_.info_hash)->raw());
  EXPECT_EQ(session.stats().unknown_handshakes, 3);
}

// Encryption is a live setting: after apply_settings(require) a plain handshake gets no answer, where the
// same handshake was answered before; and the setting reads back.
TEST_F(SessionApiTest, RequiringEncryptionTakesEffectForTheNextConnection) {
  auto settings = loopback_settings(root_ / "state");
  settings.encryption = EncryptionMode::prefer;
  Session session(settings);
  EventLog log(session);
  ASSERT_TRUE(session.add_torrent(params_for(one_, seed_dir_)));
  ASSERT_TRUE(log.wait_for<CheckFinished>(one_.info_hash));
  const auto port = session.stats().listen_port;
  {
    RawPeer plain(port);
    plain.send_handshake(one_.info_hash);
    std::string got;
    EXPECT_FALSE(plain.closed_by_peer(got));
    EXPECT_GE(got.size(), 68u) << "a plain handshake is answered while encryption is only preferred";
  }
  settings.encryption = EncryptionMode::require;
  session.apply_settings(settings);
  EXPECT_EQ(session.settings().encryption, EncryptionMode::require);
  RawPeer plain(port);
  plain.send_handshake(one_.info_hash);
  std::string got;
  EXPECT_TRUE(plain.closed_by_peer(got));
  EXPECT_TRUE(got.empty()) << "a plain handshake is refused once encryption is required";
}

TEST_F(SessionApiTest, PauseStopsAndResumeSeedsAgain) {
  Session session(loopback_settings(root_ / "state"));
  EventLog log(session);
  seed_both(session, log);
  auto h = session.find_torrent(one_.info_hash);
  ASSERT_TRUE(h.valid());
  ASSERT_EQ(h.status().state, TorrentState::seeding);

  h.pause();
  ASSERT_TRUE(log.wait_for<TorrentStopped>(one_.info_hash));
  EXPECT_EQ(h.status().state, TorrentState::paused);
  EXPECT_EQ(session.find_torrent(tree_.info_hash).status().state, TorrentState::seeding) << "only one paused";
  // A paused torrent takes no connections: its handshakes are refused like an unknown torrent's.
  {
    RawPeer p(session.stats().listen_port);
    p.send_handshake(one_.info_hash);
    std::string got;
    EXPECT_TRUE(p.closed_by_peer(got));
  }

  log.forget();
  h.resume();
  const auto n = one_.num_pieces;
  ASSERT_TRUE(log.wait_for<CheckFinished>(one_.info_hash,
                                          [n](const CheckFinished& c) { return c.pieces_have == n; }));
  EXPECT_EQ(h.status().state, TorrentState::seeding);
  EXPECT_EQ(h.status().pieces_have, n);

  // The session-wide pause and resume reach every torrent.
  log.forget();
  session.pause();
  std::set<std::string> stopped;
  ASSERT_TRUE(log.wait([&](const Event& e) {
    if (const auto* s = std::get_if<TorrentStopped>(&e)) stopped.insert(s->info_hash);
    return stopped.size() == 2;
  }));
  for (auto& t : session.torrents())
    EXPECT_EQ(t.status().state, TorrentState::paused);
  session.resume();
  std::set<std::string> checked;
  ASSERT_TRUE(log.wait([&](const Event& e) {
    if (const auto* c = std::get_if<CheckFinished>(&e)) checked.insert(c->info_hash);
    return checked.size() == 2;
  }));
  for (auto& t : session.torrents())
    EXPECT_EQ(t.status().state, TorrentState::seeding);
}

TEST_F(SessionApiTest, RemoveWithDeleteDataRemovesTheTorrentsFilesAndOnlyThem) {
  // The user's own files beside the torrent's and inside its folder stay.
  std::ofstream(seed_dir_ / "mine.txt") << "mine";
  std::ofstream(seed_dir_ / "tree" / "sub" / "notes.txt") << "also mine";
  Session session(loopback_settings(root_ / "state"));
  EventLog log(session);
  seed_both(session, log);
  auto tree = session.find_torrent(tree_.info_hash);
  auto one = session.find_torrent(one_.info_hash);
  ASSERT_TRUE(tree.valid());

  session.remove_torrent(tree, RemoveMode::delete_data);
  ASSERT_TRUE(log.wait_for<TorrentRemoved>(tree_.info_hash));
  EXPECT_FALSE(fs::exists(seed_dir_ / "tree" / "a.bin"));
  EXPECT_FALSE(fs::exists(seed_dir_ / "tree" / "sub" / "b.bin"));
  EXPECT_FALSE(fs::exists(seed_dir_ / "tree" / "sub" / "deep"));  // emptied folders go
  EXPECT_TRUE(fs::exists(seed_dir_ / "tree" / "sub" / "notes.txt"));
  EXPECT_EQ(read_all(seed_dir_ / "mine.txt"), "mine");
  expect_same_files(one_, seed_dir_);  // the other torrent's data is untouched
  // No resume data is left behind for it.
  for (const auto& f : fs::directory_iterator(root_ / "state" / "resume"))
    EXPECT_EQ(f.path().filename().string().find(tree_.info_hash), std::string::npos) << f.path();

  // A removed torrent's handle stays harmless.
  EXPECT_FALSE(tree.valid());
  auto st = tree.status();
  EXPECT_TRUE(st.info_hash.empty());
  EXPECT_EQ(st.total_size, 0);
  tree.pause();
  tree.resume();
  tree.force_recheck();
  EXPECT_FALSE(tree.add_peer("127.0.0.1:1"));
  EXPECT_TRUE(tree.file_progress().empty());
  session.remove_torrent(tree);  // twice: nothing happens
  EXPECT_FALSE(session.find_torrent(tree_.info_hash).valid());
  EXPECT_EQ(session.stats().torrents, 1);
  EXPECT_EQ(one.status().state, TorrentState::seeding);

  // keep_data keeps everything.
  session.remove_torrent(one, RemoveMode::keep_data);
  ASSERT_TRUE(log.wait_for<TorrentRemoved>(one_.info_hash));
  expect_same_files(one_, seed_dir_);
  EXPECT_TRUE(session.torrents().empty());
}

// A torrent with a tracker tells it "stopped" when removed, then drains; under ASan this also checks that
// the stop's coroutine outlives nothing it refers to. The tracker here refuses connections.
TEST_F(SessionApiTest, RemovingATorrentWithATrackerAnnouncesStopAndDrains) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  auto port = bind_loopback(fd);
  ASSERT_NE(port, 0);
  ::close(fd);  // nothing listens there now
  const auto url = "http://127.0.0.1:" + std::to_string(port) + "/announce";
  auto tracked = make_torrent(root_ / "tracked", "t.bin", {{"", 40000}}, 16 * 1024, 9, url);
  auto settings = loopback_settings(root_ / "state");
  settings.use_trackers = true;
  Session session(settings);
  EventLog log(session);
  auto p = params_for(tracked, root_ / "tracked");
  auto added = session.add_torrent(p);
  ASSERT_TRUE(added);
  ASSERT_TRUE(log.wait_for<CheckFinished>(tracked.info_hash));
  ASSERT_TRUE(log.wait_for<TrackerError>(tracked.info_hash)) << "the started announce fails";
  session.remove_torrent(*added);
  ASSERT_TRUE(log.wait_for<TorrentRemoved>(tracked.info_hash));
  // Shutdown stops a second one the same way.
  ASSERT_TRUE(session.add_torrent(p));
  ASSERT_TRUE(log.wait_for<CheckFinished>(tracked.info_hash));
  session.shutdown();
}

TEST_F(SessionApiTest, HandleOutlivesItsSession) {
  TorrentHandle h;
  {
    Session session(loopback_settings(root_ / "state"));
    auto added = session.add_torrent(params_for(one_, seed_dir_));
    ASSERT_TRUE(added);
    h = *added;
    EXPECT_TRUE(h.valid());
  }
  EXPECT_FALSE(h.valid());
  EXPECT_TRUE(h.status().info_hash.empty());
  h.pause();
  EXPECT_FALSE(TorrentHandle().valid());
}

TEST_F(SessionApiTest, ForceRecheckHashesTheDataAgain) {
  Session session(loopback_settings(root_ / "state"));
  EventLog log(session);
  seed_both(session, log);
  auto h = session.find_torrent(one_.info_hash);
  ASSERT_EQ(h.status().state, TorrentState::seeding);
  const auto n = one_.num_pieces;

  // One byte of piece 3 changes behind the session's back: only a real recheck can see it.
  const auto path = seed_dir_ / "one.bin";
  auto original = read_all(path);
  {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(3 * 16 * 1024 + 5);
    f.put(static_cast<char>(original[3 * 16 * 1024 + 5] ^ 0x5a));
  }
  log.forget();
  h.force_recheck();
  ASSERT_TRUE(log.wait_for<CheckFinished>(one_.info_hash));
  EXPECT_EQ(std::get<CheckFinished>(log.seen().back()).pieces_have, n - 1);
  auto st = h.status();
  EXPECT_EQ(st.state, TorrentState::downloading);
  EXPECT_EQ(st.pieces_have, n - 1);
  auto progress = h.file_progress();
  ASSERT_EQ(progress.size(), 1u);
  EXPECT_EQ(progress[0], static_cast<std::int64_t>(original.size()) - 16 * 1024);

  // Put right, checked again: whole, seeding, and said finished once more.
  std::ofstream(path, std::ios::binary | std::ios::trunc) << original;
  log.forget();
  h.force_recheck();
  ASSERT_TRUE(log.wait_for<CheckFinished>(one_.info_hash));
  EXPECT_EQ(std::get<CheckFinished>(log.seen().back()).pieces_have, n);
  ASSERT_TRUE(log.wait_for<TorrentFinished>(one_.info_hash));
  EXPECT_EQ(h.status().state, TorrentState::seeding);
  EXPECT_EQ(session.find_torrent(tree_.info_hash).status().state, TorrentState::seeding);
}

}  // namespace
}  // namespace shoal::test
