// What a piece of a torrent with v2 hashes (BEP 52) is verified against, decided from the metainfo alone.
//
// In a v2 torrent every file starts on a piece boundary, so a piece holds bytes of one file only (then the
// zeros of the pad that follows it, which are no part of that file's tree). Its 16 KiB blocks are the leaves
// of a subtree of the file's merkle tree:
//   - a file larger than one piece: the subtree has blocks_per_piece leaves (the last piece of the file is
//     padded with zero leaves) and its root must equal the file's piece-layer entry for that piece;
//   - a file of at most one piece: its only piece is the whole tree, next_pow2(blocks) leaves, and its root
//     must equal the file's pieces root.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "metainfo/torrent_info.hpp"
#include "shoal/digest.hpp"
#include "shoal/strong_index.hpp"

namespace shoal::metainfo {

struct V2PieceCheck {
  Sha256Digest expected;           // the subtree root the piece must hash to
  std::int64_t file_bytes = 0;     // the piece's leading bytes that belong to the file (the rest is padding)
  std::int64_t leaves = 0;         // leaves of the piece's subtree, a power of two
  Sha256Digest pieces_root;        // the file's root: what BEP 52 hash requests name
  std::int64_t piece_in_file = 0;  // the piece's index among the file's pieces
  std::int64_t file_blocks = 0;    // 16 KiB blocks of the whole file
};

// The check for `piece`; nullopt when the torrent has no v2 half, the piece is out of range, or its file's
// piece layer is unknown (metadata from peers, before the layers are fetched).
std::optional<V2PieceCheck> v2_piece_check(const TorrentInfo& info, PieceIndex piece);

// True when `data` (the whole piece as it is in the byte stream, padding included) hashes to check.expected.
bool v2_piece_matches(const V2PieceCheck& check, std::span<const std::uint8_t> data);

}  // namespace shoal::metainfo
