#include "dht/node_id.hpp"

#include <cstring>

namespace shoal::dht {
namespace {

constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1) != 0 ? (c >> 1) ^ 0x82F63B78u : c >> 1;  // Castagnoli, reflected
    t[i] = c;
  }
  return t;
}
constexpr auto kTable = make_table();

// The masked address with r in its top bits, CRC32C'd: the id's first 21 bits come from this.
std::uint32_t id_crc(const Endpoint& ip, std::uint8_t r) {
  if (ip.v6) {
    static constexpr std::uint8_t kMask[8] = {0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff};
    std::uint8_t b[8];
    for (int i = 0; i < 8; ++i)
      b[i] = static_cast<std::uint8_t>(ip.address[static_cast<std::size_t>(i)] & kMask[i]);
    b[0] = static_cast<std::uint8_t>(b[0] | ((r & 7) << 5));
    return crc32c(b, 8);
  }
  static constexpr std::uint8_t kMask[4] = {0x03, 0x0f, 0x3f, 0xff};
  std::uint8_t b[4];
  for (int i = 0; i < 4; ++i)
    b[i] = static_cast<std::uint8_t>(ip.address[static_cast<std::size_t>(i)] & kMask[i]);
  b[0] = static_cast<std::uint8_t>(b[0] | ((r & 7) << 5));
  return crc32c(b, 4);
}

}  // namespace

std::uint32_t crc32c(const std::uint8_t* data, std::size_t size) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < size; ++i)
    c = kTable[(c ^ data[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

NodeId node_id_for(const Endpoint& external_ip, std::uint8_t r, const std::array<std::uint8_t, 20>& random) {
  std::uint32_t crc = id_crc(external_ip, r);
  NodeId id;
  std::memcpy(id.bytes.data(), random.data(), 20);
  id.bytes[0] = static_cast<std::uint8_t>(crc >> 24);
  id.bytes[1] = static_cast<std::uint8_t>(crc >> 16);
  id.bytes[2] = static_cast<std::uint8_t>(((crc >> 8) & 0xf8) | (random[2] & 0x7));
  id.bytes[19] = r;
  return id;
}

bool exempt_address(const Endpoint& a) {
  if (a.v6) {
    bool loopback = true;
    for (int i = 0; i < 15; ++i)
      loopback = loopback && a.address[static_cast<std::size_t>(i)] == 0;
    loopback = loopback && a.address[15] == 1;
    return loopback || (a.address[0] & 0xfe) == 0xfc ||
           (a.address[0] == 0xfe && (a.address[1] & 0xc0) == 0x80);
  }
  const auto& b = a.address;
  return b[0] == 10 || b[0] == 127 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
         (b[0] == 169 && b[1] == 254);
}

bool node_id_valid(const NodeId& id, const Endpoint& address) {
  if (exempt_address(address)) return true;
  std::uint32_t crc = id_crc(address, id.bytes[19]);
  return id.bytes[0] == static_cast<std::uint8_t>(crc >> 24) &&
         id.bytes[1] == static_cast<std::uint8_t>(crc >> 16) &&
         (id.bytes[2] & 0xf8) == static_cast<std::uint8_t>((crc >> 8) & 0xf8);
}

}  // namespace shoal::dht
