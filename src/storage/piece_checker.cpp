#include "storage/piece_checker.hpp"

#include <algorithm>
#include <mutex>
#include <thread>

#include "hash/merkle.hpp"
#include "hash/sha.hpp"
#include "metainfo/v2_pieces.hpp"

namespace shoal::storage {

bool is_missing_data(std::error_code ec) {
  return ec == std::errc::no_such_file_or_directory || ec == std::errc::no_message_available;
}

namespace {

// Whether one piece, streamed in chunks, is good.
class PieceVerifier {
 public:
  virtual ~PieceVerifier() = default;
  virtual void begin(PieceIndex piece) = 0;
  virtual void update(std::span<const std::uint8_t> bytes) = 0;
  virtual bool good() = 0;
};

class Sha1Verifier final : public PieceVerifier {
 public:
  explicit Sha1Verifier(std::string_view piece_hashes) : piece_hashes_(piece_hashes) {}
  void begin(PieceIndex piece) override { piece_ = piece; }
  void update(std::span<const std::uint8_t> bytes) override { hasher_.update(bytes.data(), bytes.size()); }
  bool good() override {
    return hasher_.finish().raw() == piece_hashes_.substr(static_cast<std::size_t>(piece_.get()) * 20, 20);
  }

 private:
  std::string_view piece_hashes_;
  PieceIndex piece_{0};
  hash::Sha1Hasher hasher_;
};

class MerkleVerifier final : public PieceVerifier {
 public:
  explicit MerkleVerifier(const metainfo::TorrentInfo& info) : info_(info) {}
  void begin(PieceIndex piece) override {
    check_ = metainfo::v2_piece_check(info_, piece);
    hasher_.emplace(check_ ? check_->file_bytes : 0, check_ ? check_->leaves : 1);
  }
  void update(std::span<const std::uint8_t> bytes) override { hasher_->update(bytes); }
  bool good() override { return check_ && hasher_->root() == check_->expected; }

 private:
  const metainfo::TorrentInfo& info_;
  std::optional<metainfo::V2PieceCheck> check_;
  std::optional<hash::MerklePieceHasher> hasher_;
};

swarm::Bitfield check_with(PieceStorage& storage, const std::function<std::unique_ptr<PieceVerifier>()>& make,
                           const CheckOptions& options);

}  // namespace

swarm::Bitfield check_pieces(PieceStorage& storage, std::string_view piece_hashes,
                             const CheckOptions& options) {
  return check_with(
      storage, [piece_hashes] { return std::make_unique<Sha1Verifier>(piece_hashes); }, options);
}

swarm::Bitfield check_pieces(PieceStorage& storage, const metainfo::TorrentInfo& info,
                             const CheckOptions& options) {
  if (info.has_v1()) return check_pieces(storage, info.piece_hashes, options);
  return check_with(
      storage, [&info] { return std::make_unique<MerkleVerifier>(info); }, options);
}

namespace {

swarm::Bitfield check_with(PieceStorage& storage, const std::function<std::unique_ptr<PieceVerifier>()>& make,
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
    auto verifier = make();
    for (;;) {
      if (options.cancel != nullptr && options.cancel->load(std::memory_order_relaxed)) return;
      if (failed.load(std::memory_order_relaxed)) return;
      PieceIndex piece{next.fetch_add(1, std::memory_order_relaxed)};
      if (piece.get() >= num_pieces) return;
      std::int64_t size = layout.piece_size(piece);
      if (!options.wanted || options.wanted(piece)) {
        // Hashed in place in the page cache (see create/piece_hasher.cpp for the measurements).
        FileIndex failed_file{-1};
        verifier->begin(piece);
        auto ec = storage.visit_piece(
            piece, [&](std::span<const std::uint8_t> bytes) { verifier->update(bytes); }, &failed_file);
        bool good = !ec;
        bool matches = verifier->good();
        if (ec && !is_missing_data(ec) && failed_file.get() >= 0) {
          std::lock_guard lock(error_mutex);
          if (!first_error) first_error = FileError{storage.path_of(failed_file), ec};
          failed.store(true, std::memory_order_relaxed);
        }
        ok[static_cast<std::size_t>(piece.get())] = good && matches;
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

}  // namespace
}  // namespace shoal::storage
