// Resume data: which pieces are verified on disk, which blocks of unfinished pieces are written there, and
// the size and modification time of every file when that was true. Saved atomically; a checksum over the
// content catches corruption, and files whose stamps differ from the saved ones mean the data must be
// rechecked: never trusted blindly.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "metainfo/v2_pieces.hpp"
#include "shoal/digest.hpp"
#include "shoal/expected.hpp"
#include "storage/file_layout.hpp"
#include "swarm/bitfield.hpp"

namespace shoal::storage {

struct FileStamp {
  std::int64_t size = -1;  // -1: the file does not exist
  std::int64_t mtime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

// A piece in progress when the data was saved: which of its 16 KiB blocks are on disk (not yet verified: the
// piece is hashed whole once the rest arrives). `leaves`, for a v2 piece whose leaf hashes a peer sent and we
// proved: one SHA-256 per block, checked against the piece layer again at load before any block is judged
// by them.
struct UnfinishedPiece {
  PieceIndex piece{};
  swarm::Bitfield blocks;  // one bit per block of the piece
  std::vector<Sha256Digest> leaves;
  bool operator==(const UnfinishedPiece&) const = default;
};

struct ResumeData {
  Sha1Digest info_hash;
  swarm::Bitfield have;  // verified pieces (saved in the BEP 3 wire layout)
  std::vector<FileStamp> files;
  std::int64_t uploaded = 0;
  std::int64_t downloaded = 0;
  std::vector<UnfinishedPiece> unfinished;  // by piece, each piece once, none of them in `have`
  // Unfinished entries decode_resume left out, each with why ("piece 7: block 300 out of range"); the rest
  // of the data stands.
  std::vector<std::string> ignored;
};

// The torrent's shape, for checking unfinished entries (blocks per piece). piece_length 0: unfinished
// entries are not read (callers that only want the bitfield).
struct PieceShape {
  std::int64_t piece_length = 0;
  std::int64_t total_size = 0;
};

std::string encode_resume(const ResumeData& data);
// Errors are human-readable reasons ("checksum mismatch", "for another torrent", ...). A bitfield of the
// wrong size or with spare bits set is refused. An unfinished entry that does not fit the torrent (malformed,
// an unknown piece, a block out of range, a piece already verified, a piece listed twice) is left out and
// named in `ignored`: it never refuses the rest.
Expected<ResumeData, std::string> decode_resume(std::string_view bytes, const Sha1Digest& expected_info_hash,
                                                std::int32_t num_pieces, PieceShape shape = {});

// A v2 piece's kept blocks, read back from disk (`data`: the whole piece; only blocks set in u.blocks are
// looked at), judged by the leaf hashes saved with them: the leaves are first proven against the piece
// layer (`check`); each kept block of file data whose SHA-256 is not its leaf is dropped from u.blocks.
// Returns how many blocks were dropped, or an error when the leaves do not prove out (they are then cleared
// and the blocks stay unjudged: the piece is hashed whole when complete, as always).
Expected<std::int32_t, std::string> drop_blocks_failing_leaves(UnfinishedPiece& u,
                                                               const metainfo::V2PieceCheck& check,
                                                               std::span<const std::uint8_t> data);

std::vector<FileStamp> collect_file_stamps(const std::filesystem::path& root, const FileLayout& layout);

}  // namespace shoal::storage
