// torrent::Torrent against peers that lie or break the protocol, and against a driver that names peers the
// torrent no longer knows: a reason for every close, bans on evidence, and nothing that outlives a peer.
#include "torrent/torrent.hpp"

#include <gtest/gtest.h>

#include "torrent_harness.hpp"

namespace shoal::torrent::testing {
namespace {

// Four pieces of two blocks; the last piece is 20,000 bytes.
constexpr std::int32_t kPieces = 4;
constexpr std::int64_t kPieceLength = 2 * swarm::kBlockSize;
constexpr std::int64_t kTotal = 3 * kPieceLength + 20000;
const std::vector<std::uint8_t> kAllFour = {0xf0};

Params leecher_params() {
  return Harness::make_params(kPieces, kPieceLength, kTotal);
}

// Every event a driver can report for a peer, for an id the torrent does not know (any more): each must be
// ignored without a trace.
void expect_forgotten(Harness& h, PeerId id) {
  SCOPED_TRACE("peer " + std::to_string(id) + " is forgotten");
  EXPECT_EQ(h.torrent.remote(id), nullptr);
  EXPECT_EQ(h.torrent.protocol(id), nullptr);
  EXPECT_FALSE(h.receive(id, wire::Interested{}));
  EXPECT_FALSE(h.receive(id, wire::Piece{0, 0, {}}));
  h.torrent.on_messages_done(id);
  EXPECT_FALSE(h.torrent.reading_paused(id));
  std::vector<std::uint8_t> bytes;
  std::vector<swarm::SendQueue::Block> blocks;
  EXPECT_FALSE(h.torrent.take_output(id, bytes, blocks, 10, h.now));
  h.torrent.on_bytes_sent(id, h.now);
  h.torrent.on_write_done(id, 1000, h.now);
  h.torrent.on_peer_closed(id, "socket error", h.now);
  h.torrent.set_rates_for_test(id, 1e6, 1e6);
  EXPECT_TRUE(h.actions().empty());
  EXPECT_EQ(h.torrent.stats().uploaded, 0);
}

TEST(TorrentHostile, AMalformedMessageClosesThePeerWithItsReason) {
  static const std::vector<std::uint8_t> kBlock(swarm::kBlockSize, 0x5a);
  static const std::vector<std::uint8_t> kTooLong(swarm::kBlockSize + 1, 0x5a);
  static const std::vector<std::uint8_t> kSpareBitSet = {0xf1};  // four pieces, a bit for a fifth
  static const std::vector<std::uint8_t> kTwoBytes = {0xf0, 0x00};
  struct Case {
    const char* what;
    bool fast;
    wire::Message message;
    const char* reason;
  };
  const Case cases[] = {
      {"a piece index out of range", true, wire::Piece{kPieces, 0, kBlock},
       "piece message outside the torrent"},
      {"a piece past the end of the short last piece", true, wire::Piece{3, swarm::kBlockSize, kBlock},
       "piece message outside the torrent"},
      {"a piece longer than a block", true, wire::Piece{0, 0, kTooLong}, "piece message outside the torrent"},
      {"a bitfield with spare bits set", true, wire::Bitfield{kSpareBitSet},
       "bitfield of the wrong size or with spare bits set"},
      {"a bitfield of the wrong size", true, wire::Bitfield{kTwoBytes},
       "bitfield of the wrong size or with spare bits set"},
      {"a have out of range", true, wire::Have{kPieces}, "have for a piece out of range"},
      {"a request outside the torrent", true, wire::Request{{kPieces, 0, swarm::kBlockSize}},
       "invalid request"},
      {"a request longer than a block", true, wire::Request{{0, 0, swarm::kBlockSize + 1}},
       "invalid request"},
      {"have_all without the fast extension", false, wire::HaveAll{}, "have_all without the fast extension"},
      {"reject without the fast extension", false, wire::Reject{{0, 0, swarm::kBlockSize}},
       "reject without the fast extension"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    Harness h(leecher_params());
    h.start();
    auto id = h.connect(ip(4, 1), false, {c.fast, true});
    h.flush(id);
    h.actions();
    EXPECT_FALSE(h.receive(id, c.message));
    auto actions = h.actions();
    EXPECT_EQ(disconnect_reasons(actions, id), std::vector<std::string>{c.reason});
    EXPECT_EQ(h.torrent.num_peers(), 0u);
    expect_forgotten(h, id);
  }
}

TEST(TorrentHostile, AStrayBlockIsIgnoredButAFloodOfThemCloses) {
  Harness h(leecher_params());
  h.start();
  auto id = h.connect(ip(4, 1), true);
  h.flush(id);
  h.actions();
  std::vector<std::uint8_t> data(swarm::kBlockSize, 0x11);
  // Late blocks after a cancel are normal: one is ignored (not stored, not counted, nothing verified).
  ASSERT_TRUE(h.receive(id, wire::Piece{0, 0, data}));
  EXPECT_TRUE(h.actions().empty());
  EXPECT_EQ(h.torrent.stats().downloaded, 0);
  int sent = 1;
  while (h.receive(id, wire::Piece{0, 0, data}))
    ++sent;
  EXPECT_EQ(sent, static_cast<int>(swarm::PeerProtocol::kMaxUnrequestedBlocks));
  auto actions = h.actions();
  EXPECT_EQ(disconnect_reasons(actions, id), std::vector<std::string>{"too many unrequested blocks"});
  EXPECT_EQ(count_actions<VerifyPiece>(actions), 0u);
  expect_forgotten(h, id);
}

TEST(TorrentHostile, EventsForUnknownPeersAreHarmless) {
  Harness h(leecher_params());
  h.start();
  auto real = h.connect(ip(4, 1));
  h.flush(real);
  h.actions();
  for (PeerId id : {swarm::kNoPeer, real + 1, PeerId{12345}, std::numeric_limits<PeerId>::max()})
    expect_forgotten(h, id);
  EXPECT_EQ(h.torrent.num_peers(), 1u);
  EXPECT_NE(h.torrent.remote(real), nullptr);
}

TEST(TorrentHostile, APeerClosedByTheDriverIsForgottenAndItsIdNeverReturns) {
  Harness h(leecher_params());
  h.start();
  auto first = h.connect(ip(4, 1), true);
  h.receive_all(first, {wire::Bitfield{kAllFour}, wire::Unchoke{}});
  ASSERT_FALSE(h.torrent.protocol(first)->outstanding().empty());
  h.actions();
  h.torrent.on_peer_closed(first, "connection reset", h.now);
  EXPECT_EQ(count_actions<Disconnect>(h.actions()), 0u);  // the driver closed it already
  expect_forgotten(h, first);

  // Its requests went back to the picker: the next peer is asked for every block.
  auto second = h.connect(ip(4, 1), true);
  EXPECT_NE(second, first);
  h.flush(second);
  h.receive_all(second, {wire::Bitfield{kAllFour}, wire::Unchoke{}});
  EXPECT_EQ(h.flush(second).count<wire::Request>(), 8u);
  // Late news about the first peer does not reach the second.
  EXPECT_FALSE(h.receive(first, wire::Choke{}));
  EXPECT_FALSE(h.torrent.protocol(second)->peer_choking());
}

std::vector<wire::Request> of_piece_requests(const std::vector<wire::Request>& requests,
                                             std::uint32_t piece) {
  std::vector<wire::Request> out;
  for (const auto& r : requests) {
    if (r.piece == piece) out.push_back(r);
  }
  return out;
}

// A seed that sends the bytes of every block with the first byte flipped.
wire::Piece corrupt(Harness& h, const wire::Request& r, std::vector<std::uint8_t>& storage) {
  auto good = h.block(r);
  storage.assign(good.data.begin(), good.data.end());
  storage[0] ^= 0xff;
  return wire::Piece{r.piece, r.begin, storage};
}

TEST(TorrentHostile, TheSoleSupplierOfABadPieceIsBanned) {
  Harness h(leecher_params());
  h.start();
  const auto liar_address = ip(4, 1);
  auto liar = h.connect(liar_address, true);
  auto honest = h.connect(ip(4, 2), false);
  h.flush(liar);
  h.receive_all(liar, {wire::Bitfield{kAllFour}, wire::Unchoke{}});
  auto requests = h.flush(liar).all<wire::Request>();
  ASSERT_FALSE(requests.empty());
  auto piece = requests[0].piece;
  std::vector<std::uint8_t> storage;
  for (const auto& r : requests) {
    if (r.piece == piece) {
      ASSERT_TRUE(h.receive(liar, corrupt(h, r, storage)));
    }
  }
  auto verify = h.actions();
  ASSERT_EQ(count_actions<VerifyPiece>(verify), 1u);
  h.answer_verifies(verify);

  auto actions = h.actions();
  auto bans = actions_of<PeerBanned>(actions);
  ASSERT_EQ(bans.size(), 1u);
  EXPECT_EQ(bans[0].address, swarm::ban_key(liar_address));
  EXPECT_FALSE(bans[0].reason.empty());
  EXPECT_EQ(disconnect_reasons(actions, liar),
            std::vector<std::string>{"sent data that failed the hash check"});
  EXPECT_TRUE(disconnect_reasons(actions, honest).empty());
  EXPECT_EQ(count_actions<PieceVerified>(actions), 0u);
  expect_forgotten(h, liar);
  auto stats = h.torrent.stats();
  EXPECT_EQ(stats.failed_pieces, 1);
  EXPECT_EQ(stats.banned_peers, 1);
  EXPECT_FALSE(h.torrent.have().test(PieceIndex(static_cast<std::int32_t>(piece))));

  // The whole address is banned, on any port, for dialling and for incoming connections.
  const auto same_ip = ip(4, 1, 7000);
  EXPECT_TRUE(h.torrent.is_banned(same_ip));
  EXPECT_FALSE(h.torrent.accepts_incoming(same_ip));
  EXPECT_TRUE(h.torrent.accepts_incoming(ip(4, 3)));
  auto refused = h.torrent.on_peer_connected(same_ip, false, {true, true}, h.now);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error(), "banned");
  h.torrent.add_peer(same_ip, swarm::PeerSource::tracker, h.now);
  h.torrent.add_peer(liar_address, swarm::PeerSource::pex, h.now);
  h.torrent.add_peer(ip(4, 3), swarm::PeerSource::tracker, h.now);
  h.tick();
  EXPECT_EQ(dialled(h.actions()), std::set<Endpoint>{ip(4, 3)});
}

TEST(TorrentHostile, ABanIsReportedOnceHoweverManyOfItsPiecesFail) {
  Harness h(leecher_params());
  h.start();
  auto liar = h.connect(ip(4, 1), true);
  h.flush(liar);
  h.receive_all(liar, {wire::Bitfield{kAllFour}, wire::Unchoke{}});
  std::vector<std::uint8_t> storage;
  for (const auto& r : h.flush(liar).all<wire::Request>())
    ASSERT_TRUE(h.receive(liar, corrupt(h, r, storage)));
  auto verify = h.actions();
  ASSERT_EQ(count_actions<VerifyPiece>(verify), 4u);  // all four were in flight when the first failed
  h.answer_verifies(verify);
  auto actions = h.actions();
  EXPECT_EQ(count_actions<PeerBanned>(actions), 1u);
  EXPECT_EQ(disconnect_reasons(actions, liar).size(), 1u);
  EXPECT_EQ(h.torrent.stats().failed_pieces, 4);
  EXPECT_EQ(h.torrent.stats().banned_peers, 1);
}

TEST(TorrentHostile, SeveralSuppliersAreJudgedBlockByBlockWhenThePiecePasses) {
  Harness h(leecher_params());
  h.start();
  // Neither speaks the fast extension: a choke takes back every request we made to it.
  auto honest = h.connect(ip(4, 1), true, {false, true});
  auto liar = h.connect(ip(4, 2), true, {false, true});
  h.flush(honest);
  h.flush(liar);

  // The honest peer sends one block of a piece, then chokes us; the liar gets the rest of that piece.
  h.receive_all(honest, {wire::Bitfield{kAllFour}, wire::Unchoke{}});
  auto to_honest = h.flush(honest).all<wire::Request>();
  ASSERT_EQ(to_honest.size(), 8u);
  auto first = to_honest[0];
  auto piece = first.piece;
  ASSERT_TRUE(h.receive(honest, h.block(first)));
  h.receive_all(honest, {wire::Choke{}});
  h.receive_all(liar, {wire::Bitfield{kAllFour}, wire::Unchoke{}});
  std::vector<std::uint8_t> storage;
  for (const auto& r : h.flush(liar).all<wire::Request>()) {
    if (r.piece == piece) {
      ASSERT_TRUE(h.receive(liar, corrupt(h, r, storage)));
    }
  }
  auto verify = h.actions();
  auto verifies = actions_of<VerifyPiece>(verify);
  ASSERT_EQ(verifies.size(), 1u);
  ASSERT_EQ(verifies[0].blocks.size(), 2u);
  EXPECT_FALSE(verifies[0].block_hashes);
  h.answer_verifies(verify);
  // Two suppliers: no conviction yet, the piece is fetched again.
  auto failed = h.actions();
  EXPECT_EQ(count_actions<PeerBanned>(failed), 0u);
  EXPECT_EQ(h.torrent.stats().failed_pieces, 1);

  h.tick();  // the liar is asked for the piece again
  auto again = of_piece_requests(h.flush(liar).all<wire::Request>(), piece);
  ASSERT_EQ(again.size(), 2u);
  for (const auto& r : again)
    ASSERT_TRUE(h.receive(liar, h.block(r)));
  verify = h.actions();
  verifies = actions_of<VerifyPiece>(verify);
  ASSERT_EQ(verifies.size(), 1u);
  EXPECT_TRUE(verifies[0].block_hashes)
      << "the driver must hash the blocks of a piece with a failure on record";
  h.answer_verifies(verify);

  auto actions = h.actions();
  EXPECT_EQ(count_actions<PieceVerified>(actions), 1u);
  auto bans = actions_of<PeerBanned>(actions);
  ASSERT_EQ(bans.size(), 1u);
  EXPECT_EQ(bans[0].address, swarm::ban_key(ip(4, 2)));
  EXPECT_FALSE(disconnect_reasons(actions, liar).empty());
  EXPECT_TRUE(disconnect_reasons(actions, honest).empty());
  EXPECT_FALSE(h.torrent.is_banned(ip(4, 1)));
}

TEST(TorrentHostile, OnLoopbackABanCoversOneAddressAndPort) {
  Harness h(leecher_params());
  h.start();
  auto liar_address = *Endpoint::parse("127.0.0.1:7001");
  auto liar = h.connect(liar_address, true);
  h.flush(liar);
  h.receive_all(liar, {wire::Bitfield{kAllFour}, wire::Unchoke{}});
  auto requests = h.flush(liar).all<wire::Request>();
  std::vector<std::uint8_t> storage;
  for (const auto& r : requests) {
    if (r.piece == requests[0].piece) {
      ASSERT_TRUE(h.receive(liar, corrupt(h, r, storage)));
    }
  }
  h.answer_verifies(h.actions());
  auto bans = actions_of<PeerBanned>(h.actions());
  ASSERT_EQ(bans.size(), 1u);
  EXPECT_EQ(bans[0].address, liar_address);
  EXPECT_TRUE(h.torrent.is_banned(liar_address));
  EXPECT_FALSE(h.torrent.is_banned(*Endpoint::parse("127.0.0.1:7002")));
  EXPECT_TRUE(h.torrent.accepts_incoming(*Endpoint::parse("127.0.0.1:7002")));
}

TEST(TorrentHostile, HaltClosesEverythingAndTheTorrentFallsSilent) {
  auto p = leecher_params();
  p.trackers = {{"http://a.example/announce"}};
  Harness h(p);
  h.start();
  auto started = actions_of<Announce>(h.actions()).at(0);
  auto seed = h.connect(ip(4, 1), true);
  auto other = h.connect(ip(4, 2), false);
  h.flush(seed);
  h.receive_all(seed, {wire::Bitfield{kAllFour}, wire::Unchoke{}});
  auto requests = h.flush(seed).all<wire::Request>();
  for (const auto& r : requests) {
    if (r.piece == requests[0].piece) {
      ASSERT_TRUE(h.receive(seed, h.block(r)));
    }
  }
  auto pending_verify = h.actions();
  ASSERT_EQ(count_actions<VerifyPiece>(pending_verify), 1u);

  h.torrent.halt("disk full");
  auto actions = h.actions();
  EXPECT_EQ(disconnect_reasons(actions, seed), std::vector<std::string>{"torrent stopped: disk full"});
  EXPECT_EQ(disconnect_reasons(actions, other), std::vector<std::string>{"torrent stopped: disk full"});
  EXPECT_EQ(actions.size(), 2u);
  EXPECT_EQ(h.torrent.phase(), Phase::halted);
  EXPECT_EQ(h.torrent.num_peers(), 0u);

  // Whatever comes in now changes nothing and asks for nothing.
  h.answer_verifies(pending_verify);
  tracker::AnnounceResponse late;
  late.peers = {ip(5, 1)};
  h.torrent.on_announce_done(started.id, late, h.now);
  h.torrent.add_peer(ip(5, 2), swarm::PeerSource::user, h.now);
  h.torrent.on_piece_read(PieceIndex(0), h.piece_copy(0));
  h.torrent.force_reannounce(h.now);
  for (int i = 0; i < 5; ++i)
    h.tick(60s);
  h.torrent.stop(h.now);
  EXPECT_TRUE(h.actions().empty());
  EXPECT_FALSE(h.torrent.accepts_incoming(ip(5, 3)));
  auto refused = h.torrent.on_peer_connected(ip(5, 2), true, {true, true}, h.now);
  EXPECT_FALSE(refused.has_value());
  expect_forgotten(h, seed);
  EXPECT_EQ(h.torrent.phase(), Phase::halted);
}

}  // namespace
}  // namespace shoal::torrent::testing
