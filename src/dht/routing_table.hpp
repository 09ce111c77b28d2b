// The Kademlia routing table of BEP 5: buckets of k = 8 nodes that split around our own id, modelled as one
// bucket per shared-prefix length with our id (the same tree: only the bucket holding our id ever splits).
// Node liveness per BEP 5 (good: answered within 15 minutes; questionable; bad after repeated failures), a
// replacement cache per bucket, and the buckets that need a refresh. Sans-I/O: time is a parameter.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "dht/krpc.hpp"

namespace shoal::dht {

using Clock = std::chrono::steady_clock;

inline constexpr std::size_t kBucketSize = 8;
inline constexpr auto kGoodFor = std::chrono::minutes(15);
inline constexpr int kFailuresBeforeBad = 2;

// XOR distance ordering: is a closer to target than b?
bool closer(const NodeId& target, const NodeId& a, const NodeId& b);
// Number of leading bits a and b share (160 when equal).
int shared_prefix(const NodeId& a, const NodeId& b);

struct RoutingEntry {
  NodeInfo node;
  Clock::time_point last_response{};  // when it last answered one of our queries
  Clock::time_point last_heard{};     // any message from it
  int failures = 0;                   // consecutive unanswered queries
  bool good(Clock::time_point now) const {
    return failures == 0 && last_response != Clock::time_point{} && now - last_response < kGoodFor;
  }
  bool bad() const { return failures >= kFailuresBeforeBad; }
};

struct RoutingOptions {
  bool one_node_per_ip = true;  // BEP 42 spirit: off only for private test networks on one address
};

class RoutingTable {
 public:
  RoutingTable(const NodeId& own_id, RoutingOptions options = {}) : own_(own_id), options_(options) {}

  // A node sent us something; `answered` when it was the response to our query (that is what makes it good).
  // Returns true when the node is (now) in the table.
  bool heard_from(const NodeInfo& node, Clock::time_point now, bool answered);
  // A query to this endpoint went unanswered.
  void failed(const Endpoint& endpoint);

  // Up to `count` known nodes closest to target (bad ones excluded), of one address family.
  std::vector<NodeInfo> closest(const NodeId& target, std::size_t count, bool v6) const;
  // Questionable nodes worth a ping (BEP 5: before replacing them), at most `count`.
  std::vector<NodeInfo> to_ping(Clock::time_point now, std::size_t count) const;
  // For buckets untouched for 15 minutes: a random id in each, to look up (the refresh). `random` supplies
  // bits.
  std::vector<NodeId> refresh_targets(Clock::time_point now, std::uint64_t random) const;

  // Our id changed (BEP 42, once our external address is known): the same nodes, sorted into the buckets
  // around the new id, keeping what we know of their liveness.
  void change_own_id(const NodeId& id);

  std::size_t size() const;
  const NodeId& own_id() const { return own_; }
  std::vector<NodeInfo> all() const;  // for saving the table

 private:
  struct Bucket {
    std::vector<RoutingEntry> nodes;
    std::vector<RoutingEntry> replacements;
    Clock::time_point last_changed{};
  };
  std::size_t bucket_of(const NodeId& id) const;
  bool ip_taken(const Endpoint& e, const NodeId& id) const;

  NodeId own_;
  RoutingOptions options_;
  std::array<Bucket, 160> buckets_;
};

}  // namespace shoal::dht
