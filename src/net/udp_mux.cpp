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
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/asio_endpoint.hpp"

namespace shoal::net {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
constexpr auto kToken = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxDatagram = 64 * 1024;
// Bursts of DHT queries must not overflow the default ~200 KiB receive buffer.
constexpr int kReceiveBuffer = 4 * 1024 * 1024;
// GSO limits: UDP_MAX_SEGMENTS of older kernels, and one GSO send is at most one IP packet before it is cut.
constexpr std::size_t kMaxSegments = 64;
constexpr std::size_t kMaxGsoBytes = 65000;

// DF on everything, and the kernel's path MTU cache ignored: uTP measures the path (see the header).
void set_pmtu_mode(int fd, bool v6, bool allow_fragments) {
  int mode = v6 ? (allow_fragments ? IPV6_PMTUDISC_DONT : IPV6_PMTUDISC_PROBE)
                : (allow_fragments ? IP_PMTUDISC_DONT : IP_PMTUDISC_PROBE);
  if (v6) {
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &mode, sizeof mode);
  } else {
    ::setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &mode, sizeof mode);
  }
}

bool set_gro(int fd, bool on) {
  int value = on ? 1 : 0;
  return ::setsockopt(fd, SOL_UDP, UDP_GRO, &value, sizeof value) == 0;
}

// The segment size of a GRO-coalesced buffer, 0 when it holds one datagram. The kernel writes a u16; older
// documentation says int: both are read.
std::size_t gro_segment_size(const msghdr& msg) {
  for (auto* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&msg), c)) {
    if (c->cmsg_level != SOL_UDP || c->cmsg_type != UDP_GRO) continue;
    if (c->cmsg_len >= CMSG_LEN(sizeof(int))) {
      int size = 0;
      std::memcpy(&size, CMSG_DATA(c), sizeof size);
      return size > 0 ? static_cast<std::size_t>(size) : 0;
    }
    if (c->cmsg_len >= CMSG_LEN(sizeof(std::uint16_t))) {
      std::uint16_t size = 0;
      std::memcpy(&size, CMSG_DATA(c), sizeof size);
      return size;
    }
  }
  return 0;
}

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
    int fd = socket.native_handle();
    if (address.is_v6()) {
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof on);
    } else {
      ::setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof on);
    }
    set_pmtu_mode(fd, address.is_v6(), false);
    if (gro_ && !set_gro(fd, true)) gro_ = false;  // an old kernel: datagrams arrive one by one
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

bool UdpMux::send_fragmentable(udp::socket& socket, std::span<const std::uint8_t> bytes,
                               const udp::endpoint& to) {
  int fd = socket.native_handle();
  bool v6 = to.address().is_v6();
  set_pmtu_mode(fd, v6, true);
  auto n =
      ::sendto(fd, bytes.data(), bytes.size(), MSG_DONTWAIT, to.data(), static_cast<socklen_t>(to.size()));
  if (n < 0 && reports_an_earlier_datagram(errno))  // see send_to
    n = ::sendto(fd, bytes.data(), bytes.size(), MSG_DONTWAIT, to.data(), static_cast<socklen_t>(to.size()));
  set_pmtu_mode(fd, v6, false);
  return n >= 0;
}

