// One BEP 15 request in, at most one reply out: the UDP tracker's per-packet logic, apart from the sockets so
// it can be tested with plain byte spans.
//
// The per-address limit applies only to what a spoofer can send: connects, and requests that carry no valid
// connection id (including malformed ones answered with an error). An announce or scrape with a valid id
// proves the source address (the sender read our connect reply there), so it is never limited: a flood
// spoofing a victim's address can at worst delay the victim's next connect, never silence the announces it
// makes with an id in hand, and the flooder pays for every packet that counts.
#pragma once

#include <cstdint>
#include <span>

#include "server/tracker_state.hpp"
#include "shoal/endpoint.hpp"
#include "tracker/connection_id.hpp"
#include "tracker/ip_rate_limiter.hpp"

namespace shoal::server {

struct UdpRequestContext {
  TrackerState& state;
  const tracker::ConnectionIds& ids;
  tracker::IpRateLimiter& limiter;  // of one thread
  bool log_drops = false;           // say on stderr why a packet got no reply
};

// Answers `packet` from `source` into `out` (at least udp::kMaxPacketSize bytes); returns the reply size, 0
// for no reply. `now_ms`: a monotonic clock in milliseconds, for the limiter.
std::size_t answer_udp_request(UdpRequestContext& context, std::span<const std::uint8_t> packet,
                               const Endpoint& source, std::int64_t now_ms, std::span<std::uint8_t> out);

}  // namespace shoal::server
