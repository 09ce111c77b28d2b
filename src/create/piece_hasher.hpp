// Hashes the pieces of an input set on all cores: the hot path of `shoal create`.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "create/create_error.hpp"
#include "create/input_files.hpp"
#include "runtime/mapped_read.hpp"
#include "shoal/digest.hpp"
#include "shoal/expected.hpp"

namespace shoal::create {

enum class ReadMethod {
  // pread() into a per-thread buffer that stays in cache while it is hashed.
  pread,
  // Map each file read-only and hash the page cache in place: no copy. The default, measured fastest (see
  // .cpp).
  mmap,
};

struct HashOptions {
  unsigned threads = 0;  // 0 = one per core
  ReadMethod method = ReadMethod::mmap;
  // Called on the calling thread, at most about ten times a second, with bytes hashed so far.
  std::function<void(std::int64_t done, std::int64_t total)> progress;
  const std::atomic<bool>* cancel = nullptr;  // set to true from elsewhere to stop early
  // madvise(2) for MADV_POPULATE_READ; empty: the real one. Tests stand in a kernel that lacks it (EINVAL),
  // which must fall back to pread rather than read a mapping unguarded.
  runtime::MadviseFn madvise;
};

// Returns the concatenated 20-byte SHA-1 hashes of every piece of the files concatenated in order.
Expected<std::string, CreateError> hash_pieces(const InputSet& input, std::int64_t piece_length,
                                               const HashOptions& options = {});

// What a v2 or hybrid torrent needs (BEP 52).
struct V2Hashes {
  // Hybrid only: SHA-1 of every piece of the v1 stream, where each file starts on a piece boundary and the
  // gap after it is zeros (BEP 47 pad files; in a multi-file torrent also after the last file).
  std::string piece_hashes;
  std::vector<std::optional<Sha256Digest>> pieces_roots;  // per input file; none for empty files
  std::vector<std::string> piece_layers;                  // per input file; empty when within one piece
};

// Hashes the files for a v2 torrent (with_v1 false) or a hybrid (true) on all cores, reading each piece once:
// SHA-256 of each 16 KiB block, the piece's merkle subtree and, for a hybrid, the piece's SHA-1, while the
// piece is in cache. piece_length must be a power of two of at least 16 KiB. The input's files must be in
// file tree order (see sort_for_file_tree).
Expected<V2Hashes, CreateError> hash_pieces_v2(const InputSet& input, std::int64_t piece_length, bool with_v1,
                                               const HashOptions& options = {});

}  // namespace shoal::create
