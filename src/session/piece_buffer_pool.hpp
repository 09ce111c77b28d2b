// Whole-piece buffers for disk reads, handed back when the read cache lets go of them.
//
// A seeder reads a piece (often 4 MiB or more) for every few blocks it sends. A fresh buffer each time costs
// a zero fill of the whole piece and, above malloc's mmap threshold, a page fault per 4 KiB of it; together
// they were a quarter of a seeder's CPU time over loopback. A buffer taken from here is a recycled one when
// one is free (its bytes are overwritten by the read, never zeroed again), and it comes back here by itself
// when its last shared_ptr goes. At most `max_free` buffers wait; more are freed.
//
// Thread-safety: take() and the buffers' deleters may run on any thread (a read's last reference can drop on
// a worker thread or while the session shuts down); the pool may die before its buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace shoal::session {

class PieceBufferPool : public std::enable_shared_from_this<PieceBufferPool> {
 public:
  using Buffer = std::vector<std::uint8_t>;

  explicit PieceBufferPool(std::size_t max_free) : max_free_(max_free) {}

  // A buffer of exactly `size` bytes (contents unspecified).
  std::shared_ptr<Buffer> take(std::size_t size) {
    std::unique_ptr<Buffer> buffer;
    {
      std::lock_guard lock(mutex_);
      if (!free_.empty()) {
        buffer = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (!buffer) buffer = std::make_unique<Buffer>();
    buffer->resize(size);  // zero-fills only what grows beyond the recycled size
    return {buffer.release(), Recycle{weak_from_this()}};
  }

  std::size_t free_count() const {
    std::lock_guard lock(mutex_);
    return free_.size();
  }

 private:
  struct Recycle {
    std::weak_ptr<PieceBufferPool> pool;
    void operator()(Buffer* buffer) const {
      std::unique_ptr<Buffer> owned(buffer);
      if (auto p = pool.lock()) p->give_back(std::move(owned));
    }
  };

  void give_back(std::unique_ptr<Buffer> buffer) {
    std::lock_guard lock(mutex_);
    if (free_.size() < max_free_) free_.push_back(std::move(buffer));
  }

  const std::size_t max_free_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Buffer>> free_;
};

}  // namespace shoal::session
