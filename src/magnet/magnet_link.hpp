// Magnet links (BEP 9): parsing with precise errors, and generation.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "shoal/digest.hpp"
#include "shoal/expected.hpp"

namespace shoal::magnet {

inline constexpr std::size_t kMaxUriLength = 64 * 1024;
inline constexpr std::size_t kMaxParameters = 1000;
inline constexpr int kMaxSelectIndex = 1'000'000;
// BEP 46 (as BEP 44): a mutable item's salt is at most 64 bytes; in the magnet link it is hex.
inline constexpr std::size_t kMaxSalt = 64;

enum class Errc {
  not_a_magnet = 1,          // no "magnet:?" prefix
  missing_info_hash,         // neither urn:btih, urn:btmh nor (BEP 46) xs=urn:btpk
  invalid_info_hash,         // wrong length or characters
  unsupported_multihash,     // btmh that is not sha2-256
  conflicting_info_hash,     // two different btih (or btmh) values
  invalid_percent_encoding,  // "%G1", a truncated "%4"
  invalid_peer,              // x.pe that is not host:port
  invalid_select_only,       // so= that is not a list of indexes and ranges
  too_long,                  // longer than kMaxUriLength
  too_many_parameters,       // more than kMaxParameters
  invalid_public_key,        // xs=urn:btpk: that is not 64 hex digits
  conflicting_public_key,    // two different btpk values
  invalid_salt,              // s= that is not hex, or two different salts
  salt_too_long,             // s= longer than kMaxSalt bytes
  salt_without_key,          // s= with no xs=urn:btpk: the salt names nothing
};

const std::error_category& error_category() noexcept;
inline std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

struct MagnetError {
  Errc code{};
  std::string detail;
  std::string message() const;
};

struct MagnetLink {
  std::optional<Sha1Digest> btih;                // xt=urn:btih: 40 hex or 32 base32
  std::optional<Sha256Digest> btmh;              // xt=urn:btmh:1220<64 hex> (BitTorrent v2)
  std::string display_name;                      // dn
  std::vector<std::string> trackers;             // tr, in order, without duplicates
  std::vector<std::string> web_seeds;            // ws
  std::vector<std::string> peers;                // x.pe: "host:port" or "[v6]:port"
  std::vector<std::pair<int, int>> select_only;  // so: inclusive file index ranges
  // BEP 46: xs=urn:btpk:<64 hex>, the Ed25519 key whose mutable item names the current info-hash, and
  // s=<hex>, the salt it is stored under (raw bytes here; empty: none). With a btih as well, the key wins
  // for a client that follows it: the btih is only the version the link was written for.
  std::optional<Digest<32>> btpk;
  std::string salt;

  bool operator==(const MagnetLink&) const = default;
};

// Unknown parameters (and xs values other than urn:btpk) are ignored; indexed keys (xt.1, tr.2) count as
// their base key.
Expected<MagnetLink, MagnetError> parse_magnet(std::string_view uri);
std::string to_uri(const MagnetLink& link);

}  // namespace shoal::magnet

template <>
struct std::is_error_code_enum<shoal::magnet::Errc> : std::true_type {};
