/// @file
/// Fixed-size hash digests (SHA-1 info-hashes and piece hashes, SHA-256 for v2) with hex conversion.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace shoal {

/// N raw bytes of a hash. A plain value: ordered, hashable (std::hash), thread-safe to read.
template <std::size_t N>
struct Digest {
  static constexpr std::size_t size = N;  ///< bytes
  std::array<std::uint8_t, N> bytes{};    ///< the raw digest

  /// Byte-wise order, so digests can key ordered containers.
  constexpr auto operator<=>(const Digest&) const = default;

  /// Copies exactly N bytes.
  static Digest from_bytes(std::span<const std::uint8_t, N> b) {
    Digest d;
    std::memcpy(d.bytes.data(), b.data(), N);
    return d;
  }
  /// Takes exactly N raw bytes; nullopt on any other length.
  static std::optional<Digest> from_raw(std::string_view raw) {
    if (raw.size() != N) return std::nullopt;
    Digest d;
    std::memcpy(d.bytes.data(), raw.data(), N);
    return d;
  }
  /// Takes exactly 2N hex digits, either case; nullopt otherwise.
  static std::optional<Digest> from_hex(std::string_view hex) {
    if (hex.size() != 2 * N) return std::nullopt;
    Digest d;
    for (std::size_t i = 0; i < N; ++i) {
      int hi = hex_value(hex[2 * i]);
      int lo = hex_value(hex[2 * i + 1]);
      if (hi < 0 || lo < 0) return std::nullopt;
      d.bytes[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return d;
  }
  /// 2N lower-case hex digits.
  std::string to_hex() const {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out(2 * N, '\0');
    for (std::size_t i = 0; i < N; ++i) {
      out[2 * i] = kDigits[bytes[i] >> 4];
      out[2 * i + 1] = kDigits[bytes[i] & 0xf];
    }
    return out;
  }
  /// The N bytes as characters; valid while this digest lives.
  std::string_view raw() const { return {reinterpret_cast<const char*>(bytes.data()), N}; }

 private:
  static constexpr int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
};

using Sha1Digest = Digest<20>;    ///< SHA-1: v1 info-hashes and piece hashes
using Sha256Digest = Digest<32>;  ///< SHA-256: v2 info-hashes

}  // namespace shoal

/// Hashes a digest by its first bytes (digests are uniformly distributed already).
template <std::size_t N>
struct std::hash<shoal::Digest<N>> {
  std::size_t operator()(const shoal::Digest<N>& d) const noexcept {
    std::size_t h;
    std::memcpy(&h, d.bytes.data(), sizeof h);  // digests are uniformly distributed already
    return h;
  }
};
