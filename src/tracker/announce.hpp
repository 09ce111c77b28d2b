// HTTP tracker announce (BEP 3) with compact peers (BEP 23) and IPv6 peers (BEP 7): request URL and response
// parsing, with no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "shoal/digest.hpp"
#include "shoal/endpoint.hpp"
#include "shoal/expected.hpp"

namespace shoal::tracker {

inline constexpr std::size_t kMaxPeersPerResponse = 2000;
inline constexpr std::int64_t kDefaultInterval = 1800;
inline constexpr std::int64_t kMinInterval = 10;  // a tracker asking for less is clamped (protects it and us)

enum class AnnounceEvent { none, started, completed, stopped };

struct AnnounceRequest {
  Sha1Digest info_hash;
  std::array<std::uint8_t, 20> peer_id{};
  std::uint16_t port = 0;
  std::int64_t uploaded = 0;
  std::int64_t downloaded = 0;
  std::int64_t left = 0;
  AnnounceEvent event = AnnounceEvent::none;
  int numwant = 50;
  std::optional<std::uint32_t> key;
  std::optional<std::string> tracker_id;
};

struct AnnounceResponse {
  std::int64_t interval = kDefaultInterval;
  std::optional<std::int64_t> min_interval;
  std::optional<std::int64_t> complete;
  std::optional<std::int64_t> incomplete;
  std::vector<Endpoint> peers;
  std::optional<std::string> warning_message;
  std::optional<std::string> tracker_id;
};

enum class Errc { invalid_response = 1, tracker_failure, bad_peers, http_error, unsupported_url };
const std::error_category& error_category() noexcept;
inline std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

struct TrackerError {
  Errc code{};
  std::string detail;  // the tracker's failure reason, the HTTP status, the parse error
  std::string message() const;
};

std::string build_announce_url(std::string_view announce_url, const AnnounceRequest& request);
Expected<AnnounceResponse, TrackerError> parse_announce_response(std::string_view body);

}  // namespace shoal::tracker

template <>
struct std::is_error_code_enum<shoal::tracker::Errc> : std::true_type {};

namespace shoal::tracker {

// BEP 48 scrape: the announce URL with its last path segment's "announce" replaced by "scrape"; nullopt when
// the tracker's URL has no such segment (it does not support scraping).
std::optional<std::string> build_scrape_url(std::string_view announce_url, const Sha1Digest& info_hash);

struct ScrapeCounts {
  std::int64_t seeders = 0;    // "complete"
  std::int64_t leechers = 0;   // "incomplete"
  std::int64_t completed = 0;  // "downloaded"
};
// The entry for `info_hash` in a scrape reply; a tracker that does not know it reports zeros or nothing.
Expected<ScrapeCounts, TrackerError> parse_scrape_response(std::string_view body,
                                                           const Sha1Digest& info_hash);

}  // namespace shoal::tracker
