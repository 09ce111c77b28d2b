// Conversions between Shoal's plain Endpoint and Asio's TCP/UDP endpoints, for the runtime shells.
// IPv4-mapped IPv6 addresses (what a dual-stack socket reports for IPv4 peers) come back as IPv4, so one peer
// has one name.
#pragma once

#include <algorithm>
#include <boost/asio/ip/basic_endpoint.hpp>

#include "shoal/endpoint.hpp"

namespace shoal::net {

template <class Protocol>
Endpoint to_endpoint(const boost::asio::ip::basic_endpoint<Protocol>& e) {
  namespace ip = boost::asio::ip;
  Endpoint out;
  auto addr = e.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) addr = ip::make_address_v4(ip::v4_mapped, addr.to_v6());
  if (addr.is_v4()) {
    auto b = addr.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), out.address.begin());
  } else {
    auto b = addr.to_v6().to_bytes();
    std::copy(b.begin(), b.end(), out.address.begin());
    out.v6 = true;
  }
  out.port = e.port();
  return out;
}

template <class Protocol>
boost::asio::ip::basic_endpoint<Protocol> to_asio(const Endpoint& e) {
  namespace ip = boost::asio::ip;
  if (e.v6) {
    ip::address_v6::bytes_type b;
    std::copy(e.address.begin(), e.address.end(), b.begin());
    return {ip::address_v6(b), e.port};
  }
  ip::address_v4::bytes_type b;
  std::copy(e.address.begin(), e.address.begin() + 4, b.begin());
  return {ip::address_v4(b), e.port};
}

}  // namespace shoal::net
