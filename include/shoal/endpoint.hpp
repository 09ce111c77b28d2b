/// @file
/// An IPv4 or IPv6 address with a port, as carried by trackers, PEX, DHT and the CLI. A plain value type
/// with no dependency on any networking library so the sans-I/O cores can use it.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace shoal {

/// An IP address and port. Ordered and comparable; thread-safe to read.
struct Endpoint {
  std::array<std::uint8_t, 16> address{};  ///< network byte order; IPv4 uses the first 4 bytes
  bool v6 = false;                         ///< which family `address` holds
  std::uint16_t port = 0;                  ///< host byte order

  auto operator<=>(const Endpoint&) const = default;

  /// An IPv4 endpoint from 4 address bytes (network order).
  static Endpoint from_v4(std::span<const std::uint8_t, 4> addr, std::uint16_t port);
  /// An IPv6 endpoint from 16 address bytes (network order).
  static Endpoint from_v6(std::span<const std::uint8_t, 16> addr, std::uint16_t port);
  /// "1.2.3.4:6881" or "[::1]:6881"; port must be 1..65535. Host names are not resolved here.
  /// @return nullopt when the text is not of that form.
  static std::optional<Endpoint> parse(std::string_view text);
  /// "1.2.3.4:6881" or "[::1]:6881", the form parse() reads.
  std::string to_string() const;
  /// The address alone: "1.2.3.4" or "::1".
  std::string address_string() const;

  /// Compact forms: 6 bytes (v4) / 18 bytes (v6), address then big-endian port (BEP 23, BEP 7, BEP 11).
  /// @return nullopt for any other length.
  static std::optional<Endpoint> from_compact(std::span<const std::uint8_t> bytes);
  /// The compact form (6 or 18 bytes), see from_compact().
  std::string to_compact() const;
};

}  // namespace shoal
