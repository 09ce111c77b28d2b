// What every tracker front end (UDP threads, the HTTP server) shares: the swarms, split into shards by a
// keyed hash of the info-hash with one lock each (no global lock on the announce path), the whitelist
// (swapped whole when the file changes), and counters for /stats. Info-hashes come from remote parties, so
// neither the shard nor the bucket inside it can be predicted without the start-up secret.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

#include "hash/siphash.hpp"
#include "server/whitelist.hpp"
#include "tracker/swarm_table.hpp"

namespace shoal::server {

struct TrackerCounters {
  std::atomic<std::uint64_t> connects{0};
  std::atomic<std::uint64_t> announces{0};
  std::atomic<std::uint64_t> scrapes{0};
  std::atomic<std::uint64_t> errors_sent{0};  // BEP-conforming error replies
  std::atomic<std::uint64_t> dropped{0};      // malformed or spoofed: no reply at all
  std::atomic<std::uint64_t> rate_limited{0};
  std::atomic<std::uint64_t> not_whitelisted{0};
};

class TrackerState {
 public:
  static constexpr std::size_t kShards = 256;

  // `key`: a secret chosen at start-up; shards and each shard's buckets are picked with keys derived from it.
  TrackerState(tracker::SwarmLimits limits, const hash::SipKey& key);
  // A fresh random key (std::random_device), for servers.
  static hash::SipKey random_key();

  tracker::AnnounceReply announce(const tracker::SwarmAnnounce& a, std::span<std::uint8_t> v4_out,
                                  std::span<std::uint8_t> v6_out);
  tracker::SwarmCounts scrape(const Sha1Digest& info_hash);
  void expire();

  // True when there is no whitelist or the hash is on it.
  bool allowed(const Sha1Digest& info_hash) const;
  void set_whitelist(std::shared_ptr<const Whitelist> list) { whitelist_.store(std::move(list)); }

  // Seconds on a monotonic clock since the server started: the time base of the swarm tables.
  std::int64_t now() const;
  const tracker::SwarmLimits& limits() const { return limits_; }
  std::uint64_t swarms() const;
  std::uint64_t peers() const;
  std::size_t shard_index(const Sha1Digest& h) const;  // public for tests
  TrackerCounters counters;

 private:
  struct alignas(64) Shard {
    Shard(const tracker::SwarmLimits& limits, const hash::SipKey& key, std::uint64_t seed)
        : table(limits, key, seed) {}
    std::mutex mutex;
    tracker::SwarmTable table;
  };
  Shard& shard_of(const Sha1Digest& h) { return *shards_[shard_index(h)]; }

  tracker::SwarmLimits limits_;
  hash::SipKey shard_key_;
  std::array<std::unique_ptr<Shard>, kShards> shards_;
  std::atomic<std::shared_ptr<const Whitelist>> whitelist_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace shoal::server
