#include "net/http_url.hpp"

#include <string_view>

namespace shoal::net {

Expected<ParsedUrl, HttpError> parse_http_url(const std::string& url) {
  ParsedUrl out;
  std::string_view rest;
  if (url.rfind("http://", 0) == 0) {
    rest = std::string_view(url).substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    rest = std::string_view(url).substr(8);
    out.tls = true;
  } else {
    return unexpected(HttpError{std::make_error_code(std::errc::protocol_not_supported),
                                "only http:// and https:// are supported"});
  }
  std::string default_port = out.tls ? "443" : "80";
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return unexpected(url_error("bad host in " + url));
    out.host = std::string(authority.substr(1, close - 1));
    out.port = close + 1 < authority.size() && authority[close + 1] == ':'
                   ? std::string(authority.substr(close + 2))
                   : default_port;
  } else {
    auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    out.port = colon == std::string_view::npos ? default_port : std::string(authority.substr(colon + 1));
  }
  if (out.host.empty() || out.port.empty()) return unexpected(url_error("bad URL " + url));
  return out;
}

}  // namespace shoal::net
