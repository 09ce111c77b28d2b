// http:// and https:// URLs split into what a connection needs (shared by the tracker HTTP client and the
// web seed range client).
#pragma once

#include <string>

#include "net/http_client.hpp"
#include "shoal/expected.hpp"

namespace shoal::net {

struct ParsedUrl {
  bool tls = false;
  std::string host;    // without brackets for IPv6
  std::string port;    // the scheme's default when absent
  std::string target;  // path and query, "/" when absent
};

inline HttpError url_error(std::string detail) {
  return HttpError{std::make_error_code(std::errc::invalid_argument), std::move(detail)};
}

Expected<ParsedUrl, HttpError> parse_http_url(const std::string& url);

}  // namespace shoal::net
