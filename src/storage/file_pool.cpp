#include "storage/file_pool.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

namespace shoal::storage {
namespace {

void close_all(const std::vector<FilePoolPolicy::Closed>& closed) {
  for (const auto& c : closed) {
    if (c.handle >= 0) ::close(c.handle);
  }
}

}  // namespace

std::uint64_t FilePool::raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? std::uint64_t{1} << 20 : limit.rlim_cur;
}

std::size_t FilePool::default_bound() {
  rlimit limit{};
  std::uint64_t soft = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY
                           ? limit.rlim_cur
                           : std::uint64_t{1} << 20;
  return static_cast<std::size_t>(std::clamp<std::uint64_t>(soft / 4, 16, 512));
}

FilePool::~FilePool() {
  std::lock_guard lock(mutex_);
  for (std::uint32_t owner = 1; owner < next_owner_; ++owner)
    close_all(policy_.drop_owner(owner));
}

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    reset();
    pool_ = other.pool_;
    key_ = other.key_;
    fd_ = other.fd_;
    other.pool_ = nullptr;
  }
  return *this;
}

void Lease::release_cold() {
  if (pool_ != nullptr) pool_->release(key_, true);
  pool_ = nullptr;
  fd_ = -1;
}

void Lease::reset() {
  if (pool_ != nullptr) pool_->release(key_);
  pool_ = nullptr;
  fd_ = -1;
}

std::uint32_t FilePool::add_owner() {
  std::lock_guard lock(mutex_);
  return next_owner_++;
}

void FilePool::drop_owner(std::uint32_t owner) {
  std::vector<FilePoolPolicy::Closed> closed;
  {
    std::lock_guard lock(mutex_);
    closed = policy_.drop_owner(owner);
  }
  close_all(closed);
}

Lease FilePool::try_acquire(PoolKey key, bool writable) {
  std::lock_guard lock(mutex_);
  int fd = -1;
  if (policy_.lease_if_open(key, writable, &fd)) return Lease(this, key, fd);
  return {};
}

Lease FilePool::acquire(PoolKey key, bool writable, PoolOpener& opener, std::error_code& ec) {
  std::unique_lock lock(mutex_);
  int fd = -1;
  FilePoolPolicy::Step step;
  while ((step = policy_.acquire(key, writable, &fd)) == FilePoolPolicy::Step::wait)
    answered_.wait(lock);  // another thread is opening this very file: its answer serves us too
  if (step == FilePoolPolicy::Step::use) return Lease(this, key, fd);
  int old_fd = step == FilePoolPolicy::Step::upgrade ? fd : -1;
  // Room first: the process never holds more than the bound (the new entry is counted already).
  auto closed = policy_.make_room();
  lock.unlock();
  close_all(closed);
  closed.clear();
  // The open itself runs outside the lock: creating a file costs a few hundred microseconds on ext4, and
  // the disk threads create files in parallel. The entry is pending meanwhile (others asking for it wait).
  fd = opener.open(key.index, writable, ec);
  lock.lock();
  if (fd < 0) {
    policy_.failed(key);
    answered_.notify_all();
    return {};
  }
  if (step == FilePoolPolicy::Step::upgrade && old_fd >= 0) {
    if (policy_.shared(key)) {
      // Readers hold the old number: it now names the writable file description, and their pread()s go on
      // (a call in progress keeps its own reference to the description it started with).
      ::dup3(fd, old_fd, O_CLOEXEC);
      ::close(fd);
      fd = old_fd;
    } else {
      closed.push_back(FilePoolPolicy::Closed{key, old_fd});
    }
  }
  auto evicted = policy_.opened(key, fd, writable);
  closed.insert(closed.end(), evicted.begin(), evicted.end());
  answered_.notify_all();
  Lease lease(this, key, fd);
  lock.unlock();
  close_all(closed);  // descriptors no lease holds
  return lease;
}

void FilePool::release(PoolKey key, bool cold) {
  std::optional<FilePoolPolicy::Closed> closed;
  {
    std::lock_guard lock(mutex_);
    closed = policy_.release(key, cold);
  }
  if (closed && closed->handle >= 0) ::close(closed->handle);
}

std::size_t FilePool::open_now() const {
  std::lock_guard lock(mutex_);
  return policy_.size();
}

std::uint64_t FilePool::opens() const {
  std::lock_guard lock(mutex_);
  return policy_.opens();
}

std::uint64_t FilePool::overshoots() const {
  std::lock_guard lock(mutex_);
  return policy_.overshoots();
}

}  // namespace shoal::storage
