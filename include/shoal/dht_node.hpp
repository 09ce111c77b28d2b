// shoal::DhtNode — a standalone Mainline DHT node (BEP 5, with BEP 32 IPv6, BEP 42 ids, BEP 33/44/51 storage
// and answers) for embedding: what `shoal dht` runs as a bootstrap node. It owns a network thread.
// (A Session has a DHT node of its own for its torrents; this one is for running a node by itself.)
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "shoal/expected.hpp"

namespace shoal {

struct DhtNodeSettings {
  std::string bind_address = "0.0.0.0";   // IPv4; an IPv6 address here means IPv6 only
  std::string bind_address6 = "::";       // empty: no IPv6 DHT
  std::uint16_t port = 6881;              // 0: any free port
  std::filesystem::path state_file;       // node id and routing table across restarts; empty: none
  std::vector<std::string> bootstrap;     // HOST:PORT; empty with use_public_routers: the public routers
  bool use_public_routers = true;         // false and no bootstrap: the first node of a private DHT
  std::uint32_t max_queries_per_ip = 50;  // per second before an address is ignored; 0 = no limit
  bool allow_same_ip = false;             // keep many nodes of one address (private test networks)
  bool enforce_node_ids = true;           // BEP 42: ignore nodes whose id does not fit their address
};

struct DhtNodeStats {
  std::string node_id;  // 40 hex digits
  std::uint16_t port = 0;
  bool ipv6 = false;
  std::size_t nodes = 0;         // in the routing tables
  std::size_t stored_peers = 0;  // announced to us
  std::size_t stored_items = 0;  // BEP 44
  std::uint64_t queries_answered = 0;
};

class DhtNode {
 public:
  explicit DhtNode(DhtNodeSettings settings);
  ~DhtNode();  // stops (the state file is saved)
  DhtNode(const DhtNode&) = delete;
  DhtNode& operator=(const DhtNode&) = delete;

  // Binds and joins; the error says why it cannot run.
  Expected<void, std::string> start();
  // Thread-safe.
  DhtNodeStats stats() const;
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace shoal
