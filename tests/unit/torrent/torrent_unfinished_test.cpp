// torrent::Torrent and resume data's unfinished pieces: the blocks of pieces in assembly it reports for
// saving (and which of them are on disk already), and blocks restored at start that are never asked for
// again, the piece still hashed whole.
#include <gtest/gtest.h>

#include "torrent/torrent.hpp"
#include "torrent_harness.hpp"

namespace shoal::torrent::testing {
namespace {

// Four pieces of four blocks; the last piece is shorter (two blocks).
constexpr std::int32_t kPieces = 4;
constexpr std::int64_t kPieceLength = 4 * swarm::kBlockSize;
constexpr std::int64_t kTotal = 3 * kPieceLength + 20000;
const std::vector<std::uint8_t> kAllFour = {0xf0};

Params params() {
  return Harness::make_params(kPieces, kPieceLength, kTotal);
}

swarm::Bitfield mask(std::int32_t size, std::initializer_list<std::int32_t> set) {
  swarm::Bitfield b(size);
  for (auto i : set)
    b.set(PieceIndex{i});
  return b;
}

// The piece as a restart reads it back: the kept blocks' bytes, zeros elsewhere.
std::vector<std::uint8_t> read_back(const Harness& h, std::int32_t piece, const swarm::Bitfield& blocks) {
  auto bytes = h.piece_bytes(piece);
  std::vector<std::uint8_t> out(bytes.size(), 0);
  for (std::int32_t b = 0; b < blocks.size(); ++b) {
    if (!blocks.test(PieceIndex{b})) continue;
    auto begin = static_cast<std::size_t>(b) * swarm::kBlockSize;
    auto end = std::min(out.size(), begin + swarm::kBlockSize);
    std::copy(bytes.begin() + static_cast<std::ptrdiff_t>(begin),
              bytes.begin() + static_cast<std::ptrdiff_t>(end),
              out.begin() + static_cast<std::ptrdiff_t>(begin));
  }
  return out;
}

std::vector<wire::Request> seed_unchokes(Harness& h, PeerId seed) {
  h.flush(seed);
  EXPECT_TRUE(h.receive_all(seed, {wire::Bitfield{kAllFour}, wire::Unchoke{}}));
  return h.flush(seed).all<wire::Request>();
}

TEST(TorrentUnfinished, BlocksOfAPieceInAssemblyAreReportedUntilItIsHashed) {
  Harness h(params());
  h.start();
  auto seed = h.connect(ip(2, 1), true);
  auto requests = seed_unchokes(h, seed);
  ASSERT_FALSE(requests.empty());
  auto piece = requests[0].piece;
  std::vector<wire::Request> of_piece;
  for (const auto& r : requests) {
    if (r.piece == piece) of_piece.push_back(r);
  }
  ASSERT_GE(of_piece.size(), 2u);
  ASSERT_TRUE(h.receive(seed, h.block(of_piece[1])));
  auto unfinished = h.torrent.unfinished();
  ASSERT_EQ(unfinished.size(), 1u);
  const auto& u = unfinished[0];
  EXPECT_EQ(u.piece, PieceIndex(static_cast<std::int32_t>(piece)));
  auto blocks = h.torrent.picker().blocks_in_piece(u.piece);
  EXPECT_EQ(u.received, mask(blocks, {static_cast<std::int32_t>(of_piece[1].begin / swarm::kBlockSize)}));
  EXPECT_TRUE(u.on_disk.none());
  EXPECT_TRUE(u.leaves.empty());
  auto expected =
      h.piece_bytes(static_cast<std::int32_t>(piece)).subspan(of_piece[1].begin, of_piece[1].length);
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), u.data.begin() + of_piece[1].begin));

  // Written at a save: on disk from then on.
  h.torrent.mark_blocks_on_disk(u.piece, u.received);
  EXPECT_EQ(h.torrent.unfinished()[0].on_disk, u.received);

  // Every block in: the piece goes to be hashed and is no longer unfinished.
  for (const auto& r : of_piece) {
    if (!(r == of_piece[1])) {
      ASSERT_TRUE(h.receive(seed, h.block(r)));
    }
  }
  EXPECT_EQ(count_actions<VerifyPiece>(h.actions()), 1u);
  EXPECT_TRUE(h.torrent.unfinished().empty());
}

