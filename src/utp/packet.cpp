#include "utp/packet.hpp"

#include <algorithm>
#include <cassert>

namespace shoal::utp {
namespace {

std::uint16_t read16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
std::uint32_t read32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
void write16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
void write32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

}  // namespace

const char* to_string(PacketError e) {
  switch (e) {
    case PacketError::too_short:
      return "uTP packet shorter than its 20-byte header";
    case PacketError::bad_version:
      return "uTP packet of a version other than 1";
    case PacketError::bad_type:
      return "uTP packet of an unknown type";
    case PacketError::truncated_extension:
      return "uTP extension runs past the packet's end";
    case PacketError::bad_sack_length:
      return "uTP selective ACK of zero length";
    case PacketError::too_many_extensions:
      return "uTP packet with too many extensions";
    case PacketError::unexpected_payload:
      return "uTP SYN, STATE or RESET packet with a payload";
  }
  return "unknown uTP packet error";
}

Expected<Packet, PacketError> decode_packet(std::span<const std::uint8_t> d) {
  if (d.size() < kHeaderSize) return unexpected(PacketError::too_short);
  if ((d[0] & 0x0f) != kVersion) return unexpected(PacketError::bad_version);
  if ((d[0] >> 4) > static_cast<int>(PacketType::syn)) return unexpected(PacketError::bad_type);
  Packet p;
  p.header.type = static_cast<PacketType>(d[0] >> 4);
  p.header.connection_id = read16(&d[2]);
  p.header.timestamp_us = read32(&d[4]);
  p.header.timestamp_difference_us = read32(&d[8]);
  p.header.window = read32(&d[12]);
  p.header.seq_nr = read16(&d[16]);
  p.header.ack_nr = read16(&d[18]);
  std::uint8_t next = d[1];
  std::size_t at = kHeaderSize;
  for (std::size_t count = 0; next != kExtensionNone; ++count) {
    if (count == kMaxExtensions) return unexpected(PacketError::too_many_extensions);
    if (d.size() - at < 2) return unexpected(PacketError::truncated_extension);
    std::uint8_t type = next;
    std::size_t length = d[at + 1];
    next = d[at];
    at += 2;
    if (d.size() - at < length) return unexpected(PacketError::truncated_extension);
    if (type == kExtensionSack) {
      if (length == 0) return unexpected(PacketError::bad_sack_length);
      p.sack = d.subspan(at, length);
    } else if (type == kExtensionMaxPacket && length == 2) {
      p.header.max_packet = read16(&d[at]);
    }
    at += length;
  }
  p.payload = d.subspan(at);
  auto t = p.header.type;
  if (!p.payload.empty() && (t == PacketType::syn || t == PacketType::state || t == PacketType::reset))
    return unexpected(PacketError::unexpected_payload);
  return p;
}

std::size_t encode_packet(const PacketHeader& h, std::span<const std::uint8_t> sack,
                          std::span<const std::uint8_t> payload, std::vector<std::uint8_t>& out) {
  assert(sack.size() % 4 == 0 && sack.size() <= kMaxSackBytes);
  std::size_t start = out.size();
  std::size_t max_packet = h.max_packet != 0 ? kMaxPacketExtensionSize : 0;
  std::size_t size = kHeaderSize + max_packet + (sack.empty() ? 0 : 2 + sack.size()) + payload.size();
  out.resize(start + size);
  std::uint8_t* p = out.data() + start;
  p[0] = static_cast<std::uint8_t>((static_cast<int>(h.type) << 4) | kVersion);
  std::uint8_t after_max = sack.empty() ? kExtensionNone : kExtensionSack;
  p[1] = max_packet != 0 ? kExtensionBits : after_max;
  write16(p + 2, h.connection_id);
  write32(p + 4, h.timestamp_us);
  write32(p + 8, h.timestamp_difference_us);
  write32(p + 12, h.window);
  write16(p + 16, h.seq_nr);
  write16(p + 18, h.ack_nr);
  std::uint8_t* at = p + kHeaderSize;
  if (max_packet != 0) {
    at[0] = kExtensionMaxPacket;
    at[1] = static_cast<std::uint8_t>(kExtensionBitsSize);
    std::fill(at + 2, at + 2 + kExtensionBitsSize, std::uint8_t{0});
    at += 2 + kExtensionBitsSize;
    at[0] = after_max;
    at[1] = 2;
    write16(at + 2, h.max_packet);
    at += 4;
  }
  if (!sack.empty()) {
    at[0] = kExtensionNone;
    at[1] = static_cast<std::uint8_t>(sack.size());
    std::copy(sack.begin(), sack.end(), at + 2);
    at += 2 + sack.size();
  }
  if (!payload.empty()) std::copy(payload.begin(), payload.end(), at);
  return size;
}

void rewrite_header(std::span<std::uint8_t> p, std::uint32_t timestamp_us, std::uint32_t difference_us,
                    std::uint32_t window, std::uint16_t ack_nr) {
  assert(p.size() >= kHeaderSize);
  write32(&p[4], timestamp_us);
  write32(&p[8], difference_us);
  write32(&p[12], window);
  write16(&p[18], ack_nr);
}

}  // namespace shoal::utp
