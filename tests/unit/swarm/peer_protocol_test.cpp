#include "swarm/peer_protocol.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wire/extension_handshake.hpp"

namespace shoal::swarm {
namespace {

using Clock = PeerProtocol::Clock;
using namespace std::chrono_literals;

constexpr std::int32_t kPieces = 8;
constexpr std::int64_t kPieceLength = 2 * kBlockSize;
constexpr std::int64_t kTotal = (kPieces - 1) * kPieceLength + 100;  // the last piece is 100 bytes
constexpr PeerId kId = 7;

std::string_view close_reason(const PeerProtocol::Event& e) {
  auto* c = std::get_if<PeerProtocol::Close>(&e);
  return c ? c->reason : std::string_view{};
}

template <class M>
std::size_t count_of(std::span<const wire::Message> out) {
  std::size_t n = 0;
  for (const auto& m : out)
    n += std::holds_alternative<M>(m) ? 1 : 0;
  return n;
}

// One connection with a fresh torrent: we have nothing and download.
struct Conversation {
  PiecePicker picker{kPieces, kPieceLength, kTotal, 1};
  Clock::time_point t0 = Clock::time_point{} + 1000s;
  PeerProtocol peer{t0};
  bool seeding = false;

  explicit Conversation(bool fast = true, bool pex_allowed = true) {
    peer.start({kId, kPieces, {fast, true}, pex_allowed, /*metadata_allowed=*/pex_allowed});
  }
  TorrentView view() { return {picker, !seeding, seeding}; }
  PeerProtocol::Event receive(const wire::Message& m, Clock::time_point at) {
    return peer.on_message(m, at, view());
  }
  PeerProtocol::Event receive(const wire::Message& m) { return receive(m, t0); }
  void we_have_everything() {
    for (PieceIndex p{0}; p.get() < kPieces; ++p)
      picker.mark_have(p);
    seeding = true;
  }
  void extension_handshake(const wire::ExtensionHandshake& h) {
    std::string bytes = wire::encode_extension_handshake(h);
    receive(wire::Extended{0, {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}});
  }
  // The peer has everything, unchokes us, and we ask for as much as it allows.
  void requests_in_flight() {
    receive(wire::HaveAll{});
    receive(wire::Unchoke{});
    peer.request_blocks(view(), 0, t0);
    peer.clear_outbox();
  }
};

wire::Request request(std::uint32_t piece, std::uint32_t begin, std::uint32_t length) {
  return wire::Request{{piece, begin, length}};
}

// ---- Malformed and illegal messages: each closes with a reason that names what is wrong.

TEST(PeerProtocol, BitfieldOfTheWrongSizeCloses) {
  Conversation c;
  std::vector<std::uint8_t> short_bits = {};
  EXPECT_EQ(close_reason(c.receive(wire::Bitfield{short_bits})),
            "bitfield of the wrong size or with spare bits set");
  std::vector<std::uint8_t> long_bits = {0xff, 0x00};
  EXPECT_EQ(close_reason(c.receive(wire::Bitfield{long_bits})),
            "bitfield of the wrong size or with spare bits set");
}

TEST(PeerProtocol, BitfieldWithSpareBitsSetCloses) {
  Conversation c;
  std::vector<std::uint8_t> bits = {0x00};
  Conversation odd;  // 8 pieces fill the byte: no spare bits there, so use a 7-piece torrent
  PiecePicker picker(7, kPieceLength, 6 * kPieceLength + 1, 1);
  PeerProtocol peer(odd.t0);
  peer.start({kId, 7, {true, true}, true});
  std::vector<std::uint8_t> spare = {0x01};
  EXPECT_EQ(close_reason(peer.on_message(wire::Bitfield{spare}, odd.t0, {picker, true, false})),
            "bitfield of the wrong size or with spare bits set");
  EXPECT_TRUE(std::holds_alternative<PeerProtocol::Nothing>(c.receive(wire::Bitfield{bits})));
}

TEST(PeerProtocol, FastMessagesWithoutTheFastExtensionClose) {
  Conversation c(/*fast=*/false);
  EXPECT_EQ(close_reason(c.receive(wire::HaveAll{})), "have_all without the fast extension");
  EXPECT_EQ(close_reason(c.receive(wire::HaveNone{})), "have_none without the fast extension");
  EXPECT_EQ(close_reason(c.receive(wire::Reject{{0, 0, kBlockSize}})), "reject without the fast extension");
}

TEST(PeerProtocol, HaveOutOfRangeCloses) {
  Conversation c;
  EXPECT_EQ(close_reason(c.receive(wire::Have{kPieces})), "have for a piece out of range");
  EXPECT_EQ(close_reason(c.receive(wire::Have{0xffffffff})), "have for a piece out of range");
  EXPECT_TRUE(std::holds_alternative<PeerProtocol::Nothing>(c.receive(wire::Have{kPieces - 1})));
}

TEST(PeerProtocol, InvalidRequestsClose) {
  struct Case {
    const char* what;
    wire::Request r;
  };
  const Case cases[] = {
      {"piece out of range", request(kPieces, 0, kBlockSize)},
      {"zero length", request(0, 0, 0)},
      {"longer than a block", request(0, 0, kBlockSize + 1)},
      {"past the end of the piece", request(0, kBlockSize + 1, kBlockSize)},
      {"past the end of the short last piece", request(kPieces - 1, 0, 101)},
      {"begin overflowing 32 bits", request(0, 0xffffff00, kBlockSize)},
  };
  for (const auto& k : cases) {
    Conversation c;
    EXPECT_EQ(close_reason(c.receive(k.r)), "invalid request") << k.what;
  }
  Conversation c;
  EXPECT_EQ(close_reason(c.receive(request(kPieces - 1, 0, 100))), "");  // exactly the last piece
}

TEST(PeerProtocol, AStreamOfUnrequestedBlocksCloses) {
  Conversation c;
  std::vector<std::uint8_t> data(kBlockSize);
  for (std::uint32_t i = 0; i < PeerProtocol::kMaxUnrequestedBlocks; ++i) {
    // Late blocks after a cancel are normal: tolerated up to the limit.
    EXPECT_TRUE(std::holds_alternative<PeerProtocol::Nothing>(c.receive(wire::Piece{0, 0, data}))) << i;
  }
  EXPECT_EQ(close_reason(c.receive(wire::Piece{0, 0, data})), "too many unrequested blocks");
}

TEST(PeerProtocol, BlocksOfADeepQueueWeCancelledMayStillCome) {
  // Cancels of requests never made widen nothing.
  Conversation c;
  c.receive(wire::HaveAll{});
  c.receive(wire::Unchoke{});
  std::vector<std::uint8_t> data(kBlockSize);
  for (std::uint32_t i = 0; i < 1000; ++i)
    EXPECT_FALSE(c.peer.cancel_request({PieceIndex{static_cast<std::int32_t>(i % kPieces)}, 0, kBlockSize}));
  // Requests in flight, then cancelled (the end-game's copies came from elsewhere): the peer had sent them
  // already, and they arrive after the cancels, beside the usual allowance.
  Conversation d;
  d.receive(wire::HaveAll{});
  d.receive(wire::Unchoke{});
  d.peer.request_blocks(d.view(), 1e9, d.t0);
  auto out = d.peer.outstanding();
  ASSERT_GE(out.size(), 8u);
  for (const auto& r : out)
    ASSERT_TRUE(d.peer.cancel_request(r));
  for (std::size_t i = 0; i < out.size() + PeerProtocol::kMaxUnrequestedBlocks; ++i)
    EXPECT_EQ(close_reason(d.receive(wire::Piece{0, 0, data})), "") << i;
  EXPECT_EQ(close_reason(d.receive(wire::Piece{0, 0, data})), "too many unrequested blocks");
  for (std::uint32_t i = 0; i < PeerProtocol::kMaxUnrequestedBlocks; ++i)
    EXPECT_EQ(close_reason(c.receive(wire::Piece{0, 0, data})), "") << i;
  EXPECT_EQ(close_reason(c.receive(wire::Piece{0, 0, data})), "too many unrequested blocks");
}

TEST(PeerProtocol, APeerThatIsASeedWhileWeSeedCloses) {
  Conversation all;
  all.we_have_everything();
  EXPECT_EQ(close_reason(all.receive(wire::HaveAll{})), "both seeding");
  Conversation haves;
  haves.we_have_everything();
  for (std::uint32_t p = 0; p + 1 < kPieces; ++p)
    EXPECT_EQ(close_reason(haves.receive(wire::Have{p})), "");
  EXPECT_EQ(close_reason(haves.receive(wire::Have{kPieces - 1})), "both seeding");
  EXPECT_TRUE(haves.peer.is_seed());
}

// ---- Requests from the peer.

TEST(PeerProtocol, RequestsWhileChokedAreRejectedUnderFastAndDroppedWithout) {
  for (bool fast : {true, false}) {
    Conversation c(fast);
    c.we_have_everything();
    EXPECT_TRUE(std::holds_alternative<PeerProtocol::Nothing>(c.receive(request(0, 0, kBlockSize))));
    EXPECT_EQ(count_of<wire::Reject>(c.peer.outbox()), fast ? 1u : 0u);
    EXPECT_TRUE(c.peer.queued_requests().empty());
  }
}

TEST(PeerProtocol, RequestsForPiecesWeLackAreRejected) {
  Conversation c;
  c.peer.unchoke(c.t0);
  c.peer.clear_outbox();
  c.receive(request(3, 0, kBlockSize));
  ASSERT_EQ(c.peer.outbox().size(), 1u);
  auto* reject = std::get_if<wire::Reject>(&c.peer.outbox()[0]);
  ASSERT_TRUE(reject);
  EXPECT_EQ(*reject, (wire::BlockRef{3, 0, kBlockSize}));
}

TEST(PeerProtocol, AcceptedRequestsQueueUpToTheCap) {
  Conversation c;
  c.we_have_everything();
  c.peer.unchoke(c.t0);
  c.peer.clear_outbox();
  auto first = c.receive(request(1, kBlockSize, kBlockSize));
  auto* serve = std::get_if<PeerProtocol::ServeRequest>(&first);
  ASSERT_TRUE(serve);
  EXPECT_EQ(serve->block, (BlockRequest{PieceIndex{1}, kBlockSize, kBlockSize}));
  for (std::size_t i = 1; i < PeerProtocol::kMaxQueuedRequests; ++i)
    c.receive(request(0, 0, kBlockSize));
  EXPECT_EQ(c.peer.queued_requests().size(), PeerProtocol::kMaxQueuedRequests);
  EXPECT_TRUE(c.peer.outbox().empty());
  EXPECT_TRUE(std::holds_alternative<PeerProtocol::Nothing>(c.receive(request(0, 0, kBlockSize))));
  EXPECT_EQ(c.peer.queued_requests().size(), PeerProtocol::kMaxQueuedRequests);
  EXPECT_EQ(count_of<wire::Reject>(c.peer.outbox()), 1u);
}

TEST(PeerProtocol, ChokingRejectsQueuedRequestsUnderFastAndDropsThemWithout) {
  for (bool fast : {true, false}) {
    Conversation c(fast);
    c.we_have_everything();
    c.peer.unchoke(c.t0);
    c.receive(request(0, 0, kBlockSize));
    c.receive(request(2, kBlockSize, kBlockSize));
    c.peer.clear_outbox();
    c.peer.choke();
    auto out = c.peer.outbox();
    ASSERT_FALSE(out.empty());
    EXPECT_TRUE(std::holds_alternative<wire::Choke>(out[0]));  // the choke goes first
    EXPECT_EQ(count_of<wire::Reject>(out), fast ? 2u : 0u);
    EXPECT_TRUE(c.peer.queued_requests().empty());
    c.peer.clear_outbox();
    c.peer.choke();  // already choking: says nothing
    EXPECT_TRUE(c.peer.outbox().empty());
  }
}

TEST(PeerProtocol, NotInterestedChokesThePeer) {
  Conversation c;
  c.receive(wire::Interested{});
  c.peer.unchoke(c.t0);
  c.peer.clear_outbox();
  c.receive(wire::NotInterested{});
  EXPECT_TRUE(c.peer.am_choking());
  EXPECT_EQ(count_of<wire::Choke>(c.peer.outbox()), 1u);
}

TEST(PeerProtocol, InterestedAsksTheDriverForASlot) {
  Conversation c;
  EXPECT_TRUE(std::holds_alternative<PeerProtocol::PeerInterested>(c.receive(wire::Interested{})));
  EXPECT_TRUE(c.peer.peer_interested());
}

TEST(PeerProtocol, CancelRemovesAQueuedRequest) {
  Conversation c;
  c.we_have_everything();
  c.peer.unchoke(c.t0);
  c.receive(request(0, 0, kBlockSize));
  auto e = c.receive(wire::Cancel{{0, 0, kBlockSize}});
  auto* cancelled = std::get_if<PeerProtocol::RequestCancelled>(&e);
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->block, (BlockRequest{PieceIndex{0}, 0, kBlockSize}));
  EXPECT_TRUE(c.peer.queued_requests().empty());
}

TEST(PeerProtocol, ACancelledQueuedRequestIsRejectedOnlyUnderBep6) {
  for (bool fast : {true, false}) {
    Conversation c(fast);
    c.we_have_everything();
    c.peer.unchoke(c.t0);
    c.peer.clear_outbox();
    c.receive(request(0, 0, kBlockSize));
    c.receive(wire::Cancel{{0, 0, kBlockSize}});
    EXPECT_EQ(count_of<wire::Reject>(c.peer.outbox()), fast ? 1u : 0u) << fast;
    // A cancel for a request it never made (or that is already served) is not answered.
    c.peer.clear_outbox();
    c.receive(wire::Cancel{{1, 0, kBlockSize}});
    EXPECT_TRUE(c.peer.outbox().empty());
  }
}

TEST(PeerProtocol, QueuedRequestsAreTakenPieceByPiece) {
  Conversation c;
  c.we_have_everything();
  c.peer.unchoke(c.t0);
  c.receive(request(0, 0, kBlockSize));
  c.receive(request(1, 0, kBlockSize));
  c.receive(request(0, kBlockSize, kBlockSize));
  std::vector<BlockRequest> ready;
  c.peer.take_queued_requests(PieceIndex{0}, ready);
  EXPECT_EQ(ready, (std::vector<BlockRequest>{{PieceIndex{0}, 0, kBlockSize},
                                              {PieceIndex{0}, kBlockSize, kBlockSize}}));
  ASSERT_EQ(c.peer.queued_requests().size(), 1u);
  EXPECT_EQ(c.peer.queued_requests()[0].piece, PieceIndex{1});
}

// ---- Our requests to the peer.

TEST(PeerProtocol, InterestFollowsWhatThePeerHas) {
  Conversation c;
  c.receive(wire::HaveNone{});
  EXPECT_FALSE(c.peer.am_interested());
  EXPECT_TRUE(c.peer.outbox().empty());
  c.receive(wire::Have{3});
  EXPECT_TRUE(c.peer.am_interested());
  ASSERT_EQ(c.peer.outbox().size(), 1u);
  EXPECT_TRUE(std::holds_alternative<wire::Interested>(c.peer.outbox()[0]));
  c.peer.clear_outbox();
  // Once we have that piece there is nothing left to want from it.
  c.picker.mark_have(PieceIndex{3});
  c.peer.update_interest(c.view());
  EXPECT_FALSE(c.peer.am_interested());
  ASSERT_EQ(c.peer.outbox().size(), 1u);
  EXPECT_TRUE(std::holds_alternative<wire::NotInterested>(c.peer.outbox()[0]));
}

TEST(PeerProtocol, NoInterestWhileNotDownloading) {
  Conversation c;
  c.peer.on_message(wire::HaveAll{}, c.t0, {c.picker, false, false});
  EXPECT_FALSE(c.peer.am_interested());
  EXPECT_TRUE(c.peer.outbox().empty());
}

TEST(PeerProtocol, RequestsOnlyWhenUnchokedAndInterestedWithinReqq) {
  Conversation c;
  wire::ExtensionHandshake h;
  h.reqq = 3;
  c.extension_handshake(h);
  EXPECT_EQ(c.peer.reqq(), 3u);
  c.receive(wire::HaveAll{});
  c.peer.clear_outbox();
  c.peer.request_blocks(c.view(), 0, c.t0);
  EXPECT_TRUE(c.peer.outbox().empty());  // still choked
  c.receive(wire::Unchoke{});
  c.peer.request_blocks(c.view(), 1e9, c.t0);
  EXPECT_EQ(c.peer.outstanding().size(), 3u);
  EXPECT_EQ(count_of<wire::Request>(c.peer.outbox()), 3u);
}

TEST(PeerProtocol, ARequestedBlockIsReceivedOnce) {
  Conversation c;
  c.requests_in_flight();
  auto r = c.peer.outstanding().front();
  std::vector<std::uint8_t> data(static_cast<std::size_t>(r.length));
  auto e = c.receive(
      wire::Piece{static_cast<std::uint32_t>(r.piece.get()), static_cast<std::uint32_t>(r.begin), data});
  auto* block = std::get_if<PeerProtocol::BlockReceived>(&e);
  ASSERT_TRUE(block);
  EXPECT_EQ(block->block, r);
  EXPECT_EQ(block->data.size(), data.size());
  // The same block again is one nobody asked for.
  auto again = c.receive(
      wire::Piece{static_cast<std::uint32_t>(r.piece.get()), static_cast<std::uint32_t>(r.begin), data});
  EXPECT_TRUE(std::holds_alternative<PeerProtocol::Nothing>(again));
  EXPECT_EQ(c.peer.unrequested_blocks(), 1u);
}

TEST(PeerProtocol, ABlockOfTheWrongLengthIsNotTheOneRequested) {
  Conversation c;
  c.requests_in_flight();
  auto r = c.peer.outstanding().front();
  std::vector<std::uint8_t> data(static_cast<std::size_t>(r.length) - 1);
  c.receive(
      wire::Piece{static_cast<std::uint32_t>(r.piece.get()), static_cast<std::uint32_t>(r.begin), data});
  EXPECT_EQ(c.peer.unrequested_blocks(), 1u);
}

TEST(PeerProtocol, RejectOfOurRequestHandsItBack) {
  Conversation c;
  c.requests_in_flight();
  auto before = c.peer.outstanding().size();
  auto r = c.peer.outstanding().front();
  c.receive(wire::Reject{{static_cast<std::uint32_t>(r.piece.get()), static_cast<std::uint32_t>(r.begin),
                          static_cast<std::uint32_t>(r.length)}});
  EXPECT_EQ(c.peer.outstanding().size(), before - 1);
  // Back in the picker: the next top-up asks for it again.
  c.peer.request_blocks(c.view(), 0, c.t0);
  EXPECT_EQ(c.peer.outstanding().size(), before);
  // A reject of something we never asked for changes nothing.
  c.receive(wire::Reject{{0, 0, 1}});
  EXPECT_EQ(c.peer.outstanding().size(), before);
}

TEST(PeerProtocol, ChokeDropsOurRequestsOnlyWithoutFast) {
  for (bool fast : {true, false}) {
    Conversation c(fast);
    if (!fast) {
      std::vector<std::uint8_t> all = {0xff};
      c.receive(wire::Bitfield{all});
      c.receive(wire::Unchoke{});
      c.peer.request_blocks(c.view(), 0, c.t0);
    } else {
      c.requests_in_flight();
    }
    ASSERT_FALSE(c.peer.outstanding().empty());
    c.receive(wire::Choke{});
    EXPECT_EQ(c.peer.outstanding().empty(), !fast) << fast;
  }
}

TEST(PeerProtocol, CancelRequestSendsCancelOnlyForOurOwnRequests) {
  Conversation c;
  c.requests_in_flight();
  auto r = c.peer.outstanding().front();
  EXPECT_TRUE(c.peer.cancel_request(r));
  ASSERT_EQ(c.peer.outbox().size(), 1u);
  EXPECT_TRUE(std::holds_alternative<wire::Cancel>(c.peer.outbox()[0]));
  EXPECT_FALSE(c.peer.cancel_request(r));
  EXPECT_EQ(c.peer.outbox().size(), 1u);
}

// ---- Time.

TEST(PeerProtocol, SilenceOnOurRequestsSnubsThePeer) {
  Conversation c;
  c.requests_in_flight();
  EXPECT_FALSE(c.peer.on_tick(c.t0 + PeerProtocol::kSnubTimeout, c.picker));
  EXPECT_FALSE(c.peer.snubbed());
  c.peer.on_tick(c.t0 + PeerProtocol::kSnubTimeout + 1s, c.picker);
  EXPECT_TRUE(c.peer.snubbed());
  EXPECT_TRUE(c.peer.outstanding().empty());
  // A block we asked for clears it.
  c.peer.request_blocks(c.view(), 0, c.t0);
  auto r = c.peer.outstanding().front();
  std::vector<std::uint8_t> data(static_cast<std::size_t>(r.length));
  c.receive(wire::Piece{static_cast<std::uint32_t>(r.piece.get()), static_cast<std::uint32_t>(r.begin), data},
            c.t0 + 40s);
  EXPECT_FALSE(c.peer.snubbed());
}

TEST(PeerProtocol, ASnubbedPeerKeepsOneRequestAndIsJudgedAgainOnlyAfterTheTimeout) {
  Conversation c;
  c.requests_in_flight();
  c.peer.on_tick(c.t0 + PeerProtocol::kSnubTimeout + 1s, c.picker);
  ASSERT_TRUE(c.peer.snubbed());
  c.peer.request_blocks(c.view(), 0, c.t0);
  EXPECT_EQ(c.peer.outstanding().size(), 1u);
  c.peer.clear_outbox();
  c.peer.on_tick(c.t0 + PeerProtocol::kSnubTimeout + 2s, c.picker);
  EXPECT_EQ(c.peer.outstanding().size(), 1u);  // not dropped (and asked again) at every tick
  c.peer.on_tick(c.t0 + 2 * PeerProtocol::kSnubTimeout + 2s, c.picker);
  EXPECT_TRUE(c.peer.outstanding().empty());
}

TEST(PeerProtocol, TheSnubClockRunsOnlyWhileWeWaitForBlocks) {
  Conversation c;
  c.receive(wire::HaveAll{});
  c.peer.on_tick(c.t0 + 60s, c.picker);  // choked for a minute: nothing asked, nothing owed
  c.receive(wire::Unchoke{}, c.t0 + 60s);
  c.peer.request_blocks(c.view(), 0, c.t0);
  ASSERT_FALSE(c.peer.outstanding().empty());
  c.peer.on_tick(c.t0 + 61s, c.picker);
  EXPECT_FALSE(c.peer.snubbed());
  EXPECT_FALSE(c.peer.outstanding().empty());
}

TEST(PeerProtocol, NoSnubWithoutOutstandingRequests) {
  Conversation c;
  c.peer.on_tick(c.t0 + 100s, c.picker);
  EXPECT_FALSE(c.peer.snubbed());
}

TEST(PeerProtocol, KeepAliveAfterQuietSending) {
  Conversation c;
  c.peer.on_tick(c.t0 + PeerProtocol::kKeepAliveInterval, c.picker);
  EXPECT_TRUE(c.peer.outbox().empty());
  c.peer.on_tick(c.t0 + PeerProtocol::kKeepAliveInterval + 1s, c.picker);
  EXPECT_EQ(count_of<wire::KeepAlive>(c.peer.outbox()), 1u);
  c.peer.clear_outbox();
  c.peer.on_bytes_sent(c.t0 + 95s);
  c.peer.on_tick(c.t0 + 96s, c.picker);
  EXPECT_TRUE(c.peer.outbox().empty());
}

TEST(PeerProtocol, SilentPeersCloseAsInactive) {
  Conversation c;
  c.receive(wire::KeepAlive{}, c.t0 + 10s);
  EXPECT_FALSE(c.peer.on_tick(c.t0 + 10s + PeerProtocol::kInactivityTimeout, c.picker));
  EXPECT_EQ(c.peer.on_tick(c.t0 + 11s + PeerProtocol::kInactivityTimeout, c.picker), "inactive");
}

TEST(PeerProtocol, ConnectionsWithNothingToExchangeClose) {
  Conversation c;
  auto t = c.t0;
  EXPECT_FALSE(c.peer.on_tick(t, c.picker));  // idle from here
  EXPECT_EQ(c.peer.idle_since(), t);
  for (int s = 1; s <= 181; ++s) {
    c.receive(wire::KeepAlive{}, t + std::chrono::seconds(s));  // alive, just useless
    auto reason = c.peer.on_tick(t + std::chrono::seconds(s), c.picker);
    if (s <= 180) {
      EXPECT_FALSE(reason) << s;
    } else {
      EXPECT_EQ(reason, "nothing to exchange");
    }
  }
  // Interest on either side resets the clock.
  Conversation d;
  d.peer.on_tick(d.t0, d.picker);
  d.receive(wire::Interested{}, d.t0 + 1s);
  d.peer.on_tick(d.t0 + 1s, d.picker);
  EXPECT_FALSE(d.peer.idle_since());
}

// ---- Extensions.

TEST(PeerProtocol, ExtensionHandshakeRecordsThePeersExtensions) {
  Conversation c;
  wire::ExtensionHandshake h;
  h.m = {{"ut_metadata", 3}, {"ut_pex", 9}};
  h.client = "Test 1.0";
  h.listen_port = 6881;
  h.reqq = 500;
  c.extension_handshake(h);
  EXPECT_EQ(c.peer.ut_metadata_id(), 3);
  EXPECT_EQ(c.peer.ut_pex_id(), 9);
  EXPECT_EQ(c.peer.client(), "Test 1.0");
  EXPECT_EQ(c.peer.listen_port(), 6881);
  EXPECT_EQ(c.peer.reqq(), 500u);
  EXPECT_NE(c.peer.pex(), nullptr);
}

TEST(PeerProtocol, PrivateTorrentsDoNotStartPex) {
  Conversation c(true, /*pex_allowed=*/false);
  wire::ExtensionHandshake h;
  h.m = {{"ut_pex", 9}};
  c.extension_handshake(h);
  EXPECT_EQ(c.peer.pex(), nullptr);
}

TEST(PeerProtocol, BrokenExtensionHandshakeIsIgnored) {
  Conversation c;
  std::vector<std::uint8_t> junk = {'x', 'y'};
  EXPECT_TRUE(std::holds_alternative<PeerProtocol::Nothing>(c.receive(wire::Extended{0, junk})));
  EXPECT_EQ(c.peer.reqq(), PeerProtocol::kDefaultReqq);
}

TEST(PeerProtocol, OtherExtensionMessagesGoToTheDriver) {
  Conversation c;
  std::vector<std::uint8_t> payload = {'d', 'e'};
  auto e = c.receive(wire::Extended{kOurUtPexId, payload});
  auto* ext = std::get_if<PeerProtocol::ExtensionMessage>(&e);
  ASSERT_TRUE(ext);
  EXPECT_EQ(ext->id, kOurUtPexId);
  EXPECT_EQ(ext->payload.size(), 2u);
}

// ---- Closing.

TEST(PeerProtocol, ReleaseHandsOutstandingRequestsBack) {
  Conversation c;
  c.requests_in_flight();
  auto taken = c.peer.outstanding();
  c.peer.release(c.picker);
  EXPECT_TRUE(c.peer.outstanding().empty());
  // Another peer can now be asked for the same blocks.
  PeerProtocol other(c.t0);
  other.start({kId + 1, kPieces, {true, true}, true});
  other.on_message(wire::HaveAll{}, c.t0, c.view());
  other.on_message(wire::Unchoke{}, c.t0, c.view());
  other.request_blocks(c.view(), 1e9, c.t0);  // fast: asked for every block left
  for (const auto& r : taken)
    EXPECT_NE(std::find(other.outstanding().begin(), other.outstanding().end(), r),
              other.outstanding().end());
}

// ---- Hostile peers: bounds on what one connection can cost.

TEST(PeerProtocol, PieceMessagesOutsideTheTorrentClose) {
  struct Case {
    const char* what;
    std::uint32_t piece;
    std::uint32_t begin;
    std::size_t length;
  };
  const Case cases[] = {
      {"piece out of range", kPieces, 0, kBlockSize},
      {"piece index far out of range", 0xffffffff, 0, kBlockSize},
      {"offset past the end of the piece", 0, 2 * kBlockSize, 1},
      {"length overrunning the piece", 0, kBlockSize + 1, kBlockSize},
      {"overrunning the short last piece", kPieces - 1, 0, 101},
      {"offset overflowing 32 bits", 0, 0xffffff00, kBlockSize},
      {"longer than a block", 0, 0, kBlockSize + 1},
  };
  for (const auto& k : cases) {
    Conversation c;
    std::vector<std::uint8_t> data(k.length);
    EXPECT_EQ(close_reason(c.receive(wire::Piece{k.piece, k.begin, data})),
              "piece message outside the torrent")
        << k.what;
  }
  Conversation c;
  std::vector<std::uint8_t> last(100);
  EXPECT_EQ(close_reason(c.receive(wire::Piece{kPieces - 1, 0, last})), "");  // exactly the last piece
}

TEST(PeerProtocol, ChokeRejectsBlocksQueuedButUnsentUnderFast) {
  for (bool fast : {true, false}) {
    Conversation c(fast);
    const BlockRequest unsent[] = {{PieceIndex{0}, 0, kBlockSize}, {PieceIndex{3}, kBlockSize, kBlockSize}};
    c.peer.reject_unsent(unsent);
    EXPECT_EQ(count_of<wire::Reject>(c.peer.outbox()), fast ? 2u : 0u);
    if (fast) {
      EXPECT_EQ(std::get<wire::Reject>(c.peer.outbox()[1]).piece, 3u);
    }
  }
}

TEST(PeerProtocol, TakeQueuedRequestsStopsAtTheGivenCount) {
  Conversation c;
  c.we_have_everything();
  c.peer.unchoke(c.t0);
  c.receive(request(1, 0, kBlockSize));
  c.receive(request(0, 0, kBlockSize));
  c.receive(request(1, kBlockSize, kBlockSize));
  std::vector<BlockRequest> out;
  c.peer.take_queued_requests(PieceIndex{1}, out, 1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], (BlockRequest{PieceIndex{1}, 0, kBlockSize}));  // oldest first
  EXPECT_EQ(c.peer.queued_requests().size(), 2u);
}

