#include "magnet/magnet_link.hpp"

#include <algorithm>
#include <charconv>

#include "magnet/base32.hpp"
#include "magnet/uri_codec.hpp"

namespace shoal::magnet {
namespace {

const char* describe(Errc e) {
  switch (e) {
    case Errc::not_a_magnet:
      return "not a magnet link (expected 'magnet:?')";
    case Errc::missing_info_hash:
      return "no info-hash (xt=urn:btih: or xt=urn:btmh:) nor public key (xs=urn:btpk:)";
    case Errc::invalid_info_hash:
      return "invalid info-hash";
    case Errc::unsupported_multihash:
      return "unsupported multihash (only sha2-256 is used by BitTorrent v2)";
    case Errc::conflicting_info_hash:
      return "two different info-hashes";
    case Errc::invalid_percent_encoding:
      return "invalid percent-encoding";
    case Errc::invalid_peer:
      return "invalid peer address (x.pe)";
    case Errc::invalid_select_only:
      return "invalid file selection (so)";
    case Errc::too_long:
      return "magnet link too long";
    case Errc::too_many_parameters:
      return "too many parameters";
    case Errc::invalid_public_key:
      return "invalid public key (xs=urn:btpk: takes 64 hex digits)";
    case Errc::conflicting_public_key:
      return "two different public keys";
    case Errc::invalid_salt:
      return "invalid salt (s= takes hex digits, once)";
    case Errc::salt_too_long:
      return "salt longer than 64 bytes";
    case Errc::salt_without_key:
      return "salt (s=) without a public key (xs=urn:btpk:)";
  }
  return "invalid magnet link";
}

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "shoal.magnet"; }
  std::string message(int ev) const override { return describe(static_cast<Errc>(ev)); }
};

Unexpected<MagnetError> error(Errc code, std::string_view detail = {}) {
  return unexpected(MagnetError{code, std::string(detail)});
}

bool iequals_prefix(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char a = text[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (a != prefix[i]) return false;
  }
  return true;
}

// "xt.1" -> "xt"; "x.pe" stays "x.pe".
std::string_view base_key(std::string_view key) {
  auto dot = key.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == key.size()) return key;
  auto suffix = key.substr(dot + 1);
  if (!std::all_of(suffix.begin(), suffix.end(), [](char c) { return c >= '0' && c <= '9'; })) return key;
  return key.substr(0, dot);
}

std::optional<Sha1Digest> parse_btih(std::string_view text) {
  if (text.size() == 40) return Sha1Digest::from_hex(text);
  if (text.size() == 32) {
    auto raw = base32_decode(text);
    if (raw) return Sha1Digest::from_raw(*raw);
  }
  return std::nullopt;
}

bool valid_peer(std::string_view peer) {
  std::string_view host;
  std::string_view port;
  if (!peer.empty() && peer.front() == '[') {
    auto close = peer.find(']');
    if (close == std::string_view::npos || close + 1 >= peer.size() || peer[close + 1] != ':') return false;
    host = peer.substr(1, close - 1);
    port = peer.substr(close + 2);
  } else {
    auto colon = peer.rfind(':');
    if (colon == std::string_view::npos) return false;
    host = peer.substr(0, colon);
    port = peer.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return false;
  }
  if (host.empty()) return false;
  for (char c : host) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '/' || c == '@') return false;
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  return ec == std::errc() && end == port.data() + port.size() && value >= 1 && value <= 65535;
}

bool parse_select_only(std::string_view text, std::vector<std::pair<int, int>>& out) {
  auto number = [](std::string_view s, int& v) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && ec == std::errc() && end == s.data() + s.size() && v >= 0 && v <= kMaxSelectIndex;
  };
  for (std::size_t start = 0; start <= text.size();) {
    auto comma = text.find(',', start);
    std::string_view item =
        text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    auto dash = item.find('-');
    int first = 0;
    int last = 0;
    if (dash == std::string_view::npos) {
      if (!number(item, first)) return false;
      last = first;
    } else if (!number(item.substr(0, dash), first) || !number(item.substr(dash + 1), last) || last < first) {
      return false;
    }
    if (out.size() >= kMaxParameters) return false;
    out.emplace_back(first, last);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return true;
}

// s=<hex>: an even number of hex digits, at most kMaxSalt bytes once decoded.
Expected<std::string, Errc> parse_salt(std::string_view hex) {
  if (hex.size() > 2 * kMaxSalt) return unexpected(Errc::salt_too_long);
  if (hex.size() % 2 != 0) return unexpected(Errc::invalid_salt);
  std::string raw;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    auto byte = Digest<1>::from_hex(hex.substr(i, 2));
    if (!byte) return unexpected(Errc::invalid_salt);
    raw.push_back(static_cast<char>(byte->bytes[0]));
  }
  return raw;
}

std::string to_hex(std::string_view raw) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

void add_unique(std::vector<std::string>& list, std::string value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(std::move(value));
}

}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

std::string MagnetError::message() const {
  if (detail.empty()) return describe(code);
  return std::string(describe(code)) + ": " + detail;
}

