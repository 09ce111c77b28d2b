#include "rpc/http_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <fstream>
#include <sstream>

#include "rpc/static_files.hpp"

namespace shoal::rpc {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
constexpr auto kToken = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kRpcPath = "/transmission/rpc";
constexpr std::uintmax_t kMaxStaticFile = 64 * 1024 * 1024;

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string path_of(const std::string& target) {
  return target.substr(0, target.find_first_of("?#"));
}

std::string header(const http::request<http::string_body>& r, std::string_view name) {
  auto it = r.find(name);
  return it == r.end() ? std::string() : std::string(it->value());
}

// Counts a connection for as long as it is served.
class Slot {
 public:
  explicit Slot(std::size_t& n) : n_(&n) { ++*n_; }
  Slot(Slot&& o) noexcept : n_(std::exchange(o.n_, nullptr)) {}
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;
  Slot& operator=(Slot&&) = delete;
  ~Slot() {
    if (n_) --*n_;
  }

 private:
  std::size_t* n_;
};

http::response<http::string_body> make_response(unsigned version, bool keep_alive, unsigned status,
                                                std::string content_type, std::string body) {
  http::response<http::string_body> res{static_cast<http::status>(status), version};
  res.keep_alive(keep_alive);
  res.set(http::field::server, "Shoal");
  res.set(http::field::content_type, content_type);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "SAMEORIGIN");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

asio::awaitable<void> serve(HttpServer& server, tcp::socket socket, Slot slot) {
  (void)slot;
  boost::system::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  if (ec) co_return;
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(server.limits().max_header_bytes));
    parser.body_limit(server.limits().max_body_bytes);
    stream.expires_after(server.limits().idle_timeout);
    auto [read_ec, n] = co_await http::async_read(stream, buffer, parser, kToken);
    if (read_ec == http::error::body_limit || read_ec == http::error::header_limit) {
      auto res = make_response(11, false, read_ec == http::error::body_limit ? 413 : 431,
                               "text/plain; charset=utf-8", "request too large\n");
      co_await http::async_write(stream, res, kToken);
      co_return;
    }
    if (read_ec) co_return;
    auto request = parser.release();
    RequestFacts facts;
    facts.remote_address = remote.address().to_string();
    facts.host = header(request, "Host");
    facts.authorization = header(request, "Authorization");
    facts.session_id = header(request, "X-Transmission-Session-Id");
    std::string target(request.target());
    auto path = path_of(target);
    // transmission-remote posts to "/transmission/rpc/", the web clients to "/transmission/rpc".
    facts.is_rpc = path == kRpcPath || path == std::string(kRpcPath) + "/";
    auto reply =
        server.respond(std::string(request.method_string()), target, facts, std::move(request.body()));
    auto res = make_response(request.version(), request.keep_alive(), reply.status, reply.content_type,
                             std::move(reply.body));
    if (facts.is_rpc) res.set("X-Transmission-Session-Id", server.guard().session_id());
    if (reply.auth_challenge) res.set(http::field::www_authenticate, "Basic realm=\"Shoal\"");
    auto [write_ec, m] = co_await http::async_write(stream, res, kToken);
    if (write_ec || !res.keep_alive()) co_return;
  }
}

asio::awaitable<void> accept_loop(HttpServer& server, tcp::acceptor& acceptor) {
  asio::steady_timer backoff(acceptor.get_executor());
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kToken);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      backoff.expires_after(std::chrono::milliseconds(100));  // out of descriptors: do not spin
      co_await backoff.async_wait(kToken);
      continue;
    }
    if (server.open_connections >= server.limits().max_connections) {
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    asio::co_spawn(acceptor.get_executor(), serve(server, std::move(socket), Slot(server.open_connections)),
                   asio::detached);
  }
}

}  // namespace

HttpServer::HttpServer(asio::io_context& io, HttpHandlers handlers, RequestGuard& guard, HttpLimits limits)
    : io_(io), handlers_(std::move(handlers)), guard_(guard), limits_(limits), acceptor_(io) {}

HttpServer::~HttpServer() {
  stop();
}

Expected<tcp::endpoint, std::string> HttpServer::listen(const std::string& address, std::uint16_t port) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  if (ec) return unexpected("not an IP address: " + address);
  tcp::endpoint ep(addr, port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor_.close(ec);
    return unexpected("cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
  }
  auto bound = acceptor_.local_endpoint(ec);
  asio::co_spawn(io_, accept_loop(*this, acceptor_), asio::detached);
  return bound;
}

void HttpServer::stop() {
  boost::system::error_code ec;
  acceptor_.close(ec);
}

HttpServer::Reply HttpServer::respond(const std::string& method, const std::string& target,
                                      const RequestFacts& facts, std::string body) {
  auto verdict = guard_.check(facts, steady_ms());
  if (verdict.status != 200) {
    Reply r{static_cast<unsigned>(verdict.status), "text/plain; charset=utf-8", verdict.reason + "\n"};
    r.auth_challenge = verdict.status == 401;
    if (verdict.status == 409) {
      // As Transmission does: the body shows the header to send, for people testing with curl.
      r.content_type = "text/html; charset=utf-8";
      r.body =
          "<h1>409: Conflict</h1><p>Your request had an invalid session-id header.</p>"
          "<p><code>X-Transmission-Session-Id: " +
          guard_.session_id() + "</code></p>";
    }
    return r;
  }
  auto path = path_of(target);
  if (facts.is_rpc) {
    if (method != "POST") return {405, "text/plain; charset=utf-8", "POST a JSON request here\n"};
    return {200, "application/json; charset=UTF-8", handlers_.rpc(body)};
  }
  if (method != "GET" && method != "HEAD") return {405, "text/plain; charset=utf-8", "method not allowed\n"};
  if (path == "/metrics" && handlers_.metrics)
    return {200, "text/plain; version=0.0.4; charset=utf-8", handlers_.metrics()};
  if (path == "/transmission" || path == "/transmission/") path = "/transmission/web/";
  if (handlers_.web_root.empty()) return {404, "text/plain; charset=utf-8", "no web root\n"};
  auto file = static_file(handlers_.web_root, path);
  std::error_code size_ec;
  if (!file || std::filesystem::file_size(*file, size_ec) > kMaxStaticFile || size_ec)
    return {404, "text/plain; charset=utf-8", "not found\n"};
  std::ifstream in(*file, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return {200, content_type(*file), content.str()};
}

}  // namespace shoal::rpc
