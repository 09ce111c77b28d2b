// How many LSD announces one source address may make us act on: a token bucket per address (a burst, then
// one more per refill period), time passed in. Memory is bounded by max_sources: when the table is full,
// addresses whose bucket has refilled are forgotten (they would start full anyway), and if that frees
// nothing the table starts over: a flood from very many addresses gets through for a moment but never grows
// the table.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>

#include "shoal/endpoint.hpp"

namespace shoal::lsd {

class SourceRateLimiter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  SourceRateLimiter(std::uint32_t burst, std::chrono::milliseconds refill, std::size_t max_sources)
      : burst_(burst), refill_(refill), max_sources_(max_sources) {}

  // Takes one token for the source's address (its port does not matter); false when it has none left.
  bool allow(const Endpoint& source, TimePoint now);
  std::size_t tracked() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens = 0;
    TimePoint last{};
  };
  double refilled(const Bucket& b, TimePoint now) const;
  void make_room(TimePoint now);

  std::uint32_t burst_;
  std::chrono::milliseconds refill_;
  std::size_t max_sources_;
  std::map<std::pair<bool, std::array<std::uint8_t, 16>>, Bucket> buckets_;
};

}  // namespace shoal::lsd