TEST(TorrentUnfinished, RestoredBlocksAreNotAskedForAgainAndThePieceIsHashedWhole) {
  Harness h(params());
  auto kept = mask(4, {0, 2});
  ASSERT_EQ(h.torrent.restore_unfinished(PieceIndex{1}, kept, read_back(h, 1, kept)), std::nullopt);
  h.start();
  auto unfinished = h.torrent.unfinished();
  ASSERT_EQ(unfinished.size(), 1u);
  EXPECT_EQ(unfinished[0].received, kept);
  EXPECT_EQ(unfinished[0].on_disk, kept);  // nothing to write again at the next save

  auto seed = h.connect(ip(2, 1), true);
  auto requests = seed_unchokes(h, seed);
  std::set<std::uint32_t> asked_of_piece_1;
  for (const auto& r : requests) {
    if (r.piece == 1) asked_of_piece_1.insert(r.begin / swarm::kBlockSize);
  }
  EXPECT_EQ(asked_of_piece_1, (std::set<std::uint32_t>{1, 3}));
  for (const auto& r : requests) {
    if (r.piece == 1) {
      ASSERT_TRUE(h.receive(seed, h.block(r)));
    }
  }
  auto actions = h.actions();
  auto verifies = actions_of<VerifyPiece>(actions);
  ASSERT_EQ(verifies.size(), 1u);
  EXPECT_EQ(verifies[0].piece, PieceIndex{1});
  auto expected = h.piece_bytes(1);
  EXPECT_TRUE(std::equal(verifies[0].data.begin(), verifies[0].data.end(), expected.begin(), expected.end()));
  // The kept blocks have no supplier to blame; the ones just received do.
  ASSERT_EQ(verifies[0].blocks.size(), 4u);
  EXPECT_FALSE(verifies[0].blocks[0].known);
  EXPECT_TRUE(verifies[0].blocks[1].known);
  EXPECT_FALSE(verifies[0].blocks[2].known);
  EXPECT_TRUE(verifies[0].blocks[3].known);
  // Downloaded counts only what came over the wire.
  EXPECT_EQ(h.torrent.stats().downloaded, 2 * swarm::kBlockSize);
  h.answer_verifies(actions);
  EXPECT_TRUE(h.torrent.have().test(PieceIndex{1}));
}

TEST(TorrentUnfinished, ARestoredPieceThatFailsIsFetchedAgainWhole) {
  Harness h(params());
  auto kept = mask(4, {0});
  auto data = read_back(h, 1, kept);
  data[5] ^= 1;  // the kept block is bad
  ASSERT_EQ(h.torrent.restore_unfinished(PieceIndex{1}, kept, std::move(data)), std::nullopt);
  h.start();
  auto seed = h.connect(ip(2, 1), true);
  auto requests = seed_unchokes(h, seed);
  for (const auto& r : requests) {
    if (r.piece == 1) {
      ASSERT_TRUE(h.receive(seed, h.block(r)));
    }
  }
  auto actions = h.actions();
  auto verifies = actions_of<VerifyPiece>(actions);
  ASSERT_EQ(verifies.size(), 1u);
  h.answer_verifies(actions);
  EXPECT_FALSE(h.torrent.have().test(PieceIndex{1}));
  EXPECT_EQ(h.torrent.stats().banned_peers, 0);  // its blocks were good: the kept one was not its
  EXPECT_TRUE(h.torrent.unfinished().empty());
}

TEST(TorrentUnfinished, EveryBlockRestoredHashesThePieceAtOnce) {
  Harness h(params());
  auto kept = mask(2, {0, 1});  // the last piece: two blocks
  ASSERT_EQ(h.torrent.restore_unfinished(PieceIndex{3}, kept, read_back(h, 3, kept)), std::nullopt);
  auto actions = h.actions();
  auto verifies = actions_of<VerifyPiece>(actions);
  ASSERT_EQ(verifies.size(), 1u);
  EXPECT_EQ(verifies[0].piece, PieceIndex{3});
  h.start();
  h.answer_verifies(actions);
  EXPECT_TRUE(h.torrent.have().test(PieceIndex{3}));
}

TEST(TorrentUnfinished, WhatDoesNotFitIsRefused) {
  Harness h(params());
  h.torrent.mark_have(PieceIndex{0});
  h.torrent.set_piece_priority(PieceIndex{2}, 0);
  auto one = mask(4, {1});
  EXPECT_TRUE(h.torrent.restore_unfinished(PieceIndex{0}, one, read_back(h, 0, one)));  // verified already
  EXPECT_TRUE(h.torrent.restore_unfinished(PieceIndex{2}, one, read_back(h, 2, one)));  // not wanted
  EXPECT_TRUE(h.torrent.restore_unfinished(PieceIndex{-1}, one, read_back(h, 1, one)));
  EXPECT_TRUE(h.torrent.restore_unfinished(PieceIndex{4}, one, read_back(h, 1, one)));
  EXPECT_TRUE(h.torrent.restore_unfinished(PieceIndex{1}, one, std::vector<std::uint8_t>(10)));
  EXPECT_TRUE(h.torrent.restore_unfinished(PieceIndex{1}, mask(5, {1}), read_back(h, 1, one)));
  EXPECT_TRUE(h.torrent.restore_unfinished(PieceIndex{1}, mask(4, {}), read_back(h, 1, one)));
  EXPECT_EQ(h.torrent.restore_unfinished(PieceIndex{1}, one, read_back(h, 1, one)), std::nullopt);
  EXPECT_TRUE(h.torrent.restore_unfinished(PieceIndex{1}, one, read_back(h, 1, one)));  // twice
  h.start();
  EXPECT_TRUE(h.torrent.restore_unfinished(PieceIndex{3}, mask(2, {0}), read_back(h, 3, mask(2, {0}))));
  ASSERT_EQ(h.torrent.unfinished().size(), 1u);
}

}  // namespace
}  // namespace shoal::torrent::testing
