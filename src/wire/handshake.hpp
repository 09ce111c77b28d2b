// BEP 3 handshake: <19>"BitTorrent protocol"<8 reserved><20 info-hash><20 peer id>.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "shoal/digest.hpp"
#include "shoal/expected.hpp"
#include "wire/wire_error.hpp"

namespace shoal::wire {

inline constexpr std::size_t kHandshakeSize = 68;
// Protocol string, reserved bytes and info-hash: enough for a listener to pick the torrent before answering.
inline constexpr std::size_t kHandshakePrefixSize = 48;

using PeerIdBytes = std::array<std::uint8_t, 20>;

struct Handshake {
  std::array<std::uint8_t, 8> reserved{};
  Sha1Digest info_hash;
  PeerIdBytes peer_id{};

  bool supports_extensions() const { return (reserved[5] & 0x10) != 0; }  // BEP 10
  bool supports_fast() const { return (reserved[7] & 0x04) != 0; }        // BEP 6
  bool supports_dht() const { return (reserved[7] & 0x01) != 0; }         // BEP 5
  bool supports_v2() const { return (reserved[7] & 0x10) != 0; }  // BEP 52: speaks v2 for this torrent
  void set_extensions(bool on) { set_bit(5, 0x10, on); }
  void set_fast(bool on) { set_bit(7, 0x04, on); }
  void set_dht(bool on) { set_bit(7, 0x01, on); }
  void set_v2(bool on) { set_bit(7, 0x10, on); }

 private:
  void set_bit(std::size_t byte, std::uint8_t mask, bool on) {
    reserved[byte] = static_cast<std::uint8_t>(on ? (reserved[byte] | mask) : (reserved[byte] & ~mask));
  }
};

std::array<std::uint8_t, kHandshakeSize> encode_handshake(const Handshake& h);
// Decodes the first 48 bytes (peer id left zero).
Expected<Handshake, WireError> decode_handshake_prefix(std::span<const std::uint8_t> bytes);
// Decodes a full 68-byte handshake.
Expected<Handshake, WireError> decode_handshake(std::span<const std::uint8_t> bytes);

}  // namespace shoal::wire
