// Local Service Discovery without the sockets: which of our torrents to announce and when, and which
// received announces name a peer for one of them. The runtime (net/lsd_service) feeds it datagrams and the
// time, and multicasts the announces it returns.
//
// Schedule rules (BEP 14, and what libtorrent does):
//  - a torrent is announced as soon as it is added, then every announce_interval (5 minutes);
//  - never more than once per min_interval (1 minute) per torrent, even when asked to hurry;
//  - torrents with the same listen port share packets: when one is due, others of its port that would be
//    due within pack_ahead go along (if their own minute has passed), up to kMaxInfoHashes per packet.
// Invariant: every torrent's next_due is at least its last_sent + min_interval.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lsd/lsd_message.hpp"
#include "lsd/source_rate_limiter.hpp"
#include "shoal/endpoint.hpp"

namespace shoal::lsd {

using TimePoint = std::chrono::steady_clock::time_point;

struct LsdConfig {
  std::chrono::milliseconds announce_interval = std::chrono::minutes(5);
  std::chrono::milliseconds min_interval = std::chrono::minutes(1);
  std::chrono::milliseconds pack_ahead = std::chrono::minutes(1);
  // Per source address, among announces naming our torrents: this many at once, then one per source_refill.
  std::uint32_t source_burst = 20;
  std::chrono::milliseconds source_refill = std::chrono::seconds(3);
  std::size_t max_sources = 1024;
};

// A peer learnt from an announce: the sender's address with the port it announced.
struct LsdPeer {
  Sha1Digest info_hash;
  Endpoint endpoint;
  bool operator==(const LsdPeer&) const = default;
};

enum class Ignored {
  malformed,         // did not decode; see decode_error
  own_announce,      // carries our cookie: our own packet looped back
  rate_limited,      // its source address sent too many announces for our torrents
  unknown_torrents,  // names none of our torrents
  unusable_source,   // sent from 0.0.0.0, :: or an IPv6 link-local address (an Endpoint has no scope id)
  not_to_group,      // addressed to us (unicast), not to the LSD multicast group: not from our link
};

struct Rejection {
  Ignored reason{};
  Errc decode_error{};  // when reason == malformed
  std::string message() const;
};

class LsdState {
 public:
  // cookie: a token unique to this process (chosen by the runtime, e.g. random hex), sent in every announce.
  explicit LsdState(std::string cookie, LsdConfig config = {});

  const std::string& cookie() const { return cookie_; }

  // Adds a torrent (or changes its port); it is announced at the first due() call allowed by min_interval.
  void add_torrent(const Sha1Digest& info_hash, std::uint16_t port, TimePoint now);
  void remove_torrent(const Sha1Digest& info_hash);
  bool has_torrent(const Sha1Digest& info_hash) const { return torrents_.contains(info_hash); }
  // Brings a torrent's next announce forward to the earliest moment min_interval allows.
  void announce_soon(const Sha1Digest& info_hash, TimePoint now);

  // The announces to send now (Group::v4, our cookie set; the runtime re-labels them for other groups).
  // Marks their torrents as announced.
  std::vector<Announce> due(TimePoint now);
  // When due() will next have something to send; nullopt without torrents.
  std::optional<TimePoint> next_due() const;

  // A datagram from `source` to `destination` (the address in its IP header, as IP_PKTINFO/IPV6_PKTINFO
  // report it; the port is ignored): the peers it names for our torrents, or why it was ignored.
  // Only datagrams sent to the LSD group count: multicast to it does not cross routers (and we send with
  // TTL 1), so it comes from our link, whereas anyone on the internet can send a unicast BT-SEARCH to port
  // 6771 to make us dial an address of their choosing. A driver that cannot tell the destination passes
  // an unspecified address, which is refused.
  Expected<std::vector<LsdPeer>, Rejection> on_packet(std::string_view packet, const Endpoint& source,
                                                      const Endpoint& destination, TimePoint now);

 private:
  struct Torrent {
    std::uint16_t port = 0;
    TimePoint next_due{};
    std::optional<TimePoint> last_sent;
  };
  TimePoint earliest_allowed(const Torrent& t, TimePoint now) const;

  std::string cookie_;
  LsdConfig config_;
  std::map<Sha1Digest, Torrent> torrents_;
  SourceRateLimiter limiter_;
};

}  // namespace shoal::lsd
