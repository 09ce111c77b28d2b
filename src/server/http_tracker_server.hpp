// The HTTP tracker front end: GET /announce (BEP 3, compact BEP 23 and IPv6 peers6 BEP 7), GET /scrape
// (BEP 48; a scrape without info_hash is refused rather than dumping every torrent) and GET /stats. One Asio
// thread; requests are small and bounded (headers capped, no body), connections time out, and at most
// max_connections are open at once (more are accepted and closed at once, so the backlog never holds them).
// When the process is out of descriptors (EMFILE/ENFILE), accepting pauses for kAcceptBackoff instead of
// spinning on a listen socket that stays readable.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "server/tracker_state.hpp"
#include "shoal/endpoint.hpp"
#include "shoal/expected.hpp"
#include "tracker/ip_rate_limiter.hpp"

namespace shoal::server {

class HttpTrackerServer {
 public:
  static constexpr std::size_t kMaxConnections = 512;
  static constexpr std::chrono::milliseconds kAcceptBackoff{100};

  // max_requests_per_ip: per second per address (0 = unlimited); over it, requests get a failure reason.
  HttpTrackerServer(TrackerState& state, Endpoint bind, std::uint32_t max_requests_per_ip = 0,
                    std::size_t max_connections = kMaxConnections);
  ~HttpTrackerServer();
  HttpTrackerServer(const HttpTrackerServer&) = delete;
  HttpTrackerServer& operator=(const HttpTrackerServer&) = delete;

  Expected<std::uint16_t, std::string> start();
  void stop();

  // The response body for a request target (path and query), with the HTTP status. Public for tests.
  struct Reply {
    unsigned status = 200;
    std::string content_type = "text/plain";
    std::string body;
  };
  Reply respond(std::string_view target, const Endpoint& source);

  // Open connections, counted on the server's thread only.
  struct ConnectionCount {
    std::size_t open = 0;
    std::size_t max = kMaxConnections;
  };

 private:
  TrackerState& state_;
  Endpoint bind_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  tracker::IpRateLimiter limiter_;  // used on the server's one thread only
  ConnectionCount connections_;
};

}  // namespace shoal::server
