// The HTTP tracker front end: GET /announce (BEP 3, compact BEP 23 and IPv6 peers6 BEP 7), GET /scrape
// (BEP 48; a scrape without info_hash is refused rather than dumping every torrent) and GET /stats. One Asio
// thread; requests are small and bounded (headers capped, no body), connections time out.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <string>
#include <thread>

#include "server/tracker_state.hpp"
#include "shoal/endpoint.hpp"
#include "shoal/expected.hpp"
#include "tracker/ip_rate_limiter.hpp"

namespace shoal::server {

class HttpTrackerServer {
 public:
  // max_requests_per_ip: per second per address (0 = unlimited); over it, requests get a failure reason.
  HttpTrackerServer(TrackerState& state, Endpoint bind, std::uint32_t max_requests_per_ip = 0);
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

 private:
  TrackerState& state_;
  Endpoint bind_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  tracker::IpRateLimiter limiter_;  // used on the server's one thread only
};

}  // namespace shoal::server
