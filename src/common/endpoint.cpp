#include "shoal/endpoint.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace shoal {

Endpoint Endpoint::from_v4(std::span<const std::uint8_t, 4> addr, std::uint16_t port) {
  Endpoint e;
  std::memcpy(e.address.data(), addr.data(), 4);
  e.port = port;
  return e;
}

Endpoint Endpoint::from_v6(std::span<const std::uint8_t, 16> addr, std::uint16_t port) {
  Endpoint e;
  std::memcpy(e.address.data(), addr.data(), 16);
  e.v6 = true;
  e.port = port;
  return e;
}

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
  std::string host;
  std::string_view port_text;
  bool v6 = false;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
    v6 = true;
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) return std::nullopt;
    host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
    return std::nullopt;
  }
  Endpoint e;
  e.v6 = v6;
  e.port = static_cast<std::uint16_t>(port);
  if (inet_pton(v6 ? AF_INET6 : AF_INET, host.c_str(), e.address.data()) != 1) return std::nullopt;
  return e;
}

std::string Endpoint::address_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, address.data(), buf, sizeof buf);
  return buf;
}

std::string Endpoint::to_string() const {
  if (v6) return "[" + address_string() + "]:" + std::to_string(port);
  return address_string() + ":" + std::to_string(port);
}

std::optional<Endpoint> Endpoint::from_compact(std::span<const std::uint8_t> bytes) {
  if (bytes.size() == 6) {
    return from_v4(bytes.first<4>(), static_cast<std::uint16_t>(bytes[4] << 8 | bytes[5]));
  }
  if (bytes.size() == 18) {
    return from_v6(bytes.first<16>(), static_cast<std::uint16_t>(bytes[16] << 8 | bytes[17]));
  }
  return std::nullopt;
}

std::string Endpoint::to_compact() const {
  std::size_t n = v6 ? 16 : 4;
  std::string out(reinterpret_cast<const char*>(address.data()), n);
  out.push_back(static_cast<char>(port >> 8));
  out.push_back(static_cast<char>(port & 0xff));
  return out;
}

}  // namespace shoal
