#include "net/http_range_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <cstring>
#include <limits>
#include <vector>

#include "net/asio_endpoint.hpp"
#include "net/http_url.hpp"
#include "shoal/version.hpp"
#include "tracker/redirect_policy.hpp"
#include "webseed/http_range.hpp"

namespace shoal::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;

constexpr std::size_t kChunkBytes = 256 * 1024;  // one socket read at most

HttpError error(beast::error_code ec, std::string detail) {
  return HttpError{ec, std::move(detail)};
}

std::string header(const http::response_header<>& h, http::field f) {
  auto v = h[f];
  return std::string(v.data(), v.size());
}

}  // namespace

struct HttpRangeClient::Connection {
  std::string origin;  // scheme, host and port
  bool reusable = false;
  std::chrono::steady_clock::time_point idle_since{};  // when the last exchange ended
  beast::flat_buffer buffer;
  std::unique_ptr<ssl::context> context;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;

  beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*tls); }
};

HttpRangeClient::HttpRangeClient(asio::any_io_executor executor)
    : executor_(std::move(executor)), chunk_(kChunkBytes) {}

HttpRangeClient::~HttpRangeClient() = default;

void HttpRangeClient::close() {
  if (!connection_) return;
  beast::error_code ignored;
  connection_->lowest().socket().close(ignored);
  connection_->reusable = false;
}

void HttpRangeClient::close_if_idle() {
  if (connection_ && connection_->reusable &&
      std::chrono::steady_clock::now() - connection_->idle_since > kMaxIdle)
    close();
}

asio::awaitable<std::optional<HttpError>> HttpRangeClient::connect(const webseed::Request& request,
                                                                   const std::string& host,
                                                                   const std::string& port, bool tls,
                                                                   std::chrono::milliseconds timeout) {
  auto token = asio::as_tuple(asio::use_awaitable);
  asio::ip::tcp::resolver resolver(executor_);
  auto [resolve_ec, endpoints] = co_await resolver.async_resolve(host, port, token);
  if (resolve_ec) co_return error(resolve_ec, "cannot resolve " + host);
  std::vector<Endpoint> addresses;
  for (const auto& entry : endpoints)
    addresses.push_back(to_endpoint(entry.endpoint()));
  if (request.redirects == 0) {
    origin_local_ = false;
    for (const auto& a : addresses)
      origin_local_ = origin_local_ || tracker::is_local_address(a);
  } else if (auto why =
                 tracker::check_redirect({request.from_https, request.url, origin_local_, addresses})) {
    co_return HttpError{std::make_error_code(std::errc::permission_denied), *why};
  }
  auto c = std::make_unique<Connection>();
  c->origin = std::string(tls ? "https://" : "http://") + host + ":" + port;
  if (!tls) {
    c->plain.emplace(executor_);
  } else {
    c->context = std::make_unique<ssl::context>(ssl::context::tls_client);
    c->context->set_default_verify_paths();
    c->context->set_verify_mode(ssl::verify_peer);
    c->tls.emplace(executor_, *c->context);
    c->tls->set_verify_callback(ssl::host_name_verification(host));
    // OpenSSL's SSL_set_tlsext_host_name macro, spelled without its C casts.
    if (SSL_ctrl(c->tls->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(host.c_str())) != 1)
      co_return url_error("bad TLS host name " + host);
  }
  c->lowest().expires_after(timeout);
  auto [connect_ec, connected] = co_await c->lowest().async_connect(endpoints, token);
  if (connect_ec) co_return error(connect_ec, "cannot connect to " + host);
  if (tls) {
    c->lowest().expires_after(timeout);
    auto [handshake_ec] = co_await c->tls->async_handshake(ssl::stream_base::client, token);
    if (handshake_ec) co_return error(handshake_ec, "TLS handshake with " + host);
  }
  connection_ = std::move(c);
  co_return std::nullopt;
}

