#include "net/udp_mux.hpp"

#include <algorithm>
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
    // uTP sends a window's worth of datagrams at once; a small send buffer would drop the tail of it.
    socket.set_option(asio::socket_base::send_buffer_size(kReceiveBuffer), ignored);
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

namespace {

// With IP_RECVERR on, an ICMP error about an earlier datagram (to any address) is pending on the socket until
// a call reports it, and a send may be that call: it then fails with the earlier datagram's error and sends
// nothing. Among many dead addresses (DHT lookups, peers gone) every other datagram would be lost so.
bool reports_an_earlier_datagram(int error) {
  return error == ECONNREFUSED || error == EHOSTUNREACH || error == ENETUNREACH || error == EHOSTDOWN;
}

}  // namespace

void UdpMux::send_to(const Endpoint& to, std::span<const std::uint8_t> packet) {
  auto& socket = to.v6 ? v6_ : v4_;
  if (!socket.is_open()) return;
  boost::system::error_code ec;
  socket.send_to(asio::buffer(packet.data(), packet.size()), to_asio<udp>(to), 0, ec);
  // Best effort otherwise: a full send buffer drops the datagram (the protocols above retransmit).
  if (ec && reports_an_earlier_datagram(ec.value()))
    socket.send_to(asio::buffer(packet.data(), packet.size()), to_asio<udp>(to), 0, ec);
}

void UdpMux::send_many(const Endpoint& to, std::span<const std::span<const std::uint8_t>> packets) {
  auto& socket = to.v6 ? v6_ : v4_;
  if (!socket.is_open()) return;
  auto address = to_asio<udp>(to);
  constexpr std::size_t kBatch = 64;
  std::array<mmsghdr, kBatch> headers;
  std::array<iovec, kBatch> iovecs;
  for (std::size_t at = 0; at < packets.size();) {
    std::size_t n = std::min(kBatch, packets.size() - at);
    for (std::size_t i = 0; i < n; ++i) {
      auto p = packets[at + i];
      iovecs[i] = {const_cast<std::uint8_t*>(p.data()), p.size()};
      headers[i] = {};
      headers[i].msg_hdr.msg_name = address.data();
      headers[i].msg_hdr.msg_namelen = static_cast<socklen_t>(address.size());
      headers[i].msg_hdr.msg_iov = &iovecs[i];
      headers[i].msg_hdr.msg_iovlen = 1;
    }
    int sent = ::sendmmsg(socket.native_handle(), headers.data(), static_cast<unsigned>(n), MSG_DONTWAIT);
    if (sent < 0 && reports_an_earlier_datagram(errno))  // see send_to
      sent = ::sendmmsg(socket.native_handle(), headers.data(), static_cast<unsigned>(n), MSG_DONTWAIT);
    // Best effort, as send_to: a full send buffer drops the rest (uTP retransmits).
    if (sent <= 0) return;
    at += static_cast<std::size_t>(sent);
  }
}

void UdpMux::close() {
  closed_ = true;
  boost::system::error_code ignored;
  v4_.close(ignored);
  v6_.close(ignored);
}

asio::awaitable<void> UdpMux::receive_loop(udp::socket& socket) {
  // Datagrams are read kBatch at a time with recvmmsg once the socket is readable: one system call and one
  // wake-up for a burst, and each protocol hears of the batch's end (see set_batch_end_handler).
  constexpr std::size_t kBatch = 32;
  std::vector<std::uint8_t> buffer(kBatch * kMaxDatagram);
  std::array<mmsghdr, kBatch> headers{};
  std::array<iovec, kBatch> iovecs{};
  std::array<sockaddr_storage, kBatch> addresses{};
  std::array<bool, 3> touched{};
  while (!closed_) {
    auto [ec] = co_await socket.async_wait(udp::socket::wait_read, kToken);
    if (closed_) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) co_return;
      continue;
    }
    // Bounded rounds per wake-up so one busy socket cannot hold the network thread.
    for (int round = 0; round < 8 && !closed_ && socket.is_open(); ++round) {
      for (std::size_t i = 0; i < kBatch; ++i) {
        iovecs[i] = {buffer.data() + i * kMaxDatagram, kMaxDatagram};
        headers[i].msg_hdr = {};
        headers[i].msg_hdr.msg_name = &addresses[i];
        headers[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
        headers[i].msg_hdr.msg_iov = &iovecs[i];
        headers[i].msg_hdr.msg_iovlen = 1;
      }
      int n = ::recvmmsg(socket.native_handle(), headers.data(), kBatch, MSG_DONTWAIT, nullptr);
      if (n < 0) {
        // A queued ICMP error surfaces as a failed receive (ECONNREFUSED and the like) once; the details, and
        // the address it is about, wait on the error queue. The queue is read on EAGAIN too: while it holds
        // anything the socket polls as ready (POLLERR), and a receive that reported the error already (or
        // returned datagrams before it) leaves nothing else to say so — the loop would spin at full speed.
        if (errno != EINTR) drain_errors(socket);
        break;
      }
      for (int i = 0; i < n && !closed_; ++i) {
        std::span<const std::uint8_t> packet(buffer.data() + static_cast<std::size_t>(i) * kMaxDatagram,
                                             headers[static_cast<std::size_t>(i)].msg_len);
        auto kind = classify(packet);
        if (!kind) continue;
        udp::endpoint from;
        auto length = headers[static_cast<std::size_t>(i)].msg_hdr.msg_namelen;
        if (length > from.capacity()) continue;
        std::memcpy(from.data(), &addresses[static_cast<std::size_t>(i)], length);
        from.resize(length);
        const auto& handler = handlers_[static_cast<std::size_t>(*kind)];
        if (handler) {
          touched[static_cast<std::size_t>(*kind)] = true;
          handler(packet, to_endpoint(from));
        }
      }
      for (std::size_t k = 0; k < touched.size() && !closed_; ++k) {
        if (touched[k] && batch_end_[k]) batch_end_[k]();
        touched[k] = false;
      }
      if (static_cast<std::size_t>(n) < kBatch) break;
    }
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
