// The DHT on the network: a UDP socket per address family (BEP 32: an IPv4 and an IPv6 DHT, one node) on the
// caller's io_context driving a dht::DhtNode (receive loops, 100 ms tick), bootstrap from given nodes and
// from the saved routing tables, and the tables saved on stop.
#pragma once

#include <array>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dht/dht_node.hpp"
#include "shoal/expected.hpp"

namespace shoal::net {

// The well-known Mainline DHT routers that a node with no saved table joins through.
inline constexpr std::array<const char*, 4> kPublicDhtRouters = {
    "router.bittorrent.com:6881", "router.utorrent.com:6881", "dht.transmissionbt.com:6881",
    "dht.libtorrent.org:25401"};

struct DhtServiceOptions {
  std::string bind_address = "0.0.0.0";  // IPv4; an IPv6 address here means IPv6 only
  std::string bind_address6 = "::";      // empty: no IPv6 DHT
  std::uint16_t port = 0;                // 0: any free port (the IPv6 socket tries the same one)
  std::vector<std::string> bootstrap;    // HOST:PORT; names are resolved
  std::filesystem::path state_file;      // node id and routing table; empty: nothing saved
  dht::DhtConfig config;
};

class DhtService {
 public:
  DhtService(boost::asio::io_context& io, DhtServiceOptions options);
  ~DhtService();

  Expected<std::uint16_t, std::string> start();
  void stop();  // saves the state file

  // Iterative get_peers; announces our `announce_port` to the closest nodes when given.
  void get_peers(const dht::NodeId& info_hash, std::optional<std::uint16_t> announce_port,
                 dht::DhtNode::LookupDone done);
  // The same as a coroutine: waits (up to wait_for_nodes) until bootstrapping found some nodes, then looks
  // up (and announces, or scrapes, as `search` says).
  boost::asio::awaitable<dht::DhtNode::LookupResult> search(dht::NodeId info_hash, dht::PeerSearch search,
                                                            std::chrono::seconds wait_for_nodes);
  boost::asio::awaitable<std::vector<Endpoint>> lookup(dht::NodeId info_hash,
                                                       std::optional<std::uint16_t> announce_port,
                                                       std::chrono::seconds wait_for_nodes);
  // BEP 51: one sampling walk towards `target` (after waiting for nodes as search() does).
  boost::asio::awaitable<dht::DhtNode::LookupResult> sample(dht::NodeId target,
                                                            std::chrono::seconds wait_for_nodes);
  bool ipv6() const { return socket6_.is_open(); }
  const dht::DhtNode& node() const { return *node_; }

 private:
  // Waits for nodes, starts a walk with `start` and returns what it found.
  boost::asio::awaitable<dht::DhtNode::LookupResult> walk(
      std::function<void(dht::DhtNode::LookupDone, std::vector<dht::Outgoing>&)> start,
      std::chrono::seconds wait_for_nodes);
  boost::asio::awaitable<void> receive_loop(boost::asio::ip::udp::socket& socket);
  std::optional<std::string> open(boost::asio::ip::udp::socket& socket, const std::string& address,
                                  std::uint16_t port);
  boost::asio::awaitable<void> tick_loop();
  boost::asio::awaitable<void> bootstrap_all();
  void flush(std::vector<dht::Outgoing>& out);
  void save_state() const;

  boost::asio::io_context& io_;
  DhtServiceOptions options_;
  boost::asio::ip::udp::socket socket_;   // IPv4
  boost::asio::ip::udp::socket socket6_;  // IPv6
  boost::asio::steady_timer timer_;
  std::unique_ptr<dht::DhtNode> node_;
  std::vector<dht::NodeInfo> saved_nodes_;
  bool stopped_ = false;
};

}  // namespace shoal::net
