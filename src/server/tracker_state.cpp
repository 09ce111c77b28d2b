#include "server/tracker_state.hpp"

#include <random>

namespace shoal::server {

hash::SipKey TrackerState::random_key() {
  std::random_device rd;
  return {(std::uint64_t{rd()} << 32) | rd(), (std::uint64_t{rd()} << 32) | rd()};
}

TrackerState::TrackerState(tracker::SwarmLimits limits, const hash::SipKey& key)
    : limits_(limits), shard_key_{key[0], key[1] ^ 0x5368617264ULL} {
  // Each shard holds a share of the swarm budget (a keyed shard choice spreads any set of hashes evenly);
  // its own random stream picks peer subsets. Buckets use a key of their own, so a shard's hashes (which
  // share the shard hash's low byte) still spread over its buckets.
  tracker::SwarmLimits per_shard = limits;
  per_shard.max_swarms = std::max<std::size_t>(1, limits.max_swarms / kShards);
  hash::SipKey table_key{key[0] ^ 0x5461626c65ULL, key[1]};
  std::random_device rd;
  for (auto& s : shards_)
    s = std::make_unique<Shard>(per_shard, table_key, (std::uint64_t{rd()} << 32) | rd());
}

std::size_t TrackerState::shard_index(const Sha1Digest& h) const {
  return static_cast<std::size_t>(hash::siphash24(shard_key_, h.bytes) % kShards);
}

tracker::AnnounceReply TrackerState::announce(const tracker::SwarmAnnounce& a, std::span<std::uint8_t> v4_out,
                                              std::span<std::uint8_t> v6_out) {
  auto t = now();
  Shard& s = shard_of(a.info_hash);
  std::lock_guard lock(s.mutex);
  return s.table.announce(a, t, v4_out, v6_out);
}

tracker::SwarmCounts TrackerState::scrape(const Sha1Digest& info_hash) {
  Shard& s = shard_of(info_hash);
  std::lock_guard lock(s.mutex);
  return s.table.scrape(info_hash);
}

void TrackerState::expire() {
  auto t = now();
  for (auto& s : shards_) {
    std::lock_guard lock(s->mutex);  // one shard at a time: announces elsewhere go on
    s->table.expire(t);
  }
}

bool TrackerState::allowed(const Sha1Digest& info_hash) const {
  auto list = whitelist_.load();
  return !list || list->count(info_hash) != 0;
}

std::int64_t TrackerState::now() const {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start_).count();
}

std::uint64_t TrackerState::swarms() const {
  std::uint64_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s->mutex);
    n += s->table.swarms();
  }
  return n;
}

std::uint64_t TrackerState::peers() const {
  std::uint64_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s->mutex);
    n += s->table.peers();
  }
  return n;
}

}  // namespace shoal::server
