#include "tracker/swarm_table.hpp"

#include <algorithm>
#include <cstring>
#include <tuple>

namespace shoal::tracker {
namespace {

std::uint32_t v4_of(const Endpoint& e) {
  return (std::uint32_t{e.address[0]} << 24) | (std::uint32_t{e.address[1]} << 16) |
         (std::uint32_t{e.address[2]} << 8) | e.address[3];
}

void write_v4(std::uint8_t* out, std::uint32_t ip, std::uint16_t port) {
  out[0] = static_cast<std::uint8_t>(ip >> 24);
  out[1] = static_cast<std::uint8_t>(ip >> 16);
  out[2] = static_cast<std::uint8_t>(ip >> 8);
  out[3] = static_cast<std::uint8_t>(ip);
  out[4] = static_cast<std::uint8_t>(port >> 8);
  out[5] = static_cast<std::uint8_t>(port);
}

void write_v6(std::uint8_t* out, const std::array<std::uint8_t, 16>& ip, std::uint16_t port) {
  std::memcpy(out, ip.data(), 16);
  out[16] = static_cast<std::uint8_t>(port >> 8);
  out[17] = static_cast<std::uint8_t>(port);
}

}  // namespace

std::uint64_t SwarmTable::next_random() {
  // xorshift64*: plenty for picking which peers to hand out.
  rng_ ^= rng_ >> 12;
  rng_ ^= rng_ << 25;
  rng_ ^= rng_ >> 27;
  return rng_ * 0x2545F4914F6CDD1DULL;
}

std::uint8_t SwarmTable::stamp(std::int64_t now) const {
  std::int64_t unit = std::max<std::int64_t>(1, limits_.interval / 8);
  return static_cast<std::uint8_t>((now / unit) & 0xff);
}

void SwarmTable::sweep(Swarm& s, std::uint32_t now) {
  s.last_sweep = now;
  std::uint8_t current = stamp(now);
  auto dead = [&](const auto& p) { return static_cast<std::uint8_t>(current - p.stamp) > kLiveStamps; };
  auto drop = [&](auto& vec) {
    auto it = std::remove_if(vec.begin(), vec.end(), [&](const auto& p) {
      if (!dead(p)) return false;
      if (p.seed) --s.seeders;
      --peers_;
      return true;
    });
    vec.erase(it, vec.end());
    if (vec.capacity() > 2 * vec.size() + 16) vec.shrink_to_fit();  // a swarm that emptied gives memory back
  };
  drop(s.v4);
  drop(s.v6);
}

template <class Vec, class Key>
bool SwarmTable::upsert(Swarm& s, Vec& vec, const Key& key, const SwarmAnnounce& a, std::uint32_t now) {
  auto less = [](const auto& x, const auto& y) { return std::tie(x.ip, x.port) < std::tie(y.ip, y.port); };
  auto it = std::lower_bound(vec.begin(), vec.end(), key, less);
  bool found = it != vec.end() && it->ip == key.ip && it->port == key.port;
  if (a.kind == AnnounceKind::stopped) {
    if (found) {
      if (it->seed) --s.seeders;
      --peers_;
      vec.erase(it);
    }
    return false;
  }
  auto seed = static_cast<std::uint8_t>(a.seed ? 1 : 0);
  if (found) {
    bool was_seed = it->seed != 0;
    if (it->seed != seed) {
      if (seed) {
        ++s.seeders;
      } else {
        --s.seeders;
      }
    }
    it->seed = seed;
    it->stamp = stamp(now);
    return was_seed;
  }
  if (vec.size() >= limits_.max_peers_per_swarm) return false;  // answered, not remembered
  Key entry = key;
  entry.seed = seed;
  entry.stamp = stamp(now);
  if (vec.size() == vec.capacity()) {
    // Grow by a quarter: memory per peer matters more than the rare extra copy.
    auto at = it - vec.begin();
    vec.reserve(vec.size() + vec.size() / 4 + 4);
    it = vec.begin() + at;
  }
  vec.insert(it, entry);
  if (seed) ++s.seeders;
  ++peers_;
  return false;
}

AnnounceReply SwarmTable::announce(const SwarmAnnounce& a, std::int64_t now, std::span<std::uint8_t> v4_out,
                                   std::span<std::uint8_t> v6_out) {
  AnnounceReply reply;
  auto now32 = static_cast<std::uint32_t>(now);
  auto it = swarms_.find(a.info_hash);
  if (it == swarms_.end()) {
    if (a.kind == AnnounceKind::stopped || swarms_.size() >= limits_.max_swarms) return reply;
    it = swarms_.try_emplace(a.info_hash).first;
    it->second.last_sweep = now32;
  }
  Swarm& s = it->second;
  if (now32 - s.last_sweep > static_cast<std::uint32_t>(limits_.interval / 2)) sweep(s, now32);

  std::uint32_t self_v4 = 0;
  bool was_seed = false;
  if (a.peer.v6) {
    Peer6 key{};
    std::memcpy(key.ip.data(), a.peer.address.data(), 16);
    key.port = a.peer.port;
    was_seed = upsert(s, s.v6, key, a, now32);
  } else {
    Peer4 key{};
    self_v4 = v4_of(a.peer);
    key.ip = self_v4;
    key.port = a.peer.port;
    was_seed = upsert(s, s.v4, key, a, now32);
  }
  if (a.kind == AnnounceKind::completed && !was_seed) ++s.completed;
  std::size_t total = s.v4.size() + s.v6.size();
  reply.counts = {s.seeders, static_cast<std::uint32_t>(total) - s.seeders, s.completed};
  s.last_announce = now32;
  if (total == 0) {
    if (s.completed == 0) swarms_.erase(it);  // otherwise kept (for its completed count) until expire()
    return reply;
  }
  if (a.kind == AnnounceKind::stopped) return reply;

  std::size_t want = a.numwant < 0
                         ? limits_.default_numwant
                         : std::min<std::size_t>(static_cast<std::size_t>(a.numwant), limits_.max_numwant);
  std::size_t room4 = v4_out.size() / 6, room6 = v6_out.size() / 18;
  // A random window over the swarm (IPv4 then IPv6), bounded so a seed among thousands of seeds costs little.
  std::size_t budget = std::min(total, std::max<std::size_t>(want * 8, 256));
  std::size_t start = static_cast<std::size_t>(next_random() % total);
  std::size_t written = 0;
  // One pass over the window writing the peers `wanted` accepts.
  auto fill = [&](auto wanted) {
    for (std::size_t i = 0; i < budget && written < want && (room4 > 0 || room6 > 0); ++i) {
      std::size_t index = (start + i) % total;
      if (index < s.v4.size()) {
        const Peer4& p = s.v4[index];
        if (room4 == 0 || !wanted(p.seed != 0) || (!a.peer.v6 && p.ip == self_v4 && p.port == a.peer.port))
          continue;
        write_v4(v4_out.data() + reply.v4_bytes, p.ip, p.port);
        reply.v4_bytes += 6;
        --room4;
      } else {
        const Peer6& p = s.v6[index - s.v4.size()];
        if (room6 == 0 || !wanted(p.seed != 0)) continue;
        if (a.peer.v6 && p.port == a.peer.port && std::memcmp(p.ip.data(), a.peer.address.data(), 16) == 0)
          continue;
        write_v6(v6_out.data() + reply.v6_bytes, p.ip, p.port);
        reply.v6_bytes += 18;
        --room6;
      }
      ++written;
    }
  };
  if (!a.seed) {
    fill([](bool) { return true; });
    return reply;
  }
  // A seed gets leechers first, then seeds where leechers do not fill numwant: a client fetching a magnet's
  // metadata announces left=0 (aria2 does) and is told apart from a seed by nothing, and with only seeds in
  // the swarm it would otherwise never learn of a peer.
  fill([](bool seed) { return !seed; });
  fill([](bool seed) { return seed; });
  return reply;
}

std::size_t SwarmTable::largest_bucket() const {
  std::size_t largest = 0;
  for (std::size_t b = 0; b < swarms_.bucket_count(); ++b)
    largest = std::max(largest, swarms_.bucket_size(b));
  return largest;
}

SwarmCounts SwarmTable::scrape(const Sha1Digest& info_hash) const {
  auto it = swarms_.find(info_hash);
  if (it == swarms_.end()) return {};
  const Swarm& s = it->second;
  auto total = static_cast<std::uint32_t>(s.v4.size() + s.v6.size());
  return {s.seeders, total - s.seeders, s.completed};
}

void SwarmTable::expire(std::int64_t now) {
  auto now32 = static_cast<std::uint32_t>(now);
  for (auto it = swarms_.begin(); it != swarms_.end();) {
    sweep(it->second, now32);
    // An empty swarm keeps its completed count for a while (scrapes report it), then goes.
    bool idle = now32 - it->second.last_announce > static_cast<std::uint32_t>(4 * limits_.interval);
    if (it->second.v4.empty() && it->second.v6.empty() && (it->second.completed == 0 || idle)) {
      it = swarms_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace shoal::tracker
