#include "metainfo/v2_pieces.hpp"

#include <algorithm>

#include "hash/merkle.hpp"

namespace shoal::metainfo {

std::optional<V2PieceCheck> v2_piece_check(const TorrentInfo& info, PieceIndex piece) {
  if (!info.has_v2() || piece.get() < 0 || piece.get() >= info.num_pieces()) return std::nullopt;
  std::int64_t start = static_cast<std::int64_t>(piece.get()) * info.piece_length;
  // The last file starting at or before the piece (files are in stream order), then back over pads and empty
  // files, which share their offset with a neighbour.
  auto it = std::upper_bound(info.files.begin(), info.files.end(), start,
                             [](std::int64_t offset, const FileEntry& f) { return offset < f.offset; });
  while (it != info.files.begin()) {
    --it;
    if (it->pad || it->length == 0) continue;
    if (start >= it->offset + it->length || !it->pieces_root) return std::nullopt;
    V2PieceCheck check;
    check.pieces_root = *it->pieces_root;
    check.file_bytes = std::min(info.piece_length, it->offset + it->length - start);
    check.piece_in_file = (start - it->offset) / info.piece_length;
    check.file_blocks = hash::merkle_num_blocks(it->length);
    if (it->length <= info.piece_length) {
      check.expected = *it->pieces_root;
      check.leaves = hash::merkle_num_leaves(check.file_blocks);
      return check;
    }
    auto layer = info.piece_layers.find(*it->pieces_root);
    if (layer == info.piece_layers.end()) return std::nullopt;
    auto at = static_cast<std::size_t>(check.piece_in_file) * 32;
    if (at + 32 > layer->second.size()) return std::nullopt;
    check.expected = *Sha256Digest::from_raw(std::string_view(layer->second).substr(at, 32));
    check.leaves = info.piece_length / hash::kMerkleBlockSize;
    return check;
  }
  return std::nullopt;
}

bool v2_piece_matches(const V2PieceCheck& check, std::span<const std::uint8_t> data) {
  if (static_cast<std::int64_t>(data.size()) < check.file_bytes) return false;
  hash::MerklePieceHasher hasher(check.file_bytes, check.leaves);
  hasher.update(data);
  return hasher.root() == check.expected;
}

}  // namespace shoal::metainfo
