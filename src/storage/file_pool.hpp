// The session's file-handle pool: every torrent's files and folders are opened through it, and at most
// bound() descriptors stay open at once (least recently used closed first), so a torrent of 100,000 files
// or a session of 10,000 torrents runs under an ordinary RLIMIT_NOFILE. Which descriptor closes is decided by
// FilePoolPolicy (pure); this shell does the system calls and holds the one lock.
//
// Thread safety: any thread may take leases. A Lease keeps its descriptor open until it is returned, so a
// worker in pread()/pwrite() never has its descriptor closed under it. Opening happens outside the pool's
// lock (creating a file on ext4 costs hundreds of microseconds: the disk threads do it in parallel); a
// second thread wanting the same file meanwhile waits for the first open instead of opening it twice.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <system_error>
#include <vector>

#include "storage/file_pool_policy.hpp"

namespace shoal::storage {

class FilePool;

// A descriptor on loan from the pool. Move-only; returned on destruction.
class Lease {
 public:
  Lease() = default;
  Lease(Lease&& other) noexcept : pool_(other.pool_), key_(other.key_), fd_(other.fd_) {
    other.pool_ = nullptr;
  }
  Lease& operator=(Lease&& other) noexcept;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease() { reset(); }

  int fd() const { return fd_; }
  explicit operator bool() const { return pool_ != nullptr; }
  void reset();
  // Returns the descriptor as one not wanted again soon: the first to close when the pool needs room.
  void release_cold();

 private:
  friend class FilePool;
  Lease(FilePool* pool, PoolKey key, int fd) : pool_(pool), key_(key), fd_(fd) {}
  FilePool* pool_ = nullptr;
  PoolKey key_{};
  int fd_ = -1;
};

// Opens what the pool asks for: a descriptor, or -1 with ec set. Implemented by the owner (a torrent's
// storage), which knows what a key's index names. Called outside the pool's lock, never twice at once for
// one key.
class PoolOpener {
 public:
  virtual int open(std::int32_t index, bool writable, std::error_code& ec) = 0;

 protected:
  ~PoolOpener() = default;
};

class FilePool {
 public:
  // The bound when none is given: the soft RLIMIT_NOFILE (raise_open_file_limit() first) / 4, at most 512
  // and at least 16. A quarter leaves three quarters for sockets (peers, listeners, DNS, trackers), which
  // need the room more: past a few hundred open files the hit rate hardly changes (a miss costs one
  // openat), while every socket refused is a peer lost.
  static std::size_t default_bound();
  // Raises the soft limit on open files to the hard limit, as other clients do at start-up; returns the
  // soft limit now in force.
  static std::uint64_t raise_open_file_limit();

  explicit FilePool(std::size_t bound = default_bound()) : policy_(bound) {}
  ~FilePool();
  FilePool(const FilePool&) = delete;
  FilePool& operator=(const FilePool&) = delete;

  std::uint32_t add_owner();
  // Closes every descriptor of `owner` (those leased now close when returned). The owner's opener is not
  // called again until it takes a new lease.
  void drop_owner(std::uint32_t owner);

  // A lease on (owner, index), opened (read-only, or read-write when `writable`) through `opener` if it is
  // not open yet; an entry opened read-only is reopened read-write the first time a writer asks (on the
  // same descriptor number, should readers hold it). An empty Lease and ec on failure.
  Lease acquire(PoolKey key, bool writable, PoolOpener& opener, std::error_code& ec);
  // A lease only if the entry is open as wanted already: no system call, no opener.
  Lease try_acquire(PoolKey key, bool writable);
  // Calls fn(index, fd) for each open descriptor of `owner` used since the last call (see
  // FilePoolPolicy::take_used), under the lock (keep it short: an fstat).
  template <typename Fn>
  void for_each_used(std::uint32_t owner, Fn&& fn) {
    std::lock_guard lock(mutex_);
    for (const auto& e : policy_.take_used(owner))
      fn(e.key.index, e.handle);
  }

  std::size_t bound() const { return policy_.bound(); }
  std::size_t open_now() const;
  std::uint64_t opens() const;
  std::uint64_t overshoots() const;

 private:
  friend class Lease;
  void release(PoolKey key, bool cold = false);

  mutable std::mutex mutex_;
  std::condition_variable answered_;  // an open/upgrade step ended (opened or failed)
  FilePoolPolicy policy_;
  std::uint32_t next_owner_ = 1;
};

}  // namespace shoal::storage
