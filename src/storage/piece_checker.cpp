#include "storage/piece_checker.hpp"

#include <algorithm>
#include <mutex>
#include <thread>

#include "hash/sha.hpp"

namespace shoal::storage {

bool is_missing_data(std::error_code ec) {
  return ec == std::errc::no_such_file_or_directory || ec == std::errc::no_message_available;
}

swarm::Bitfield check_pieces(PieceStorage& storage, std::string_view piece_hashes,
                             const CheckOptions& options) {
  const FileLayout& layout = storage.layout();
  std::int32_t num_pieces = layout.num_pieces();
  // One byte per piece while threads write, so neighbours never share a bit.
  std::vector<std::uint8_t> ok(static_cast<std::size_t>(num_pieces), 0);
  std::atomic<std::int32_t> next{0};
  std::mutex error_mutex;
  std::optional<FileError> first_error;
  std::atomic<bool> failed{false};
  auto work = [&] {
    hash::Sha1Hasher hasher;
    for (;;) {
      if (options.cancel != nullptr && options.cancel->load(std::memory_order_relaxed)) return;
      if (failed.load(std::memory_order_relaxed)) return;
      PieceIndex piece{next.fetch_add(1, std::memory_order_relaxed)};
      if (piece.get() >= num_pieces) return;
      std::int64_t size = layout.piece_size(piece);
      if (!options.wanted || options.wanted(piece)) {
        // Hashed in place in the page cache (see create/piece_hasher.cpp for the measurements).
        FileIndex failed_file{-1};
        auto ec = storage.visit_piece(
            piece, [&](std::span<const std::uint8_t> bytes) { hasher.update(bytes.data(), bytes.size()); },
            &failed_file);
        bool good = !ec;
        auto digest = hasher.finish();
        if (ec && !is_missing_data(ec) && failed_file.get() >= 0) {
          std::lock_guard lock(error_mutex);
          if (!first_error) first_error = FileError{storage.path_of(failed_file), ec};
          failed.store(true, std::memory_order_relaxed);
        }
        ok[static_cast<std::size_t>(piece.get())] =
            good && digest.raw() == piece_hashes.substr(static_cast<std::size_t>(piece.get()) * 20, 20);
      }
      if (options.bytes_checked != nullptr) options.bytes_checked->fetch_add(size, std::memory_order_relaxed);
    }
  };
  unsigned threads =
      options.threads != 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<std::int64_t>(threads, std::max(num_pieces, 1)));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t)
    pool.emplace_back(work);
  work();
  for (auto& t : pool)
    t.join();
  if (options.error != nullptr) *options.error = std::move(first_error);
  swarm::Bitfield have(num_pieces);
  for (PieceIndex p{0}; p.get() < num_pieces; ++p) {
    if (ok[static_cast<std::size_t>(p.get())] != 0) have.set(p);
  }
  return have;
}

}  // namespace shoal::storage
