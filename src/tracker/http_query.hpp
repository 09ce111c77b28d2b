// The tracker server's side of HTTP announces and scrapes (BEP 3, BEP 23, BEP 48): the request target's
// query string, percent-decoded into fixed-size fields. Sans-I/O; every malformed input is a named error that
// the server turns into a bencoded "failure reason".
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "shoal/digest.hpp"
#include "shoal/expected.hpp"
#include "tracker/swarm_table.hpp"

namespace shoal::tracker {

inline constexpr std::size_t kMaxQueryLength = 8192;
inline constexpr std::size_t kMaxScrapeHashesPerRequest = 64;  // more are ignored: a scrape cannot dump us

struct AnnounceQuery {
  Sha1Digest info_hash;
  std::array<std::uint8_t, 20> peer_id{};
  std::uint16_t port = 0;
  std::int64_t uploaded = 0;
  std::int64_t downloaded = 0;
  std::int64_t left = 0;
  AnnounceKind event = AnnounceKind::regular;
  std::int64_t numwant = -1;
  bool compact = true;  // BEP 23: a client must ask for compact=0 to get dictionaries
  bool no_peer_id = false;
};

struct ScrapeQuery {
  std::vector<Sha1Digest> info_hashes;  // empty: the client asked for everything (refused by the server)
};

enum class QueryError {
  too_long,
  bad_escape,  // % not followed by two hex digits
  missing_info_hash,
  bad_info_hash,  // not 20 bytes after decoding
  bad_peer_id,
  missing_port,
  bad_port,    // not a number, 0, or above 65535
  bad_number,  // uploaded/downloaded/left/numwant not a non-negative integer
  bad_event,
};
const char* describe(QueryError e);

// `query` is the part after '?'. Unknown parameters are ignored (clients send many).
Expected<AnnounceQuery, QueryError> parse_announce_query(std::string_view query);
Expected<ScrapeQuery, QueryError> parse_scrape_query(std::string_view query);

}  // namespace shoal::tracker