TEST(PeerProtocol, AMessageThatTricklesInClosesAfterTheMessageTimeout) {
  Conversation c;
  // Part of a message stays buffered: a byte every 10 s keeps the connection "active" but never finishes.
  std::optional<std::string_view> reason;
  int closed_at = -1;
  for (int s = 0; s <= 120 && !reason; s += 1) {
    reason = c.peer.on_tick(c.t0 + std::chrono::seconds(s), c.picker, /*message_partial=*/true);
    if (reason) closed_at = s;
  }
  EXPECT_EQ(reason, "message too slow to arrive");
  EXPECT_GT(closed_at, 60);
  EXPECT_LE(closed_at, 62);
}

TEST(PeerProtocol, MessagesThatKeepArrivingDoNotTimeOut) {
  Conversation c;
  // A fast peer always has a message half-read at the tick, but a different one each time.
  c.receive(wire::Interested{});
  for (int s = 0; s <= 300; ++s) {
    auto t = c.t0 + std::chrono::seconds(s);
    c.receive(wire::KeepAlive{}, t);
    EXPECT_FALSE(c.peer.on_tick(t, c.picker, true)) << s;
  }
}

TEST(PeerProtocol, TheMessageTimeoutIsConfigurable) {
  PiecePicker picker(kPieces, kPieceLength, kTotal, 1);
  Clock::time_point t0{};
  PeerProtocol peer(t0);
  PeerProtocol::Config config{kId, kPieces, {true, true}};
  config.message_timeout = 5s;
  peer.start(config);
  EXPECT_FALSE(peer.on_tick(t0, picker, true));
  EXPECT_FALSE(peer.on_tick(t0 + 5s, picker, true));
  EXPECT_EQ(peer.on_tick(t0 + 6s, picker, true), "message too slow to arrive");
}

