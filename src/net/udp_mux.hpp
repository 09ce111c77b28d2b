// One UDP socket per address family, shared by everything of a node that speaks UDP on its port: the DHT
// (KRPC, first byte 'd'), the UDP tracker client (BEP 15 replies: a 32-bit action below 256, so first byte 0)
// and, later, uTP (BEP 29: first byte type << 4 | version 1). Each datagram goes to the handler its first
// byte names; one with no handler is dropped.
//
// Path MTU: the sockets set DF on everything (IP_PMTUDISC_PROBE / IPV6_PMTUDISC_PROBE: the kernel neither
// fragments nor trusts its path MTU cache, so uTP's probes measure the path itself); a datagram flagged
// may_fragment goes out once without DF. ICMP "fragmentation needed" / "packet too big" reach the too-big
// handlers with the size the router named, not the unreachable ones.
//
// Batching: send_many groups runs of equal-size datagrams to one address into one UDP GSO send (UDP_SEGMENT:
// the kernel, or the NIC, cuts them) and sends the groups with one sendmmsg; receiving, UDP_GRO lets the
// kernel hand over several datagrams of one flow as one buffer, which is cut back by the segment size it
// reports, so every handler still sees single datagrams. Either falls back to plain datagrams where the
// kernel lacks it.
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
  // A datagram to `to` was too big for the path; `mtu` is the IP MTU the network named (0: unknown).
  using TooBigHandler = std::function<void(const Endpoint& to, std::size_t mtu)>;
  struct Datagram {
    std::span<const std::uint8_t> bytes;
    bool may_fragment = false;  // sent without DF (a retransmission whose size the path may not carry)
  };
  struct SendResult {
    std::size_t sent = 0;  // datagrams handed to the kernel
    bool too_big = false;  // one was refused as larger than the route's MTU (EMSGSIZE)
  };
  struct Stats {
    std::uint64_t gso_sends = 0;      // sends that carried several datagrams (UDP_SEGMENT)
    std::uint64_t gso_datagrams = 0;  // datagrams in them
    std::uint64_t gro_reads = 0;      // buffers that held several datagrams (UDP_GRO)
    std::uint64_t gro_datagrams = 0;  // datagrams cut from them
  };

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
  void set_too_big_handler(Kind kind, TooBigHandler handler) {
    too_big_[static_cast<std::size_t>(kind)] = std::move(handler);
  }
  // Best effort, as UDP is: a family we have no socket for, or a full send buffer, drops the packet.
  void send_to(const Endpoint& to, std::span<const std::uint8_t> packet);
  // Several datagrams to one address in as few system calls as the kernel allows (GSO runs in one sendmmsg).
  SendResult send_many(const Endpoint& to, std::span<const Datagram> packets);
  // The IP MTU of the route towards `to` (the interface's, or a smaller one the kernel learned), asked of the
  // kernel with a throwaway connected socket that sends nothing; nullopt when there is no route.
  static std::optional<std::size_t> route_mtu(const Endpoint& to);
  // Turns GSO and GRO off (tests of the plain paths; a kernel that refuses them does the same).
  void set_offload(bool gso, bool gro);
  bool gso() const { return gso_; }
  bool gro() const { return gro_; }
  const Stats& stats() const { return stats_; }
  void close();

  bool v4_open() const { return v4_.is_open(); }
  bool v6_open() const { return v6_.is_open(); }
  std::uint16_t port() const { return port_; }

 private:
  std::optional<std::string> open_one(boost::asio::ip::udp::socket& socket, const std::string& address,
                                      std::uint16_t port);
  boost::asio::awaitable<void> receive_loop(boost::asio::ip::udp::socket& socket);
  void drain_errors(boost::asio::ip::udp::socket& socket);
  void deliver(std::span<const std::uint8_t> datagram, const Endpoint& from, std::array<bool, 3>& touched);
  bool send_fragmentable(boost::asio::ip::udp::socket& socket, std::span<const std::uint8_t> bytes,
                         const boost::asio::ip::udp::endpoint& to);

  boost::asio::io_context& io_;
  boost::asio::ip::udp::socket v4_;
  boost::asio::ip::udp::socket v6_;
  std::array<Handler, 3> handlers_;
  std::array<UnreachableHandler, 3> unreachable_;
  std::array<std::function<void()>, 3> batch_end_;
  std::array<TooBigHandler, 3> too_big_;
  bool gso_ = true;
  bool gro_ = true;
  Stats stats_;
  std::uint16_t port_ = 0;
  bool closed_ = false;
};

}  // namespace shoal::net
