// The read cache's session-wide budget, through the torrent core's Mediator.
#include <gtest/gtest.h>

#include "torrent/torrent.hpp"

namespace shoal::torrent {
namespace {

struct CacheMediator : Mediator {
  int connection_limit() const override { return 100; }
  int upload_slots() const override { return 8; }
  bool may_accept() const override { return true; }
  bool handshaking_with(const Endpoint&) const override { return false; }
  bool try_dial(const Endpoint&) override { return true; }
  void cache_changed(std::int64_t delta) override { cached += delta; }
  bool cache_over_budget() const override { return cached > budget; }
  std::int64_t cached = 0;
  std::int64_t budget = 0;
};

constexpr std::int64_t kPiece = 32 * 1024;
constexpr std::int32_t kPieces = 16;

Params seed_params() {
  Params p;
  p.num_pieces = kPieces;
  p.piece_length = kPiece;
  p.total_size = kPiece * kPieces;
  p.use_trackers = false;
  p.seed = 7;
  return p;
}

// A seed with one unchoked peer that asked for the first block of every piece; returns the pieces it read.
std::vector<PieceIndex> serve_all_pieces(Torrent& t, Clock::time_point now) {
  for (std::int32_t p = 0; p < kPieces; ++p)
    t.mark_have(PieceIndex(p));
  t.start(now);
  auto id = t.on_peer_connected(*Endpoint::parse("10.0.0.1:6881"), false, {true, false}, now);
  EXPECT_TRUE(id.has_value());
  t.on_message(*id, wire::HaveNone{}, now);
  t.on_message(*id, wire::Interested{}, now);
  for (std::uint32_t p = 0; p < kPieces; ++p)
    t.on_message(*id, wire::Request{p, 0, 16 * 1024}, now);
  t.on_messages_done(*id);
  std::vector<PieceIndex> reads;
  // Answer reads as they come (a few at a time), as a disk pool would.
  for (int round = 0; round < 100; ++round) {
    std::vector<PieceIndex> batch;
    for (auto& a : t.take_actions()) {
      if (auto* r = std::get_if<ReadPiece>(&a)) batch.push_back(r->piece);
    }
    if (batch.empty()) break;
    for (auto piece : batch) {
      reads.push_back(piece);
      t.on_piece_read(piece, std::make_shared<const std::vector<std::uint8_t>>(kPiece, 0x5a));
    }
    // The peer reads what was queued, so the send queue has room for more.
    std::vector<std::uint8_t> bytes;
    std::vector<swarm::SendQueue::Block> blocks;
    while (t.take_output(*id, bytes, blocks, 64, now))
      t.on_write_done(*id, static_cast<std::int64_t>(blocks.size()) * 16 * 1024, now);
  }
  return reads;
}

TEST(ReadCache, StaysWithinTheSessionsBudgetAndKeepsTwoPieces) {
  CacheMediator mediator;
  mediator.budget = 3 * kPiece;
  Clock::time_point now{};
  Torrent t(seed_params(), mediator, now);
  auto reads = serve_all_pieces(t, now);
  EXPECT_EQ(reads.size(), static_cast<std::size_t>(kPieces)) << "every piece was read to be served";
  EXPECT_LE(mediator.cached, std::max<std::int64_t>(mediator.budget, 2 * kPiece) + kPiece);
  EXPECT_GE(mediator.cached, 2 * kPiece);
}

TEST(ReadCache, AnIdleTorrentGivesItsCacheBack) {
  CacheMediator mediator;
  mediator.budget = 1 << 30;
  Clock::time_point now{};
  {
    Torrent t(seed_params(), mediator, now);
    serve_all_pieces(t, now);
    EXPECT_EQ(mediator.cached, kPiece * kPieces) << "within budget, everything read stays cached";
    t.halt("test");
    EXPECT_EQ(mediator.cached, 0);
  }
  {
    Torrent t(seed_params(), mediator, now);
    serve_all_pieces(t, now);
    EXPECT_GT(mediator.cached, 0);
  }
  EXPECT_EQ(mediator.cached, 0) << "a destroyed torrent returns what it held";
}

// A seed with one unchoked peer; ask() has the peer request the first block of `piece`, answers the reads the
// torrent asks for, lets the peer read what was queued, and says whether the piece had to be read.
struct ServingSeed {
  CacheMediator mediator;
  Clock::time_point now{};
  Torrent t;
  PeerId id{};
  explicit ServingSeed(std::int64_t budget) : t((mediator.budget = budget, seed_params()), mediator, now) {
    for (std::int32_t p = 0; p < kPieces; ++p)
      t.mark_have(PieceIndex(p));
    t.start(now);
    id = *t.on_peer_connected(*Endpoint::parse("10.0.0.1:6881"), false, {true, false}, now);
    t.on_message(id, wire::HaveNone{}, now);
    t.on_message(id, wire::Interested{}, now);
    t.on_messages_done(id);
    t.take_actions();
  }
  bool ask(std::uint32_t piece) {
    t.on_message(id, wire::Request{piece, 0, 16 * 1024}, now);
    t.on_messages_done(id);
    bool read = false;
    for (auto& a : t.take_actions()) {
      if (auto* r = std::get_if<ReadPiece>(&a)) {
        read |= r->piece == PieceIndex(static_cast<std::int32_t>(piece));
        t.on_piece_read(r->piece, std::make_shared<const std::vector<std::uint8_t>>(kPiece, 0x5a));
      }
    }
    std::vector<std::uint8_t> bytes;
    std::vector<swarm::SendQueue::Block> blocks;
    while (t.take_output(id, bytes, blocks, 64, now))
      t.on_write_done(id, static_cast<std::int64_t>(blocks.size()) * 16 * 1024, now);
    return read;
  }
};

TEST(ReadCache, EvictsTheLeastRecentlyServedPieceNotTheOldestRead) {
  ServingSeed seed(3 * kPiece);
  EXPECT_TRUE(seed.ask(0));
  EXPECT_TRUE(seed.ask(1));
  EXPECT_TRUE(seed.ask(2));
  EXPECT_FALSE(seed.ask(0)) << "cached";
  EXPECT_TRUE(seed.ask(3));  // over budget: piece 1 (served longest ago) goes, not piece 0 (read first)
  EXPECT_FALSE(seed.ask(0)) << "piece 0 was served recently: it stayed";
  EXPECT_TRUE(seed.ask(1)) << "piece 1 was evicted";
}

}  // namespace
}  // namespace shoal::torrent
