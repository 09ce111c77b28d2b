// BEP 11 ut_pex: peers a neighbour tells us it is connected to, and the ones it dropped since its last
// message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shoal/endpoint.hpp"
#include "shoal/expected.hpp"
#include "wire/wire_error.hpp"

namespace shoal::wire {

// BEP 11: at most 50 added and 50 dropped peers per message, at most one message a minute.
inline constexpr std::size_t kMaxPexPeersPerMessage = 50;
// What we read from a peer that sends more than that: the rest is ignored rather than treated as an error
// (some clients send up to 200), and nothing larger than this is ever kept.
inline constexpr std::size_t kMaxPexPeersAccepted = 200;

struct PexFlags {
  static constexpr std::uint8_t prefers_encryption = 0x01;
  static constexpr std::uint8_t seed = 0x02;
  static constexpr std::uint8_t utp = 0x04;
  static constexpr std::uint8_t holepunch = 0x08;
  static constexpr std::uint8_t reachable = 0x10;  // connectable: we connected to it
};

struct PexPeer {
  Endpoint endpoint;
  std::uint8_t flags = 0;
  auto operator<=>(const PexPeer&) const = default;
};

struct PexMessage {
  std::vector<PexPeer> added;  // IPv4 and IPv6 together; encoded as added/added6
  std::vector<Endpoint> dropped;
};

// Lists longer than kMaxPexPeersPerMessage are the caller's mistake; encode writes what it is given.
std::string encode_pex(const PexMessage& message);
// Compact lists whose length is not a multiple of 6 (v4) or 18 (v6), or a payload that is not a dictionary,
// are errors. Entries with port 0 are skipped; entries beyond kMaxPexPeersAccepted per list are ignored.
Expected<PexMessage, WireError> decode_pex(std::string_view payload);

}  // namespace shoal::wire
