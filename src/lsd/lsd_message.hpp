// The Local Service Discovery announce (BEP 14): an HTTP-like request multicast to a well-known group,
//
//   BT-SEARCH * HTTP/1.1\r\n
//   Host: 239.192.152.143:6771\r\n        (or [ff15::efc0:988f]:6771 on IPv6)
//   Port: 6881\r\n                        (the sender's BitTorrent listen port)
//   Infohash: <40 hex digits>\r\n         (one or more, consecutive)
//   cookie: <opaque token>\r\n            (optional; lets a sender recognise its own looped-back packets)
//   \r\n
//
// Pure encode/decode, no sockets. Decoding is strict about what matters (sizes, port, hashes) and lenient
// about what other clients vary (LF-only line ends, header name case, unknown headers, bytes after the
// empty line).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lsd/lsd_error.hpp"
#include "shoal/digest.hpp"
#include "shoal/endpoint.hpp"
#include "shoal/expected.hpp"

namespace shoal::lsd {

// Limits, named once. BEP 14 asks senders to stay under 1400 bytes (no IP fragmentation on common MTUs);
// 24 info-hashes with the longest Host and cookie fit in that, so the encoder never needs to split further.
inline constexpr std::size_t kMaxPacketSize = 1400;
inline constexpr std::size_t kMaxInfoHashes = 24;
inline constexpr std::size_t kMaxCookieSize = 64;
inline constexpr std::uint16_t kGroupPort = 6771;
inline constexpr std::string_view kGroupV4 = "239.192.152.143";
inline constexpr std::string_view kGroupV6 = "ff15::efc0:988f";

enum class Group { v4, v6 };
// Whether `e`'s address (the port is ignored) is one of the two LSD groups.
bool is_group_address(const Endpoint& e);

struct Announce {
  Group group = Group::v4;              // from the Host header
  std::uint16_t port = 0;               // 1..65535
  std::vector<Sha1Digest> info_hashes;  // 1..kMaxInfoHashes, duplicates removed, order kept
  std::optional<std::string> cookie;

  bool operator==(const Announce&) const = default;
};

// "239.192.152.143:6771" or "[ff15::efc0:988f]:6771": the Host header for a group.
std::string host_header(Group group);

// Precondition: 1..kMaxInfoHashes hashes, port != 0, cookie (if any) decodes (see Errc::bad_cookie).
// The result is at most kMaxPacketSize bytes.
std::string encode(const Announce& announce);

// Splits any number of info-hashes into as few announces as the per-packet cap allows.
std::vector<Announce> pack(Group group, std::uint16_t port, const std::vector<Sha1Digest>& info_hashes,
                           const std::optional<std::string>& cookie);

Expected<Announce, Errc> decode(std::string_view packet);

}  // namespace shoal::lsd
