// Local Service Discovery on the network: a UDP socket on port 6771 joined to the BEP 14 multicast group
// (IPv4 239.192.152.143, and IPv6 ff15::efc0:988f where the host can), on the caller's io_context, driving
// an lsd::LsdState: announces our torrents when it says so and hands the peers that others announce to
// on_peer. Multicast loop is on (two processes on one host see each other), TTL 1 (the local link only).
//
// Failures never stop a transfer: start() says when LSD cannot run at all, and a send that fails (no route
// for multicast, say) is reported once through on_warning, after which receiving goes on.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <optional>
#include <string>

#include "lsd/lsd_state.hpp"
#include "shoal/expected.hpp"

namespace shoal::net {

struct LsdServiceOptions {
  // IPv4 address of the interface to join the group on and send from; empty: as the routing table says.
  std::string interface_address;
  bool ipv6 = true;  // also try the IPv6 group (quietly left out where it does not work)
  lsd::LsdConfig config;
};

class LsdService {
 public:
  LsdService(boost::asio::io_context& io, LsdServiceOptions options);
  ~LsdService();
  LsdService(const LsdService&) = delete;
  LsdService& operator=(const LsdService&) = delete;

  // Opens, binds and joins; an error means no LSD (the message says why).
  Expected<void, std::string> start();
  void stop();

  // Announces the torrent now (as far as the once-a-minute rule allows) and every 5 minutes after.
  void add_torrent(const Sha1Digest& info_hash, std::uint16_t port);
  void remove_torrent(const Sha1Digest& info_hash);
  // Brings a torrent's next announce forward (e.g. while it has no peers).
  void announce_soon(const Sha1Digest& info_hash);

  bool ipv4_active() const { return v4_.is_open(); }
  bool ipv6_active() const { return v6_.is_open(); }
  bool running() const { return started_ && !stopped_; }

  std::function<void(const lsd::LsdPeer&)> on_peer;
  std::function<void(const std::string&)> on_warning;  // at most once per problem
  std::function<void(const std::string&)> on_log;      // details for --verbose

 private:
  boost::asio::awaitable<void> receive_loop(boost::asio::ip::udp::socket& socket);
  boost::asio::awaitable<void> announce_loop();
  void send_due();
  void send(boost::asio::ip::udp::socket& socket, const lsd::Announce& announce,
            const boost::asio::ip::udp::endpoint& group, bool& warned);
  std::optional<std::string> open_v4(const boost::asio::ip::address_v4& interface_address);
  std::optional<std::string> open_v6();
  void log(const std::string& line) const;

  boost::asio::io_context& io_;
  LsdServiceOptions options_;
  lsd::LsdState state_;
  boost::asio::ip::udp::socket v4_;
  boost::asio::ip::udp::socket v6_;
  boost::asio::steady_timer timer_;
  bool v4_warned_ = false;
  bool v6_warned_ = false;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace shoal::net
