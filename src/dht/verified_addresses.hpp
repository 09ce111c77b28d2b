// Addresses (with port) that have proven they receive what we send there: they answered a query of ours
// (matched by transaction id and address), or presented a write token we gave them (put, announce_peer).
// A spoofer can claim any source address, but cannot do either for a victim's address, so replies larger
// than the reply budget go only to addresses in this set (see DhtConfig::max_reply_factor).
// Bounded: kMaxEntries, the oldest proof evicted first; a proof lasts kLifetime (a token's lifetime).
#pragma once

#include <chrono>
#include <cstddef>
#include <map>

#include "shoal/endpoint.hpp"

namespace shoal::dht {

class VerifiedAddresses {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kMaxEntries = 4096;
  static constexpr std::chrono::minutes kLifetime{10};

  void add(const Endpoint& e, Clock::time_point now);
  bool contains(const Endpoint& e, Clock::time_point now) const;
  std::size_t size() const { return seen_.size(); }

 private:
  std::map<Endpoint, Clock::time_point> seen_;
};

}  // namespace shoal::dht
