// torrent::Torrent as a leecher: what it dials, what it says to peers, how it asks for blocks and assembles
// pieces, and what completion changes. Driven by the harness (fake Mediator, virtual time); what it writes is
// decoded back into messages. The seeder's side is in torrent_seeder_test.cpp.
#include "torrent/torrent.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "torrent_harness.hpp"

namespace shoal::torrent::testing {
namespace {

// Four pieces of two blocks; the last piece is shorter (a full block and a 3,616-byte one).
constexpr std::int32_t kPieces = 4;
constexpr std::int64_t kPieceLength = 2 * swarm::kBlockSize;
constexpr std::int64_t kTotal = 3 * kPieceLength + 20000;
const std::vector<std::uint8_t> kAllFour = {0xf0};  // a bitfield: all four pieces

Params leecher_params() {
  return Harness::make_params(kPieces, kPieceLength, kTotal);
}

Params with_trackers(Params p, std::vector<std::vector<std::string>> tiers) {
  p.trackers = std::move(tiers);
  return p;
}

tracker::AnnounceResponse answer(std::vector<Endpoint> peers = {}, std::int64_t interval = 1800) {
  tracker::AnnounceResponse r;
  r.interval = interval;
  r.peers = std::move(peers);
  return r;
}

std::vector<Endpoint> addresses(int n) {
  std::vector<Endpoint> out;
  for (int i = 0; i < n; ++i)
    out.push_back(ip(1, static_cast<std::uint8_t>(i + 1)));
  return out;
}

// A seed we dialled: greeting read, it has everything and unchokes us; returns the requests we sent it.
std::vector<wire::Request> seed_unchokes(Harness& h, PeerId seed) {
  h.flush(seed);
  EXPECT_TRUE(h.receive_all(seed, {wire::Bitfield{kAllFour}, wire::Unchoke{}}));
  return h.flush(seed).all<wire::Request>();
}

std::vector<wire::Request> of_piece(const std::vector<wire::Request>& requests, std::uint32_t piece) {
  std::vector<wire::Request> out;
  for (const auto& r : requests) {
    if (r.piece == piece) out.push_back(r);
  }
  return out;
}

// ---- Leecher: trackers and dialling.

TEST(TorrentLeecher, StartAnnouncesStartedToTheFirstTrackerOfTierZero) {
  Harness h(with_trackers(leecher_params(), {{"http://a.example/announce"}, {"http://b.example/announce"}}));
  h.start();
  EXPECT_EQ(h.torrent.phase(), Phase::downloading);
  auto actions = h.actions();
  auto announces = actions_of<Announce>(actions);
  ASSERT_EQ(announces.size(), 1u);
  const auto& a = announces[0];
  EXPECT_EQ(a.url, "http://a.example/announce");
  EXPECT_EQ(a.request.event, tracker::AnnounceEvent::started);
  EXPECT_EQ(a.request.left, kTotal);
  EXPECT_EQ(a.request.downloaded, 0);
  EXPECT_EQ(a.request.uploaded, 0);
  EXPECT_EQ(a.request.port, 6881);
  EXPECT_EQ(a.request.info_hash, h.params.info_hash);
  EXPECT_EQ(a.request.peer_id, h.params.peer_id);
  EXPECT_EQ(count_actions<Dial>(actions), 0u);  // nobody to dial yet
}

TEST(TorrentLeecher, NothingIsSaidBeforeStart) {
  Harness h(with_trackers(leecher_params(), {{"http://a.example/announce"}}));
  h.tick();
  h.torrent.add_peer(ip(1, 1), swarm::PeerSource::tracker, h.now);
  h.tick();
  EXPECT_TRUE(h.actions().empty());
  EXPECT_EQ(h.torrent.phase(), Phase::checking);
  EXPECT_FALSE(h.torrent.accepts_incoming(ip(2, 2)));
  // What was learnt meanwhile is used once started.
  h.start();
  EXPECT_EQ(dialled(h.actions()), std::set<Endpoint>{ip(1, 1)});
}

TEST(TorrentLeecher, PeersFromTheTrackerAreDialled) {
  Harness h(with_trackers(leecher_params(), {{"http://a.example/announce"}}));
  h.start();
  auto id = actions_of<Announce>(h.actions()).at(0).id;
  h.torrent.on_announce_done(id, answer(addresses(3)), h.now);
  auto actions = h.actions();
  ASSERT_EQ(actions_of<TrackerReply>(actions).size(), 1u);
  EXPECT_EQ(actions_of<TrackerReply>(actions)[0].peers, 3);
  EXPECT_EQ(dialled(actions), (std::set<Endpoint>{ip(1, 1), ip(1, 2), ip(1, 3)}));
  EXPECT_EQ(h.torrent.half_open(), 3u);
  EXPECT_EQ(h.mediator.dial_asks.size(), 3u);
}

TEST(TorrentLeecher, DialsStayWithinEveryCap) {
  struct Case {
    const char* what;
    int peers;
    int grants;            // the Mediator's try_dial says yes this often
    int connection_limit;  // the Mediator's share for this torrent
    int max_connections;   // the torrent's own setting
    std::size_t first;     // dials when the tracker answers
    std::size_t after_tick;
  };
  const Case cases[] = {
      {"ten dials a tick, then the half-open cap", 30, 1000, 500, 80, kMaxDialsPerTick, kMaxHalfOpen},
      {"the mediator refuses: no dial, retried later", 30, 4, 500, 80, 4, 4},
      {"the mediator's connection share", 30, 1000, 5, 80, 5, 5},
      {"the torrent's own connection limit", 30, 1000, 500, 3, 3, 3},
      {"fewer addresses than caps", 2, 1000, 500, 80, 2, 2},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto p = with_trackers(leecher_params(), {{"http://a.example/announce"}});
    p.max_connections = c.max_connections;
    Harness h(p);
    h.mediator.dial_grants = c.grants;
    h.mediator.connections = c.connection_limit;
    h.start();
    auto id = actions_of<Announce>(h.actions()).at(0).id;
    h.torrent.on_announce_done(id, answer(addresses(c.peers)), h.now);
    EXPECT_EQ(count_actions<Dial>(h.actions()), c.first);
    h.tick();
    h.actions();
    EXPECT_EQ(h.torrent.half_open(), c.after_tick);
    EXPECT_EQ(actions_of<Dial>(h.history).size(), c.after_tick);
    h.tick();
    EXPECT_EQ(count_actions<Dial>(h.actions()), 0u);
  }
}

TEST(TorrentLeecher, ARefusedDialIsTriedAgainWhenTheMediatorHasRoom) {
  Harness h(with_trackers(leecher_params(), {{"http://a.example/announce"}}));
  h.mediator.dial_grants = 0;
  h.start();
  auto id = actions_of<Announce>(h.actions()).at(0).id;
  h.torrent.on_announce_done(id, answer(addresses(2)), h.now);
  EXPECT_EQ(count_actions<Dial>(h.actions()), 0u);
  EXPECT_EQ(h.mediator.dial_asks.size(), 1u);  // the first refusal ends the round
  h.mediator.dial_grants = 10;
  h.tick();
  EXPECT_EQ(dialled(h.actions()), (std::set<Endpoint>{ip(1, 1), ip(1, 2)}));
}

TEST(TorrentLeecher, AFailedDialFreesItsHalfOpenSlot) {
  Harness h(with_trackers(leecher_params(), {{"http://a.example/announce"}}));
  h.start();
  auto id = actions_of<Announce>(h.actions()).at(0).id;
  h.torrent.on_announce_done(id, answer(addresses(20)), h.now);
  h.tick();
  auto dials = actions_of<Dial>(h.actions());
  ASSERT_EQ(h.torrent.half_open(), kMaxHalfOpen);
  h.torrent.on_dial_failed(dials[0].endpoint, h.now);
  h.torrent.on_dial_failed(dials[1].endpoint, h.now);
  EXPECT_EQ(h.torrent.half_open(), kMaxHalfOpen - 2);
  h.tick();
  EXPECT_EQ(count_actions<Dial>(h.actions()), 2u);
  EXPECT_EQ(h.torrent.half_open(), kMaxHalfOpen);
}

TEST(TorrentLeecher, AddressesInAHandshakeElsewhereOrConnectedAreNotDialled) {
  Harness h(leecher_params());
  h.start();
  h.mediator.handshaking.insert(ip(1, 1));
  h.connect(ip(1, 2), /*outgoing=*/true);
  for (auto e : addresses(3))
    h.torrent.add_peer(e, swarm::PeerSource::tracker, h.now);
  h.tick();
  EXPECT_EQ(dialled(h.actions()), std::set<Endpoint>{ip(1, 3)});
}

// ---- Leecher: the conversation with a seed.

TEST(TorrentLeecher, TheGreetingFitsTheFeaturesAndOurPieces) {
  enum class Have { none, some, all };
  struct Case {
    const char* what;
    swarm::PeerFeatures features;
    Have have;
    std::vector<std::size_t> expected;  // message kinds (variant indexes), in order
  };
  const auto kExt = wire::Message(wire::Extended{}).index();
  const auto kHaveNone = wire::Message(wire::HaveNone{}).index();
  const auto kHaveAll = wire::Message(wire::HaveAll{}).index();
  const auto kBitfield = wire::Message(wire::Bitfield{}).index();
  const Case cases[] = {
      {"fast and extensions, nothing yet", {true, true}, Have::none, {kExt, kHaveNone}},
      {"fast and extensions, some pieces", {true, true}, Have::some, {kExt, kBitfield}},
      {"fast and extensions, a seed", {true, true}, Have::all, {kExt, kHaveAll}},
      {"no fast extension, nothing yet: silence", {false, true}, Have::none, {kExt}},
      {"no fast extension, a seed: a full bitfield", {false, true}, Have::all, {kExt, kBitfield}},
      {"fast only, nothing yet", {true, false}, Have::none, {kHaveNone}},
      {"neither, some pieces", {false, false}, Have::some, {kBitfield}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    Harness h(leecher_params());
    if (c.have == Have::all) h.have_all();
    if (c.have == Have::some) h.torrent.mark_have(PieceIndex(2));
    h.start();
    h.actions();
    auto id = h.connect(ip(2, 1), false, c.features);
    auto actions = h.actions();
    EXPECT_EQ(count_actions<Writable>(actions), 1u);
    auto out = h.flush(id);
    std::vector<std::size_t> kinds;
    for (const auto& m : out.messages)
      kinds.push_back(m.index());
    EXPECT_EQ(kinds, c.expected);
    for (const auto& b : out.all<wire::Bitfield>()) {
      auto bits = swarm::Bitfield::from_wire(b.bits, kPieces);
      ASSERT_TRUE(bits);
      EXPECT_EQ(*bits, h.torrent.have());
    }
  }
}

TEST(TorrentLeecher, NothingToSayMeansNoWakeUp) {
  Harness h(leecher_params());
  h.start();
  auto id = h.connect(ip(2, 1), false, {false, false});  // no extensions, no pieces, no fast: silence
  EXPECT_EQ(count_actions<Writable>(h.actions()), 0u);
  EXPECT_FALSE(h.take(id).taken);
}

TEST(TorrentLeecher, ABitfieldAndAnUnchokeBringInterestAndRequests) {
  Harness h(leecher_params());
  h.start();
  auto seed = h.connect(ip(2, 1), true);
  h.flush(seed);
  ASSERT_TRUE(h.receive(seed, wire::Bitfield{kAllFour}));
  auto out = h.flush(seed);
  EXPECT_EQ(out.count<wire::Interested>(), 1u);
  EXPECT_EQ(out.count<wire::Request>(), 0u);  // it still chokes us

  ASSERT_TRUE(h.receive_all(seed, {wire::Unchoke{}}));
  auto requests = h.flush(seed).all<wire::Request>();
  // Eight blocks in all, each asked for once, each inside its piece.
  ASSERT_EQ(requests.size(), 8u);
  std::set<std::pair<std::uint32_t, std::uint32_t>> blocks;
  for (const auto& r : requests) {
    EXPECT_LT(r.piece, static_cast<std::uint32_t>(kPieces));
    EXPECT_EQ(r.begin % swarm::kBlockSize, 0u);
    auto piece_size = h.torrent.picker().piece_size(PieceIndex(static_cast<std::int32_t>(r.piece)));
    EXPECT_EQ(r.length, std::min<std::int64_t>(swarm::kBlockSize, piece_size - r.begin));
    blocks.insert({r.piece, r.begin});
  }
  EXPECT_EQ(blocks.size(), 8u);
}

TEST(TorrentLeecher, TheBlocksOfAPieceAreVerifiedAsOneBuffer) {
  Harness h(leecher_params());
  h.start();
  auto seed = h.connect(ip(2, 1), true);
  auto requests = seed_unchokes(h, seed);
  ASSERT_EQ(requests.size(), 8u);
  auto piece = requests[0].piece;
  auto blocks = of_piece(requests, piece);
  ASSERT_EQ(blocks.size(), 2u);
  // The second block first: nothing to verify until both are in.
  ASSERT_TRUE(h.receive(seed, h.block(blocks[1])));
  EXPECT_EQ(count_actions<VerifyPiece>(h.actions()), 0u);
  ASSERT_TRUE(h.receive(seed, h.block(blocks[0])));
  auto verifies = actions_of<VerifyPiece>(h.actions());
  ASSERT_EQ(verifies.size(), 1u);
  const auto& v = verifies[0];
  EXPECT_EQ(v.piece, PieceIndex(static_cast<std::int32_t>(piece)));
  auto expected = h.piece_bytes(static_cast<std::int32_t>(piece));
  EXPECT_TRUE(std::equal(v.data.begin(), v.data.end(), expected.begin(), expected.end()));
  ASSERT_EQ(v.blocks.size(), 2u);
  for (const auto& b : v.blocks) {
    EXPECT_TRUE(b.known);
    EXPECT_EQ(b.from, swarm::ban_key(ip(2, 1)));
  }
  EXPECT_FALSE(v.block_hashes);
  EXPECT_EQ(h.torrent.stats().downloaded, static_cast<std::int64_t>(expected.size()));
}

TEST(TorrentLeecher, AVerifiedPieceIsAnnouncedToPeersThatLackIt) {
  Harness h(leecher_params());
  h.start();
  auto seed = h.connect(ip(2, 1), true);
  auto leecher = h.connect(ip(2, 2), false);
  h.flush(leecher);
  ASSERT_TRUE(h.receive_all(leecher, {wire::HaveNone{}}));
  auto requests = seed_unchokes(h, seed);
  auto piece = requests[0].piece;
  for (const auto& r : of_piece(requests, piece))
    ASSERT_TRUE(h.receive(seed, h.block(r)));
  auto verify = h.actions();
  h.torrent.mark_resume_saved();
  h.answer_verifies(verify);
  auto actions = h.actions();
  auto verified = actions_of<PieceVerified>(actions);
  ASSERT_EQ(verified.size(), 1u);
  EXPECT_EQ(verified[0].piece, PieceIndex(static_cast<std::int32_t>(piece)));
  EXPECT_TRUE(h.torrent.have().test(PieceIndex(static_cast<std::int32_t>(piece))));
  EXPECT_TRUE(h.torrent.resume_dirty());
  EXPECT_EQ(h.torrent.stats().pieces_have, 1);

  auto haves = h.flush(leecher).all<wire::Have>();
  ASSERT_EQ(haves.size(), 1u);
  EXPECT_EQ(haves[0].piece, piece);
  EXPECT_EQ(h.flush(seed).count<wire::Have>(), 0u);  // it has the piece
}

TEST(TorrentLeecher, TheLastPieceCompletesAnnouncesAndDropsSeeds) {
  Harness h(with_trackers(leecher_params(), {{"http://a.example/announce"}}));
  h.start();
  auto started = actions_of<Announce>(h.actions()).at(0).id;
  auto other = h.connect(ip(2, 9), false);  // keeps the downloader from being lonely
  h.torrent.on_announce_done(started, answer(), h.now);
  auto seed = h.connect(ip(2, 1), true);
  auto leecher = h.connect(ip(2, 2), false);
  h.receive_all(leecher, {wire::HaveNone{}});
  h.receive_all(other, {wire::HaveNone{}});
  h.actions();

  auto requests = seed_unchokes(h, seed);
  ASSERT_EQ(requests.size(), 8u);
  for (const auto& r : requests)
    ASSERT_TRUE(h.receive(seed, h.block(r)));
  auto verifies = h.actions();
  EXPECT_EQ(count_actions<VerifyPiece>(verifies), 4u);
  h.answer_verifies(verifies);
  auto actions = h.actions();

  EXPECT_EQ(count_actions<PieceVerified>(actions), 4u);
  EXPECT_EQ(count_actions<Completed>(actions), 1u);
  EXPECT_EQ(disconnect_reasons(actions, seed), std::vector<std::string>{"both seeding"});
  EXPECT_TRUE(disconnect_reasons(actions, leecher).empty());
  EXPECT_EQ(h.torrent.num_peers(), 2u);
  EXPECT_EQ(h.torrent.phase(), Phase::seeding);
  EXPECT_TRUE(h.torrent.is_complete());
  auto announces = actions_of<Announce>(actions);
  ASSERT_EQ(announces.size(), 1u);
  EXPECT_EQ(announces[0].request.event, tracker::AnnounceEvent::completed);
  EXPECT_EQ(announces[0].request.left, 0);
  EXPECT_EQ(announces[0].request.downloaded, kTotal);
  auto stats = h.torrent.stats();
  EXPECT_EQ(stats.have_wanted, kTotal);
  EXPECT_EQ(stats.total_wanted, kTotal);
  EXPECT_EQ(stats.downloaded, kTotal);
}

TEST(TorrentLeecher, CompletedWaitsForTheAnnounceInFlight) {
  Harness h(with_trackers(leecher_params(), {{"http://a.example/announce"}}));
  h.start();
  auto started = actions_of<Announce>(h.actions()).at(0).id;
  auto seed = h.connect(ip(2, 1), true);
  for (const auto& r : seed_unchokes(h, seed))
    ASSERT_TRUE(h.receive(seed, h.block(r)));
  h.answer_verifies(h.actions());
  auto actions = h.actions();
  EXPECT_EQ(count_actions<Completed>(actions), 1u);
  EXPECT_EQ(count_actions<Announce>(actions), 0u);  // `started` is still out
  h.torrent.on_announce_done(started, answer(), h.now);
  auto announces = actions_of<Announce>(h.actions());
  ASSERT_EQ(announces.size(), 1u);
  EXPECT_EQ(announces[0].request.event, tracker::AnnounceEvent::completed);
}

TEST(TorrentLeecher, ASeedAtStartIsCompleteButNeverAnnouncesCompleted) {
  Harness h(with_trackers(leecher_params(), {{"http://a.example/announce"}}));
  h.have_all();
  h.start();
  auto actions = h.actions();
  EXPECT_EQ(h.torrent.phase(), Phase::seeding);
  EXPECT_EQ(count_actions<Completed>(actions), 1u);
  auto announces = actions_of<Announce>(actions);
  ASSERT_EQ(announces.size(), 1u);
  EXPECT_EQ(announces[0].request.event, tracker::AnnounceEvent::started);
  EXPECT_EQ(announces[0].request.left, 0);
  h.torrent.on_announce_done(announces[0].id, answer(), h.now);
  for (int i = 0; i < 5; ++i)
    h.tick();
  EXPECT_EQ(count_actions<Announce>(h.actions()), 0u);
}

TEST(TorrentLeecher, ASeedThatConnectsWhileWeSeedIsClosed) {
  Harness h(leecher_params());
  h.have_all();
  h.start();
  auto peer = h.connect(ip(2, 1), true);
  h.actions();
  EXPECT_FALSE(h.receive(peer, wire::HaveAll{}));
  EXPECT_EQ(disconnect_reasons(h.actions(), peer), std::vector<std::string>{"both seeding"});
  // Dialled seeds are not dialled again while we seed.
  h.torrent.add_peer(ip(2, 1), swarm::PeerSource::tracker, h.now);
  h.tick(10s);
  EXPECT_EQ(count_actions<Dial>(h.actions()), 0u);
}

TEST(TorrentLeecher, ASnubbedPeerIsNotAskedAgainAndAgainForWhatItSitsOn) {
  // Sixteen pieces of eight blocks: room for a slow and a fast peer before end-game.
  constexpr std::int64_t kLength = 8 * swarm::kBlockSize;
  Harness h(Harness::make_params(16, kLength, 16 * kLength));
  h.start();
  const std::vector<std::uint8_t> all16 = {0xff, 0xff};
  auto slow = h.connect(ip(2, 1), true);
  auto fast = h.connect(ip(2, 2), true);
  h.receive_all(slow, {wire::Bitfield{all16}, wire::Unchoke{}});
  h.receive_all(fast, {wire::Bitfield{all16}, wire::Unchoke{}});
  h.flush(fast);
  ASSERT_EQ(h.flush(slow).count<wire::Request>(), swarm::PeerProtocol::kMinQueueDepth);

  // The slow peer stays alive but sends no block; the fast one sends a block a second.
  std::size_t asked_after_snub = 0;
  bool snubbed = false;
  for (int second = 1; second <= 60; ++second) {
    h.receive(slow, wire::KeepAlive{});
    auto to_fast = h.torrent.protocol(fast)->outstanding();
    if (!to_fast.empty()) {
      const auto& r = to_fast.front();
      wire::Request request{{static_cast<std::uint32_t>(r.piece.get()), static_cast<std::uint32_t>(r.begin),
                             static_cast<std::uint32_t>(r.length)}};
      ASSERT_TRUE(h.receive(fast, h.block(request)));
      h.torrent.on_messages_done(fast);
    }
    h.tick();
    h.answer_verifies(h.actions());
    h.flush(fast);
    auto to_slow = h.flush(slow).count<wire::Request>();
    if (snubbed) asked_after_snub += to_slow;
    snubbed = snubbed || h.torrent.protocol(slow)->snubbed();
  }
  ASSERT_TRUE(snubbed);
  EXPECT_FALSE(h.torrent.picker().in_end_game());
  // Its requests went back to the picker for others; it keeps one at most, a chance to redeem itself, and is
  // not sent the same requests again every second.
  EXPECT_LE(h.torrent.protocol(slow)->outstanding().size(), 1u);
  EXPECT_LE(asked_after_snub, 2u);
}

TEST(TorrentLeecher, APeerThatUnchokesUsLateIsNotSnubbedAtOnce) {
  Harness h(leecher_params());
  h.start();
  auto seed = h.connect(ip(2, 1), true);
  h.receive_all(seed, {wire::Bitfield{kAllFour}});
  for (int second = 0; second < 60; ++second) {  // it chokes us for a minute
    h.receive(seed, wire::KeepAlive{});
    h.tick();
  }
  h.flush(seed);
  h.receive_all(seed, {wire::Unchoke{}});
  ASSERT_EQ(h.flush(seed).count<wire::Request>(), 8u);
  h.tick();
  EXPECT_FALSE(h.torrent.protocol(seed)->snubbed());
  EXPECT_EQ(h.torrent.protocol(seed)->outstanding().size(), 8u);
  EXPECT_EQ(h.flush(seed).count<wire::Request>(), 0u);
}

TEST(TorrentLeecher, EndGameAsksTwoPeersAndCancelsWhereTheBlockDidNotComeFrom) {
  Harness h(Harness::make_params(1, kPieceLength, kPieceLength));  // one piece of two blocks
  h.start();
  const std::vector<std::uint8_t> one = {0x80};
  auto a = h.connect(ip(2, 1), true);
  auto b = h.connect(ip(2, 2), true);
  h.flush(a);
  h.flush(b);
  h.receive_all(a, {wire::Bitfield{one}, wire::Unchoke{}});
  auto to_a = h.flush(a).all<wire::Request>();
  ASSERT_EQ(to_a.size(), 2u);
  h.receive_all(b, {wire::Bitfield{one}, wire::Unchoke{}});
  auto to_b = h.flush(b).all<wire::Request>();
  // Nothing left but what A has: end-game doubles it, one block at a time, the one asked longest ago first.
  ASSERT_EQ(to_b.size(), 1u);
  EXPECT_EQ(static_cast<wire::BlockRef>(to_b[0]), static_cast<wire::BlockRef>(to_a[0]));
  EXPECT_TRUE(h.torrent.picker().in_end_game());

  ASSERT_TRUE(h.receive(a, h.block(to_a[0])));
  auto cancels = h.flush(b).all<wire::Cancel>();
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(static_cast<wire::BlockRef>(cancels[0]), static_cast<wire::BlockRef>(to_a[0]));
  auto second = to_a[1];
  h.torrent.on_messages_done(b);
  auto again = h.flush(b).all<wire::Request>();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(static_cast<wire::BlockRef>(again[0]), static_cast<wire::BlockRef>(second));
  ASSERT_TRUE(h.receive(b, h.block(second)));
  EXPECT_EQ(h.flush(a).count<wire::Cancel>(), 1u);
  auto verifies = actions_of<VerifyPiece>(h.actions());
  ASSERT_EQ(verifies.size(), 1u);
  EXPECT_EQ(verifies[0].blocks[0].from, swarm::ban_key(ip(2, 1)));
  EXPECT_EQ(verifies[0].blocks[1].from, swarm::ban_key(ip(2, 2)));
  // A's copy of the second block arrives after the cancel: ignored, the piece is not assembled twice.
  EXPECT_TRUE(h.receive(a, h.block(second)));
  EXPECT_EQ(count_actions<VerifyPiece>(h.actions()), 0u);
}

TEST(TorrentLeecher, RequestsWaitWhileTheDiskIsBehind) {
  // One block per piece: every block delivered is a piece for the disk.
  Harness h(Harness::make_params(64, swarm::kBlockSize, 64 * swarm::kBlockSize));
  h.start();
  const std::vector<std::uint8_t> all64(8, 0xff);
  auto seed = h.connect(ip(2, 1), true);
  h.flush(seed);
  h.receive_all(seed, {wire::Bitfield{all64}, wire::Unchoke{}});
  auto requests = h.flush(seed).all<wire::Request>();
  ASSERT_EQ(requests.size(), swarm::PeerProtocol::kMinQueueDepth);
  for (std::size_t i = 0; i < static_cast<std::size_t>(kMaxWritesInFlight); ++i)
    ASSERT_TRUE(h.receive(seed, h.block(requests[i])));
  h.torrent.on_messages_done(seed);
  auto verifies = h.actions();
  ASSERT_EQ(count_actions<VerifyPiece>(verifies), static_cast<std::size_t>(kMaxWritesInFlight));
  EXPECT_EQ(h.flush(seed).count<wire::Request>(), 0u) << "asked for more while four pieces wait for the disk";
  h.tick();
  EXPECT_EQ(h.flush(seed).count<wire::Request>(), 0u);

  // One write done: the queue is topped up again, to a window that slow start grew by one for each block
  // that came.
  std::vector<Action> first = {actions_of<VerifyPiece>(verifies).at(0)};
  h.answer_verifies(first);
  EXPECT_EQ(h.flush(seed).count<wire::Request>(), 2 * static_cast<std::size_t>(kMaxWritesInFlight));
  EXPECT_EQ(h.torrent.protocol(seed)->outstanding().size(),
            swarm::PeerProtocol::kMinQueueDepth + static_cast<std::size_t>(kMaxWritesInFlight));
}

TEST(TorrentLeecher, ASilentPeerIsClosedAsInactive) {
  Harness h(leecher_params());
  h.start();
  auto peer = h.connect(ip(2, 1), true);
  h.receive_all(peer, {wire::Bitfield{kAllFour}});
  h.actions();
  for (int i = 0; i < 120; ++i)
    h.tick();
  EXPECT_TRUE(disconnect_reasons(h.actions(), peer).empty());
  h.tick();
  EXPECT_EQ(disconnect_reasons(h.actions(), peer), std::vector<std::string>{"inactive"});
  EXPECT_EQ(h.torrent.num_peers(), 0u);
}

TEST(TorrentLeecher, ASupplierThatLeftIsUnknownInTheVerify) {
  Harness h(leecher_params());
  h.start();
  auto a = h.connect(ip(2, 1), true);
  auto b = h.connect(ip(2, 2), true);
  h.flush(a);
  h.flush(b);
  h.receive_all(a, {wire::Bitfield{kAllFour}, wire::Unchoke{}});
  auto to_a = h.flush(a).all<wire::Request>();
  auto piece = to_a[0].piece;
  ASSERT_TRUE(h.receive(a, h.block(to_a[0])));
  h.torrent.on_peer_closed(a, "connection reset", h.now);
  h.receive_all(b, {wire::Bitfield{kAllFour}, wire::Unchoke{}});
  for (const auto& r : of_piece(h.flush(b).all<wire::Request>(), piece))
    ASSERT_TRUE(h.receive(b, h.block(r)));
  auto verifies = actions_of<VerifyPiece>(h.actions());
  ASSERT_EQ(verifies.size(), 1u);
  auto first_block = to_a[0].begin / swarm::kBlockSize;
  EXPECT_FALSE(verifies[0].blocks[first_block].known);
  EXPECT_TRUE(verifies[0].blocks[1 - first_block].known);
  EXPECT_EQ(verifies[0].blocks[1 - first_block].from, swarm::ban_key(ip(2, 2)));
}

TEST(TorrentLeecher, APieceWrittenAfterStopIsStillRecorded) {
  struct Case {
    const char* what;
    bool trackers;
    bool stop_announced;  // the trackers were told before the write landed
  };
  const Case cases[] = {
      {"no trackers: halted at once", false, false},
      {"while trackers are told", true, false},
      {"after the trackers were told", true, true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto p = leecher_params();
    if (c.trackers) p.trackers = {{"http://a.example/announce"}};
    Harness h(p);
    h.start();
    auto seed = h.connect(ip(2, 1), true);
    auto requests = seed_unchokes(h, seed);
    auto piece = requests[0].piece;
    for (const auto& r : of_piece(requests, piece))
      ASSERT_TRUE(h.receive(seed, h.block(r)));
    auto verify = h.actions();
    ASSERT_EQ(count_actions<VerifyPiece>(verify), 1u);

    h.torrent.stop(h.now);
    auto stopping = h.actions();
    if (c.stop_announced)
      h.torrent.on_announce_done(actions_of<Announce>(stopping).back().id, tracker::AnnounceResponse{},
                                 h.now);
    h.actions();
    h.torrent.mark_resume_saved();
    // The disk answers: the piece is on disk and good, so the resume data must say so.
    h.answer_verifies(verify);
    auto actions = h.actions();
    ASSERT_EQ(count_actions<PieceVerified>(actions), 1u);
    EXPECT_EQ(actions.size(), 1u);  // nobody is told, nothing is asked
    EXPECT_TRUE(h.torrent.have().test(PieceIndex(static_cast<std::int32_t>(piece))));
    EXPECT_TRUE(h.torrent.resume_dirty());
  }
}

TEST(TorrentLeecher, ConnectionsThatHangAreClosed) {
  struct Case {
    const char* what;
    bool partial_message;  // part of a message has been buffered all along
    bool write_stuck;      // a write to it has made no progress all along
    const char* reason;
  };
  const Case cases[] = {
      {"a message trickles in", true, false, "message too slow to arrive"},
      {"it does not read what we send", false, true, "not reading what we send"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    Harness h(leecher_params());
    h.start();
    auto peer = h.connect(ip(2, 1), true);
    if (c.write_stuck) {
      ASSERT_TRUE(h.take(peer).taken);  // the greeting, never finished
    }
    h.actions();
    auto partial = [&](PeerId) { return c.partial_message; };
    std::vector<std::string> reasons;
    for (int second = 1; second <= 62 && reasons.empty(); ++second) {
      // A whole message ends a partial one; a peer that does not read us may still write to us.
      if (!c.partial_message) h.receive(peer, wire::KeepAlive{});
      h.now += 1s;
      h.torrent.on_tick(h.now, partial);
      reasons = disconnect_reasons(h.actions(), peer);
    }
    EXPECT_EQ(reasons, std::vector<std::string>{c.reason});
  }
}

TEST(TorrentLeecher, CompletionEndsOurInterestInTheRest) {
  Harness h(leecher_params());
  h.start();
  auto partial = h.connect(ip(2, 2), true);
  const std::vector<std::uint8_t> first_two = {0xc0};
  h.receive_all(partial, {wire::Bitfield{first_two}});
  auto seed = h.connect(ip(2, 1), true);
  EXPECT_EQ(h.flush(partial).count<wire::Interested>(), 1u);
  auto requests = seed_unchokes(h, seed);
  for (const auto& r : requests)
    ASSERT_TRUE(h.receive(seed, h.block(r)));
  h.answer_verifies(h.actions());
  ASSERT_TRUE(h.torrent.is_complete());
  auto out = h.flush(partial);
  EXPECT_EQ(out.count<wire::NotInterested>(), 1u);
  EXPECT_EQ(out.count<wire::Have>(), 2u);  // the pieces it lacks
  EXPECT_FALSE(h.torrent.protocol(partial)->am_interested());
}

TEST(TorrentLeecher, ADownloadFromSeveralSeedsAssemblesEveryPieceIntact) {
  // 24 pieces of four blocks, the last one short; three seeds answer in a shuffled order, one of them
  // chokes us for a while, and the disk answers late: buffers are reused, end-game runs, nothing is mixed up.
  constexpr std::int32_t kMany = 24;
  constexpr std::int64_t kLength = 4 * swarm::kBlockSize;
  Harness h(Harness::make_params(kMany, kLength, (kMany - 1) * kLength + 5000));
  h.start();
  const std::vector<std::uint8_t> all24 = {0xff, 0xff, 0xff};
  std::vector<PeerId> seeds;
  for (std::uint8_t i = 1; i <= 3; ++i) {
    seeds.push_back(h.connect(ip(8, i), true, {i != 2, true}));
    h.flush(seeds.back());
    h.receive_all(seeds.back(), {wire::Bitfield{all24}, wire::Unchoke{}});
  }
  std::mt19937 rng(7);
  std::vector<Action> pending;  // VerifyPiece actions the disk has not answered yet
  for (int round = 0; round < 200 && !h.torrent.is_complete(); ++round) {
    for (std::size_t s = 0; s < seeds.size(); ++s) {
      auto id = seeds[s];
      h.flush(id);
      if (s == 1 && round == 3) h.receive_all(id, {wire::Choke{}});
      if (s == 1 && round == 8) h.receive_all(id, {wire::Unchoke{}});
      auto outstanding = h.torrent.protocol(id)->outstanding();
      std::shuffle(outstanding.begin(), outstanding.end(), rng);
      if (h.torrent.protocol(id)->peer_choking()) outstanding.clear();
      outstanding.resize(std::min<std::size_t>(outstanding.size(), 5));  // a few blocks a round
      for (const auto& r : outstanding) {
        wire::Request request{{static_cast<std::uint32_t>(r.piece.get()), static_cast<std::uint32_t>(r.begin),
                               static_cast<std::uint32_t>(r.length)}};
        ASSERT_TRUE(h.receive(id, h.block(request)));
      }
      h.torrent.on_messages_done(id);
    }
    auto actions = h.actions();
    // The disk answers what it was given a round ago.
    h.answer_verifies(pending);
    pending = actions;
    h.tick();
    auto more = h.actions();
    pending.insert(pending.end(), more.begin(), more.end());
  }
  h.answer_verifies(pending);
  h.actions();
  EXPECT_TRUE(h.torrent.is_complete());
  EXPECT_EQ(h.torrent.stats().failed_pieces, 0);
  EXPECT_EQ(count_actions<PieceVerified>(h.history), static_cast<std::size_t>(kMany));
  EXPECT_EQ(count_actions<Completed>(h.history), 1u);
  EXPECT_GE(h.torrent.stats().downloaded, h.params.total_size);
}

}  // namespace
}  // namespace shoal::torrent::testing