TEST(PeerProtocol, AWriteThatMakesNoProgressClosesAfterTheStallTimeout) {
  Conversation c;
  c.receive(wire::Interested{});
  c.peer.on_write_started(c.t0);
  c.peer.on_bytes_sent(c.t0 + 30s);  // some progress: the clock restarts
  for (int s = 31; s <= 90; ++s) {
    auto t = c.t0 + std::chrono::seconds(s);
    c.receive(wire::KeepAlive{}, t);  // it talks, but does not read
    EXPECT_FALSE(c.peer.on_tick(t, c.picker)) << s;
  }
  EXPECT_EQ(c.peer.on_tick(c.t0 + 91s, c.picker), "not reading what we send");
  // A write that finished is not stuck, however long ago it was.
  Conversation d;
  d.receive(wire::Interested{});
  d.peer.on_write_started(d.t0);
  d.peer.on_write_done();
  d.receive(wire::KeepAlive{}, d.t0 + 100s);
  EXPECT_FALSE(d.peer.on_tick(d.t0 + 100s, d.picker));
}

TEST(PeerProtocol, ReadingPausesOnAFullQueueUnlessThePeerOwesUsBlocks) {
  Conversation c;
  EXPECT_FALSE(c.peer.reading_paused(100, 200));
  EXPECT_TRUE(c.peer.reading_paused(200, 200));
  c.requests_in_flight();  // now it owes us blocks: its data must be read
  ASSERT_FALSE(c.peer.outstanding().empty());
  EXPECT_FALSE(c.peer.reading_paused(200, 200));
}

