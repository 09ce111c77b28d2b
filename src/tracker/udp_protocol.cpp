#include "tracker/udp_protocol.hpp"

#include <algorithm>
#include <cstring>

namespace shoal::tracker::udp {
namespace {

std::uint32_t get32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
std::uint64_t get64(const std::uint8_t* p) {
  return (std::uint64_t{get32(p)} << 32) | get32(p + 4);
}
void put32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}
void put64(std::uint8_t* p, std::uint64_t v) {
  put32(p, static_cast<std::uint32_t>(v >> 32));
  put32(p + 4, static_cast<std::uint32_t>(v));
}

}  // namespace

ParsedRequest parse_request(std::span<const std::uint8_t> packet) {
  ParsedRequest out;
  if (packet.size() < kConnectRequestSize) {
    out.error = ParseError::too_short;
    return out;
  }
  const std::uint8_t* p = packet.data();
  std::uint64_t connection_id = get64(p);
  std::uint32_t action = get32(p + 8);
  out.transaction_id = get32(p + 12);
  switch (action) {
    case static_cast<std::uint32_t>(Action::connect):
      if (connection_id != kProtocolMagic) {
        out.error = ParseError::bad_magic;
      } else {
        out.request = ConnectRequest{out.transaction_id};
      }
      return out;
    case static_cast<std::uint32_t>(Action::announce): {
      if (packet.size() < kAnnounceRequestSize) {
        out.error = ParseError::too_short;
        return out;
      }
      AnnounceRequest a;
      a.connection_id = connection_id;
      a.transaction_id = out.transaction_id;
      std::memcpy(a.info_hash.bytes.data(), p + 16, 20);
      std::memcpy(a.peer_id.data(), p + 36, 20);
      a.downloaded = static_cast<std::int64_t>(get64(p + 56));
      a.left = static_cast<std::int64_t>(get64(p + 64));
      a.uploaded = static_cast<std::int64_t>(get64(p + 72));
      std::uint32_t event = get32(p + 80);
      if (event > 3) {
        out.error = ParseError::bad_event;
        return out;
      }
      a.event = static_cast<Event>(event);
      a.ip = get32(p + 84);
      a.key = get32(p + 88);
      a.num_want = static_cast<std::int32_t>(get32(p + 92));
      a.port = static_cast<std::uint16_t>((p[96] << 8) | p[97]);
      out.request = a;
      return out;
    }
    case static_cast<std::uint32_t>(Action::scrape): {
      ScrapeRequest s;
      s.connection_id = connection_id;
      s.transaction_id = out.transaction_id;
      std::size_t n = std::min((packet.size() - kScrapeHeaderSize) / 20, kMaxScrapeHashes);
      s.hashes = packet.subspan(kScrapeHeaderSize, n * 20);
      out.request = s;
      return out;
    }
    default:
      out.error = ParseError::unknown_action;
      return out;
  }
}

std::size_t write_connect_response(std::span<std::uint8_t> out, std::uint32_t transaction_id,
                                   std::uint64_t connection_id) {
  put32(out.data(), static_cast<std::uint32_t>(Action::connect));
  put32(out.data() + 4, transaction_id);
  put64(out.data() + 8, connection_id);
  return 16;
}

std::size_t write_announce_header(std::span<std::uint8_t> out, const AnnounceReplyHeader& h) {
  put32(out.data(), static_cast<std::uint32_t>(Action::announce));
  put32(out.data() + 4, h.transaction_id);
  put32(out.data() + 8, h.interval);
  put32(out.data() + 12, h.leechers);
  put32(out.data() + 16, h.seeders);
  return kAnnounceHeaderSize;
}

std::size_t write_scrape_header(std::span<std::uint8_t> out, std::uint32_t transaction_id) {
  put32(out.data(), static_cast<std::uint32_t>(Action::scrape));
  put32(out.data() + 4, transaction_id);
  return 8;
}

std::size_t write_scrape_entry(std::span<std::uint8_t> out, std::uint32_t seeders, std::uint32_t completed,
                               std::uint32_t leechers) {
  put32(out.data(), seeders);
  put32(out.data() + 4, completed);
  put32(out.data() + 8, leechers);
  return 12;
}

