// Talks to one udp:// tracker: resolves it, then drives tracker::udp::UdpExchange over a connected UDP socket
// until it settles. Connection ids are cached by the caller per tracker for their one-minute lifetime.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <variant>
#include <vector>

#include "shoal/expected.hpp"
#include "tracker/udp_exchange.hpp"

namespace shoal::net {

struct UdpTrackerOptions {
  int max_attempts = tracker::udp::UdpExchange::kSpecMaxAttempts;
  std::chrono::seconds base_timeout{15};
};

// The tracker's reply (announce, scrape, or its error message), or why there was none.
boost::asio::awaitable<Expected<tracker::udp::Response, std::string>> udp_tracker_request(
    std::string url, std::variant<tracker::udp::AnnounceRequest, std::vector<Sha1Digest>> request,
    tracker::udp::ConnectionCache& cache, UdpTrackerOptions options);

}  // namespace shoal::net
