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
#include "net/udp_mux.hpp"
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
  // With `shared`, KRPC goes through that (already open) socket pair, which the DHT shares with the other
  // UDP protocols of the node; without, the service opens sockets of its own as options say.
  DhtService(boost::asio::io_context& io, DhtServiceOptions options, UdpMux* shared = nullptr);
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
  bool ipv6() const { return mux_->v6_open(); }
  const dht::DhtNode& node() const { return *node_; }

  // BEP 44 (dht_service_items.cpp). Callback forms, then coroutines that first wait (up to wait_limit)
  // until bootstrapping found some nodes.
  void get_item(const dht::NodeId& target, std::optional<dht::PublicKey> key, std::string salt,
                dht::DhtNode::GetItemDone done);
  void put_item(dht::Item item, dht::DhtNode::PutItemDone done);
  boost::asio::awaitable<dht::DhtNode::GetItemResult> get_item(dht::NodeId target,
                                                               std::optional<dht::PublicKey> key,
                                                               std::string salt,
                                                               std::chrono::seconds wait_limit);
  boost::asio::awaitable<dht::DhtNode::PutItemResult> put_item(dht::Item item,
                                                               std::chrono::seconds wait_limit);

 private:
  // Waits for nodes, starts a walk with `start` and returns what it found.
  boost::asio::awaitable<dht::DhtNode::LookupResult> walk(
      std::function<void(dht::DhtNode::LookupDone, std::vector<dht::Outgoing>&)> start,
      std::chrono::seconds wait_for_nodes);
  void on_packet(std::span<const std::uint8_t> packet, const Endpoint& from);
  boost::asio::awaitable<void> tick_loop();
  boost::asio::awaitable<void> bootstrap_all();
  void flush(std::vector<dht::Outgoing>& out);
  boost::asio::awaitable<void> await_some_nodes(std::chrono::seconds limit);
  void save_state() const;

  boost::asio::io_context& io_;
  DhtServiceOptions options_;
  std::unique_ptr<UdpMux> own_mux_;  // when not shared
  UdpMux* mux_;
  std::vector<dht::Outgoing> packet_out_;  // scratch for replies to received packets
  boost::asio::steady_timer timer_;
  std::unique_ptr<dht::DhtNode> node_;
  std::vector<dht::NodeInfo> saved_nodes_;
  bool stopped_ = false;
};

}  // namespace shoal::net
