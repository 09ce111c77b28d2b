// The few HTTP header values a web seed's answer is judged by: Content-Range, Retry-After and the Range we
// send. Untrusted text in, a value or nullopt out; never an exception.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shoal::webseed {

struct ContentRange {
  std::int64_t first = 0;
  std::int64_t last = 0;              // inclusive
  std::optional<std::int64_t> total;  // "*": unknown
};

// "bytes FIRST-LAST/TOTAL" or "bytes FIRST-LAST/*" (RFC 9110 14.4), case-insensitive unit, no spaces inside
// the numbers. nullopt: malformed, last before first, or a total not beyond last.
std::optional<ContentRange> parse_content_range(std::string_view value);

// Retry-After as delta-seconds (an HTTP-date is not read: the caller falls back to its own backoff).
std::optional<std::int64_t> parse_retry_after(std::string_view value);

// The Range header for bytes [first, last].
std::string range_header(std::int64_t first, std::int64_t last);

}  // namespace shoal::webseed
