#include "lsd/lsd_message.hpp"

#include <algorithm>
#include <cassert>

#include "common/blank_trim.hpp"

namespace shoal::lsd {
namespace {

constexpr std::string_view kRequestLine = "BT-SEARCH * HTTP/1.1";

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

// Header lines carry text only: a control character (a stray CR included) means the packet is not what it
// claims to be.
bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

bool valid_cookie(std::string_view c) {
  return !c.empty() && c.size() <= kMaxCookieSize && std::all_of(c.begin(), c.end(), [](char ch) {
    auto u = static_cast<unsigned char>(ch);
    return u > 0x20 && u < 0x7f;
  });
}

std::optional<std::uint16_t> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  std::uint32_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (value == 0 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

std::optional<Group> parse_host(std::string_view s) {
  if (iequals(s, host_header(Group::v4))) return Group::v4;
  if (iequals(s, host_header(Group::v6))) return Group::v6;
  return std::nullopt;
}

// Splits the packet into lines ending in LF (a CR before it is dropped). Returns false at the end of the
// data; `terminated` tells whether the last line had its LF.
struct LineReader {
  std::string_view rest;
  bool next(std::string_view& line, bool& terminated) {
    if (rest.empty()) return false;
    auto nl = rest.find('\n');
    terminated = nl != std::string_view::npos;
    line = rest.substr(0, terminated ? nl : rest.size());
    rest.remove_prefix(terminated ? nl + 1 : rest.size());
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return true;
  }
};

}  // namespace

bool is_group_address(const Endpoint& e) {
  static const Endpoint v4 = *Endpoint::parse(std::string(kGroupV4) + ":" + std::to_string(kGroupPort));
  static const Endpoint v6 =
      *Endpoint::parse("[" + std::string(kGroupV6) + "]:" + std::to_string(kGroupPort));
  const Endpoint& group = e.v6 ? v6 : v4;
  return e.address == group.address;
}

std::string host_header(Group group) {
  return group == Group::v4 ? std::string(kGroupV4) + ":" + std::to_string(kGroupPort)
                            : "[" + std::string(kGroupV6) + "]:" + std::to_string(kGroupPort);
}

std::string encode(const Announce& announce) {
  assert(!announce.info_hashes.empty() && announce.info_hashes.size() <= kMaxInfoHashes);
  assert(announce.port != 0);
  assert(!announce.cookie || valid_cookie(*announce.cookie));
  std::string out;
  out.reserve(kMaxPacketSize);
  out += kRequestLine;
  out += "\r\nHost: ";
  out += host_header(announce.group);
  out += "\r\nPort: ";
  out += std::to_string(announce.port);
  out += "\r\n";
  for (const auto& ih : announce.info_hashes) {
    out += "Infohash: ";
    out += ih.to_hex();
    out += "\r\n";
  }
  if (announce.cookie) {
    out += "cookie: ";
    out += *announce.cookie;
    out += "\r\n";
  }
  // The BEP's example ends with two empty lines; libtorrent sends the same. One is enough to parse.
  out += "\r\n\r\n";
  assert(out.size() <= kMaxPacketSize);
  return out;
}

std::vector<Announce> pack(Group group, std::uint16_t port, const std::vector<Sha1Digest>& info_hashes,
                           const std::optional<std::string>& cookie) {
  std::vector<Announce> out;
  for (std::size_t i = 0; i < info_hashes.size(); i += kMaxInfoHashes) {
    Announce a;
    a.group = group;
    a.port = port;
    a.cookie = cookie;
    auto end = std::min(info_hashes.size(), i + kMaxInfoHashes);
    a.info_hashes.assign(info_hashes.begin() + static_cast<std::ptrdiff_t>(i),
                         info_hashes.begin() + static_cast<std::ptrdiff_t>(end));
    out.push_back(std::move(a));
  }
  return out;
}

Expected<Announce, Errc> decode(std::string_view packet) {
  if (packet.size() > kMaxPacketSize) return unexpected(Errc::packet_too_large);
  LineReader lines{packet};
  std::string_view line;
  bool terminated = false;
  if (!lines.next(line, terminated) || !terminated || !iequals(trim_blanks(line), kRequestLine))
    return unexpected(Errc::not_bt_search);

  Announce out;
  std::optional<Group> group;
  std::optional<std::uint16_t> port;
  bool ended = false;
  while (lines.next(line, terminated)) {
    if (line.empty() && terminated) {
      ended = true;  // whatever follows the empty line (the BEP's second one, padding) is not ours to judge
      break;
    }
    if (!terminated) break;  // a header cut off by the end of the datagram
    if (has_control(line)) return unexpected(Errc::malformed_header);
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return unexpected(Errc::malformed_header);
    auto name = line.substr(0, colon);
    auto value = trim_blanks(line.substr(colon + 1));
    if (name.find_first_of(" \t") != std::string_view::npos) return unexpected(Errc::malformed_header);
    if (iequals(name, "host")) {
      if (group) return unexpected(Errc::duplicate_header);
      group = parse_host(value);
      if (!group) return unexpected(Errc::unknown_host);
    } else if (iequals(name, "port")) {
      if (port) return unexpected(Errc::duplicate_header);
      port = parse_port(value);
      if (!port) return unexpected(Errc::bad_port);
    } else if (iequals(name, "infohash")) {
      auto ih = Sha1Digest::from_hex(value);
      if (!ih) return unexpected(Errc::bad_info_hash);
      if (std::find(out.info_hashes.begin(), out.info_hashes.end(), *ih) != out.info_hashes.end()) continue;
      if (out.info_hashes.size() == kMaxInfoHashes) return unexpected(Errc::too_many_info_hashes);
      out.info_hashes.push_back(*ih);
    } else if (iequals(name, "cookie")) {
      if (out.cookie) return unexpected(Errc::duplicate_header);
      if (!valid_cookie(value)) return unexpected(Errc::bad_cookie);
      out.cookie = std::string(value);
    }
    // Any other header is someone's extension: ignored.
  }
  if (!ended) return unexpected(Errc::unterminated);
  if (!group) return unexpected(Errc::missing_host);
  if (!port) return unexpected(Errc::missing_port);
  if (out.info_hashes.empty()) return unexpected(Errc::missing_info_hash);
  out.group = *group;
  out.port = *port;
  return out;
}

}  // namespace shoal::lsd
