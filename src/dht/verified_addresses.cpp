#include "dht/verified_addresses.hpp"

#include <algorithm>

namespace shoal::dht {

void VerifiedAddresses::add(const Endpoint& e, Clock::time_point now) {
  auto it = seen_.find(e);
  if (it != seen_.end()) {
    it->second = now;
    return;
  }
  if (seen_.size() >= kMaxEntries) {
    std::erase_if(seen_, [&](const auto& entry) { return now - entry.second >= kLifetime; });
    if (seen_.size() >= kMaxEntries) {
      auto oldest = std::min_element(seen_.begin(), seen_.end(),
                                     [](const auto& a, const auto& b) { return a.second < b.second; });
      seen_.erase(oldest);
    }
  }
  seen_.emplace(e, now);
}

bool VerifiedAddresses::contains(const Endpoint& e, Clock::time_point now) const {
  auto it = seen_.find(e);
  return it != seen_.end() && now - it->second < kLifetime;
}

}  // namespace shoal::dht
