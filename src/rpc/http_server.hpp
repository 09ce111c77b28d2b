// The daemon's HTTP front: POST /transmission/rpc (Transmission RPC), GET /metrics (Prometheus text) and the
// web UI's static files from a web root (also under /transmission/web/, where Transmission's own web client
// expects itself). Every request passes the RequestGuard first (Host 421, rate 429, Basic auth 401, CSRF
// session id 409 for the RPC). Requests are bounded (headers, body, open connections, idle time).
//
// Runs on the io_context it is given (the daemon's thread); handlers are called there.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <filesystem>
#include <functional>
#include <string>

#include "rpc/request_guard.hpp"
#include "shoal/expected.hpp"

namespace shoal::rpc {

struct HttpLimits {
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 16 * 1024 * 1024;  // a base64 .torrent of ~12 MB fits
  std::size_t max_connections = 256;
  std::chrono::seconds idle_timeout{30};
};

struct HttpHandlers {
  std::function<std::string(std::string_view body)> rpc;  // request body -> response body (JSON)
  std::function<std::string()> metrics;                   // Prometheus text
  std::filesystem::path web_root;                         // empty: no static files
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpHandlers handlers, RequestGuard& guard, HttpLimits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts accepting. @return the bound endpoint, or why not.
  Expected<boost::asio::ip::tcp::endpoint, std::string> listen(const std::string& address,
                                                               std::uint16_t port);
  void stop();
  void set_web_root(std::filesystem::path root) { handlers_.web_root = std::move(root); }

  // Internal, public for the connection coroutine.
  struct Reply {
    unsigned status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    bool auth_challenge = false;  // 401: add WWW-Authenticate
  };
  Reply respond(const std::string& method, const std::string& target, const RequestFacts& facts,
                std::string body);
  const HttpLimits& limits() const { return limits_; }
  RequestGuard& guard() { return guard_; }
  std::size_t open_connections = 0;

 private:
  boost::asio::io_context& io_;
  HttpHandlers handlers_;
  RequestGuard& guard_;
  HttpLimits limits_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace shoal::rpc