Expected<MagnetLink, MagnetError> parse_magnet(std::string_view uri) {
  if (uri.size() > kMaxUriLength) return error(Errc::too_long);
  if (!iequals_prefix(uri, "magnet:?")) return error(Errc::not_a_magnet);
  std::string_view query = uri.substr(8);

  MagnetLink link;
  std::optional<std::string> salt;
  std::size_t count = 0;
  for (std::size_t start = 0; start < query.size();) {
    auto amp = query.find('&', start);
    std::string_view param =
        query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    start = amp == std::string_view::npos ? query.size() : amp + 1;
    if (param.empty()) continue;
    if (++count > kMaxParameters) return error(Errc::too_many_parameters);
    auto eq = param.find('=');
    std::string_view key = base_key(param.substr(0, eq));
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1));
    if (!value) return error(Errc::invalid_percent_encoding, param.substr(0, 64));

    if (key == "xt") {
      if (iequals_prefix(*value, "urn:btih:")) {
        auto digest = parse_btih(std::string_view(*value).substr(9));
        if (!digest) return error(Errc::invalid_info_hash, std::string_view(*value).substr(9, 64));
        if (link.btih && *link.btih != *digest) return error(Errc::conflicting_info_hash);
        link.btih = digest;
      } else if (iequals_prefix(*value, "urn:btmh:")) {
        std::string_view hex = std::string_view(*value).substr(9);
        if (hex.size() < 4 || !Digest<2>::from_hex(hex.substr(0, 4))) {
          return error(Errc::invalid_info_hash, hex.substr(0, 64));
        }
        if (!iequals_prefix(hex, "1220")) return error(Errc::unsupported_multihash, hex.substr(0, 4));
        auto digest = Sha256Digest::from_hex(hex.substr(4));
        if (!digest) return error(Errc::invalid_info_hash, hex.substr(0, 68));
        if (link.btmh && *link.btmh != *digest) return error(Errc::conflicting_info_hash);
        link.btmh = digest;
      }
      // Other URNs (ed2k, sha1 of a single file, ...) name non-BitTorrent content: ignored.
    } else if (key == "xs") {
      // BEP 46; other exact sources (an http URL of the .torrent) are not followed.
      if (iequals_prefix(*value, "urn:btpk:")) {
        std::string_view hex = std::string_view(*value).substr(9);
        auto pk = hex.size() == 64 ? Digest<32>::from_hex(hex) : std::nullopt;
        if (!pk) return error(Errc::invalid_public_key, hex.substr(0, 64));
        if (link.btpk && *link.btpk != *pk) return error(Errc::conflicting_public_key);
        link.btpk = pk;
      }
    } else if (key == "s") {
      auto raw = parse_salt(*value);
      if (!raw) return error(raw.error(), std::string_view(*value).substr(0, 64));
      if (salt && *salt != *raw) return error(Errc::invalid_salt, "two different salts");
      salt = std::move(*raw);
    } else if (key == "dn") {
      link.display_name = std::move(*value);
    } else if (key == "tr") {
      if (!value->empty()) add_unique(link.trackers, std::move(*value));
    } else if (key == "ws") {
      if (!value->empty()) add_unique(link.web_seeds, std::move(*value));
    } else if (key == "x.pe") {
      if (!valid_peer(*value)) return error(Errc::invalid_peer, std::string_view(*value).substr(0, 64));
      add_unique(link.peers, std::move(*value));
    } else if (key == "so") {
      if (!parse_select_only(*value, link.select_only)) {
        return error(Errc::invalid_select_only, std::string_view(*value).substr(0, 64));
      }
    }
  }
  if (salt) {
    if (!link.btpk) return error(Errc::salt_without_key);
    link.salt = std::move(*salt);
  }
  if (!link.btih && !link.btmh && !link.btpk) return error(Errc::missing_info_hash);
  return link;
}

std::string to_uri(const MagnetLink& link) {
  std::string uri = "magnet:?";
  auto add = [&uri](std::string_view key, std::string_view value) {
    if (uri.size() > 8) uri.push_back('&');
    uri.append(key);
    uri.push_back('=');
    uri.append(value);
  };
  if (link.btih) add("xt", "urn:btih:" + link.btih->to_hex());
  if (link.btmh) add("xt", "urn:btmh:1220" + link.btmh->to_hex());
  if (link.btpk) add("xs", "urn:btpk:" + link.btpk->to_hex());
  if (!link.salt.empty()) add("s", to_hex(link.salt));
  if (!link.display_name.empty()) add("dn", percent_encode(link.display_name));
  for (const auto& t : link.trackers)
    add("tr", percent_encode(t));
  for (const auto& w : link.web_seeds)
    add("ws", percent_encode(w));
  for (const auto& p : link.peers)
    add("x.pe", percent_encode(p));
  if (!link.select_only.empty()) {
    std::string so;
    for (const auto& [first, last] : link.select_only) {
      if (!so.empty()) so.push_back(',');
      so += std::to_string(first);
      if (last != first) so += "-" + std::to_string(last);
    }
    add("so", so);
  }
  return uri;
}

}  // namespace shoal::magnet
