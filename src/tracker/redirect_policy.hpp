// Which HTTP redirects a tracker request follows. A tracker (or whoever answers for its name) must not be
// able to turn our announce into a request it could not make itself:
//  - never from https to http: the redirect would strip the transport security the torrent asked for;
//  - never to a loopback, private, link-local or otherwise local address, unless the tracker URL first
//    asked was itself on one: a public tracker must not reach a service on our machine or network
//    (SSRF). A tracker on the LAN may redirect within it.
// Pure: the HTTP client asks check_redirect once when it reads a Location (addresses unknown yet) and again
// once the new host has resolved, before connecting.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "shoal/endpoint.hpp"

namespace shoal::tracker {

// Loopback, unspecified, RFC 1918, shared (100.64/10), link-local, IPv6 unique-local, broadcast and multicast
// (an IPv4-mapped IPv6 address is judged by its IPv4 part).
bool is_local_address(const Endpoint& e);

struct RedirectHop {
  bool from_https = false;                 // the URL that answered with the redirect was https
  std::string_view to_url;                 // the absolute URL redirected to
  bool origin_local = false;               // the tracker URL first asked resolved to a local address
  std::span<const Endpoint> to_addresses;  // what to_url's host resolved to; empty before resolution
};

// nullopt: follow it. Otherwise why not, as a sentence naming the URL (and the address).
std::optional<std::string> check_redirect(const RedirectHop& hop);

}  // namespace shoal::tracker
