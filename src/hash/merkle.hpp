// BEP 52 merkle trees: SHA-256 over 16 KiB blocks of one file, the leaves padded to a power of two.
//
// Shape of a file's tree (pure arithmetic and hashing, no I/O):
//   - leaf i = SHA-256 of block i (16 KiB; the file's last block may be shorter and is hashed as it is);
//   - the leaf count is padded to the next power of two with pad leaves whose hash is 32 zero bytes;
//   - a parent is SHA-256(left || right); the pad node at height h is the root of 2^h pad leaves;
//   - the "piece layer" is the layer whose nodes each cover one piece (piece length / 16 KiB leaves); it is
//     what a .torrent's "piece layers" carries for files larger than one piece;
//   - a file no larger than one piece has no piece layer: its root covers next_pow2(blocks) leaves only.
// Proofs are "uncle hashes": the siblings on the way from a leaf up to (not including) the root, bottom
// first.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hash/sha.hpp"
#include "shoal/digest.hpp"

namespace shoal::hash {

inline constexpr std::int64_t kMerkleBlockSize = 16 * 1024;

// Number of 16 KiB blocks (leaves before padding) of a file of `length` bytes; 0 for an empty file.
std::int64_t merkle_num_blocks(std::int64_t length);
// The smallest power of two >= n, for n >= 1 (the leaf count of a tree over n blocks).
std::int64_t merkle_num_leaves(std::int64_t n);
// log2 of a power of two.
int merkle_log2(std::int64_t power_of_two);

// SHA-256(left || right).
Sha256Digest merkle_parent(const Sha256Digest& left, const Sha256Digest& right);
// Root of a subtree of 2^height pad leaves: all zeros at height 0.
Sha256Digest merkle_pad_hash(int height);

// Root of a tree whose bottom layer is `nodes` followed by pad nodes up to `width` nodes (a power of two,
// >= nodes.size(), >= 1). `pad` is the hash of one pad node at that layer: zeros for leaves,
// merkle_pad_hash(h) for a layer h levels above the leaves.
Sha256Digest merkle_root(std::span<const Sha256Digest> nodes, std::int64_t width, const Sha256Digest& pad);

// Every layer of the tree above `nodes` (padded with `pad` to `width`, a power of two >= nodes.size()): [0]
// is that padded bottom layer, the last is the root alone.
std::vector<std::vector<Sha256Digest>> merkle_layers(std::span<const Sha256Digest> nodes, std::int64_t width,
                                                     const Sha256Digest& pad);

// The piece layer and the root of a file, from all its leaf hashes. blocks_per_piece is a power of two.
struct FileHashes {
  Sha256Digest root;
  std::vector<Sha256Digest> piece_layer;  // empty when the file fits in one piece
};
FileHashes merkle_file_hashes(std::span<const Sha256Digest> leaves, std::int64_t blocks_per_piece);

// The root a piece layer hashes to (padded with the pad hash of a piece's subtree). For checking a .torrent's
// "piece layers" against the file's "pieces root".
Sha256Digest merkle_root_from_piece_layer(std::span<const Sha256Digest> piece_layer,
                                          std::int64_t blocks_per_piece);

// Concatenated raw 32-byte hashes <-> digests.
std::string merkle_concat(std::span<const Sha256Digest> hashes);
// Precondition: raw.size() is a multiple of 32.
std::vector<Sha256Digest> merkle_split(std::string_view raw);

// The leaves of one piece and the root of its subtree, hashed as the bytes stream in (in chunks of any size):
// the first `data_bytes` bytes count, in 16 KiB blocks; anything after them (a pad file's zeros) is ignored.
// The subtree has `width` leaves (a power of two), zero leaves after the data's.
class MerklePieceHasher {
 public:
  MerklePieceHasher(std::int64_t data_bytes, std::int64_t width);
  void update(std::span<const std::uint8_t> bytes);
  // The leaf hashes so far (a short last block counts once all data_bytes came).
  const std::vector<Sha256Digest>& leaves();
  Sha256Digest root();

 private:
  void finish_block();

  std::int64_t data_bytes_;
  std::int64_t width_;
  std::int64_t seen_ = 0;      // data bytes hashed so far
  std::int64_t in_block_ = 0;  // of them, in the current block
  Sha256Hasher hasher_;
  std::vector<Sha256Digest> leaves_;
};

// A whole tree kept in memory (2 * leaves - 1 nodes), for serving proofs of blocks.
class MerkleTree {
 public:
  // `leaves` are the block hashes of one non-empty file; the tree pads them itself.
  explicit MerkleTree(std::span<const Sha256Digest> leaves);

  const Sha256Digest& root() const { return nodes_.front(); }
  std::int64_t num_leaves() const { return num_leaves_; }  // after padding
  // The layer `height` levels above the leaves (0 = the padded leaves themselves), pads included.
  std::span<const Sha256Digest> layer(int height) const;
  // Uncle hashes of leaf `index` (< num_leaves()), bottom first: log2(num_leaves()) of them.
  std::vector<Sha256Digest> proof(std::int64_t index) const { return uncles(0, index); }
  // Uncle hashes of node `index` of the layer `height` above the leaves, bottom first, up to the root: what a
  // BEP 52 "hashes" message sends beside a run of that layer's hashes (for a run of 2^k nodes starting at a
  // multiple of 2^k, the uncles of node index >> k at height + k). Empty when out of range.
  std::vector<Sha256Digest> uncles(int height, std::int64_t index) const;

 private:
  std::int64_t num_leaves_ = 1;
  std::vector<Sha256Digest> nodes_;  // heap order: root at 0, children of i at 2i+1 and 2i+2
};

// The root that `leaf` at `index` implies through `proof` (uncles bottom first); the index must fit the
// proof's height (index < 2^proof.size()).
Sha256Digest merkle_root_from_proof(const Sha256Digest& leaf, std::int64_t index,
                                    std::span<const Sha256Digest> proof);
// True when `block_hash` at leaf `index` of a tree of `num_leaves` leaves (a power of two) hashes up to
// `root` through `proof`. A proof of the wrong length or an index out of range is false, never a crash.
bool merkle_verify(const Sha256Digest& root, std::int64_t num_leaves, std::int64_t index,
                   const Sha256Digest& block_hash, std::span<const Sha256Digest> proof);

}  // namespace shoal::hash
