// An in-process network of DHT nodes on virtual time, for the simulation test and unit tests: every packet
// a node emits is delivered after a latency (or lost with a probability); nodes can leave (churn).
#pragma once

#include <map>
#include <memory>
#include <queue>
#include <random>
#include <vector>

#include "dht/dht_node.hpp"

namespace shoal::dht::sim {

class Network {
 public:
  Network(std::uint64_t seed, double loss, std::chrono::milliseconds latency)
      : rng_(seed), loss_(loss), latency_(latency) {}

  // Adds a node at 10.x.y.z:6881 with a random id; returns its index.
  std::size_t add_node() {
    NodeId id;
    for (auto& b : id.bytes)
      b = static_cast<std::uint8_t>(rng_());
    DhtConfig config;
    config.max_queries_per_ip = 0;
    auto index = nodes_.size();
    Endpoint e;
    e.address = {10, static_cast<std::uint8_t>(index >> 16), static_cast<std::uint8_t>(index >> 8),
                 static_cast<std::uint8_t>(index)};
    e.port = 6881;
    nodes_.push_back(std::make_unique<DhtNode>(id, config, rng_()));
    endpoints_.push_back(e);
    alive_.push_back(true);
    by_endpoint_[e] = index;
    return index;
  }
  DhtNode& node(std::size_t i) { return *nodes_[i]; }
  void set_loss(double loss) { loss_ = loss; }
  const Endpoint& endpoint(std::size_t i) const { return endpoints_[i]; }
  void kill(std::size_t i) { alive_[i] = false; }
  bool alive(std::size_t i) const { return alive_[i]; }
  std::size_t size() const { return nodes_.size(); }
  Clock::time_point now() const { return now_; }
  std::uint64_t packets() const { return packets_; }

  // A small network for unit tests: `count` nodes, each joining through node 0 one after another, then
  // `settle` of virtual time for the tables to fill.
  void grow_and_join(std::size_t count, Clock::duration settle) {
    for (std::size_t i = 0; i < count; ++i)
      add_node();
    for (std::size_t i = 1; i < size(); ++i) {
      act(i, [&](DhtNode& n, Clock::time_point now, std::vector<Outgoing>& out) {
        n.bootstrap(endpoint(0), now, out);
      });
      run_for(std::chrono::milliseconds(50));
    }
    run_for(settle);
  }

  // Lets a node act: whatever it emits goes on the wire.
  template <class F>
  void act(std::size_t i, F&& f) {
    std::vector<Outgoing> out;
    f(*nodes_[i], now_, out);
    send(i, out);
  }

  // Advances virtual time by `d`, delivering packets and ticking every node every 100 ms.
  void run_for(Clock::duration d) {
    auto end = now_ + d;
    while (now_ < end) {
      auto next_tick = now_ + std::chrono::milliseconds(100);
      while (!queue_.empty() && queue_.top().at <= next_tick) {
        auto packet = queue_.top();
        queue_.pop();
        now_ = std::max(now_, packet.at);
        auto it = by_endpoint_.find(packet.to);
        if (it == by_endpoint_.end() || !alive_[it->second]) continue;
        std::vector<Outgoing> out;
        nodes_[it->second]->on_packet(packet.data, endpoints_[packet.from], now_, out);
        send(it->second, out);
      }
      now_ = next_tick;
      for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (!alive_[i]) continue;
        std::vector<Outgoing> out;
        nodes_[i]->tick(now_, out);
        send(i, out);
      }
    }
  }

 private:
  struct InFlight {
    Clock::time_point at;
    std::size_t from;
    Endpoint to;
    std::string data;
    bool operator<(const InFlight& o) const { return at > o.at; }
  };
  void send(std::size_t from, std::vector<Outgoing>& out) {
    std::uniform_real_distribution<double> u(0, 1);
    for (auto& o : out) {
      ++packets_;
      if (u(rng_) < loss_) continue;
      auto jitter = std::chrono::milliseconds(rng_() % (latency_.count() + 1));
      queue_.push({now_ + latency_ + jitter, from, o.to, std::move(o.packet)});
    }
    out.clear();
  }

  std::mt19937_64 rng_;
  double loss_;
  std::chrono::milliseconds latency_;
  Clock::time_point now_{std::chrono::hours(1)};
  std::vector<std::unique_ptr<DhtNode>> nodes_;
  std::vector<Endpoint> endpoints_;
  std::vector<bool> alive_;
  std::map<Endpoint, std::size_t> by_endpoint_;
  std::priority_queue<InFlight> queue_;
  std::uint64_t packets_ = 0;
};

}  // namespace shoal::dht::sim