UdpMux::SendResult UdpMux::send_many(const Endpoint& to, std::span<const Datagram> packets) {
  SendResult result;
  auto& socket = to.v6 ? v6_ : v4_;
  if (!socket.is_open()) return result;
  auto address = to_asio<udp>(to);
  int fd = socket.native_handle();
  constexpr std::size_t kEntries = 64;
  constexpr std::size_t kControl = CMSG_SPACE(sizeof(std::uint16_t));
  std::array<mmsghdr, kEntries> headers;
  std::array<iovec, 4 * kMaxSegments> iovecs;
  alignas(cmsghdr) std::array<std::array<char, kControl>, kEntries> controls;
  std::array<std::size_t, kEntries> first{};
  std::array<std::size_t, kEntries> count{};
  // Sends one datagram on its own; false when the send buffer is full (the rest would be dropped too).
  auto send_one = [&](std::span<const std::uint8_t> bytes) {
    auto n = ::sendto(fd, bytes.data(), bytes.size(), MSG_DONTWAIT, address.data(),
                      static_cast<socklen_t>(address.size()));
    if (n < 0 && reports_an_earlier_datagram(errno))  // see send_to
      n = ::sendto(fd, bytes.data(), bytes.size(), MSG_DONTWAIT, address.data(),
                   static_cast<socklen_t>(address.size()));
    if (n >= 0) {
      ++result.sent;
      return true;
    }
    if (errno == EMSGSIZE) result.too_big = true;
    return errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS;
  };
  for (std::size_t at = 0; at < packets.size();) {
    if (packets[at].may_fragment) {
      if (send_fragmentable(socket, packets[at].bytes, address)) ++result.sent;
      ++at;
      continue;
    }
    // Entries: a run of equal-size datagrams (a shorter one may end it) as one GSO send, or one datagram.
    std::size_t entries = 0;
    std::size_t used = 0;
    std::size_t scan = at;
    while (scan < packets.size() && entries < kEntries && !packets[scan].may_fragment) {
      std::size_t size = packets[scan].bytes.size();
      std::size_t n = 1;
      if (gso_ && size > 0) {
        std::size_t limit = std::min(kMaxSegments, std::max<std::size_t>(1, kMaxGsoBytes / size));
        while (n < limit && scan + n < packets.size() && !packets[scan + n].may_fragment) {
          std::size_t next = packets[scan + n].bytes.size();
          if (next > size || next == 0) break;
          ++n;
          if (next < size) break;
        }
      }
      if (used + n > iovecs.size()) break;
      auto& h = headers[entries];
      h = {};
      h.msg_hdr.msg_name = address.data();
      h.msg_hdr.msg_namelen = static_cast<socklen_t>(address.size());
      for (std::size_t k = 0; k < n; ++k) {
        auto b = packets[scan + k].bytes;
        iovecs[used + k] = {const_cast<std::uint8_t*>(b.data()), b.size()};
      }
      h.msg_hdr.msg_iov = &iovecs[used];
      h.msg_hdr.msg_iovlen = n;
      if (n > 1) {
        h.msg_hdr.msg_control = controls[entries].data();
        h.msg_hdr.msg_controllen = kControl;
        auto* c = CMSG_FIRSTHDR(&h.msg_hdr);
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
        auto segment = static_cast<std::uint16_t>(size);
        std::memcpy(CMSG_DATA(c), &segment, sizeof segment);
      }
      first[entries] = scan;
      count[entries] = n;
      ++entries;
      used += n;
      scan += n;
    }
    int sent = ::sendmmsg(fd, headers.data(), static_cast<unsigned>(entries), MSG_DONTWAIT);
    if (sent < 0 && reports_an_earlier_datagram(errno))  // see send_to
      sent = ::sendmmsg(fd, headers.data(), static_cast<unsigned>(entries), MSG_DONTWAIT);
    int error = errno;
    std::size_t done = sent > 0 ? static_cast<std::size_t>(sent) : 0;
    for (std::size_t i = 0; i < done; ++i) {
      result.sent += count[i];
      if (count[i] > 1) {
        ++stats_.gso_sends;
        stats_.gso_datagrams += count[i];
      }
    }
    if (done == entries) {
      at = scan;
      continue;
    }
    at = first[done];
    if (sent > 0) continue;  // the next call starts at the entry that failed and says why
    // Best effort, as send_to: a full send buffer drops the rest (uTP retransmits).
    if (error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS) return result;
    if (count[0] > 1) {
      // The kernel refused the GSO send: no checksum offload (EIO) or a kernel without UDP_SEGMENT: plain
      // datagrams from now on. EINVAL is a segment larger than the route's MTU: sent one by one, it says so.
      if (error == EIO || error == ENOPROTOOPT || error == EOPNOTSUPP) gso_ = false;
      for (std::size_t k = 0; k < count[0]; ++k)
        if (!send_one(packets[at + k].bytes)) return result;
    } else if (error == EMSGSIZE) {
      result.too_big = true;
    }
    at += count[0];
  }
  return result;
}

