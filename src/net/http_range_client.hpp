// One web seed's HTTP(S) connection (BEP 19): Range GETs on a kept-alive connection (a new one when the
// origin changes, the last answer left it unusable, or it sat idle longer than kMaxIdle; a kept-alive
// connection the server closed meanwhile is found out and replaced once), head and body handed to the
// caller as they come, so
// that the pure webseed::WebSeed judges the head and bounds what is read. https certificates are verified as
// the tracker client does (system store, SSL_CERT_FILE); a redirect hop is vetted once its host resolves,
// by tracker/redirect_policy (never to a local address unless the seed itself was on one).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>

#include "net/http_client.hpp"
#include "webseed/web_seed.hpp"

namespace shoal::net {

class HttpRangeClient {
 public:
  using OnHead = std::function<webseed::HeadDecision(const webseed::ResponseHead&)>;
  // Body bytes; returns how many more are wanted (0: stop reading this response).
  using OnBody = std::function<std::int64_t(std::span<const std::uint8_t>)>;
  // Waited on after each chunk of body bytes (rate limits); may be empty.
  using Throttle = std::function<boost::asio::awaitable<void>(std::int64_t)>;

  explicit HttpRangeClient(boost::asio::any_io_executor executor);
  ~HttpRangeClient();
  HttpRangeClient(const HttpRangeClient&) = delete;
  HttpRangeClient& operator=(const HttpRangeClient&) = delete;

  // One request. nullopt: the exchange ran its course (the handlers saw the head, and the body as far as it
  // was wanted); an error: the transport failed, or the body ended while bytes were still wanted.
  boost::asio::awaitable<std::optional<HttpError>> fetch(const webseed::Request& request,
                                                         std::chrono::milliseconds timeout, OnHead on_head,
                                                         OnBody on_body, Throttle throttle = {});
  // Closes the socket: a fetch in flight ends with an error. Safe at any time on the client's thread.
  void close();
  // Closes a kept-alive connection idle longer than kMaxIdle (the caller has had nothing to ask for a while):
  // the server's connection slot is given back.
  void close_if_idle();

  // Servers drop idle connections after a few seconds (lighttpd and Apache after 5); one dropped just as a
  // request goes out costs a round trip to find out, so an older one is not reused.
  static constexpr std::chrono::seconds kMaxIdle{4};

 private:
  struct Connection;
  boost::asio::awaitable<std::optional<HttpError>> connect(const webseed::Request& request,
                                                           const std::string& host, const std::string& port,
                                                           bool tls, std::chrono::milliseconds timeout);

  boost::asio::any_io_executor executor_;
  std::unique_ptr<Connection> connection_;
  bool origin_local_ = false;  // the seed's own URL resolved to a local address
  std::vector<std::uint8_t> chunk_;
};

}  // namespace shoal::net
