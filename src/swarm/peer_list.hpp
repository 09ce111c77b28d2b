// The addresses a torrent may dial, where each came from, and how dialling them went. Pure: time is a
// parameter.
//
// Each source has a quota, so one source cannot crowd out the others: 40 PEX messages of made-up addresses
// fill the PEX quota (and one connection's PEX share of it), not the list. Addresses the user gave are never
// evicted and have no quota. A dial that fails puts the address on a growing back-off; after kMaxFailures in
// a row it is dropped. An address no source has mentioned for kMaxAge, and that is not connected, is dropped.
//
// Invariants:
//  - count(s) <= quota(s) for every source but `user`, and an address is counted under one source (the
//    first that gave it);
//  - an address given by the user stays until the list is destroyed.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "shoal/endpoint.hpp"
#include "swarm/piece_picker.hpp"

namespace shoal::swarm {

// What a ban (or a hash-failure record) applies to: the IP address (port 0), or on loopback the address and
// port, since there one address holds many peers.
Endpoint ban_key(const Endpoint& endpoint);

enum class PeerSource : std::uint8_t { user, tracker, dht, pex, lsd, incoming };
inline constexpr std::size_t kPeerSources = 6;

class PeerList {
 public:
  using Clock = std::chrono::steady_clock;

  struct Limits {
    // Per source: user (unlimited), tracker, dht, pex, lsd, incoming.
    std::array<std::size_t, kPeerSources> quota{0, 800, 400, 400, 100, 300};
    std::size_t pex_per_connection = 100;  // one connection's share of the PEX quota
    int max_failures = 3;                  // failed dials in a row before an address is dropped
    Clock::duration first_retry = std::chrono::seconds(2);
    Clock::duration max_retry = std::chrono::minutes(10);
    Clock::duration max_user_retry = std::chrono::seconds(10);  // the user asked for this peer: keep trying
    Clock::duration max_age = std::chrono::hours(2);
  };

  PeerList() = default;
  explicit PeerList(Limits limits) : limits_(limits) {}

  // An address from `source` (for PEX, `via` is the connection it came through). A known address is only
  // refreshed. False when it is not kept: no port, or its source's quota is full.
  bool add(const Endpoint& endpoint, PeerSource source, Clock::time_point now, PeerId via = kNoPeer);
  bool contains(const Endpoint& endpoint) const { return entries_.count(endpoint) != 0; }
  // Where a known address came from first; nullopt if it is not known.
  std::optional<PeerSource> source_of(const Endpoint& endpoint) const {
    auto it = entries_.find(endpoint);
    if (it == entries_.end()) return std::nullopt;
    return it->second.source;
  }
  // The connection a PEX address came through (kNoPeer for other sources or an unknown address): the peer to
  // ask for a BEP 55 rendezvous when the address cannot be dialled.
  PeerId via_of(const Endpoint& endpoint) const {
    auto it = entries_.find(endpoint);
    return it == entries_.end() ? kNoPeer : it->second.via;
  }
  void remove(const Endpoint& endpoint);  // banned, or ourselves; user-given addresses too

  // Dialling.
  // Addresses whose back-off is over at `now`, in list order, for which `skip` is false; at most `max`.
  std::vector<Endpoint> dial_candidates(Clock::time_point now, std::size_t max,
                                        const std::function<bool(const Endpoint&)>& skip) const;
  void on_dial_started(const Endpoint& endpoint, Clock::time_point now);
  void on_dial_failed(const Endpoint& endpoint, Clock::time_point now);  // may drop it
  void on_connected(const Endpoint& endpoint, Clock::time_point now);
  void on_disconnected(const Endpoint& endpoint, Clock::time_point now);

  // Drops addresses not heard of for max_age and not connected (not the user's).
  void expire(Clock::time_point now);

  std::size_t size() const { return entries_.size(); }
  std::size_t count(PeerSource source) const { return counts_[static_cast<std::size_t>(source)]; }

  // Connections per IP address. Loopback is exempt: tests and local swarms run many peers on 127.0.0.1 and
  // ::1, told apart by port.
  static constexpr int kMaxConnectionsPerAddress = 4;
  static bool address_allowed(const Endpoint& endpoint, int connections_from_address);
  static bool is_loopback(const Endpoint& endpoint);

 private:
  struct Entry {
    PeerSource source;
    PeerId via = kNoPeer;
    Clock::time_point seen;
    Clock::time_point retry_at{};
    int failures = 0;
    bool connected = false;
  };
  void erase(std::map<Endpoint, Entry>::iterator it);

  Limits limits_;
  std::map<Endpoint, Entry> entries_;
  std::array<std::size_t, kPeerSources> counts_{};
  std::map<PeerId, std::size_t> pex_by_connection_;
};

}  // namespace shoal::swarm
