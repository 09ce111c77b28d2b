// torrent::Torrent's policies beyond one conversation: when seeding is done, PEX in both directions,
// ut_metadata serving, and what a private torrent (BEP 27) never says.
#include "torrent/torrent.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "torrent_harness.hpp"
#include "wire/ut_metadata.hpp"
#include "wire/ut_pex.hpp"

namespace shoal::torrent::testing {
namespace {

constexpr std::int32_t kPieces = 4;
constexpr std::int64_t kPieceLength = 2 * swarm::kBlockSize;
constexpr std::int64_t kTotal = kPieces * kPieceLength;

Params base_params(bool is_private = false) {
  auto p = Harness::make_params(kPieces, kPieceLength, kTotal);
  p.is_private = is_private;
  return p;
}

// ---- Seeding limits.

TEST(TorrentPolicy, SeedingEndsAtTheRatioOrTime) {
  struct Case {
    const char* what;
    bool seed;
    std::optional<double> ratio;
    std::optional<Clock::duration> time;
    std::int64_t uploaded_before;
    int done_at_tick;  // 0: not within the test's 30 ticks
  };
  const Case cases[] = {
      {"no limits: seeds on", true, std::nullopt, std::nullopt, 10 * kTotal, 0},
      {"the ratio reached by earlier uploads", true, 1.0, std::nullopt, kTotal, 1},
      {"a ratio of zero: done at once", true, 0.0, std::nullopt, 0, 1},
      {"the ratio not reached", true, 2.0, std::nullopt, kTotal, 0},
      {"the seed time, counted from the first tick as a seed", true, std::nullopt, 10s, 0, 11},
      {"a downloader is not done, whatever its ratio", false, 0.0, 1s, kTotal, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto p = base_params();
    p.seed_ratio = c.ratio;
    p.seed_time = c.time;
    p.uploaded_before = c.uploaded_before;
    Harness h(p);
    if (c.seed) h.have_all();
    h.start();
    h.actions();
    int done_at = 0;
    for (int tick = 1; tick <= 30 && done_at == 0; ++tick) {
      h.tick();
      if (count_actions<SeedingDone>(h.actions()) > 0) done_at = tick;
    }
    EXPECT_EQ(done_at, c.done_at_tick);
  }
}

TEST(TorrentPolicy, SeedingDoneIsQueuedOnce) {
  auto p = base_params();
  p.seed_ratio = 0.0;
  Harness h(p);
  h.have_all();
  h.start();
  for (int i = 0; i < 5; ++i)
    h.tick();  // the driver has not stopped the torrent yet
  h.actions();
  EXPECT_EQ(count_actions<SeedingDone>(h.history), 1u);
}

TEST(TorrentPolicy, UploadsOfThisSessionCountTowardsTheRatio) {
  auto p = base_params();
  p.seed_ratio = 0.25;  // one piece of four
  Harness h(p);
  h.have_all();
  h.start();
  auto id = h.connect(ip(6, 1));
  h.flush(id);
  ASSERT_TRUE(h.receive_all(id, {wire::HaveNone{}, wire::Interested{}}));
  h.flush(id);
  h.tick();
  EXPECT_EQ(count_actions<SeedingDone>(h.actions()), 0u);
  ASSERT_TRUE(h.receive_all(id, {wire::Request{{1, 0, swarm::kBlockSize}},
                                 wire::Request{{1, swarm::kBlockSize, swarm::kBlockSize}}}));
  h.torrent.on_piece_read(PieceIndex(1), h.piece_copy(1));
  EXPECT_EQ(h.flush(id).payload, kPieceLength);
  h.tick();
  EXPECT_EQ(count_actions<SeedingDone>(h.actions()), 1u);
}

// ---- PEX.

// The id a peer asks us to send its ut_pex messages under.
constexpr std::uint8_t kTheirPexId = 7;

std::string pex_message(std::vector<Endpoint> added) {
  wire::PexMessage m;
  for (const auto& e : added)
    m.added.push_back({e, 0});
  return wire::encode_pex(m);
}

TEST(TorrentPolicy, PeersAddedByPexAreDialled) {
  Harness h(base_params());
  h.start();
  auto id = h.connect(ip(6, 1));
  h.extension_handshake(id, 0, kTheirPexId);
  h.actions();
  auto first = pex_message({ip(7, 1, 7001), ip(7, 2, 7002)});
  ASSERT_TRUE(h.receive(id, wire::Extended{swarm::kOurUtPexId, bytes_of(first)}));
  EXPECT_EQ(dialled(h.actions()), (std::set<Endpoint>{ip(7, 1, 7001), ip(7, 2, 7002)}));

  // BEP 11: a message a minute. One much sooner is ignored; one after the gap is taken.
  auto second = pex_message({ip(7, 3, 7003)});
  h.now += 10s;
  ASSERT_TRUE(h.receive(id, wire::Extended{swarm::kOurUtPexId, bytes_of(second)}));
  EXPECT_EQ(count_actions<Dial>(h.actions()), 0u);
  h.now += swarm::PexState::kMinIncomingGap;
  ASSERT_TRUE(h.receive(id, wire::Extended{swarm::kOurUtPexId, bytes_of(second)}));
  EXPECT_EQ(dialled(h.actions()), std::set<Endpoint>{ip(7, 3, 7003)});
}

TEST(TorrentPolicy, PexIsIgnoredWhereItDoesNotBelong) {
  struct Case {
    const char* what;
    bool is_private;
    std::uint8_t their_pex_id;  // 0: its extension handshake has no ut_pex
  };
  const Case cases[] = {
      {"a private torrent", true, kTheirPexId},
      {"a peer that never said it speaks ut_pex", false, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    Harness h(base_params(c.is_private));
    h.start();
    auto id = h.connect(ip(6, 1));
    h.extension_handshake(id, 0, c.their_pex_id);
    h.actions();
    auto m = pex_message({ip(7, 1, 7001)});
    EXPECT_TRUE(h.receive(id, wire::Extended{swarm::kOurUtPexId, bytes_of(m)}));
    h.tick();
    EXPECT_EQ(count_actions<Dial>(h.actions()), 0u);
  }
}

TEST(TorrentPolicy, AMalformedPexMessageCostsNothing) {
  Harness h(base_params());
  h.start();
  auto id = h.connect(ip(6, 1));
  h.extension_handshake(id, 0, kTheirPexId);
  h.actions();
  const std::string garbage = "d5:added5:12345e";  // not a multiple of 6 bytes
  EXPECT_TRUE(h.receive(id, wire::Extended{swarm::kOurUtPexId, bytes_of(garbage)}));
  EXPECT_EQ(count_actions<Dial>(h.actions()), 0u);
  EXPECT_EQ(h.torrent.num_peers(), 1u);
}

TEST(TorrentPolicy, PexPeersHearOfOurOtherConnections) {
  struct Case {
    const char* what;
    bool is_private;
    bool told;
  };
  const Case cases[] = {
      {"a public torrent tells", false, true},
      {"a private torrent never does", true, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    Harness h(base_params(c.is_private));
    h.start();
    auto listener = h.connect(ip(6, 1));
    h.extension_handshake(listener, 0, kTheirPexId);
    h.connect(ip(6, 2, 6882), /*outgoing=*/true);
    h.connect(ip(6, 3, 50000), /*outgoing=*/false);  // came in from an ephemeral port, no listen port known
    h.flush(listener);
    h.tick(swarm::PexState::kFirstSendDelay);
    std::vector<wire::Extended> pex;
    auto out = h.flush(listener);
    for (const auto& e : out.all<wire::Extended>()) {
      if (e.id == kTheirPexId) pex.push_back(e);
    }
    ASSERT_EQ(pex.size(), c.told ? 1u : 0u);
    if (!c.told) continue;
    auto m = wire::decode_pex({reinterpret_cast<const char*>(pex[0].payload.data()), pex[0].payload.size()});
    ASSERT_TRUE(m);
    ASSERT_EQ(m->added.size(), 1u);
    EXPECT_EQ(m->added[0].endpoint, ip(6, 2, 6882));
    EXPECT_NE(m->added[0].flags & wire::PexFlags::reachable, 0);
  }
}

// ---- Extension handshake and ut_metadata.

TEST(TorrentPolicy, OurExtensionHandshakeOffersMetadataAndPexOnlyWhenPublic) {
  for (bool is_private : {false, true}) {
    SCOPED_TRACE(is_private ? "private" : "public");
    Harness h(base_params(is_private));
    h.start();
    auto id = h.connect(ip(6, 1));
    auto out = h.flush(id);
    auto ext = out.all<wire::Extended>();
    ASSERT_EQ(ext.size(), 1u);
    ASSERT_EQ(ext[0].id, 0);
    auto hs = wire::decode_extension_handshake(
        {reinterpret_cast<const char*>(ext[0].payload.data()), ext[0].payload.size()});
    ASSERT_TRUE(hs);
    if (is_private) {
      EXPECT_FALSE(hs->id_of("ut_metadata"));
      EXPECT_FALSE(hs->id_of("ut_pex"));
      EXPECT_FALSE(hs->metadata_size);
    } else {
      EXPECT_EQ(hs->id_of("ut_metadata"), swarm::kOurUtMetadataId);
      EXPECT_EQ(hs->id_of("ut_pex"), swarm::kOurUtPexId);
      EXPECT_EQ(hs->metadata_size, static_cast<std::int64_t>(h.params.info_bytes.size()));
    }
    EXPECT_EQ(hs->client, h.params.client);
    EXPECT_EQ(hs->listen_port, h.params.listen_port);
    EXPECT_EQ(hs->reqq, h.params.reqq);
    auto remote = ip(6, 1);
    EXPECT_EQ(hs->yourip, std::string(reinterpret_cast<const char*>(remote.address.data()), 4));
  }
}

TEST(TorrentPolicy, MetadataIsServedOnlyForPublicTorrents) {
  constexpr std::uint8_t kTheirMetadataId = 3;
  for (bool is_private : {false, true}) {
    SCOPED_TRACE(is_private ? "private" : "public");
    Harness h(base_params(is_private));
    h.start();
    auto id = h.connect(ip(6, 1));
    h.extension_handshake(id, kTheirMetadataId, 0);
    h.flush(id);
    auto ask = [&](std::uint32_t piece) {
      wire::MetadataMessage m;
      m.type = wire::MetadataMessage::Type::request;
      m.piece = piece;
      std::string bytes = wire::encode_metadata_message(m);
      EXPECT_TRUE(h.receive(id, wire::Extended{swarm::kOurUtMetadataId, bytes_of(bytes)}));
    };
    ask(0);
    ask(1);  // past the end of a one-piece info dictionary
    auto out = h.flush(id);
    auto replies = out.all<wire::Extended>();
    if (is_private) {
      EXPECT_TRUE(replies.empty());
      continue;
    }
    ASSERT_EQ(replies.size(), 2u);
    for (const auto& r : replies)
      EXPECT_EQ(r.id, kTheirMetadataId);
    auto data = wire::decode_metadata_message(replies[0].payload);
    ASSERT_TRUE(data);
    EXPECT_EQ(data->type, wire::MetadataMessage::Type::data);
    EXPECT_EQ(data->piece, 0u);
    EXPECT_EQ(data->total_size, static_cast<std::int64_t>(h.params.info_bytes.size()));
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(data->data.data()), data->data.size()),
              h.params.info_bytes);
    auto reject = wire::decode_metadata_message(replies[1].payload);
    ASSERT_TRUE(reject);
    EXPECT_EQ(reject->type, wire::MetadataMessage::Type::reject);
    EXPECT_EQ(reject->piece, 1u);
  }
}

// ---- Connections.

TEST(TorrentPolicy, IncomingConnectionsAreTakenWithinTheLimits) {
  struct Case {
    const char* what;
    int max_connections;
    int mediator_limit;
    bool may_accept;
    bool accepted;  // with one peer connected already
  };
  const Case cases[] = {
      {"room everywhere", 80, 500, true, true},
      {"the torrent's own limit is full", 1, 500, true, false},
      {"the mediator's share is full", 80, 1, true, false},
      {"the session has no room", 80, 500, false, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto p = base_params();
    p.max_connections = c.max_connections;
    Harness h(p);
    h.mediator.connections = c.mediator_limit;
    h.mediator.accept = c.may_accept;
    h.start();
    h.connect(ip(6, 1));
    EXPECT_EQ(h.torrent.accepts_incoming(ip(6, 2)), c.accepted);
  }
}

TEST(TorrentPolicy, NoMoreThanFourConnectionsFromOneAddress) {
  Harness h(base_params());
  h.start();
  for (std::uint16_t port = 1; port <= swarm::PeerList::kMaxConnectionsPerAddress; ++port)
    h.connect(ip(6, 1, port));
  auto refused = h.torrent.on_peer_connected(ip(6, 1, 99), false, {true, true}, h.now);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error(), "too many connections from one address");
  // Loopback is exempt: local swarms run many peers on one address.
  for (std::uint16_t port = 1; port <= 6; ++port) {
    auto e = *Endpoint::parse("127.0.0.1:" + std::to_string(7000 + port));
    EXPECT_TRUE(h.torrent.on_peer_connected(e, false, {true, true}, h.now).has_value());
  }
}

TEST(TorrentPolicy, OurOwnAddressIsNeverDialled) {
  Harness h(base_params());
  h.start();
  h.torrent.on_self_connection(ip(6, 9));
  h.torrent.add_peer(ip(6, 9), swarm::PeerSource::tracker, h.now);
  h.torrent.add_peer(ip(6, 8), swarm::PeerSource::tracker, h.now);
  h.tick();
  EXPECT_EQ(dialled(h.actions()), std::set<Endpoint>{ip(6, 8)});
}

// ---- Logging and determinism.

// A short life: trackers, a download with a lying seed among honest ones, a ban, a stop. Returns every
// action.
std::vector<Action> short_life(bool log) {
  auto p = base_params();
  p.trackers = {{"http://a.example/announce"}};
  p.log = log;
  Harness h(p);
  h.start();
  auto started = actions_of<Announce>(h.actions()).at(0);
  h.torrent.on_announce_done(started.id, tracker::AnnounceResponse{}, h.now);
  const std::vector<std::uint8_t> all = {0xf0};
  auto liar = h.connect(ip(6, 1), true);
  h.receive_all(liar, {wire::Bitfield{all}, wire::Unchoke{}});
  for (const auto& r : h.flush(liar).all<wire::Request>()) {
    auto good = h.block(r);
    std::vector<std::uint8_t> bad(good.data.begin(), good.data.end());
    bad[0] ^= 1;
    h.receive(liar, wire::Piece{r.piece, r.begin, bad});
  }
  h.answer_verifies(h.actions());
  auto honest = h.connect(ip(6, 2), true);
  h.receive_all(honest, {wire::Bitfield{all}, wire::Unchoke{}});
  for (const auto& r : h.flush(honest).all<wire::Request>())
    h.receive(honest, h.block(r));
  h.answer_verifies(h.actions());
  h.tick();
  h.torrent.stop(h.now);
  h.actions();
  return h.history;
}

TEST(TorrentPolicy, LoggingAddsLinesAndChangesNothingElse) {
  auto quiet = short_life(false);
  auto logged = short_life(true);
  EXPECT_EQ(count_actions<Log>(quiet), 0u);
  auto lines = actions_of<Log>(logged);
  EXPECT_FALSE(lines.empty());
  EXPECT_TRUE(std::any_of(lines.begin(), lines.end(),
                          [](const Log& l) { return l.text.find("banned") != std::string::npos; }));
  std::vector<std::size_t> kinds_quiet, kinds_logged;
  for (const auto& a : quiet)
    kinds_quiet.push_back(a.index());
  for (const auto& a : logged) {
    if (!std::holds_alternative<Log>(a)) kinds_logged.push_back(a.index());
  }
  EXPECT_EQ(kinds_quiet, kinds_logged);
  EXPECT_EQ(count_actions<PeerBanned>(quiet), 1u);
  EXPECT_EQ(count_actions<Completed>(quiet), 1u);
}

TEST(TorrentPolicy, TheSameSeedGivesTheSameLife) {
  auto a = short_life(false);
  auto b = short_life(false);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].index(), b[i].index()) << i;
    if (const auto* v = std::get_if<VerifyPiece>(&a[i])) {
      EXPECT_EQ(v->piece, std::get<VerifyPiece>(b[i]).piece);
    }
  }
}

}  // namespace
}  // namespace shoal::torrent::testing
