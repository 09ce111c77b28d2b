#include "storage/piece_checker.hpp"

#include <algorithm>
#include <thread>

#include "hash/sha.hpp"

namespace shoal::storage {

std::vector<bool> check_pieces(PieceStorage& storage, std::string_view piece_hashes,
                               const CheckOptions& options) {
  const FileLayout& layout = storage.layout();
  std::int32_t num_pieces = layout.num_pieces();
  // One byte per piece while threads write, so neighbours never share a bit.
  std::vector<std::uint8_t> ok(static_cast<std::size_t>(num_pieces), 0);
  std::atomic<std::int32_t> next{0};
  auto work = [&] {
    hash::Sha1Hasher hasher;
    for (;;) {
      if (options.cancel != nullptr && options.cancel->load(std::memory_order_relaxed)) return;
      std::int32_t piece = next.fetch_add(1, std::memory_order_relaxed);
      if (piece >= num_pieces) return;
      std::int64_t size = layout.piece_size(piece);
      if (!options.wanted || options.wanted(piece)) {
        // Hashed in place in the page cache (see create/piece_hasher.cpp for the measurements).
        bool good = !storage.visit_piece(
            piece, [&](std::span<const std::uint8_t> bytes) { hasher.update(bytes.data(), bytes.size()); });
        auto digest = hasher.finish();
        ok[static_cast<std::size_t>(piece)] =
            good && digest.raw() == piece_hashes.substr(static_cast<std::size_t>(piece) * 20, 20);
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
  return std::vector<bool>(ok.begin(), ok.end());
}

}  // namespace shoal::storage
