// BEP 15 UDP tracker packets, both directions, with no I/O and no allocation on the server's hot path:
// requests parse from a byte span into plain structs, responses encode into a caller's buffer.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "shoal/digest.hpp"
#include "shoal/endpoint.hpp"

namespace shoal::tracker::udp {

inline constexpr std::uint64_t kProtocolMagic = 0x41727101980ULL;
inline constexpr std::size_t kConnectRequestSize = 16;
inline constexpr std::size_t kAnnounceRequestSize = 98;
inline constexpr std::size_t kScrapeHeaderSize = 16;
inline constexpr std::size_t kMaxScrapeHashes = 74;    // BEP 15: about 74 fit one packet
inline constexpr std::size_t kMaxPacketSize = 1500;    // what we send; what we read is capped by the buffer
inline constexpr std::size_t kMaxPeersPerReply = 200;  // (1500 - 20) / 6 rounded down well below the MTU

enum class Action : std::uint32_t { connect = 0, announce = 1, scrape = 2, error = 3 };
enum class Event : std::uint32_t { none = 0, completed = 1, started = 2, stopped = 3 };

struct ConnectRequest {
  std::uint32_t transaction_id = 0;
};
struct AnnounceRequest {
  std::uint64_t connection_id = 0;
  std::uint32_t transaction_id = 0;
  Sha1Digest info_hash;
  std::array<std::uint8_t, 20> peer_id{};
  std::int64_t downloaded = 0;
  std::int64_t left = 0;
  std::int64_t uploaded = 0;
  Event event = Event::none;
  std::uint32_t ip = 0;  // ignored by a server that records source addresses
  std::uint32_t key = 0;
  std::int32_t num_want = -1;
  std::uint16_t port = 0;
};
struct ScrapeRequest {
  std::uint64_t connection_id = 0;
  std::uint32_t transaction_id = 0;
  std::span<const std::uint8_t> hashes;  // 20 bytes each, at most kMaxScrapeHashes (the rest are ignored)
  std::size_t count() const { return hashes.size() / 20; }
};
using Request = std::variant<ConnectRequest, AnnounceRequest, ScrapeRequest>;

enum class ParseError {
  too_short,       // shorter than the smallest request of its action
  bad_magic,       // a connect without the protocol id
  unknown_action,  // not 0, 1 or 2
  bad_event,       // event above 3
};

// A server parses what a client sent. The error says which reply (if any) the server sends: none for
// too_short (the transaction id may not even be there) and bad_magic; an error packet for the rest.
struct ParsedRequest {
  std::optional<Request> request;
  std::optional<ParseError> error;
  std::uint32_t transaction_id = 0;  // valid when the packet had one
};
ParsedRequest parse_request(std::span<const std::uint8_t> packet);

// Server replies into `out` (at least kMaxPacketSize bytes); each returns the bytes written.
std::size_t write_connect_response(std::span<std::uint8_t> out, std::uint32_t transaction_id,
                                   std::uint64_t connection_id);
struct AnnounceReplyHeader {
  std::uint32_t transaction_id = 0;
  std::uint32_t interval = 1800;
  std::uint32_t leechers = 0;
  std::uint32_t seeders = 0;
};
// The header; the caller appends compact peers (6 bytes for IPv4 requests, 18 for IPv6) after it.
std::size_t write_announce_header(std::span<std::uint8_t> out, const AnnounceReplyHeader& header);
inline constexpr std::size_t kAnnounceHeaderSize = 20;
std::size_t write_scrape_header(std::span<std::uint8_t> out, std::uint32_t transaction_id);
// One scrape entry: seeders, completed, leechers (BEP 15's order).
std::size_t write_scrape_entry(std::span<std::uint8_t> out, std::uint32_t seeders, std::uint32_t completed,
                               std::uint32_t leechers);
std::size_t write_error(std::span<std::uint8_t> out, std::uint32_t transaction_id, std::string_view message);

// Client side: requests out, responses in.
std::array<std::uint8_t, kConnectRequestSize> encode_connect(std::uint32_t transaction_id);
std::array<std::uint8_t, kAnnounceRequestSize> encode_announce(const AnnounceRequest& request);
std::vector<std::uint8_t> encode_scrape(std::uint64_t connection_id, std::uint32_t transaction_id,
                                        std::span<const Sha1Digest> hashes);

struct ConnectResponse {
  std::uint64_t connection_id = 0;
};
struct AnnounceResponse {
  std::uint32_t interval = 0;
  std::uint32_t leechers = 0;
  std::uint32_t seeders = 0;
  std::vector<Endpoint> peers;
};
struct ScrapeEntry {
  std::uint32_t seeders = 0;
  std::uint32_t completed = 0;
  std::uint32_t leechers = 0;
};
struct ScrapeResponse {
  std::vector<ScrapeEntry> entries;
};
struct ErrorResponse {
  std::string message;
};
using Response = std::variant<ConnectResponse, AnnounceResponse, ScrapeResponse, ErrorResponse>;

// Parses a server's reply to a request with `transaction_id`; nullopt for anything that is not a well-formed
// reply to it (wrong transaction id, wrong length, unknown action) — the client keeps waiting, as BEP 15
// says. `v6_peers`: the request went over IPv6, so peers are 18 bytes each.
std::optional<Response> parse_response(std::span<const std::uint8_t> packet, std::uint32_t transaction_id,
                                       Action expected, bool v6_peers);

}  // namespace shoal::tracker::udp
