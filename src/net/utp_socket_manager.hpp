// The session's uTP endpoint (BEP 29): datagrams arrive through the shared UdpMux (Kind::utp), are routed by
// (remote endpoint, connection id) to their utp::Connection, and what the connections queue is sent back
// through the mux. One Asio timer serves every connection's deadlines. ACKs are cut once per batch of
// datagrams the mux read (recvmmsg), not once per datagram.
//
// Incoming: a SYN creates a connection in syn_received, which answers with one bare 20-byte STATE and sends
// nothing more until the peer proves it received it; only then is it handed to the accept handler (the
// listener). Caps: half-open incoming connections in total, and connections per remote IP address. A packet
// for no connection we know is answered by a RESET no larger than it (a SYN we refuse too).
//
// Path MTU: once a connection is confirmed, its probing ceiling is the route's MTU towards the peer (less the
// IP and UDP headers), capped by Limits::max_packet_size; ICMP "too big" errors and EMSGSIZE from the socket
// go to the connections with that peer. Datagrams a connection flags may_fragment are sent without DF.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "net/udp_mux.hpp"
#include "net/utp_socket.hpp"
#include "shoal/endpoint.hpp"
#include "utp/connection.hpp"

namespace shoal::net {

struct UtpLimits {
  int max_per_ip = 32;     // connections (any state) with one remote address
  int max_half_open = 64;  // incoming connections not yet confirmed
  // The largest uTP packet probed for, whatever the route allows: jumbo frames (9000 less IPv4 and UDP
  // headers). Loopback's 64 KiB MTU is capped there too: bench/utp measured this cap (with GSO) against
  // fixed 1400-byte packets; larger caps were not measured, and each loss would cost more.
  std::size_t max_packet_size = 8972;
};

class UtpSocketManager {
 public:
  using Limits = UtpLimits;
  struct Stats {
    std::uint64_t malformed = 0;
    std::uint64_t refused = 0;  // SYNs over a cap, or with no accept handler
    std::uint64_t resets_sent = 0;
    std::uint64_t accepted = 0;
    // Bytes of SYNs that opened an incoming connection, and bytes we sent on such connections before the
    // peer confirmed: the latter never exceeds the former (no amplification).
    std::uint64_t unconfirmed_syn_bytes = 0;
    std::uint64_t unconfirmed_reply_bytes = 0;
    std::uint64_t largest_unconfirmed_reply = 0;
  };
  using Accept = std::function<void(std::shared_ptr<UtpSocket>)>;
  using Log = std::function<void(const std::string&)>;

  UtpSocketManager(boost::asio::io_context& io, UdpMux& mux, utp::ConnectionConfig config = {},
                   Limits limits = {});
  ~UtpSocketManager();
  UtpSocketManager(const UtpSocketManager&) = delete;
  UtpSocketManager& operator=(const UtpSocketManager&) = delete;

  // Incoming connections go to `accept` once confirmed; without one every SYN is refused.
  void set_accept_handler(Accept accept) { accept_ = std::move(accept); }
  // Verbose lines (the path MTU each connection settles on); none without a handler.
  void set_log_handler(Log log) { log_ = std::move(log); }
  // Opens a connection; completes when the peer answered the SYN, or with an error (timed_out,
  // connection_refused for a RESET or an ICMP port unreachable, operation_aborted at close()).
  boost::asio::awaitable<std::pair<boost::system::error_code, std::shared_ptr<UtpSocket>>> connect(
      Endpoint to);
  // Aborts every connection (a RESET each) and fails what waits on them.
  void close();

  const Stats& stats() const { return stats_; }
  std::size_t connections() const { return sockets_.size(); }

  // The UtpSocket's side.
  void flush(UtpSocket& socket);
  void on_app_closed(UtpSocket& socket);

 private:
  using Key = std::pair<Endpoint, std::uint16_t>;
  using Address = std::pair<std::array<std::uint8_t, 16>, bool>;

  void on_datagram(std::span<const std::uint8_t> bytes, const Endpoint& from);
  void on_batch_done();
  bool defer_ack(const std::shared_ptr<UtpSocket>& socket);
  void on_unreachable(const Endpoint& to, std::error_code error);
  void on_too_big(const Endpoint& to, std::size_t mtu);
  void packet_too_big(UtpSocket& socket, std::size_t mtu);
  void update_path_mtu(UtpSocket& socket);
  void on_syn(const utp::Packet& syn, std::size_t size, const Endpoint& from);
  void send_reset(const utp::PacketHeader& to_what, const Endpoint& to);
  // Sends what the connection queued, then completes and cleans up what its new state allows.
  // By value: servicing may erase the map's reference to the socket.
  void service(std::shared_ptr<UtpSocket> socket);
  void send_output(UtpSocket& socket);
  void schedule(utp::TimeUs deadline);
  void on_timer();
  void erase(std::shared_ptr<UtpSocket> socket);
  utp::TimeUs now() const;
  static Address address_of(const Endpoint& e) { return {e.address, e.v6}; }

  boost::asio::io_context& io_;
  UdpMux& mux_;
  utp::ConnectionConfig config_;
  Limits limits_;
  Accept accept_;
  Log log_;
  std::map<Key, std::shared_ptr<UtpSocket>> sockets_;
  std::map<Address, int> per_ip_;
  int half_open_ = 0;
  std::vector<std::shared_ptr<UtpSocket>> dirty_;
  std::vector<std::shared_ptr<UtpSocket>> servicing_;
  std::vector<UdpMux::Datagram> packets_;
  boost::asio::steady_timer timer_;
  utp::TimeUs timer_at_ = utp::kNever;
  std::mt19937 rng_;
  Stats stats_;
  bool closed_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace shoal::net
