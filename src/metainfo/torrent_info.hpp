// A parsed torrent: v1 (BEP 3 with BEP 12 announce-list, BEP 19 url-list, BEP 27 private, BEP 47 pad files),
// v2 (BEP 52: file tree, pieces roots, piece layers) or a hybrid of both describing the same data.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metainfo/metainfo_error.hpp"
#include "shoal/digest.hpp"
#include "shoal/expected.hpp"
#include "shoal/strong_index.hpp"

namespace shoal::metainfo {

// Named limits: anything beyond these is refused rather than allocated.
inline constexpr std::int64_t kMaxPieceLength = 512LL * 1024 * 1024;
inline constexpr std::int64_t kMaxTotalSize = 1LL << 50;  // 1 PiB
inline constexpr std::size_t kMaxFiles = 1'000'000;
inline constexpr std::size_t kMaxPathDepth = 64;
// BEP 52: a v2 piece is a power of two of at least one 16 KiB merkle block.
inline constexpr std::int64_t kMinV2PieceLength = 16 * 1024;

// Which format the info dictionary follows. A hybrid carries both halves; each is complete on its own.
enum class MetaVersion : std::uint8_t { v1, v2, hybrid };

struct FileEntry {
  // Sanitized, relative, '/'-separated; starts with the torrent name for multi-file torrents.
  std::string path;
  std::int64_t length = 0;
  std::int64_t offset = 0;  // position in the torrent's byte stream (all files concatenated)
  bool pad = false;         // BEP 47 attr 'p': zeros that are never written to disk
  bool executable = false;  // attr 'x'
  bool hidden = false;      // attr 'h'
  // v2 and hybrid: root of the file's merkle tree (BEP 52). None for empty files and pad files.
  std::optional<Sha256Digest> pieces_root{};
  // Set once the file is renamed (file_rename.hpp): its path as the torrent names it, which web seeds serve.
  std::string torrent_path{};
};

// A path component (or the torrent's name) too long for a file name, and the name used for it instead (see
// path_sanitizer.hpp): worth telling the user once, since the file on disk is not named as the torrent says.
struct ShortenedName {
  std::string original;  // as the torrent gives it: untrusted bytes, escape before printing
  std::string used;
};

// The byte stream (files concatenated in order) is the same for every version: in a v2 torrent each file
// starts on a piece boundary, so a v2-only torrent gets the BEP 47 pad entries a hybrid's v1 half would carry
// (after every file whose length is not a multiple of the piece length, in multi-file torrents), and piece i
// means the same bytes in the v1 and v2 halves of a hybrid.
struct TorrentInfo {
  MetaVersion version = MetaVersion::v1;
  std::string name;  // sanitized
  std::int64_t piece_length = 0;
  std::int64_t total_size = 0;  // pad files included
  std::string piece_hashes;     // raw concatenated 20-byte SHA-1 hashes; empty for v2-only torrents
  std::vector<FileEntry> files;
  std::vector<ShortenedName> shortened_names;  // each distinct one once, in the order met
  bool multi_file = false;
  bool is_private = false;
  // What peers, trackers and the DHT know the torrent by: the SHA-1 of the exact info bytes as found in the
  // file for v1 and hybrid torrents; for v2-only ones the v2 info-hash truncated to 20 bytes (BEP 52).
  Sha1Digest info_hash;
  std::optional<Sha256Digest> info_hash_v2;  // v2 and hybrid: SHA-256 of the exact info bytes
  std::string info_bytes;                    // those exact bytes (served to peers over ut_metadata)
  // v2 and hybrid: the "piece layers" of the .torrent by pieces root, each checked against its root (one
  // 32-byte hash per piece of the file). Only files larger than one piece have one. Empty when only the info
  // dictionary was parsed (metadata from peers): those layers must then come from peers (BEP 52 hash
  // requests).
  std::map<Sha256Digest, std::string> piece_layers;

  std::vector<std::vector<std::string>> trackers;  // tiers
  std::vector<std::string> web_seeds;
  std::optional<std::int64_t> creation_date;
  std::string comment;
  std::string created_by;
  std::string source;

  bool has_v1() const { return version != MetaVersion::v2; }
  bool has_v2() const { return version != MetaVersion::v1; }
  // Pieces of the byte stream: one SHA-1 hash each in v1, one piece-layer node each in v2.
  std::int32_t num_pieces() const {
    return piece_length > 0 ? static_cast<std::int32_t>((total_size + piece_length - 1) / piece_length) : 0;
  }
  // Precondition: has_v1().
  Sha1Digest piece_hash(PieceIndex piece) const {
    return *Sha1Digest::from_raw(
        std::string_view(piece_hashes).substr(static_cast<std::size_t>(piece.get()) * 20, 20));
  }
  // Every piece is piece_length long except possibly the last.
  std::int64_t piece_size(PieceIndex piece) const {
    if (piece.get() + 1 < num_pieces()) return piece_length;
    return total_size - piece_length * (num_pieces() - 1);
  }
};

// "v1", "v2" or "hybrid".
const char* to_string(MetaVersion version);

// Parses a whole .torrent file.
Expected<TorrentInfo, MetainfoError> parse_torrent(std::string_view file_bytes);
// Parses a bare info dictionary (metadata fetched from peers); only the info fields are filled.
Expected<TorrentInfo, MetainfoError> parse_info_dict(std::string_view info_bytes);

}  // namespace shoal::metainfo
