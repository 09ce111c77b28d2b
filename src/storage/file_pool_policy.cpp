#include "storage/file_pool_policy.hpp"

#include <iterator>

namespace shoal::storage {

void FilePoolPolicy::take_ref(Entry& e) {
  e.used = true;
  if (e.refs++ == 0) {
    lru_.erase(e.in_lru);
    e.in_lru = lru_.end();
    ++leased_;
  }
}

FilePoolPolicy::Step FilePoolPolicy::acquire(PoolKey key, bool writable, int* handle) {
  auto [it, inserted] = entries_.try_emplace(key);
  Entry& e = it->second;
  if (inserted) {
    e.in_lru = lru_.end();
    e.refs = 1;
    e.used = true;
    e.pending = true;
    ++leased_;
    ++opens_;
    return Step::open;
  }
  if (e.pending) return Step::wait;
  e.doomed = false;  // taken again before its last lease ended: it stays
  take_ref(e);
  *handle = e.handle;
  if (writable && !e.writable) {
    ++opens_;
    e.pending = true;
    return Step::upgrade;
  }
  ++hits_;
  return Step::use;
}

bool FilePoolPolicy::lease_if_open(PoolKey key, bool writable, int* handle) {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.pending || (writable && !it->second.writable)) return false;
  it->second.doomed = false;
  take_ref(it->second);
  ++hits_;
  *handle = it->second.handle;
  return true;
}

bool FilePoolPolicy::shared(PoolKey key) const {
  auto it = entries_.find(key);
  return it != entries_.end() && it->second.refs > 1;
}

std::vector<FilePoolPolicy::Closed> FilePoolPolicy::opened(PoolKey key, int handle, bool writable) {
  Entry& e = entries_.at(key);
  e.pending = false;
  e.handle = handle;
  e.writable = e.writable || writable;
  std::vector<Closed> out;
  evict_to_bound(out);
  return out;
}

std::vector<FilePoolPolicy::Closed> FilePoolPolicy::make_room() {
  std::vector<Closed> out;
  evict_to_bound(out);
  return out;
}

void FilePoolPolicy::evict_to_bound(std::vector<Closed>& out) {
  while (entries_.size() > bound_) {
    if (lru_.empty()) {
      ++overshoots_;  // every open entry is leased: nothing may close until a lease ends
      return;
    }
    PoolKey victim = lru_.back();
    lru_.pop_back();
    auto it = entries_.find(victim);
    out.push_back(Closed{victim, it->second.handle});
    entries_.erase(it);
  }
}

void FilePoolPolicy::failed(PoolKey key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  e.pending = false;
  --e.refs;
  if (e.refs == 0) --leased_;
  if (e.handle < 0 && e.refs == 0) {
    entries_.erase(it);  // never opened
  } else if (e.refs == 0) {
    lru_.push_front(key);
    e.in_lru = lru_.begin();
  }
}

std::optional<FilePoolPolicy::Closed> FilePoolPolicy::release(PoolKey key, bool cold) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  Entry& e = it->second;
  if (--e.refs > 0) return std::nullopt;
  --leased_;
  if (e.doomed) {
    Closed closed{key, e.handle};
    entries_.erase(it);
    return closed;
  }
  if (cold) {
    e.used = false;
    lru_.push_back(key);
    e.in_lru = std::prev(lru_.end());
  } else {
    lru_.push_front(key);
    e.in_lru = lru_.begin();
  }
  // Entries opened while every other one was leased may have left the pool over its bound: one closes now.
  if (entries_.size() > bound_) {
    std::vector<Closed> out;
    evict_to_bound(out);
    if (!out.empty()) return out.front();
  }
  return std::nullopt;
}

std::vector<FilePoolPolicy::Closed> FilePoolPolicy::drop_owner(std::uint32_t owner) {
  std::vector<Closed> out;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->first.owner != owner) {
      ++it;
      continue;
    }
    Entry& e = it->second;
    if (e.refs > 0) {
      e.doomed = true;
      ++it;
      continue;
    }
    out.push_back(Closed{it->first, e.handle});
    lru_.erase(e.in_lru);
    it = entries_.erase(it);
  }
  return out;
}

std::vector<FilePoolPolicy::Closed> FilePoolPolicy::take_used(std::uint32_t owner) {
  std::vector<Closed> out;
  for (auto& [key, e] : entries_) {
    if (key.owner != owner || e.handle < 0 || e.doomed || !e.used) continue;
    e.used = false;
    out.push_back(Closed{key, e.handle});
  }
  return out;
}

std::vector<FilePoolPolicy::Closed> FilePoolPolicy::open_entries(std::uint32_t owner) const {
  std::vector<Closed> out;
  for (const auto& [key, e] : entries_) {
    if (key.owner == owner && e.handle >= 0 && !e.doomed) out.push_back(Closed{key, e.handle});
  }
  return out;
}

}  // namespace shoal::storage
