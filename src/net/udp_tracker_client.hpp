// Talks to one udp:// tracker: resolves it, then drives tracker::udp::UdpExchange over a connected UDP socket
// until it settles. Connection ids are cached by the caller per tracker for their one-minute lifetime.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "net/udp_mux.hpp"
#include "shoal/endpoint.hpp"
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

// The same exchange through a node's shared UDP sockets (UdpMux): every request leaves from the node's one
// port, and replies come back to the request whose transaction id they carry. Network thread only.
class UdpTrackerClient {
 public:
  explicit UdpTrackerClient(UdpMux& mux);
  ~UdpTrackerClient();
  UdpTrackerClient(const UdpTrackerClient&) = delete;
  UdpTrackerClient& operator=(const UdpTrackerClient&) = delete;

  boost::asio::awaitable<Expected<tracker::udp::Response, std::string>> request(
      std::string url, std::variant<tracker::udp::AnnounceRequest, std::vector<Sha1Digest>> request,
      tracker::udp::ConnectionCache& cache, UdpTrackerOptions options);

  std::size_t pending() const { return waiters_.size(); }

 private:
  // A request waiting for its reply: woken by cancelling its timer.
  struct Waiter {
    boost::asio::steady_timer* wake;
    std::vector<std::uint8_t>* packet;
    bool* arrived;
    std::error_code* unreachable;  // set (and woken) when ICMP says the tracker cannot be reached
  };
  void on_packet(std::span<const std::uint8_t> packet, const Endpoint& from);
  void on_unreachable(const Endpoint& to, std::error_code error);

  UdpMux& mux_;
  std::map<std::pair<Endpoint, std::uint32_t>, Waiter> waiters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace shoal::net
