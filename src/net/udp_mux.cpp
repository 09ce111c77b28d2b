#include "net/udp_mux.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>
#include <vector>

#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "net/asio_endpoint.hpp"

namespace shoal::net {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
constexpr auto kToken = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxDatagram = 64 * 1024;
// Bursts of DHT queries must not overflow the default ~200 KiB receive buffer.
constexpr int kReceiveBuffer = 4 * 1024 * 1024;

}  // namespace

std::optional<UdpMux::Kind> UdpMux::classify(std::span<const std::uint8_t> packet) {
  if (packet.empty()) return std::nullopt;
  std::uint8_t first = packet[0];
  if (first == 'd') return Kind::krpc;
  if (first == 0) return Kind::tracker;
  // uTP: types 0-4 in the high nibble, version 1 in the low one.
  if ((first & 0x0f) == 1 && (first >> 4) <= 4) return Kind::utp;
  return std::nullopt;
}

UdpMux::UdpMux(asio::io_context& io) : io_(io), v4_(io), v6_(io) {}

UdpMux::~UdpMux() {
  close();
}

Expected<std::uint16_t, std::string> UdpMux::open(const std::string& bind_address,
                                                  const std::string& bind_address6, std::uint16_t port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(bind_address, ec);
  if (ec) return unexpected("invalid UDP bind address " + bind_address);
  std::string v4 = address.is_v4() ? bind_address : "";
  std::string v6 = address.is_v6() ? bind_address : bind_address6;
  std::uint16_t bound = port;
  if (!v4.empty()) {
    if (auto error = open_one(v4_, v4, port)) return unexpected(*error);
    bound = v4_.local_endpoint().port();
  }
  if (!v6.empty()) {
    boost::system::error_code ignored;
    auto error = open_one(v6_, v6, bound);
    if (error && port == 0 && bound != 0) {
      v6_.close(ignored);  // the IPv4 socket's port is taken for IPv6: any other will do
      error = open_one(v6_, v6, 0);
    }
    if (error) {
      v6_.close(ignored);
      if (!v4_.is_open()) return unexpected(*error);
    }
  }
  port_ = v4_.is_open() ? v4_.local_endpoint().port() : v6_.local_endpoint().port();
  if (v4_.is_open()) asio::co_spawn(io_, receive_loop(v4_), asio::detached);
  if (v6_.is_open()) asio::co_spawn(io_, receive_loop(v6_), asio::detached);
  return port_;
}

std::optional<std::string> UdpMux::open_one(udp::socket& socket, const std::string& address_text,
                                            std::uint16_t port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(address_text, ec);
  if (ec) return "invalid UDP bind address " + address_text;
  udp::endpoint bind(address, port);
  socket.open(bind.protocol(), ec);
  if (!ec) {
    boost::system::error_code ignored;
    if (address.is_v6()) socket.set_option(asio::ip::v6_only(true), ignored);  // IPv4 has its own socket
    socket.set_option(asio::socket_base::receive_buffer_size(kReceiveBuffer), ignored);
    // ICMP errors onto the error queue (see the file comment); without it they are dropped.
    int on = 1;
    if (address.is_v6()) {
      ::setsockopt(socket.native_handle(), IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof on);
    } else {
      ::setsockopt(socket.native_handle(), IPPROTO_IP, IP_RECVERR, &on, sizeof on);
    }
    socket.bind(bind, ec);
  }
  if (ec) return "cannot listen on udp " + address_text + ":" + std::to_string(port) + ": " + ec.message();
  return std::nullopt;
}

void UdpMux::send_to(const Endpoint& to, std::span<const std::uint8_t> packet) {
  auto& socket = to.v6 ? v6_ : v4_;
  if (!socket.is_open()) return;
  boost::system::error_code ignored;
  socket.send_to(asio::buffer(packet.data(), packet.size()), to_asio<udp>(to), 0, ignored);
}

void UdpMux::close() {
  closed_ = true;
  boost::system::error_code ignored;
  v4_.close(ignored);
  v6_.close(ignored);
}

asio::awaitable<void> UdpMux::receive_loop(udp::socket& socket) {
  std::vector<std::uint8_t> buffer(kMaxDatagram);
  udp::endpoint from;
  while (!closed_) {
    auto [ec, n] = co_await socket.async_receive_from(asio::buffer(buffer), from, kToken);
    if (closed_) co_return;
    if (ec) {
      // A queued ICMP error surfaces as a failed receive (ECONNREFUSED and the like); the details, and the
      // address it is about, wait on the error queue.
      if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) co_return;
      drain_errors(socket);
      continue;
    }
    std::span<const std::uint8_t> packet(buffer.data(), n);
    auto kind = classify(packet);
    if (!kind) continue;
    const auto& handler = handlers_[static_cast<std::size_t>(*kind)];
    if (handler) handler(packet, to_endpoint(from));
  }
}

void UdpMux::drain_errors(udp::socket& socket) {
  if (!socket.is_open()) return;
  for (int i = 0; i < 64; ++i) {  // bounded: a flood of errors cannot hold the network thread
    sockaddr_storage to{};
    alignas(cmsghdr) char control[512];
    char data[1];
    iovec iov{data, sizeof data};
    msghdr msg{};
    msg.msg_name = &to;
    msg.msg_namelen = sizeof to;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    if (::recvmsg(socket.native_handle(), &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return;
    for (auto* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      bool ip_error = (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
                      (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR);
      if (!ip_error) continue;
      sock_extended_err err;
      std::memcpy(&err, CMSG_DATA(c), sizeof err);
      if (err.ee_origin != SO_EE_ORIGIN_ICMP && err.ee_origin != SO_EE_ORIGIN_ICMP6) continue;
      // msg_name is the destination of the datagram that caused the error.
      udp::endpoint dest;
      if (msg.msg_namelen > dest.capacity()) continue;
      std::memcpy(dest.data(), &to, msg.msg_namelen);
      dest.resize(msg.msg_namelen);
      auto endpoint = to_endpoint(dest);
      std::error_code error(static_cast<int>(err.ee_errno), std::generic_category());
      for (const auto& handler : unreachable_) {
        if (handler) handler(endpoint, error);
      }
    }
  }
}

}  // namespace shoal::net
