// Which descriptors of a session's file-handle pool stay open: a bound, least-recently-used closing, and
// leases (a descriptor in use by a read or write is never chosen to close). Pure bookkeeping: no system
// call, no lock, no clock; storage/file_pool.hpp does the opening and closing and holds the lock.
//
// Entries are keyed by (owner, index): an owner is one torrent's storage, an index one of its files or
// folders. Each entry carries the descriptor number the shell opened for it, which the policy never
// interprets. Invariants:
//  - an entry is in `lru_` exactly when no lease holds it (refs == 0), most recently released first (a
//    cold release goes last);
//  - victims are only ever taken from `lru_`, so a leased descriptor is never closed;
//  - an entry dropped while leased (drop_owner) stays counted until its last release closes it;
//  - size() <= bound, except while more entries are leased at once than the bound allows (then nothing
//    can be closed; the overshoot is counted, and ends as leases are returned).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <unordered_map>
#include <vector>

namespace shoal::storage {

struct PoolKey {
  std::uint32_t owner = 0;
  std::int32_t index = 0;  // a file's index; folders and the parts file use indexes the owner chooses
  bool operator==(const PoolKey&) const = default;
};

struct PoolKeyHash {
  std::size_t operator()(const PoolKey& k) const noexcept {
    return std::hash<std::uint64_t>{}((std::uint64_t{k.owner} << 32) | static_cast<std::uint32_t>(k.index));
  }
};

class FilePoolPolicy {
 public:
  // What the shell must do for a lease.
  enum class Step {
    use,      // the entry is open as wanted: use its descriptor
    open,     // nothing open: open one, then opened() or failed()
    upgrade,  // open read-only, a writable one is wanted: open it, then opened() (replacing) or failed()
    wait,     // another lease is opening the entry now: nothing taken; ask again once it has answered
  };
  struct Closed {
    PoolKey key;
    int handle = -1;
  };

  explicit FilePoolPolicy(std::size_t bound) : bound_(bound < 1 ? 1 : bound) {}

  // A lease only when `key` is open as wanted (*handle is its descriptor); otherwise nothing changes.
  bool lease_if_open(PoolKey key, bool writable, int* handle);
  // Takes a lease on `key`. On `use`, *handle is the descriptor; on `upgrade`, the read-only one. On
  // open/upgrade the lease is held already (nothing can close the entry meanwhile); the shell must answer
  // with opened() or failed().
  Step acquire(PoolKey key, bool writable, int* handle);
  // After an open step, before the shell opens anything: the descriptors to close first so that the new one
  // keeps the pool within its bound at every moment, least recently used first.
  std::vector<Closed> make_room();
  // Whether leases other than the caller's hold `key` (an upgrade must then keep the old number alive).
  bool shared(PoolKey key) const;
  // The descriptor now open for an open/upgrade step (on an upgrade the shell has closed or replaced the
  // read-only one). Returns the descriptors to close now, least recently used first, to stay in the bound.
  std::vector<Closed> opened(PoolKey key, int handle, bool writable);
  // The open/upgrade step failed: the lease is dropped (on a failed upgrade the read-only entry stays).
  void failed(PoolKey key);
  // A lease ends. Returns a descriptor to close when its entry was dropped (drop_owner) while leased.
  // cold: the entry is not wanted again soon (a file written whole): it goes to the closing end of the
  // order instead of the front, so files still being filled keep their descriptors.
  std::optional<Closed> release(PoolKey key, bool cold = false);
  // Forgets every entry of `owner`: returns those to close now; leased ones close on their release().
  std::vector<Closed> drop_owner(std::uint32_t owner);
  // Entries of `owner` open now, leased or not.
  std::vector<Closed> open_entries(std::uint32_t owner) const;
  // Entries of `owner` open now and used since the last call (the deleted-file check looks at these only):
  // taken by a lease and not released cold since. Clears the mark.
  std::vector<Closed> take_used(std::uint32_t owner);

  std::size_t size() const { return entries_.size(); }
  std::size_t bound() const { return bound_; }
  std::size_t leased() const { return leased_; }
  std::uint64_t overshoots() const { return overshoots_; }
  std::uint64_t opens() const { return opens_; }
  std::uint64_t hits() const { return hits_; }

 private:
  struct Entry {
    int handle = -1;
    bool writable = false;
    int refs = 0;
    bool doomed = false;   // dropped while leased: closed at its last release
    bool used = false;     // leased since the last take_used(), and not released cold since
    bool pending = false;  // an open/upgrade step is under way (the shell opens outside its lock)
    std::list<PoolKey>::iterator in_lru{};
  };
  void take_ref(Entry& e);
  void evict_to_bound(std::vector<Closed>& out);

  std::size_t bound_;
  std::unordered_map<PoolKey, Entry, PoolKeyHash> entries_;
  std::list<PoolKey> lru_;  // unleased entries, most recently released at the front
  std::size_t leased_ = 0;  // entries with refs > 0
  std::uint64_t overshoots_ = 0;
  std::uint64_t opens_ = 0;
  std::uint64_t hits_ = 0;
};

}  // namespace shoal::storage