TEST(PeerProtocol, MetadataRequestsAreRateLimited) {
  Conversation c;
  wire::ExtensionHandshake h;
  h.m = {{"ut_metadata", 3}};
  c.extension_handshake(h);
  using A = PeerProtocol::MetadataAnswer;
  int served = 0;
  for (int i = 0; i < 100; ++i)
    served += c.peer.on_metadata_request(c.t0, true) == A::data ? 1 : 0;
  EXPECT_EQ(served, static_cast<int>(PeerProtocol::kMetadataRequestBurst));
  // Tokens come back with time, at the configured rate.
  EXPECT_EQ(c.peer.on_metadata_request(c.t0 + 1s, true), A::data);
  EXPECT_EQ(c.peer.on_metadata_request(c.t0 + 1s, true), A::data);
  EXPECT_EQ(c.peer.on_metadata_request(c.t0 + 1s, true), A::ignore);
  // Without room in its send queue, a request within the rate is rejected.
  EXPECT_EQ(c.peer.on_metadata_request(c.t0 + 2s, false), A::reject);
}

TEST(PeerProtocol, MetadataIsNeverServedForPrivateTorrents) {
  Conversation c(true, /*pex_allowed (and metadata)=*/false);
  wire::ExtensionHandshake h;
  h.m = {{"ut_metadata", 3}};
  c.extension_handshake(h);
  EXPECT_EQ(c.peer.on_metadata_request(c.t0, true), PeerProtocol::MetadataAnswer::ignore);
}

