#include "swarm/piece_picker.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

namespace shoal::swarm {
namespace {

TEST(Bitfield, WireFormatAndValidation) {
  Bitfield b(10);
  b.set(PieceIndex{0});
  b.set(PieceIndex{9});
  EXPECT_EQ(b.count(), 2);
  EXPECT_EQ(b.wire()[0], 0x80);
  EXPECT_EQ(b.wire()[1], 0x40);
  std::vector<std::uint8_t> ok = {0xff, 0xc0};
  auto parsed = Bitfield::from_wire(ok, 10);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->all());
  std::vector<std::uint8_t> spare = {0xff, 0xe0};  // bit 10 set: past the end
  EXPECT_FALSE(Bitfield::from_wire(spare, 10));
  std::vector<std::uint8_t> short_bits = {0xff};
  EXPECT_FALSE(Bitfield::from_wire(short_bits, 10));
  std::vector<std::uint8_t> long_bits = {0xff, 0xc0, 0x00};
  EXPECT_FALSE(Bitfield::from_wire(long_bits, 10));
  EXPECT_EQ(Bitfield(10, true).count(), 10);
  EXPECT_EQ(Bitfield(10, true).wire()[1], 0xc0);
}

constexpr std::int64_t kPiece = 4 * kBlockSize;

TEST(PiecePicker, LastPieceAndBlockSizesAreExact) {
  std::int64_t total = 3 * kPiece + kBlockSize + 100;
  PiecePicker picker(4, kPiece, total, 1);
  Bitfield all(4, true);
  picker.add_peer(all);
  std::vector<BlockRequest> out;
  picker.pick_blocks(1, all, 1000, out);
  std::int64_t sum = 0;
  for (const auto& r : out)
    sum += r.length;
  EXPECT_EQ(sum, total);
  EXPECT_EQ(out.size(), 3u * 4 + 2);
}

TEST(PiecePicker, RarestFirstAfterRandomStart) {
  PiecePicker picker(10, kPiece, 10 * kPiece, 7);
  for (PieceIndex p{0}; p.get() < kRandomStartPieces; ++p)
    picker.mark_have(p);
  Bitfield common(10, true);
  for (int i = 0; i < 5; ++i)
    picker.add_peer(common);
  Bitfield rare(10);
  rare.set(PieceIndex{7});
  picker.add_peer(rare);  // piece 7 is now the most common... make 8 the rarest instead
  Bitfield partial(10, true);
  partial.reset(PieceIndex{8});
  picker.add_peer(partial);
  std::vector<BlockRequest> out;
  picker.pick_blocks(1, common, 4, out);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].piece, PieceIndex{8});
}

TEST(PiecePicker, TieBreakIsRandomNotLowestIndex) {
  std::set<PieceIndex> first_picks;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    PiecePicker picker(50, kPiece, 50 * kPiece, seed);
    for (PieceIndex p{0}; p.get() < kRandomStartPieces; ++p)
      picker.mark_have(p);
    Bitfield all(50, true);
    picker.add_peer(all);
    std::vector<BlockRequest> out;
    picker.pick_blocks(1, all, 1, out);
    first_picks.insert(out[0].piece);
  }
  EXPECT_GT(first_picks.size(), 10u);
}

TEST(PiecePicker, AffinityKeepsAPeerOnItsPiece) {
  PiecePicker picker(10, kPiece, 10 * kPiece, 3);
  Bitfield all(10, true);
  picker.add_peer(all);
  std::vector<BlockRequest> a;
  picker.pick_blocks(1, all, 2, a);
  std::vector<BlockRequest> b;
  picker.pick_blocks(2, all, 2, b);
  std::vector<BlockRequest> a2;
  picker.pick_blocks(1, all, 2, a2);
  EXPECT_EQ(a2[0].piece, a[0].piece);
  EXPECT_NE(b[0].piece, a[0].piece);
}

TEST(PiecePicker, SkippedPiecesAreNeverPickedAndSequentialIsInOrder) {
  PiecePicker picker(6, kPiece, 6 * kPiece, 3);
  picker.set_sequential(true);
  picker.set_piece_priority(PieceIndex{0}, 0);
  picker.set_piece_priority(PieceIndex{2}, 0);
  Bitfield all(6, true);
  picker.add_peer(all);
  std::vector<BlockRequest> out;
  picker.pick_blocks(1, all, 100, out);
  std::vector<PieceIndex> order;
  for (const auto& r : out) {
    if (order.empty() || order.back() != r.piece) order.push_back(r.piece);
  }
  EXPECT_EQ(order, (std::vector<PieceIndex>{PieceIndex{1}, PieceIndex{3}, PieceIndex{4}, PieceIndex{5}}));
  EXPECT_EQ(picker.bytes_wanted_left(), 4 * kPiece);
}

