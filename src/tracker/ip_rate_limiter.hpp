// Per-source-address request limiting for the tracker server: a token bucket per IP (rate per second, burst
// of twice that), time passed in. Memory is bounded: past kMaxTracked addresses the table starts over, which
// at worst lets a flood from very many addresses through for a moment, never grows without bound.
// Addresses are hashed with SipHash under a secret key: a sender owning many addresses (an IPv6 /64) cannot
// pick ones that share a bucket.
#pragma once

#include <array>
#include <cstdint>
#include <unordered_map>

#include "hash/siphash.hpp"
#include "shoal/endpoint.hpp"

namespace shoal::tracker {

class IpRateLimiter {
 public:
  static constexpr std::size_t kMaxTracked = 100'000;

  // per_second == 0 turns limiting off. `key`: a secret chosen at start-up.
  IpRateLimiter(std::uint32_t per_second, const hash::SipKey& key)
      : rate_(per_second), buckets_(0, KeyHash{key}) {}

  bool allow(const Endpoint& source, std::int64_t now_ms);
  bool enabled() const { return rate_ != 0; }
  // The most addresses sharing one hash bucket: for tests and diagnostics.
  std::size_t largest_bucket() const;

 private:
  struct Key {
    std::array<std::uint8_t, 16> address;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    hash::SipKey key;
    std::size_t operator()(const Key& k) const noexcept {
      return static_cast<std::size_t>(hash::siphash24(key, k.address));
    }
  };
  struct Bucket {
    double tokens;
    std::int64_t last_ms;
  };
  std::uint32_t rate_;
  std::unordered_map<Key, Bucket, KeyHash> buckets_;
};

}  // namespace shoal::tracker
