// Known vectors built by hand from SHA-256, following BEP 52's description of the tree.
#include "hash/merkle.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hash/sha.hpp"

namespace shoal::hash {
namespace {

std::string data_of(std::size_t size, unsigned seed) {
  std::string data(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    data[i] = static_cast<char>((i * 131 + seed * 7 + (i >> 9)) & 0xff);
  return data;
}

Sha256Digest h(const Sha256Digest& a, const Sha256Digest& b) {
  return sha256(std::string(a.raw()) + std::string(b.raw()));
}

std::vector<Sha256Digest> leaves_of(const std::string& data) {
  std::vector<Sha256Digest> leaves;
  for (std::size_t off = 0; off < data.size(); off += kMerkleBlockSize)
    leaves.push_back(sha256(std::string_view(data).substr(off, kMerkleBlockSize)));
  return leaves;
}

const Sha256Digest kZero{};

TEST(Merkle, CountsBlocksAndLeaves) {
  EXPECT_EQ(merkle_num_blocks(0), 0);
  EXPECT_EQ(merkle_num_blocks(1), 1);
  EXPECT_EQ(merkle_num_blocks(16384), 1);
  EXPECT_EQ(merkle_num_blocks(16385), 2);
  EXPECT_EQ(merkle_num_leaves(1), 1);
  EXPECT_EQ(merkle_num_leaves(3), 4);
  EXPECT_EQ(merkle_num_leaves(4), 4);
  EXPECT_EQ(merkle_num_leaves(5), 8);
  EXPECT_EQ(merkle_log2(1), 0);
  EXPECT_EQ(merkle_log2(256), 8);
}

TEST(Merkle, PadHashesAreRootsOfZeroLeaves) {
  EXPECT_EQ(merkle_pad_hash(0), kZero);
  EXPECT_EQ(merkle_pad_hash(1), sha256(std::string(64, '\0')));
  EXPECT_EQ(merkle_pad_hash(2), h(merkle_pad_hash(1), merkle_pad_hash(1)));
  EXPECT_EQ(merkle_parent(kZero, kZero), merkle_pad_hash(1));
}

TEST(Merkle, OneBlockFileRootIsTheBlockHash) {
  std::string data = data_of(1000, 1);
  auto leaves = leaves_of(data);
  auto hashes = merkle_file_hashes(leaves, 4);
  EXPECT_EQ(hashes.root, sha256(data));
  EXPECT_TRUE(hashes.piece_layer.empty());
}

TEST(Merkle, ShortLastBlockIsHashedAsItIsAndLeavesPadWithZeros) {
  std::string data = data_of(2 * 16384 + 7000, 2);  // 3 blocks, the last 7000 bytes
  auto l0 = sha256(std::string_view(data).substr(0, 16384));
  auto l1 = sha256(std::string_view(data).substr(16384, 16384));
  auto l2 = sha256(std::string_view(data).substr(32768));
  Sha256Digest expected = h(h(l0, l1), h(l2, kZero));
  // One piece of 4 blocks or more: the file's root covers next_pow2(3) = 4 leaves, not the piece's.
  EXPECT_EQ(merkle_file_hashes(leaves_of(data), 4).root, expected);
  EXPECT_EQ(merkle_file_hashes(leaves_of(data), 16).root, expected);
  EXPECT_TRUE(merkle_file_hashes(leaves_of(data), 16).piece_layer.empty());
  EXPECT_EQ(merkle_root(leaves_of(data), 4, kZero), expected);
}

TEST(Merkle, PieceLayerAndRootOfAMultiPieceFile) {
  // 32 KiB pieces (2 blocks), 5 blocks: 3 pieces, the last one half padding.
  std::string data = data_of(4 * 16384 + 100, 3);
  auto l = leaves_of(data);
  ASSERT_EQ(l.size(), 5u);
  Sha256Digest p0 = h(l[0], l[1]), p1 = h(l[2], l[3]), p2 = h(l[4], kZero);
  Sha256Digest pad_piece = h(kZero, kZero);
  Sha256Digest root = h(h(p0, p1), h(p2, pad_piece));

  auto hashes = merkle_file_hashes(l, 2);
  ASSERT_EQ(hashes.piece_layer.size(), 3u);
  EXPECT_EQ(hashes.piece_layer[0], p0);
  EXPECT_EQ(hashes.piece_layer[1], p1);
  EXPECT_EQ(hashes.piece_layer[2], p2);
  EXPECT_EQ(hashes.root, root);
  EXPECT_EQ(merkle_root_from_piece_layer(hashes.piece_layer, 2), root);
  // The same root from the leaves alone: padding at the piece layer equals padding at the leaves.
  EXPECT_EQ(merkle_root(l, 8, kZero), root);
  EXPECT_EQ(MerkleTree(l).root(), root);
  EXPECT_EQ(MerkleTree(l).layer(1)[2], p2);
  EXPECT_EQ(MerkleTree(l).layer(1).size(), 4u);
  // A tampered piece hash gives another root.
  auto tampered = hashes.piece_layer;
  tampered[1].bytes[0] ^= 1;
  EXPECT_NE(merkle_root_from_piece_layer(tampered, 2), root);
}

TEST(Merkle, ExactPowerOfTwoNeedsNoPadding) {
  std::string data = data_of(4 * 16384, 4);
  auto l = leaves_of(data);
  EXPECT_EQ(merkle_file_hashes(l, 1).root, h(h(l[0], l[1]), h(l[2], l[3])));
  EXPECT_EQ(merkle_file_hashes(l, 1).piece_layer.size(), 4u);
}

TEST(Merkle, ProofsVerifyEveryBlockAndNothingElse) {
  std::string data = data_of(6 * 16384 + 1, 5);  // 7 blocks, 8 leaves
  auto l = leaves_of(data);
  MerkleTree tree(l);
  ASSERT_EQ(tree.num_leaves(), 8);
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(l.size()); ++i) {
    auto proof = tree.proof(i);
    ASSERT_EQ(proof.size(), 3u);
    EXPECT_TRUE(merkle_verify(tree.root(), 8, i, l[static_cast<std::size_t>(i)], proof)) << i;
    EXPECT_EQ(merkle_root_from_proof(l[static_cast<std::size_t>(i)], i, proof), tree.root());
    // The same block claimed at another index, a bad block, a short proof, a wrong tree size: all false.
    EXPECT_FALSE(merkle_verify(tree.root(), 8, (i + 1) % 8, l[static_cast<std::size_t>(i)], proof)) << i;
    Sha256Digest bad = l[static_cast<std::size_t>(i)];
    bad.bytes[31] ^= 0x80;
    EXPECT_FALSE(merkle_verify(tree.root(), 8, i, bad, proof)) << i;
    EXPECT_FALSE(merkle_verify(tree.root(), 8, i, l[static_cast<std::size_t>(i)],
                               std::span<const Sha256Digest>(proof).first(2)));
    EXPECT_FALSE(merkle_verify(tree.root(), 16, i, l[static_cast<std::size_t>(i)], proof));
  }
  // Hand-built proof of leaf 5: sibling leaf 4, then node (6,7), then node (0..3).
  std::vector<Sha256Digest> by_hand{l[4], h(l[6], kZero), h(h(l[0], l[1]), h(l[2], l[3]))};
  EXPECT_EQ(tree.proof(5), by_hand);
  EXPECT_FALSE(merkle_verify(tree.root(), 8, 8, l[0], tree.proof(0)));
  EXPECT_FALSE(merkle_verify(tree.root(), 8, -1, l[0], tree.proof(0)));
  EXPECT_FALSE(merkle_verify(tree.root(), 6, 0, l[0], tree.proof(0)));
  EXPECT_TRUE(tree.proof(8).empty());
}

TEST(Merkle, ABlockVerifiesAgainstItsPieceHash) {
  // With the piece layer known, a block needs only the uncles inside its piece (32 KiB pieces here).
  std::string data = data_of(5 * 16384, 6);
  auto l = leaves_of(data);
  auto layer = merkle_file_hashes(l, 2).piece_layer;
  MerkleTree piece2(std::span<const Sha256Digest>(l).subspan(4, 1));  // the last piece holds one real block
  EXPECT_EQ(merkle_root(std::span<const Sha256Digest>(l).subspan(4, 1), 2, kZero), layer[2]);
  EXPECT_TRUE(merkle_verify(layer[1], 2, 1, l[3], std::vector<Sha256Digest>{l[2]}));
  EXPECT_FALSE(merkle_verify(layer[1], 2, 1, l[2], std::vector<Sha256Digest>{l[3]}));
  EXPECT_EQ(piece2.root(), l[4]);  // a lone leaf is its own root
}

TEST(Merkle, APieceLayerRunVerifiesWithTheUnclesAboveIt) {
  // 16 blocks, pieces of 2 blocks: the piece layer is height 1 (8 nodes). A run of 4 piece hashes from index
  // 4 hashes up to the node at height 3, index 1; its one uncle joins it to the root.
  std::string data = data_of(16 * 16384, 7);
  auto l = leaves_of(data);
  MerkleTree tree(l);
  auto layer = tree.layer(1);
  ASSERT_EQ(layer.size(), 8u);
  auto run = layer.subspan(4, 4);
  auto uncles = tree.uncles(3, 1);
  ASSERT_EQ(uncles.size(), 1u);
  EXPECT_EQ(uncles[0], merkle_root(layer.subspan(0, 4), 4, kZero));
  EXPECT_EQ(merkle_root_from_proof(merkle_root(run, 4, kZero), 1, uncles), tree.root());
  EXPECT_EQ(tree.uncles(0, 3), tree.proof(3));
  EXPECT_TRUE(tree.uncles(4, 0).empty());  // the root has no uncles
  EXPECT_TRUE(tree.uncles(5, 0).empty());  // above the root
  EXPECT_TRUE(tree.uncles(1, 8).empty());  // past the layer
}

TEST(Merkle, ConcatAndSplitRoundTrip) {
  std::vector<Sha256Digest> hashes{sha256("a"), sha256("b"), sha256("c")};
  std::string raw = merkle_concat(hashes);
  EXPECT_EQ(raw.size(), 96u);
  EXPECT_EQ(merkle_split(raw), hashes);
  EXPECT_TRUE(merkle_split("").empty());
}

}  // namespace
}  // namespace shoal::hash
