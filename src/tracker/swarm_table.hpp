// The tracker server's memory: swarms keyed by info-hash, each a set of peers with their last announce time.
// Sans-I/O and single-threaded: the server runs one table per shard (info-hashes are split across shards by
// a keyed hash) with a lock per shard, so announces for different torrents never wait on each other.
// Info-hashes are chosen by remote parties (an open tracker takes any 20 bytes), so buckets are picked by
// SipHash under a secret key: hashes crafted to share bytes cannot pile into one bucket.
// The announce path allocates nothing once a swarm's vectors have grown: peers are 8 (IPv4) or 20 (IPv6)
// bytes in vectors sorted by address (growing by a quarter, not doubling), with the announce time kept as a
// one-byte stamp in units of an eighth of the interval, and replies are written as compact peers into the
// caller's buffer.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "hash/siphash.hpp"
#include "shoal/digest.hpp"
#include "shoal/endpoint.hpp"

namespace shoal::tracker {

struct SwarmLimits {
  std::int64_t interval = 1800;        // seconds between announces we ask for
  std::size_t max_swarms = 1'000'000;  // per table: announces for new torrents beyond it get no swarm
  std::size_t max_peers_per_swarm = 200'000;
  std::size_t max_numwant = 200;  // peers per reply at most, whatever the client asks
  std::size_t default_numwant = 50;
};

enum class AnnounceKind { regular, started, completed, stopped };

struct SwarmAnnounce {
  Sha1Digest info_hash;  // a v2 info-hash arrives truncated to 20 bytes, as BEP 52 says
  Endpoint peer;         // the announcer's source address (never a client-supplied IP) and its port
  AnnounceKind kind = AnnounceKind::regular;
  bool seed = false;          // left == 0
  std::int64_t numwant = -1;  // negative: the default
};

struct SwarmCounts {
  std::uint32_t seeders = 0;
  std::uint32_t leechers = 0;
  std::uint32_t completed = 0;
};

struct AnnounceReply {
  SwarmCounts counts;
  std::size_t v4_bytes = 0;  // compact IPv4 peers written (6 bytes each)
  std::size_t v6_bytes = 0;  // compact IPv6 peers written (18 bytes each)
};

class SwarmTable {
 public:
  // `key` is a secret chosen at start-up (never derived from anything a remote party sees).
  SwarmTable(SwarmLimits limits, const hash::SipKey& key, std::uint64_t seed = 1)
      : limits_(limits), rng_(seed | 1), swarms_(0, HashOf{key}) {}

  // Records the announce at `now` (seconds) and writes a random subset of the swarm's other peers: IPv4 ones
  // into v4_out and IPv6 ones into v6_out (either may be empty to skip that family), never more than
  // numwant in all, never the announcer; to a seed leechers first, seeds only where leechers do not fill
  // numwant. `stopped` removes the peer.
  AnnounceReply announce(const SwarmAnnounce& a, std::int64_t now, std::span<std::uint8_t> v4_out,
                         std::span<std::uint8_t> v6_out);
  SwarmCounts scrape(const Sha1Digest& info_hash) const;

  // Drops peers not heard from in two intervals, and swarms left with no peers (one with a completed count
  // stays a few intervals for scrapes). Cheap to call often: each swarm is also swept lazily when announced
  // to.
  void expire(std::int64_t now);

  std::size_t swarms() const { return swarms_.size(); }
  std::size_t peers() const { return peers_; }
  const SwarmLimits& limits() const { return limits_; }
  // The most swarms sharing one hash bucket: for tests and diagnostics (it walks every bucket).
  std::size_t largest_bucket() const;
  // Every info-hash with its counts, for a full scrape page (callers cap it).
  template <class F>
  void for_each(F&& f) const {
    for (const auto& [hash, s] : swarms_)
      f(hash, SwarmCounts{s.seeders, static_cast<std::uint32_t>(s.v4.size() + s.v6.size()) - s.seeders,
                          s.completed});
  }

 private:
  struct Peer4 {
    std::uint32_t ip;
    std::uint16_t port;
    std::uint8_t seed;
    std::uint8_t stamp;  // (now / stamp unit) mod 256
  };
  struct Peer6 {
    std::array<std::uint8_t, 16> ip;
    std::uint16_t port;
    std::uint8_t seed;
    std::uint8_t stamp;
  };
  static_assert(sizeof(Peer4) == 8 && sizeof(Peer6) == 20);
  struct Swarm {
    std::vector<Peer4> v4;
    std::vector<Peer6> v6;
    std::uint32_t seeders = 0;
    std::uint32_t completed = 0;
    std::uint32_t last_sweep = 0;
    std::uint32_t last_announce = 0;
  };
  struct HashOf {
    hash::SipKey key;
    std::size_t operator()(const Sha1Digest& d) const noexcept {
      return static_cast<std::size_t>(hash::siphash24(key, d.bytes));
    }
  };

  std::uint64_t next_random();
  void sweep(Swarm& s, std::uint32_t now);
  std::uint8_t stamp(std::int64_t now) const;
  // A peer is alive for two intervals = 16 stamp units. expire() runs far more often than the 256-unit wrap.
  static constexpr std::uint8_t kLiveStamps = 16;
  // Returns whether the peer was already known as a seed (a repeated "completed" is not counted again).
  template <class Vec, class Key>
  bool upsert(Swarm& s, Vec& vec, const Key& key, const SwarmAnnounce& a, std::uint32_t now);

  SwarmLimits limits_;
  std::uint64_t rng_;
  std::unordered_map<Sha1Digest, Swarm, HashOf> swarms_;
  std::size_t peers_ = 0;
};

}  // namespace shoal::tracker