TEST(PeerProtocol, PrivateTorrentsOfferNeitherMetadataNorPex) {
  OurExtensions ours;
  ours.metadata_size = 1234;
  ours.reqq = 2000;
  ours.is_private = true;
  auto decoded =
      wire::decode_extension_handshake(wire::encode_extension_handshake(our_extension_handshake(ours)));
  ASSERT_TRUE(decoded);
  EXPECT_FALSE(decoded->id_of("ut_metadata"));
  EXPECT_FALSE(decoded->id_of("ut_pex"));
  EXPECT_FALSE(decoded->metadata_size);
  EXPECT_EQ(decoded->reqq, 2000u);
  ours.is_private = false;
  decoded = wire::decode_extension_handshake(wire::encode_extension_handshake(our_extension_handshake(ours)));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->id_of("ut_metadata"), kOurUtMetadataId);
  EXPECT_EQ(decoded->id_of("ut_pex"), kOurUtPexId);
  EXPECT_EQ(decoded->metadata_size, 1234);
}

TEST(PeerProtocol, AWriteWithoutProgressIsStalledAfterTheThreshold) {
  PeerProtocol p(PeerProtocol::Clock::time_point{});
  auto t0 = PeerProtocol::Clock::time_point{} + std::chrono::seconds(100);
  EXPECT_FALSE(p.write_stalled(t0, std::chrono::seconds(2)));
  p.on_write_started(t0);
  EXPECT_FALSE(p.write_stalled(t0 + std::chrono::seconds(1), std::chrono::seconds(2)));
  EXPECT_TRUE(p.write_stalled(t0 + std::chrono::seconds(2), std::chrono::seconds(2)));
  p.on_bytes_sent(t0 + std::chrono::seconds(2));
  EXPECT_FALSE(p.write_stalled(t0 + std::chrono::seconds(3), std::chrono::seconds(2)));
  p.on_write_done();
  EXPECT_FALSE(p.write_stalled(t0 + std::chrono::seconds(30), std::chrono::seconds(2)));
}