std::size_t write_error(std::span<std::uint8_t> out, std::uint32_t transaction_id, std::string_view message) {
  put32(out.data(), static_cast<std::uint32_t>(Action::error));
  put32(out.data() + 4, transaction_id);
  std::size_t n = std::min(message.size(), out.size() - 8);
  std::memcpy(out.data() + 8, message.data(), n);
  return 8 + n;
}

std::array<std::uint8_t, kConnectRequestSize> encode_connect(std::uint32_t transaction_id) {
  std::array<std::uint8_t, kConnectRequestSize> out{};
  put64(out.data(), kProtocolMagic);
  put32(out.data() + 8, static_cast<std::uint32_t>(Action::connect));
  put32(out.data() + 12, transaction_id);
  return out;
}

std::array<std::uint8_t, kAnnounceRequestSize> encode_announce(const AnnounceRequest& a) {
  std::array<std::uint8_t, kAnnounceRequestSize> out{};
  std::uint8_t* p = out.data();
  put64(p, a.connection_id);
  put32(p + 8, static_cast<std::uint32_t>(Action::announce));
  put32(p + 12, a.transaction_id);
  std::memcpy(p + 16, a.info_hash.bytes.data(), 20);
  std::memcpy(p + 36, a.peer_id.data(), 20);
  put64(p + 56, static_cast<std::uint64_t>(a.downloaded));
  put64(p + 64, static_cast<std::uint64_t>(a.left));
  put64(p + 72, static_cast<std::uint64_t>(a.uploaded));
  put32(p + 80, static_cast<std::uint32_t>(a.event));
  put32(p + 84, a.ip);
  put32(p + 88, a.key);
  put32(p + 92, static_cast<std::uint32_t>(a.num_want));
  p[96] = static_cast<std::uint8_t>(a.port >> 8);
  p[97] = static_cast<std::uint8_t>(a.port);
  return out;
}

std::vector<std::uint8_t> encode_scrape(std::uint64_t connection_id, std::uint32_t transaction_id,
                                        std::span<const Sha1Digest> hashes) {
  std::size_t n = std::min(hashes.size(), kMaxScrapeHashes);
  std::vector<std::uint8_t> out(kScrapeHeaderSize + 20 * n);
  put64(out.data(), connection_id);
  put32(out.data() + 8, static_cast<std::uint32_t>(Action::scrape));
  put32(out.data() + 12, transaction_id);
  for (std::size_t i = 0; i < n; ++i)
    std::memcpy(out.data() + kScrapeHeaderSize + 20 * i, hashes[i].bytes.data(), 20);
  return out;
}

std::optional<Response> parse_response(std::span<const std::uint8_t> packet, std::uint32_t transaction_id,
                                       Action expected, bool v6_peers) {
  if (packet.size() < 8) return std::nullopt;
  const std::uint8_t* p = packet.data();
  std::uint32_t action = get32(p);
  if (get32(p + 4) != transaction_id) return std::nullopt;
  if (action == static_cast<std::uint32_t>(Action::error)) {
    return ErrorResponse{std::string(reinterpret_cast<const char*>(p + 8), packet.size() - 8)};
  }
  if (action != static_cast<std::uint32_t>(expected)) return std::nullopt;
  switch (expected) {
    case Action::connect:
      if (packet.size() < 16) return std::nullopt;
      return ConnectResponse{get64(p + 8)};
    case Action::announce: {
      if (packet.size() < kAnnounceHeaderSize) return std::nullopt;
      AnnounceResponse r;
      r.interval = get32(p + 8);
      r.leechers = get32(p + 12);
      r.seeders = get32(p + 16);
      std::size_t stride = v6_peers ? 18 : 6;
      std::size_t body = packet.size() - kAnnounceHeaderSize;
      if (body % stride != 0) return std::nullopt;
      for (std::size_t off = kAnnounceHeaderSize; off < packet.size(); off += stride) {
        auto e = Endpoint::from_compact(packet.subspan(off, stride));
        if (e && e->port != 0) r.peers.push_back(*e);
      }
      return r;
    }
    case Action::scrape: {
      if ((packet.size() - 8) % 12 != 0) return std::nullopt;
      ScrapeResponse r;
      for (std::size_t off = 8; off < packet.size(); off += 12)
        r.entries.push_back({get32(p + off), get32(p + off + 4), get32(p + off + 8)});
      return r;
    }
    case Action::error:
      break;
  }
  return std::nullopt;
}

}  // namespace shoal::tracker::udp
