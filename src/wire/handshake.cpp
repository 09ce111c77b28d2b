#include "wire/handshake.hpp"

#include <cstring>

namespace shoal::wire {
namespace {
constexpr char kProtocol[] = "BitTorrent protocol";
constexpr std::size_t kProtocolLength = 19;
}  // namespace

std::array<std::uint8_t, kHandshakeSize> encode_handshake(const Handshake& h) {
  std::array<std::uint8_t, kHandshakeSize> out{};
  out[0] = kProtocolLength;
  std::memcpy(out.data() + 1, kProtocol, kProtocolLength);
  std::memcpy(out.data() + 20, h.reserved.data(), 8);
  std::memcpy(out.data() + 28, h.info_hash.bytes.data(), 20);
  std::memcpy(out.data() + 48, h.peer_id.data(), 20);
  return out;
}

Expected<Handshake, WireError> decode_handshake_prefix(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kHandshakePrefixSize) return unexpected(WireError{Errc::invalid_handshake, "too short"});
  if (bytes[0] != kProtocolLength || std::memcmp(bytes.data() + 1, kProtocol, kProtocolLength) != 0) {
    return unexpected(WireError{Errc::invalid_handshake, "not the BitTorrent protocol"});
  }
  Handshake h;
  std::memcpy(h.reserved.data(), bytes.data() + 20, 8);
  std::memcpy(h.info_hash.bytes.data(), bytes.data() + 28, 20);
  return h;
}

Expected<Handshake, WireError> decode_handshake(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kHandshakeSize) return unexpected(WireError{Errc::invalid_handshake, "too short"});
  auto h = decode_handshake_prefix(bytes);
  if (!h) return h;
  std::memcpy(h->peer_id.data(), bytes.data() + 48, 20);
  return h;
}

}  // namespace shoal::wire
