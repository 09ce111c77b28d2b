#include "webseed/http_range.hpp"

#include <charconv>
#include <limits>

#include "common/blank_trim.hpp"

namespace shoal::webseed {
namespace {

// Decimal digits only (no sign, no spaces), within int64.
std::optional<std::int64_t> number(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size() || value < 0) return std::nullopt;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return value;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

std::optional<ContentRange> parse_content_range(std::string_view value) {
  value = trim_blanks(value);
  auto space = value.find(' ');
  if (space == std::string_view::npos || !iequals(value.substr(0, space), "bytes")) return std::nullopt;
  auto rest = trim_blanks(value.substr(space + 1));
  auto dash = rest.find('-');
  auto slash = rest.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) return std::nullopt;
  auto first = number(rest.substr(0, dash));
  auto last = number(rest.substr(dash + 1, slash - dash - 1));
  if (!first || !last || *last < *first) return std::nullopt;
  ContentRange out{*first, *last, std::nullopt};
  auto total = rest.substr(slash + 1);
  if (total != "*") {
    out.total = number(total);
    if (!out.total || *out.total <= *last) return std::nullopt;
  }
  return out;
}

std::optional<std::int64_t> parse_retry_after(std::string_view value) {
  return number(trim_blanks(value));
}

std::string range_header(std::int64_t first, std::int64_t last) {
  return "bytes=" + std::to_string(first) + "-" + std::to_string(last);
}

}  // namespace shoal::webseed
