// One UDP socket per address family, shared by everything of a node that speaks UDP on its port: the DHT
// (KRPC, first byte 'd'), the UDP tracker client (BEP 15 replies: a 32-bit action below 256, so first byte 0)
// and, later, uTP (BEP 29: first byte type << 4 | version 1). Each datagram goes to the handler its first
// byte names; one with no handler is dropped.
//
// ICMP errors for what we sent (port or host unreachable) are read off the sockets' error queues
// (IP_RECVERR): an unconnected UDP socket hears of them no other way, and without them a request to a closed
// port waits out every retransmission (a UDP tracker: 15 s and more) instead of failing at once.
#pragma once

#include <array>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <system_error>

#include "shoal/endpoint.hpp"
#include "shoal/expected.hpp"

namespace shoal::net {

class UdpMux {
 public:
  enum class Kind : std::uint8_t { krpc, tracker, utp };
  using Handler = std::function<void(std::span<const std::uint8_t> packet, const Endpoint& from)>;
  // `to` cannot be reached: `error` is ECONNREFUSED (port unreachable), EHOSTUNREACH or ENETUNREACH.
  using UnreachableHandler = std::function<void(const Endpoint& to, std::error_code error)>;

  // Which protocol a datagram speaks, by its first byte; nullopt: none of ours.
  static std::optional<Kind> classify(std::span<const std::uint8_t> packet);

  explicit UdpMux(boost::asio::io_context& io);
  ~UdpMux();
  UdpMux(const UdpMux&) = delete;
  UdpMux& operator=(const UdpMux&) = delete;

  // Binds IPv4 on bind_address (when it is an IPv4 address; an IPv6 one there means IPv6 only) and IPv6 on
  // bind_address6 (empty: none), on the same port where possible. Returns the port; an error when neither
  // family could be opened. An IPv6 failure where IPv4 works only means no IPv6.
  Expected<std::uint16_t, std::string> open(const std::string& bind_address, const std::string& bind_address6,
                                            std::uint16_t port);
  void set_handler(Kind kind, Handler handler) {
    handlers_[static_cast<std::size_t>(kind)] = std::move(handler);
  }
  // Called after each batch of datagrams read at once (recvmmsg), so a protocol can answer a batch with one
  // round of output (uTP: one ACK per batch, not per datagram).
  void set_batch_end_handler(Kind kind, std::function<void()> handler) {
    batch_end_[static_cast<std::size_t>(kind)] = std::move(handler);
  }
  // Told of every ICMP error for a datagram sent to `to`, whatever protocol sent it.
  void set_unreachable_handler(Kind kind, UnreachableHandler handler) {
    unreachable_[static_cast<std::size_t>(kind)] = std::move(handler);
  }
  // Best effort, as UDP is: a family we have no socket for, or a full send buffer, drops the packet.
  void send_to(const Endpoint& to, std::span<const std::uint8_t> packet);
  // Several datagrams to one address in as few system calls as the kernel allows (sendmmsg).
  void send_many(const Endpoint& to, std::span<const std::span<const std::uint8_t>> packets);
  void close();

  bool v4_open() const { return v4_.is_open(); }
  bool v6_open() const { return v6_.is_open(); }
  std::uint16_t port() const { return port_; }

 private:
  std::optional<std::string> open_one(boost::asio::ip::udp::socket& socket, const std::string& address,
                                      std::uint16_t port);
  boost::asio::awaitable<void> receive_loop(boost::asio::ip::udp::socket& socket);
  void drain_errors(boost::asio::ip::udp::socket& socket);

  boost::asio::io_context& io_;
  boost::asio::ip::udp::socket v4_;
  boost::asio::ip::udp::socket v6_;
  std::array<Handler, 3> handlers_;
  std::array<UnreachableHandler, 3> unreachable_;
  std::array<std::function<void()>, 3> batch_end_;
  std::uint16_t port_ = 0;
  bool closed_ = false;
};

}  // namespace shoal::net
