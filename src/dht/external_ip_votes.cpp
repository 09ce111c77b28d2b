#include "dht/external_ip_votes.hpp"

#include <algorithm>
#include <map>

namespace shoal::dht {

void ExternalIpVotes::record(const Endpoint& voter, const Endpoint& claimed, Clock::time_point now) {
  expire(now);
  std::array<std::uint8_t, 9> network{};
  network[0] = voter.v6 ? 6 : 4;
  std::copy_n(voter.address.begin(), voter.v6 ? 8 : 3, network.begin() + 1);
  Endpoint address = claimed;
  address.port = 0;
  auto same = std::find_if(votes_.begin(), votes_.end(), [&](const Vote& v) { return v.network == network; });
  if (same != votes_.end()) {
    same->claimed = address;
    same->at = now;
    return;
  }
  if (votes_.size() >= kMaxVoters) {
    auto oldest = std::min_element(votes_.begin(), votes_.end(),
                                   [](const Vote& a, const Vote& b) { return a.at < b.at; });
    *oldest = votes_.back();
    votes_.pop_back();
  }
  votes_.push_back({network, address, now});
}

void ExternalIpVotes::expire(Clock::time_point now) {
  std::erase_if(votes_, [&](const Vote& v) { return now - v.at >= kVoteLifetime; });
}

std::optional<Endpoint> ExternalIpVotes::winner() const {
  std::map<Endpoint, std::size_t> counts;
  for (const Vote& v : votes_)
    ++counts[v.claimed];
  std::optional<Endpoint> best;
  std::size_t best_votes = 0;
  bool tied = false;
  for (const auto& [address, n] : counts) {
    if (n > best_votes) {
      best = address;
      best_votes = n;
      tied = false;
    } else if (n == best_votes) {
      tied = true;
    }
  }
  if (!best || best_votes < kMinVotes || tied) return std::nullopt;
  return best;
}

}  // namespace shoal::dht
