#include "hash/merkle.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "hash/sha.hpp"

namespace shoal::hash {
namespace {

// One hasher per tree computation: a fresh EVP context for each 64-byte parent would cost more than the hash.
Sha256Digest parent(Sha256Hasher& hasher, const Sha256Digest& left, const Sha256Digest& right) {
  hasher.update(left.bytes.data(), left.size);
  hasher.update(right.bytes.data(), right.size);
  return hasher.finish();
}

// Pad hashes for every height a tree can have (a 1 PiB file has 2^36 leaves); computed once.
constexpr int kMaxHeight = 63;
const std::array<Sha256Digest, kMaxHeight + 1>& pad_table() {
  static const auto table = [] {
    std::array<Sha256Digest, kMaxHeight + 1> t{};
    Sha256Hasher hasher;
    for (int h = 1; h <= kMaxHeight; ++h)
      t[static_cast<std::size_t>(h)] =
          parent(hasher, t[static_cast<std::size_t>(h - 1)], t[static_cast<std::size_t>(h - 1)]);
    return t;
  }();
  return table;
}

}  // namespace

std::int64_t merkle_num_blocks(std::int64_t length) {
  return length <= 0 ? 0 : (length + kMerkleBlockSize - 1) / kMerkleBlockSize;
}

std::int64_t merkle_num_leaves(std::int64_t n) {
  return n <= 1 ? 1 : static_cast<std::int64_t>(std::bit_ceil(static_cast<std::uint64_t>(n)));
}

int merkle_log2(std::int64_t power_of_two) {
  return power_of_two <= 1 ? 0 : std::countr_zero(static_cast<std::uint64_t>(power_of_two));
}

Sha256Digest merkle_parent(const Sha256Digest& left, const Sha256Digest& right) {
  Sha256Hasher hasher;
  return parent(hasher, left, right);
}

Sha256Digest merkle_pad_hash(int height) {
  return pad_table()[static_cast<std::size_t>(std::clamp(height, 0, kMaxHeight))];
}

Sha256Digest merkle_root(std::span<const Sha256Digest> nodes, std::int64_t width, const Sha256Digest& pad) {
  Sha256Hasher hasher;
  std::vector<Sha256Digest> layer(nodes.begin(), nodes.end());
  Sha256Digest layer_pad = pad;
  for (std::int64_t w = std::max<std::int64_t>(width, 1); w > 1; w /= 2) {
    std::size_t next = (layer.size() + 1) / 2;
    for (std::size_t i = 0; i < next; ++i) {
      const Sha256Digest& right = 2 * i + 1 < layer.size() ? layer[2 * i + 1] : layer_pad;
      layer[i] = parent(hasher, layer[2 * i], right);
    }
    layer.resize(next);
    layer_pad = parent(hasher, layer_pad, layer_pad);
  }
  return layer.empty() ? layer_pad : layer.front();
}

std::vector<std::vector<Sha256Digest>> merkle_layers(std::span<const Sha256Digest> nodes, std::int64_t width,
                                                     const Sha256Digest& pad) {
  Sha256Hasher hasher;
  std::vector<std::vector<Sha256Digest>> layers;
  layers.emplace_back(nodes.begin(), nodes.end());
  layers.back().resize(static_cast<std::size_t>(std::max<std::int64_t>(width, 1)), pad);
  while (layers.back().size() > 1) {
    const auto& below = layers.back();
    std::vector<Sha256Digest> up(below.size() / 2);
    for (std::size_t i = 0; i < up.size(); ++i)
      up[i] = parent(hasher, below[2 * i], below[2 * i + 1]);
    layers.push_back(std::move(up));
  }
  return layers;
}

Sha256Digest merkle_root_from_piece_layer(std::span<const Sha256Digest> piece_layer,
                                          std::int64_t blocks_per_piece) {
  return merkle_root(piece_layer, merkle_num_leaves(static_cast<std::int64_t>(piece_layer.size())),
                     merkle_pad_hash(merkle_log2(blocks_per_piece)));
}

FileHashes merkle_file_hashes(std::span<const Sha256Digest> leaves, std::int64_t blocks_per_piece) {
  FileHashes out;
  auto blocks = static_cast<std::int64_t>(leaves.size());
  if (blocks <= blocks_per_piece) {
    out.root = merkle_root(leaves, merkle_num_leaves(blocks), Sha256Digest{});
    return out;
  }
  auto per_piece = static_cast<std::size_t>(blocks_per_piece);
  out.piece_layer.reserve((leaves.size() + per_piece - 1) / per_piece);
  for (std::size_t first = 0; first < leaves.size(); first += per_piece) {
    out.piece_layer.push_back(
        merkle_root(leaves.subspan(first, std::min(per_piece, leaves.size() - first)), blocks_per_piece, {}));
  }
  out.root = merkle_root_from_piece_layer(out.piece_layer, blocks_per_piece);
  return out;
}

std::string merkle_concat(std::span<const Sha256Digest> hashes) {
  std::string out;
  out.reserve(hashes.size() * Sha256Digest::size);
  for (const auto& h : hashes)
    out.append(h.raw());
  return out;
}

std::vector<Sha256Digest> merkle_split(std::string_view raw) {
  std::vector<Sha256Digest> out(raw.size() / Sha256Digest::size);
  for (std::size_t i = 0; i < out.size(); ++i)
    std::memcpy(out[i].bytes.data(), raw.data() + i * Sha256Digest::size, Sha256Digest::size);
  return out;
}

MerkleTree::MerkleTree(std::span<const Sha256Digest> leaves)
    : num_leaves_(merkle_num_leaves(static_cast<std::int64_t>(leaves.size()))),
      nodes_(static_cast<std::size_t>(2 * num_leaves_ - 1)) {
  auto first_leaf = static_cast<std::size_t>(num_leaves_ - 1);
  std::copy(leaves.begin(), leaves.end(), nodes_.begin() + static_cast<std::ptrdiff_t>(first_leaf));
  Sha256Hasher hasher;
  for (std::size_t i = first_leaf; i-- > 0;)
    nodes_[i] = parent(hasher, nodes_[2 * i + 1], nodes_[2 * i + 2]);
}

std::span<const Sha256Digest> MerkleTree::layer(int height) const {
  std::int64_t width = num_leaves_ >> std::clamp(height, 0, merkle_log2(num_leaves_));
  return std::span<const Sha256Digest>(nodes_).subspan(static_cast<std::size_t>(width - 1),
                                                       static_cast<std::size_t>(width));
}

std::vector<Sha256Digest> MerkleTree::uncles(int height, std::int64_t index) const {
  std::vector<Sha256Digest> out;
  if (height < 0 || height > merkle_log2(num_leaves_)) return out;
  std::int64_t width = num_leaves_ >> height;
  if (index < 0 || index >= width) return out;
  for (auto i = static_cast<std::size_t>(width - 1 + index); i > 0; i = (i - 1) / 2)
    out.push_back(nodes_[i % 2 == 1 ? i + 1 : i - 1]);
  return out;
}

MerklePieceHasher::MerklePieceHasher(std::int64_t data_bytes, std::int64_t width)
    : data_bytes_(data_bytes), width_(width) {
  leaves_.reserve(static_cast<std::size_t>(std::max<std::int64_t>(merkle_num_blocks(data_bytes), 0)));
}

void MerklePieceHasher::finish_block() {
  leaves_.push_back(hasher_.finish());
  in_block_ = 0;
}

void MerklePieceHasher::update(std::span<const std::uint8_t> bytes) {
  while (!bytes.empty() && seen_ < data_bytes_) {
    auto take = static_cast<std::size_t>(std::min(
        {static_cast<std::int64_t>(bytes.size()), kMerkleBlockSize - in_block_, data_bytes_ - seen_}));
    hasher_.update(bytes.data(), take);
    bytes = bytes.subspan(take);
    seen_ += static_cast<std::int64_t>(take);
    in_block_ += static_cast<std::int64_t>(take);
    if (in_block_ == kMerkleBlockSize || seen_ == data_bytes_) finish_block();
  }
}

const std::vector<Sha256Digest>& MerklePieceHasher::leaves() {
  return leaves_;
}

Sha256Digest MerklePieceHasher::root() {
  if (static_cast<std::int64_t>(leaves_.size()) > width_) return Sha256Digest{};
  return merkle_root(leaves_, width_, Sha256Digest{});
}

Sha256Digest merkle_root_from_proof(const Sha256Digest& leaf, std::int64_t index,
                                    std::span<const Sha256Digest> proof) {
  Sha256Hasher hasher;
  Sha256Digest node = leaf;
  for (std::size_t level = 0; level < proof.size(); ++level) {
    bool is_right = ((static_cast<std::uint64_t>(index) >> level) & 1) != 0;
    node = is_right ? parent(hasher, proof[level], node) : parent(hasher, node, proof[level]);
  }
  return node;
}

bool merkle_verify(const Sha256Digest& root, std::int64_t num_leaves, std::int64_t index,
                   const Sha256Digest& block_hash, std::span<const Sha256Digest> proof) {
  if (num_leaves < 1 || !std::has_single_bit(static_cast<std::uint64_t>(num_leaves))) return false;
  if (index < 0 || index >= num_leaves) return false;
  if (proof.size() != static_cast<std::size_t>(merkle_log2(num_leaves))) return false;
  return merkle_root_from_proof(block_hash, index, proof) == root;
}

}  // namespace shoal::hash
