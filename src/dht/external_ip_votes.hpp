// BEP 42: what our external address is, by vote of the nodes that answer our queries (their "ip" field).
// The winner decides our node id, so one party must not be able to choose it or to stop us from learning it:
//  - one vote per voter network, not per reply: the voter's IPv4 /24 or IPv6 /64 (one host, or one small
//    network, is one voice however many replies it sends); a new vote replaces that network's old one;
//  - votes expire after kVoteLifetime (a changed address wins as the old votes age out);
//  - at most kMaxVoters networks are remembered; a new one evicts the oldest vote, so the table can never
//    be frozen by filling it;
//  - a winner needs kMinVotes networks and strictly more votes than any other address.
// Pure: time comes in as arguments.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

#include "shoal/endpoint.hpp"

namespace shoal::dht {

class ExternalIpVotes {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kMaxVoters = 256;
  static constexpr std::size_t kMinVotes = 3;
  static constexpr std::chrono::minutes kVoteLifetime{30};

  // `voter`: where the reply came from; `claimed`: the address it says we have (the port is ignored).
  void record(const Endpoint& voter, const Endpoint& claimed, Clock::time_point now);
  // Drops votes older than kVoteLifetime.
  void expire(Clock::time_point now);
  // The address most networks agree on, if it has kMinVotes and no other address has as many.
  std::optional<Endpoint> winner() const;
  std::size_t voters() const { return votes_.size(); }

 private:
  struct Vote {
    std::array<std::uint8_t, 9> network;  // family byte, then the /24 or /64 prefix
    Endpoint claimed;                     // port 0
    Clock::time_point at;
  };
  std::vector<Vote> votes_;  // at most kMaxVoters; linear scans are cheap at that size
};

}  // namespace shoal::dht