TEST(PeerProtocol, AStalledPeerIsRememberedForAWhile) {
  Conversation c;
  c.receive(wire::Interested{});
  c.peer.on_write_started(c.t0);
  c.peer.on_tick(c.t0 + 3s, c.picker);  // the tick sees the stall
  c.peer.on_bytes_sent(c.t0 + 4s);
  c.peer.on_write_done();
  EXPECT_TRUE(c.peer.stalled_recently(c.t0 + 4s));
  EXPECT_TRUE(c.peer.stalled_recently(c.t0 + 62s));
  EXPECT_FALSE(c.peer.stalled_recently(c.t0 + 3s + PeerProtocol::kStalledMemory));
}

TEST(PeerProtocol, AnUnchokedPeerThatAsksNothingWastesItsSlot) {
  Conversation c;
  c.we_have_everything();
  c.receive(wire::Interested{});
  c.peer.unchoke(c.t0);
  EXPECT_FALSE(c.peer.wastes_slot(c.t0 + 4s));
  EXPECT_TRUE(c.peer.wastes_slot(c.t0 + 5s));
  c.receive(request(0, 0, kBlockSize), c.t0 + 6s);
  EXPECT_FALSE(c.peer.wastes_slot(c.t0 + 20s));
}

}  // namespace
}  // namespace shoal::swarm
