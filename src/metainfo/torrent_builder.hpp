// Builds canonical v1, v2 or hybrid .torrent bytes for `shoal create`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "metainfo/torrent_info.hpp"

namespace shoal::metainfo {

struct BuildInput {
  MetaVersion version = MetaVersion::v1;
  std::string name;
  // Relative paths below the torrent's folder, '/'-separated, in the order the data was hashed. For v2 and
  // hybrid that order must be the file tree's: component by component, each level sorted as raw bytes.
  std::vector<std::pair<std::string, std::int64_t>> files;
  bool single_file = true;
  std::int64_t piece_length = 0;
  // v1 and hybrid: concatenated 20-byte SHA-1 hashes (a hybrid's over the stream with its pad files).
  std::string piece_hashes;
  // v2 and hybrid, one per file: the merkle root (none for empty files) and the piece layer (concatenated
  // 32-byte hashes; empty for files no larger than one piece).
  std::vector<std::optional<Sha256Digest>> pieces_roots;
  std::vector<std::string> piece_layers;
  std::vector<std::vector<std::string>> trackers;  // tiers
  std::vector<std::string> web_seeds;
  bool is_private = false;
  std::string comment;
  std::string created_by;
  std::string source;
  std::optional<std::int64_t> creation_date;
};

// announce = the first tracker; announce-list only when there is more than one tracker in all. A hybrid's v1
// file list gets a BEP 47 pad file (attr "p", path .pad/LENGTH) after every file whose length is not a
// multiple of the piece length, the last one included, so every file starts on a piece boundary in both
// halves.
std::string build_torrent(const BuildInput& input);

// Length of the pad file after a file of `length` bytes in a multi-file v2 or hybrid torrent (0: none).
std::int64_t pad_after(std::int64_t length, std::int64_t piece_length);

// A power of two from 16 KiB to 16 MiB giving about 1000-2000 pieces: small enough for fine-grained swarming,
// large enough that the .torrent stays small (20 bytes per piece).
std::int64_t auto_piece_length(std::int64_t total_size);

}  // namespace shoal::metainfo
