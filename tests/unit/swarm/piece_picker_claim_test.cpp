// Whole-piece claims for sources that fetch whole pieces (web seeds).
#include <gtest/gtest.h>

#include "swarm/piece_picker.hpp"

namespace shoal::swarm {
namespace {

constexpr std::int64_t kPiece = 4 * kBlockSize;

Bitfield all_of(std::int32_t n) {
  Bitfield b(n);
  for (std::int32_t i = 0; i < n; ++i)
    b.set(PieceIndex{i});
  return b;
}

TEST(PiecePickerClaim, AClaimedPieceIsNotHandedToPeers) {
  PiecePicker picker(4, kPiece, 4 * kPiece, 1);
  ASSERT_TRUE(picker.claim_piece(100, PieceIndex{0}));
  EXPECT_FALSE(picker.untouched(PieceIndex{0}));
  EXPECT_FALSE(picker.claim_piece(101, PieceIndex{0}));  // one claim per piece
  std::vector<BlockRequest> out;
  picker.pick_blocks(1, all_of(4), 12, out, 0);
  for (const auto& r : out)
    EXPECT_NE(r.piece, PieceIndex{0});
  EXPECT_EQ(out.size(), 12u);
}

TEST(PiecePickerClaim, OnlyUntouchedWantedPiecesAreClaimed) {
  PiecePicker picker(4, kPiece, 4 * kPiece, 1);
  picker.mark_have(PieceIndex{1});
  picker.set_piece_priority(PieceIndex{2}, 0);
  std::vector<BlockRequest> out;
  Bitfield only3(4);
  only3.set(PieceIndex{3});
  picker.pick_blocks(1, only3, 1, out);  // a peer started piece 3
  EXPECT_FALSE(picker.claim_piece(100, PieceIndex{1}));
  EXPECT_FALSE(picker.claim_piece(100, PieceIndex{2}));
  EXPECT_FALSE(picker.claim_piece(100, PieceIndex{3}));
  EXPECT_FALSE(picker.claim_piece(100, PieceIndex{4}));  // out of range
  EXPECT_FALSE(picker.claim_piece(100, PieceIndex{-1}));
  EXPECT_TRUE(picker.claim_piece(100, PieceIndex{0}));
}

TEST(PiecePickerClaim, ReleasedClaimIsUntouchedAgain) {
  PiecePicker picker(2, kPiece, 2 * kPiece, 1);
  ASSERT_TRUE(picker.claim_piece(100, PieceIndex{0}));
  picker.release_piece(100, PieceIndex{0});
  EXPECT_TRUE(picker.untouched(PieceIndex{0}));
  EXPECT_TRUE(picker.claim_piece(101, PieceIndex{0}));
}

TEST(PiecePickerClaim, ReleaseKeepsWhatOthersDid) {
  PiecePicker picker(1, kPiece, kPiece, 1);
  ASSERT_TRUE(picker.claim_piece(100, PieceIndex{0}));
  // End-game: a peer doubles a block and delivers it.
  std::vector<BlockRequest> out;
  picker.pick_blocks(1, all_of(1), 1, out);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(picker.on_block_received(1, out[0]).accepted);
  picker.release_piece(100, PieceIndex{0});
  EXPECT_FALSE(picker.untouched(PieceIndex{0}));  // partly received: peers finish it
  out.clear();
  EXPECT_EQ(picker.pick_blocks(1, all_of(1), 8, out), 3u);
}

}  // namespace
}  // namespace shoal::swarm
