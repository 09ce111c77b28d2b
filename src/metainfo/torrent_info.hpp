// A parsed v1 torrent (BEP 3 with BEP 12 announce-list, BEP 19 url-list, BEP 27 private, BEP 47 pad files).
#pragma once

#include <cstdint>
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

struct FileEntry {
  // Sanitized, relative, '/'-separated; starts with the torrent name for multi-file torrents.
  std::string path;
  std::int64_t length = 0;
  std::int64_t offset = 0;  // position in the torrent's byte stream (all files concatenated)
  bool pad = false;         // BEP 47 attr 'p': zeros that are never written to disk
  bool executable = false;  // attr 'x'
  bool hidden = false;      // attr 'h'
};

// A path component (or the torrent's name) too long for a file name, and the name used for it instead (see
// path_sanitizer.hpp): worth telling the user once, since the file on disk is not named as the torrent says.
struct ShortenedName {
  std::string original;  // as the torrent gives it: untrusted bytes, escape before printing
  std::string used;
};

struct TorrentInfo {
  std::string name;  // sanitized
  std::int64_t piece_length = 0;
  std::int64_t total_size = 0;
  std::string piece_hashes;  // raw concatenated 20-byte SHA-1 hashes
  std::vector<FileEntry> files;
  std::vector<ShortenedName> shortened_names;  // each distinct one once, in the order met
  bool multi_file = false;
  bool is_private = false;
  Sha1Digest info_hash;    // SHA-1 of the exact info bytes as found in the file
  std::string info_bytes;  // those exact bytes (served to peers over ut_metadata)

  std::vector<std::vector<std::string>> trackers;  // tiers
  std::vector<std::string> web_seeds;
  std::optional<std::int64_t> creation_date;
  std::string comment;
  std::string created_by;
  std::string source;

  std::int32_t num_pieces() const { return static_cast<std::int32_t>(piece_hashes.size() / 20); }
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

// Parses a whole .torrent file.
Expected<TorrentInfo, MetainfoError> parse_torrent(std::string_view file_bytes);
// Parses a bare info dictionary (metadata fetched from peers); only the info fields are filled.
Expected<TorrentInfo, MetainfoError> parse_info_dict(std::string_view info_bytes);

}  // namespace shoal::metainfo