std::optional<std::size_t> UdpMux::route_mtu(const Endpoint& to) {
  int fd = ::socket(to.v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  auto address = to_asio<udp>(to);
  int mtu = 0;
  socklen_t length = sizeof mtu;
  int r = ::connect(fd, address.data(), static_cast<socklen_t>(address.size()));
  if (r == 0) {
    r = to.v6 ? ::getsockopt(fd, IPPROTO_IPV6, IPV6_MTU, &mtu, &length)
              : ::getsockopt(fd, IPPROTO_IP, IP_MTU, &mtu, &length);
  }
  ::close(fd);
  if (r != 0 || mtu <= 0) return std::nullopt;
  return static_cast<std::size_t>(mtu);
}

void UdpMux::set_offload(bool gso, bool gro) {
  gso_ = gso;
  gro_ = gro;
  for (auto* socket : {&v4_, &v6_}) {
    if (socket->is_open()) set_gro(socket->native_handle(), gro);
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
  constexpr std::size_t kControl = CMSG_SPACE(sizeof(int));
  struct alignas(cmsghdr) Control {
    std::array<char, kControl> bytes;
  };
  std::array<Control, kBatch> controls{};
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
        headers[i].msg_hdr.msg_control = controls[i].bytes.data();
        headers[i].msg_hdr.msg_controllen = kControl;
      }
      int n = ::recvmmsg(socket.native_handle(), headers.data(), kBatch, MSG_DONTWAIT, nullptr);
      if (n < 0) {
        // A queued ICMP error surfaces as a failed receive (ECONNREFUSED and the like) once; the details, and
        // the address it is about, wait on the error queue. The queue is read on every empty read too: while
        // it holds anything the socket polls as ready (POLLERR), and a receive that reported the error
        // already (or returned datagrams before it), or an error of our own kernel (EMSGSIZE), leaves nothing
        // else to say so: the loop would spin at full speed.
        drain_errors(socket);
        break;
      }
      for (std::size_t i = 0; i < static_cast<std::size_t>(n) && !closed_; ++i) {
        const auto& h = headers[i].msg_hdr;
        std::span<const std::uint8_t> data(buffer.data() + i * kMaxDatagram, headers[i].msg_len);
        udp::endpoint from;
        if (h.msg_namelen > from.capacity() || data.empty()) continue;
        std::memcpy(from.data(), &addresses[i], h.msg_namelen);
        from.resize(h.msg_namelen);
        auto sender = to_endpoint(from);
        // A GRO buffer holds datagrams of `segment` bytes back to back, the last one perhaps shorter.
        std::size_t segment = gro_segment_size(h);
        if (segment == 0 || segment >= data.size()) {
          deliver(data, sender, touched);
          continue;
        }
        ++stats_.gro_reads;
        for (std::size_t at = 0; at < data.size() && !closed_; at += segment) {
          ++stats_.gro_datagrams;
          deliver(data.subspan(at, std::min(segment, data.size() - at)), sender, touched);
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

void UdpMux::deliver(std::span<const std::uint8_t> datagram, const Endpoint& from,
                     std::array<bool, 3>& touched) {
  auto kind = classify(datagram);
  if (!kind) return;
  const auto& handler = handlers_[static_cast<std::size_t>(*kind)];
  if (!handler) return;
  touched[static_cast<std::size_t>(*kind)] = true;
  handler(datagram, from);
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
      bool from_network = err.ee_origin == SO_EE_ORIGIN_ICMP || err.ee_origin == SO_EE_ORIGIN_ICMP6;
      // EMSGSIZE: ICMP "fragmentation needed" / "packet too big", or our own kernel refusing a datagram
      // above the interface's MTU; ee_info is the MTU either way.
      bool too_big = err.ee_errno == EMSGSIZE && (from_network || err.ee_origin == SO_EE_ORIGIN_LOCAL);
      if (!from_network && !too_big) continue;
      // msg_name is the destination of the datagram that caused the error.
      udp::endpoint dest;
      if (msg.msg_namelen > dest.capacity()) continue;
      std::memcpy(dest.data(), &to, msg.msg_namelen);
      dest.resize(msg.msg_namelen);
      auto endpoint = to_endpoint(dest);
      if (too_big) {
        for (const auto& handler : too_big_) {
          if (handler) handler(endpoint, err.ee_info);
        }
        continue;
      }
      std::error_code error(static_cast<int>(err.ee_errno), std::generic_category());
      for (const auto& handler : unreachable_) {
        if (handler) handler(endpoint, error);
      }
    }
  }
}

}  // namespace shoal::net
