// Hashes the pieces of an input set on all cores: the hot path of `shoal create`.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "create/create_error.hpp"
#include "create/input_files.hpp"
#include "runtime/mapped_read.hpp"
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

}  // namespace shoal::create
