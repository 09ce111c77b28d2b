#include "wire/ut_holepunch.hpp"

#include <array>

namespace shoal::wire {
namespace {

constexpr std::uint8_t kAddrV4 = 0x00;
constexpr std::uint8_t kAddrV6 = 0x01;
constexpr std::size_t kFixedBytes = 1 + 1 + 2 + 4;  // msg_type, addr_type, port, err_code

std::uint32_t read_u32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

WireError bad(const char* detail) {
  return {Errc::bad_extension_payload, detail};
}

}  // namespace

const char* to_string(HolepunchError code) {
  switch (code) {
    case HolepunchError::none:
      return "no error";
    case HolepunchError::no_such_peer:
      return "NoSuchPeer";
    case HolepunchError::not_connected:
      return "NotConnected";
    case HolepunchError::no_support:
      return "NoSupport";
    case HolepunchError::no_self:
      return "NoSelf";
  }
  return "unknown";
}

std::string encode_holepunch(const HolepunchMessage& message) {
  std::string out;
  const std::size_t addr_len = message.endpoint.v6 ? 16 : 4;
  out.reserve(kFixedBytes + addr_len);
  out.push_back(static_cast<char>(message.type));
  out.push_back(static_cast<char>(message.endpoint.v6 ? kAddrV6 : kAddrV4));
  out.append(reinterpret_cast<const char*>(message.endpoint.address.data()), addr_len);
  out.push_back(static_cast<char>(message.endpoint.port >> 8));
  out.push_back(static_cast<char>(message.endpoint.port & 0xff));
  const auto code = static_cast<std::uint32_t>(message.error);
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((code >> shift) & 0xff));
  return out;
}

Expected<HolepunchMessage, WireError> decode_holepunch(std::string_view payload) {
  if (payload.size() < 2) return unexpected(bad("ut_holepunch: shorter than its header"));
  const auto* p = reinterpret_cast<const unsigned char*>(payload.data());
  HolepunchMessage m;
  if (p[0] > static_cast<std::uint8_t>(HolepunchType::error))
    return unexpected(bad("ut_holepunch: unknown msg_type"));
  m.type = static_cast<HolepunchType>(p[0]);
  std::size_t addr_len = 0;
  if (p[1] == kAddrV4) {
    addr_len = 4;
  } else if (p[1] == kAddrV6) {
    addr_len = 16;
  } else {
    return unexpected(bad("ut_holepunch: unknown addr_type"));
  }
  if (payload.size() < kFixedBytes + addr_len) return unexpected(bad("ut_holepunch: truncated"));
  if (payload.size() > kFixedBytes + addr_len) return unexpected(bad("ut_holepunch: trailing bytes"));
  const unsigned char* addr = p + 2;
  const auto port = static_cast<std::uint16_t>((addr[addr_len] << 8) | addr[addr_len + 1]);
  if (addr_len == 4) {
    m.endpoint = Endpoint::from_v4(std::span<const std::uint8_t, 4>(addr, 4), port);
  } else {
    m.endpoint = Endpoint::from_v6(std::span<const std::uint8_t, 16>(addr, 16), port);
  }
  const auto code = read_u32(addr + addr_len + 2);
  if (m.type == HolepunchType::error) {
    if (code < 1 || code > static_cast<std::uint32_t>(HolepunchError::no_self))
      return unexpected(bad("ut_holepunch: unknown err_code"));
  } else if (code != 0) {
    return unexpected(bad("ut_holepunch: err_code set outside an error message"));
  }
  m.error = static_cast<HolepunchError>(code);
  return m;
}

}  // namespace shoal::wire
