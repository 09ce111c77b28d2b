#include "tracker/http_query.hpp"

#include <charconv>
#include <cstring>

namespace shoal::tracker {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes into `out`, at most out.size() bytes; returns the decoded length or nullopt on a bad escape
// or an over-long value (which no fixed-size field could take anyway).
std::optional<std::size_t> decode_into(std::string_view in, std::span<std::uint8_t> out) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (n == out.size()) return out.size() + 1;  // too long: the caller sees a wrong length
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      int hi = hex_digit(in[i + 1]), lo = hex_digit(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out[n++] = static_cast<std::uint8_t>(hi * 16 + lo);
      i += 2;
    } else if (c == '+') {
      out[n++] = ' ';
    } else {
      out[n++] = static_cast<std::uint8_t>(c);
    }
  }
  return n;
}

std::optional<std::int64_t> number(std::string_view v) {
  std::int64_t x = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (ec != std::errc{} || end != v.data() + v.size() || x < 0) return std::nullopt;
  return x;
}

// Calls f(key, value) for each key=value pair of the query.
template <class F>
bool for_each_param(std::string_view query, F&& f) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (!f(key, value)) return false;
  }
  return true;
}

}  // namespace

const char* describe(QueryError e) {
  switch (e) {
    case QueryError::too_long:
      return "request too long";
    case QueryError::bad_escape:
      return "malformed percent-escape";
    case QueryError::missing_info_hash:
      return "missing info_hash";
    case QueryError::bad_info_hash:
      return "invalid info_hash (must be 20 bytes)";
    case QueryError::bad_peer_id:
      return "invalid peer_id (must be 20 bytes)";
    case QueryError::missing_port:
      return "missing port";
    case QueryError::bad_port:
      return "invalid port";
    case QueryError::bad_number:
      return "invalid number";
    case QueryError::bad_event:
      return "invalid event";
  }
  return "invalid request";
}

Expected<AnnounceQuery, QueryError> parse_announce_query(std::string_view query) {
  if (query.size() > kMaxQueryLength) return unexpected(QueryError::too_long);
  AnnounceQuery q;
  bool have_hash = false, have_port = false;
  std::optional<QueryError> error;
  for_each_param(query, [&](std::string_view key, std::string_view value) {
    auto fail = [&](QueryError e) {
      error = e;
      return false;
    };
    if (key == "info_hash") {
      auto n = decode_into(value, q.info_hash.bytes);
      if (!n) return fail(QueryError::bad_escape);
      if (*n != 20) return fail(QueryError::bad_info_hash);
      have_hash = true;
    } else if (key == "peer_id") {
      auto n = decode_into(value, q.peer_id);
      if (!n) return fail(QueryError::bad_escape);
      if (*n != 20) return fail(QueryError::bad_peer_id);
    } else if (key == "port") {
      auto p = number(value);
      if (!p || *p == 0 || *p > 65535) return fail(QueryError::bad_port);
      q.port = static_cast<std::uint16_t>(*p);
      have_port = true;
    } else if (key == "uploaded" || key == "downloaded" || key == "left" || key == "numwant") {
      auto x = number(value);
      if (!x) return fail(QueryError::bad_number);
      (key == "uploaded"     ? q.uploaded
       : key == "downloaded" ? q.downloaded
       : key == "left"       ? q.left
                             : q.numwant) = *x;
    } else if (key == "event") {
      if (value == "started") {
        q.event = AnnounceKind::started;
      } else if (value == "completed") {
        q.event = AnnounceKind::completed;
      } else if (value == "stopped") {
        q.event = AnnounceKind::stopped;
      } else if (value.empty() || value == "empty" || value == "paused") {
        q.event = AnnounceKind::regular;
      } else {
        return fail(QueryError::bad_event);
      }
    } else if (key == "compact") {
      q.compact = value != "0";
    } else if (key == "no_peer_id") {
      q.no_peer_id = value == "1";
    }
    return true;
  });
  if (error) return unexpected(*error);
  if (!have_hash) return unexpected(QueryError::missing_info_hash);
  if (!have_port) return unexpected(QueryError::missing_port);
  return q;
}

Expected<ScrapeQuery, QueryError> parse_scrape_query(std::string_view query) {
  if (query.size() > kMaxQueryLength) return unexpected(QueryError::too_long);
  ScrapeQuery q;
  std::optional<QueryError> error;
  for_each_param(query, [&](std::string_view key, std::string_view value) {
    if (key != "info_hash") return true;
    Sha1Digest d;
    auto n = decode_into(value, d.bytes);
    if (!n) {
      error = QueryError::bad_escape;
      return false;
    }
    if (*n != 20) {
      error = QueryError::bad_info_hash;
      return false;
    }
    if (q.info_hashes.size() < kMaxScrapeHashesPerRequest) q.info_hashes.push_back(d);
    return true;
  });
  if (error) return unexpected(*error);
  return q;
}

}  // namespace shoal::tracker
