#include "net/http_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>

#include "shoal/version.hpp"

namespace shoal::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct ParsedUrl {
  std::string host;
  std::string port;
  std::string target;
};

Expected<ParsedUrl, HttpError> parse_http_url(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) {
    return unexpected(
        HttpError{std::make_error_code(std::errc::protocol_not_supported), "only http:// is supported"});
  }
  std::string_view rest = std::string_view(url).substr(kScheme.size());
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  ParsedUrl out;
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return unexpected(HttpError{std::make_error_code(std::errc::invalid_argument), "bad host"});
    out.host = std::string(authority.substr(1, close - 1));
    out.port = close + 2 <= authority.size() && authority.size() > close + 1 && authority[close + 1] == ':'
                   ? std::string(authority.substr(close + 2))
                   : "80";
  } else {
    auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    out.port = colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
  }
  if (out.host.empty() || out.port.empty()) {
    return unexpected(HttpError{std::make_error_code(std::errc::invalid_argument), "bad URL"});
  }
  return out;
}

}  // namespace

asio::awaitable<Expected<HttpResponse, HttpError>> http_get(std::string url,
                                                            std::chrono::milliseconds timeout) {
  auto parsed = parse_http_url(url);
  if (!parsed) co_return unexpected(parsed.error());
  auto executor = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(executor);
  beast::tcp_stream stream(executor);
  auto token = asio::as_tuple(asio::use_awaitable);

  auto [resolve_ec, endpoints] = co_await resolver.async_resolve(parsed->host, parsed->port, token);
  if (resolve_ec) co_return unexpected(HttpError{resolve_ec, "cannot resolve " + parsed->host});
  stream.expires_after(timeout);
  auto [connect_ec, connected] = co_await stream.async_connect(endpoints, token);
  if (connect_ec) co_return unexpected(HttpError{connect_ec, "cannot connect to " + parsed->host});

  http::request<http::empty_body> request{http::verb::get, parsed->target, 11};
  request.set(http::field::host, parsed->host);
  request.set(http::field::user_agent, "Shoal/" + std::string(shoal::version()));
  request.set(http::field::connection, "close");
  stream.expires_after(timeout);
  auto [write_ec, written] = co_await http::async_write(stream, request, token);
  if (write_ec) co_return unexpected(HttpError{write_ec, "sending request"});

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxHttpBody);
  stream.expires_after(timeout);
  auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, token);
  if (read_ec) co_return unexpected(HttpError{read_ec, "reading response"});
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  HttpResponse response;
  response.status = parser.get().result_int();
  response.body = std::move(parser.get().body());
  co_return response;
}

}  // namespace shoal::net
