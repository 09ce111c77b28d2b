#include "net/http_client.hpp"

#include <zlib.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <functional>
#include <span>
#include <vector>

#include "net/asio_endpoint.hpp"
#include "net/http_url.hpp"
#include "shoal/version.hpp"
#include "tracker/redirect_policy.hpp"

namespace shoal::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;

constexpr int kMaxRedirects = 5;

// A Location header, absolute or relative to the URL it came from.
std::string resolve_location(const ParsedUrl& from, std::string_view location) {
  if (location.rfind("http://", 0) == 0 || location.rfind("https://", 0) == 0) return std::string(location);
  std::string base = std::string(from.tls ? "https://" : "http://") +
                     (from.host.find(':') != std::string::npos ? "[" + from.host + "]" : from.host) + ":" +
                     from.port;
  if (!location.empty() && location.front() == '/') return base + std::string(location);
  auto dir = from.target.substr(0, from.target.rfind('/') + 1);
  return base + dir + std::string(location);
}

// gzip body -> plain, refusing to inflate past the body cap (a small bomb stays small).
Expected<std::string, HttpError> gunzip(const std::string& in) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return unexpected(url_error("zlib init"));
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  char chunk[16384];
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof chunk;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      return unexpected(url_error("corrupt gzip body"));
    }
    out.append(chunk, sizeof chunk - z.avail_out);
    if (out.size() > kMaxHttpBody) {
      inflateEnd(&z);
      return unexpected(url_error("gzip body inflates past the size limit"));
    }
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) break;  // truncated input
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END) return unexpected(url_error("truncated gzip body"));
  return out;
}

template <class Stream>
asio::awaitable<Expected<http::response<http::string_body>, HttpError>> exchange(
    Stream& stream, const ParsedUrl& url, std::chrono::milliseconds timeout) {
  auto token = asio::as_tuple(asio::use_awaitable);
  http::request<http::empty_body> request{http::verb::get, url.target, 11};
  request.set(http::field::host, url.host);
  request.set(http::field::user_agent, "Shoal/" + std::string(shoal::version()));
  request.set(http::field::accept_encoding, "gzip");
  request.set(http::field::connection, "close");
  beast::get_lowest_layer(stream).expires_after(timeout);
  auto [write_ec, written] = co_await http::async_write(stream, request, token);
  if (write_ec) co_return unexpected(HttpError{write_ec, "sending request"});
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxHttpBody);
  beast::get_lowest_layer(stream).expires_after(timeout);
  auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, token);
  if (read_ec == ssl::error::stream_truncated && !parser.is_done()) {
    // Many TLS servers close without close_notify; for a body that ends at the close, that close is its end.
    beast::error_code eof_ec;
    parser.put_eof(eof_ec);
    if (!eof_ec && parser.is_done()) co_return parser.release();
  }
  if (read_ec && !parser.is_done()) co_return unexpected(HttpError{read_ec, "reading response"});
  co_return parser.release();
}

HttpError refused(std::string why) {
  return HttpError{std::make_error_code(std::errc::permission_denied), std::move(why)};
}

// Sees the addresses a host resolved to before anything connects; an error stops the request.
using AddressVetting = std::function<std::optional<HttpError>(std::span<const Endpoint>)>;

asio::awaitable<Expected<http::response<http::string_body>, HttpError>> get_once(
    const ParsedUrl& url, std::chrono::milliseconds timeout, const AddressVetting& vet) {
  auto executor = co_await asio::this_coro::executor;
  auto token = asio::as_tuple(asio::use_awaitable);
  asio::ip::tcp::resolver resolver(executor);
  auto [resolve_ec, endpoints] = co_await resolver.async_resolve(url.host, url.port, token);
  if (resolve_ec) co_return unexpected(HttpError{resolve_ec, "cannot resolve " + url.host});
  std::vector<Endpoint> addresses;
  for (const auto& entry : endpoints)
    addresses.push_back(to_endpoint(entry.endpoint()));
  if (auto error = vet(addresses)) co_return unexpected(std::move(*error));
  if (!url.tls) {
    beast::tcp_stream stream(executor);
    stream.expires_after(timeout);
    auto [connect_ec, connected] = co_await stream.async_connect(endpoints, token);
    if (connect_ec) co_return unexpected(HttpError{connect_ec, "cannot connect to " + url.host});
    auto response = co_await exchange(stream, url, timeout);
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    co_return response;
  }
  // TLS with the system's trust store (OpenSSL's default paths; SSL_CERT_FILE/SSL_CERT_DIR override them),
  // the peer's certificate checked against the host name, and SNI.
  ssl::context context(ssl::context::tls_client);
  context.set_default_verify_paths();
  context.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(executor, context);
  stream.set_verify_callback(ssl::host_name_verification(url.host));
  // OpenSSL's SSL_set_tlsext_host_name macro is the SSL_ctrl call below, spelled without its C casts.
  if (SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(url.host.c_str())) != 1) {
    co_return unexpected(HttpError{std::make_error_code(std::errc::invalid_argument), "bad TLS host name"});
  }
  beast::get_lowest_layer(stream).expires_after(timeout);
  auto [connect_ec, connected] = co_await beast::get_lowest_layer(stream).async_connect(endpoints, token);
  if (connect_ec) co_return unexpected(HttpError{connect_ec, "cannot connect to " + url.host});
  beast::get_lowest_layer(stream).expires_after(timeout);
  auto [handshake_ec] = co_await stream.async_handshake(ssl::stream_base::client, token);
  if (handshake_ec) co_return unexpected(HttpError{handshake_ec, "TLS handshake with " + url.host});
  auto response = co_await exchange(stream, url, timeout);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(1));
  co_await stream.async_shutdown(token);  // best effort: many servers just close
  co_return response;
}

}  // namespace

asio::awaitable<Expected<HttpResponse, HttpError>> http_get(std::string url,
                                                            std::chrono::milliseconds timeout) {
  // Redirects follow tracker/redirect_policy: never https to http, never to a local address unless the
  // tracker URL itself was on one.
  bool origin_local = false;
  bool from_https = false;
  for (int redirects = 0;; ++redirects) {
    auto parsed = parse_http_url(url);
    if (!parsed) co_return unexpected(parsed.error());
    AddressVetting vet = [&](std::span<const Endpoint> addresses) -> std::optional<HttpError> {
      if (redirects == 0) {
        for (const auto& a : addresses)
          origin_local = origin_local || tracker::is_local_address(a);
        return std::nullopt;
      }
      if (auto why = tracker::check_redirect({from_https, url, origin_local, addresses}))
        return refused(*why);
      return std::nullopt;
    };
    auto response = co_await get_once(*parsed, timeout, vet);
    if (!response) co_return unexpected(response.error());
    unsigned status = response->result_int();
    if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
      auto location = (*response)[http::field::location];
      if (location.empty()) co_return unexpected(url_error("redirect without a Location"));
      if (redirects >= kMaxRedirects) co_return unexpected(url_error("too many redirects"));
      from_https = parsed->tls;
      url = resolve_location(*parsed, std::string_view(location.data(), location.size()));
      if (auto why = tracker::check_redirect({from_https, url, origin_local, {}}))
        co_return unexpected(refused(*why));
      continue;
    }
    HttpResponse out;
    out.status = status;
    out.body = std::move(response->body());
    auto encoding = (*response)[http::field::content_encoding];
    if (beast::iequals(encoding, "gzip")) {
      auto plain = gunzip(out.body);
      if (!plain) co_return unexpected(plain.error());
      out.body = std::move(*plain);
    }
    co_return out;
  }
}

}  // namespace shoal::net
