// An IPv4 or IPv6 address with a port, as carried by trackers, PEX, DHT and the CLI. A plain value type
// with no dependency on any networking library so the sans-I/O cores can use it.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace shoal {

struct Endpoint {
  std::array<std::uint8_t, 16> address{};  // IPv4 uses the first 4 bytes
  bool v6 = false;
  std::uint16_t port = 0;

  auto operator<=>(const Endpoint&) const = default;

  static Endpoint from_v4(std::span<const std::uint8_t, 4> addr, std::uint16_t port);
  static Endpoint from_v6(std::span<const std::uint8_t, 16> addr, std::uint16_t port);
  // "1.2.3.4:6881" or "[::1]:6881"; port must be 1..65535. Host names are not resolved here.
  static std::optional<Endpoint> parse(std::string_view text);
  std::string to_string() const;
  std::string address_string() const;

  // Compact forms: 6 bytes (v4) / 18 bytes (v6), address then big-endian port (BEP 23, BEP 7, BEP 11).
  static std::optional<Endpoint> from_compact(std::span<const std::uint8_t> bytes);
  std::string to_compact() const;
};

}  // namespace shoal
