// HTTP/1.1 GET with Beast for tracker announces and scrapes: http:// and https:// (certificate verified
// against the host name, SNI), at most five redirects (never https to http, never to a loopback or private
// address unless the first URL was on one: tracker/redirect_policy.hpp), gzip bodies inflated within the
// body cap.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <system_error>

#include "shoal/expected.hpp"

namespace shoal::net {

inline constexpr std::size_t kMaxHttpBody = 4 * 1024 * 1024;

struct HttpResponse {
  unsigned status = 0;
  std::string body;
};

struct HttpError {
  std::error_code code;
  std::string detail;
  std::string message() const { return detail.empty() ? code.message() : detail + ": " + code.message(); }
};

boost::asio::awaitable<Expected<HttpResponse, HttpError>> http_get(std::string url,
                                                                   std::chrono::milliseconds timeout);

}  // namespace shoal::net