TEST(PiecePicker, EndGameDuplicatesAndCancels) {
  PiecePicker picker(1, kPiece, kPiece, 3);
  Bitfield all(1, true);
  picker.add_peer(all);
  picker.add_peer(all);
  std::vector<BlockRequest> first;
  picker.pick_blocks(1, all, 2, first);
  EXPECT_EQ(first.size(), 2u);
  EXPECT_FALSE(picker.in_end_game());
  picker.pick_blocks(1, all, 100, first);
  EXPECT_EQ(first.size(), 4u);
  EXPECT_TRUE(picker.in_end_game());  // every block is requested now
  std::vector<BlockRequest> second;
  picker.pick_blocks(2, all, 100, second);
  EXPECT_TRUE(picker.in_end_game());
  EXPECT_EQ(second.size(), 4u);  // the same blocks, asked of peer 2 too
  std::vector<BlockRequest> third;
  picker.pick_blocks(2, all, 100, third);
  EXPECT_TRUE(third.empty());  // never twice from the same peer
  auto result = picker.on_block_received(2, second[0]);
  EXPECT_TRUE(result.accepted);
  EXPECT_EQ(result.cancel_from, std::vector<PeerId>{1});
  EXPECT_FALSE(picker.on_block_received(1, second[0]).accepted);  // a late duplicate
}

TEST(PiecePicker, DroppedRequestsAndFailedPiecesReturnToThePool) {
  PiecePicker picker(2, kPiece, 2 * kPiece, 3);
  Bitfield all(2, true);
  picker.add_peer(all);
  std::vector<BlockRequest> out;
  picker.pick_blocks(1, all, 4, out);
  for (const auto& r : out)
    picker.on_request_dropped(1, r);
  std::vector<BlockRequest> both;
  picker.pick_blocks(2, all, 8, both);
  ASSERT_EQ(both.size(), 8u);  // the dropped blocks are handed out again, with the other piece
  std::vector<BlockRequest> again;
  for (const auto& r : both) {
    if (r.piece == out[0].piece) again.push_back(r);
  }
  EXPECT_EQ(again, out);
  BlockResult last;
  for (const auto& r : again)
    last = picker.on_block_received(2, r);
  EXPECT_TRUE(last.piece_complete);
  EXPECT_EQ(picker.contributors(again[0].piece), std::vector<PeerId>{2});
  picker.on_piece_failed(again[0].piece);
  std::vector<BlockRequest> refetch;
  picker.pick_blocks(3, all, 8, refetch);
  EXPECT_EQ(refetch.size(), 8u);  // both pieces are missing again
}

TEST(PiecePicker, NoBlockIsHandedOutTwiceOutsideEndGame) {
  std::mt19937_64 rng(99);
  const std::int32_t pieces = 40;
  PiecePicker picker(pieces, kPiece, pieces * kPiece - 5000, 5);
  std::map<PeerId, Bitfield> peers;
  for (PeerId id = 1; id <= 8; ++id) {
    Bitfield b(pieces);
    for (std::int32_t p = 0; p < pieces; ++p) {
      if (rng() % 3 != 0) b.set(PieceIndex{p});
    }
    peers[id] = b;
    picker.add_peer(b);
  }
  std::map<std::pair<PieceIndex, std::int32_t>, PeerId> in_flight;
  for (int round = 0; round < 400 && !picker.is_complete(); ++round) {
    PeerId id = static_cast<PeerId>(rng() % 8 + 1);
    std::vector<BlockRequest> out;
    picker.pick_blocks(id, peers[id], rng() % 10 + 1, out);
    for (const auto& r : out) {
      if (!picker.in_end_game()) {
        EXPECT_FALSE(in_flight.count({r.piece, r.begin})) << "block handed out twice";
      }
      in_flight[{r.piece, r.begin}] = id;
    }
    // Deliver or drop some in-flight blocks.
    for (auto it = in_flight.begin(); it != in_flight.end();) {
      BlockRequest r{it->first.first, it->first.second,
                     static_cast<std::int32_t>(std::min<std::int64_t>(
                         kBlockSize, picker.piece_size(it->first.first) - it->first.second))};
      if (rng() % 4 == 0) {
        picker.on_request_dropped(it->second, r);
        it = in_flight.erase(it);
      } else if (rng() % 2 == 0) {
        auto res = picker.on_block_received(it->second, r);
        if (res.piece_complete) picker.on_piece_verified(r.piece);
        it = in_flight.erase(it);
      } else {
        ++it;
      }
    }
  }
}

TEST(PiecePicker, SimulatedSwarmCompletes) {
  const std::int32_t pieces = 64;
  PiecePicker picker(pieces, kPiece, pieces * kPiece, 11);
  Bitfield all(pieces, true);
  for (int i = 0; i < 20; ++i)
    picker.add_peer(all);
  int rounds = 0;
  while (!picker.is_complete() && rounds++ < 10000) {
    for (PeerId id = 1; id <= 20; ++id) {
      std::vector<BlockRequest> out;
      picker.pick_blocks(id, all, 3, out);
      for (const auto& r : out) {
        auto res = picker.on_block_received(id, r);
        if (res.piece_complete) picker.on_piece_verified(r.piece);
      }
    }
  }
  EXPECT_TRUE(picker.is_complete());
  EXPECT_EQ(picker.num_have(), pieces);
}

}  // namespace
}  // namespace shoal::swarm