namespace {

template <class Stream>
asio::awaitable<std::optional<HttpError>> exchange(
    Stream& stream, beast::tcp_stream& lowest, beast::flat_buffer& buffer, bool& reusable, bool& answered,
    const ParsedUrl& url, const webseed::Request& request, std::chrono::milliseconds timeout,
    const HttpRangeClient::OnHead& on_head, const HttpRangeClient::OnBody& on_body,
    const HttpRangeClient::Throttle& throttle, std::vector<std::uint8_t>& chunk) {
  auto token = asio::as_tuple(asio::use_awaitable);
  http::request<http::empty_body> req{http::verb::get, url.target, 11};
  // With the port unless it is the scheme's: servers build absolute redirects from it.
  std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  if (url.port != (url.tls ? "443" : "80")) host += ":" + url.port;
  req.set(http::field::host, host);
  req.set(http::field::user_agent, "Shoal/" + std::string(shoal::version()));
  req.set(http::field::range, webseed::range_header(request.first, request.last));
  req.keep_alive(true);
  lowest.expires_after(timeout);
  auto [write_ec, written] = co_await http::async_write(stream, req, token);
  if (write_ec) co_return error(write_ec, "sending request");

  http::response_parser<http::buffer_body> parser;
  // The body's size is the web seed's to judge (from the asked range), never the server's to impose.
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  lowest.expires_after(timeout);
  auto [head_ec, head_read] = co_await http::async_read_header(stream, buffer, parser, token);
  if (head_ec) co_return error(head_ec, "reading response head");
  answered = true;
  const auto& res = parser.get();
  webseed::ResponseHead head;
  head.status = res.result_int();
  if (auto length = parser.content_length(); length && *length <= std::uint64_t{1} << 62)
    head.content_length = static_cast<std::int64_t>(*length);
  head.content_range = header(res, http::field::content_range);
  head.content_encoding = header(res, http::field::content_encoding);
  head.location = header(res, http::field::location);
  head.retry_after = header(res, http::field::retry_after);
  auto decision = on_head(head);
  if (decision.verdict != webseed::HeadVerdict::read_body) {
    reusable = parser.is_done() && parser.keep_alive();
    co_return std::nullopt;
  }
  std::int64_t wanted = decision.expect;
  // A body of known length (every 206): read straight from the socket, a chunk at a time (the bytes the
  // head's read took come first). Through the parser, the body would come in its buffer's small reads and be
  // copied once more.
  if (auto length = parser.content_length(); length && *length <= std::uint64_t{1} << 62) {
    auto left = static_cast<std::int64_t>(*length);
    while (wanted > 0 && left > 0) {
      auto room =
          static_cast<std::size_t>(std::min<std::int64_t>(static_cast<std::int64_t>(chunk.size()), left));
      std::size_t got = 0;
      if (buffer.size() > 0) {
        got = std::min(buffer.size(), room);
        std::memcpy(chunk.data(), buffer.data().data(), got);
        buffer.consume(got);
      } else {
        lowest.expires_after(timeout);
        auto [read_ec, read] = co_await stream.async_read_some(asio::buffer(chunk.data(), room), token);
        if (read == 0) co_return error(read_ec ? read_ec : http::error::partial_message, "reading the body");
        got = read;
      }
      left -= static_cast<std::int64_t>(got);
      wanted = on_body(std::span<const std::uint8_t>(chunk.data(), got));
      if (throttle) co_await throttle(static_cast<std::int64_t>(got));
    }
    if (wanted > 0) co_return url_error("the response ended before the range did");
    reusable = left == 0 && parser.keep_alive();
    co_return std::nullopt;
  }
  while (wanted > 0 && !parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    lowest.expires_after(timeout);
    auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, token);
    if (read_ec == http::error::need_buffer) read_ec = {};
    auto got = chunk.size() - parser.get().body().size;
    if (got > 0) wanted = on_body(std::span<const std::uint8_t>(chunk.data(), got));
    if (got > 0 && throttle) co_await throttle(static_cast<std::int64_t>(got));
    if (read_ec == ssl::error::stream_truncated && wanted == 0) read_ec = {};
    if (read_ec) {
      if (wanted > 0) co_return error(read_ec, "reading the body");
      break;
    }
  }
  if (wanted > 0) co_return url_error("the response ended before the range did");
  reusable = parser.is_done() && parser.keep_alive();
  co_return std::nullopt;
}

}  // namespace

asio::awaitable<std::optional<HttpError>> HttpRangeClient::fetch(const webseed::Request& request,
                                                                 std::chrono::milliseconds timeout,
                                                                 OnHead on_head, OnBody on_body,
                                                                 Throttle throttle) {
  auto url = parse_http_url(request.url);
  if (!url) co_return url.error();
  auto origin = std::string(url->tls ? "https://" : "http://") + url->host + ":" + url->port;
  // A kept-alive connection the server closed while idle fails before any answer: then once more afresh.
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = connection_ && connection_->reusable && connection_->origin == origin &&
                  std::chrono::steady_clock::now() - connection_->idle_since <= kMaxIdle;
    if (!reused) {
      connection_.reset();
      if (auto failed = co_await connect(request, url->host, url->port, url->tls, timeout)) co_return failed;
    }
    auto& c = *connection_;
    c.reusable = false;
    bool answered = false;
    std::optional<HttpError> result;
    if (c.plain) {
      result = co_await exchange(*c.plain, c.lowest(), c.buffer, c.reusable, answered, *url, request, timeout,
                                 on_head, on_body, throttle, chunk_);
    } else {
      result = co_await exchange(*c.tls, c.lowest(), c.buffer, c.reusable, answered, *url, request, timeout,
                                 on_head, on_body, throttle, chunk_);
    }
    if (result && reused && !answered) continue;
    if (!connection_->reusable) close();
    connection_->idle_since = std::chrono::steady_clock::now();
    co_return result;
  }
  co_return url_error("no answer");
}

}  // namespace shoal::net
