// Builds canonical v1 .torrent bytes for `shoal create`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace shoal::metainfo {

struct BuildInput {
  std::string name;
  // Relative paths below the torrent's folder, '/'-separated, in the order the data was hashed.
  std::vector<std::pair<std::string, std::int64_t>> files;
  bool single_file = true;
  std::int64_t piece_length = 0;
  std::string piece_hashes;                        // concatenated 20-byte SHA-1 hashes
  std::vector<std::vector<std::string>> trackers;  // tiers
  std::vector<std::string> web_seeds;
  bool is_private = false;
  std::string comment;
  std::string created_by;
  std::string source;
  std::optional<std::int64_t> creation_date;
};

// announce = the first tracker; announce-list only when there is more than one tracker in all.
std::string build_torrent(const BuildInput& input);

// A power of two from 16 KiB to 16 MiB giving about 1000-2000 pieces: small enough for fine-grained swarming,
// large enough that the .torrent stays small (20 bytes per piece).
std::int64_t auto_piece_length(std::int64_t total_size);

}  // namespace shoal::metainfo
