// What each piece of a v2-only torrent is verified against (metainfo/v2_pieces.hpp), and the check itself.
#include "metainfo/v2_pieces.hpp"

#include <gtest/gtest.h>

#include "v2_torrent_fixture.hpp"

namespace shoal::metainfo {
namespace {

using testing::make_v2_torrent;
using testing::v2_data;

constexpr std::int64_t kPiece = 64 * 1024;

// a.bin: 3 pieces, the last one short (piece layer, padded leaves); b.bin: under one piece (its root, 2
// leaves); c.bin: one block; empty: no piece at all.
testing::V2Torrent tree() {
  return make_v2_torrent({{"a.bin", v2_data(2 * kPiece + 20000, 1)},
                          {"b.bin", v2_data(20000, 2)},
                          {"c.bin", v2_data(100, 3)},
                          {"empty", ""}},
                         kPiece);
}

std::span<const std::uint8_t> piece_bytes(const testing::V2Torrent& t, std::int32_t piece) {
  auto begin = static_cast<std::size_t>(piece) * static_cast<std::size_t>(t.info.piece_length);
  auto size = static_cast<std::size_t>(t.info.piece_size(PieceIndex{piece}));
  return {reinterpret_cast<const std::uint8_t*>(t.stream.data()) + begin, size};
}

TEST(V2Pieces, EveryPieceOfARealTorrentMatches) {
  auto t = tree();
  ASSERT_EQ(t.info.version, MetaVersion::v2);
  ASSERT_EQ(t.info.num_pieces(), 5);
  for (std::int32_t p = 0; p < t.info.num_pieces(); ++p) {
    auto check = v2_piece_check(t.info, PieceIndex{p});
    ASSERT_TRUE(check) << p;
    EXPECT_TRUE(v2_piece_matches(*check, piece_bytes(t, p))) << p;
  }
}

TEST(V2Pieces, ShapesOfEachKindOfPiece) {
  auto t = tree();
  auto last_of_a = *v2_piece_check(t.info, PieceIndex{2});
  EXPECT_EQ(last_of_a.file_bytes, 20000);
  EXPECT_EQ(last_of_a.leaves, 4);  // blocks per piece, zero leaves after the two real ones
  EXPECT_EQ(last_of_a.piece_in_file, 2);
  EXPECT_EQ(last_of_a.file_blocks, 10);
  EXPECT_EQ(last_of_a.pieces_root, *t.info.files[0].pieces_root);
  auto b = *v2_piece_check(t.info, PieceIndex{3});
  EXPECT_EQ(b.expected, *t.info.files[2].pieces_root);  // files[1] is a.bin's pad
  EXPECT_EQ(b.leaves, 2);                               // its own tree: next_pow2(2 blocks), not a piece's 4
  EXPECT_EQ(b.file_bytes, 20000);
  auto c = *v2_piece_check(t.info, PieceIndex{4});
  EXPECT_EQ(c.leaves, 1);
  EXPECT_EQ(c.file_bytes, 100);
}

TEST(V2Pieces, OneWrongByteFails) {
  auto t = tree();
  for (std::int32_t p = 0; p < t.info.num_pieces(); ++p) {
    auto check = *v2_piece_check(t.info, PieceIndex{p});
    std::vector<std::uint8_t> bytes(piece_bytes(t, p).begin(), piece_bytes(t, p).end());
    bytes[static_cast<std::size_t>(check.file_bytes - 1)] ^= 1;
    EXPECT_FALSE(v2_piece_matches(check, bytes)) << p;
  }
}

TEST(V2Pieces, PadBytesAreNoPartOfTheFile) {
  auto t = tree();
  auto check = *v2_piece_check(t.info, PieceIndex{3});
  std::vector<std::uint8_t> bytes(piece_bytes(t, 3).begin(), piece_bytes(t, 3).end());
  ASSERT_GT(bytes.size(), static_cast<std::size_t>(check.file_bytes));
  bytes.back() = 0x55;  // in b.bin's pad
  EXPECT_TRUE(v2_piece_matches(check, bytes));
}

TEST(V2Pieces, ShortDataFails) {
  auto t = tree();
  auto check = *v2_piece_check(t.info, PieceIndex{0});
  EXPECT_FALSE(v2_piece_matches(check, piece_bytes(t, 0).first(100)));
}

TEST(V2Pieces, NoCheckWithoutLayersOrV2) {
  auto t = tree();
  EXPECT_FALSE(v2_piece_check(t.info, PieceIndex{5}));
  EXPECT_FALSE(v2_piece_check(t.info, PieceIndex{-1}));
  auto no_layers = t.info;
  no_layers.piece_layers.clear();  // as from metadata: a.bin's pieces cannot be checked, the small files can
  EXPECT_FALSE(v2_piece_check(no_layers, PieceIndex{0}));
  EXPECT_TRUE(v2_piece_check(no_layers, PieceIndex{3}));
  auto v1 = t.info;
  v1.version = MetaVersion::v1;
  EXPECT_FALSE(v2_piece_check(v1, PieceIndex{3}));
}

}  // namespace
}  // namespace shoal::metainfo
