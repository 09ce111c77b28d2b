// Per-source-address request limiting for the tracker server: a token bucket per IP (rate per second, burst
// of twice that), time passed in. Memory is bounded: past kMaxTracked addresses the table starts over, which
// at worst lets a flood from very many addresses through for a moment, never grows without bound.
#pragma once

#include <array>
#include <cstdint>
#include <unordered_map>

#include "shoal/endpoint.hpp"

namespace shoal::tracker {

class IpRateLimiter {
 public:
  static constexpr std::size_t kMaxTracked = 100'000;

  // per_second == 0 turns limiting off.
  explicit IpRateLimiter(std::uint32_t per_second) : rate_(per_second) {}

  bool allow(const Endpoint& source, std::int64_t now_ms);
  bool enabled() const { return rate_ != 0; }

 private:
  struct Key {
    std::array<std::uint8_t, 16> address;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept {
      std::uint64_t a, b;
      __builtin_memcpy(&a, k.address.data(), 8);
      __builtin_memcpy(&b, k.address.data() + 8, 8);
      return static_cast<std::size_t>((a * 0x9E3779B97F4A7C15ULL) ^ b);
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
