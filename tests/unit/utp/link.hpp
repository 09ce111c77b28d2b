// Two uTP connections joined by a virtual link (delay, jitter, loss, duplication; seeded) on virtual time:
// the test drives both state machines exactly as the socket manager would, with no sockets and no sleeps.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <vector>

#include "utp/connection.hpp"

namespace shoal::utp::test {

struct LinkConfig {
  TimeUs delay_us = 10'000;
  TimeUs jitter_us = 0;  // uniform extra delay: reorders packets
  double loss = 0;
  double duplicate = 0;
  // A bottleneck from side 0 to side 1 (0: none): packets queue behind each other at this rate, so the
  // queuing delay grows with what the sender keeps in flight, as at a real bottleneck.
  double rate_bytes_per_s = 0;
  std::uint32_t seed = 1;
  // The path MTU from side i, in UDP payload bytes (0: any size): a larger datagram is dropped unless its
  // sender allowed fragmentation (a router then splits it, and it arrives).
  std::size_t mtu[2] = {0, 0};
  // Drops every datagram from side `i` for which this returns true (after the random loss).
  std::function<bool(int from, const Packet& p)> drop;
};

class Link {
 public:
  explicit Link(LinkConfig link_config) : config(std::move(link_config)), rng_(config.seed) {}

  LinkConfig config;  // may change mid-run (a route change)
  std::optional<Connection> side[2];
  TimeUs now = 1'000'000;
  std::uint64_t datagrams[2] = {0, 0};
  std::size_t largest[2] = {0, 0};
  // Called for every datagram delivered to a side with no connection yet (side 1: the listener).
  std::function<void(int to, const Packet& p)> on_unbound;

  // Takes both sides' output onto the wire.
  void collect() {
    for (int i = 0; i < 2; ++i) {
      if (!side[i]) continue;
      auto& c = *side[i];
      for (std::size_t k = 0; k < c.output_count(); ++k)
        send(i, c.output(k), c.output_may_fragment(k));
      c.clear_output();
    }
  }

  void send(int from, std::span<const std::uint8_t> bytes, bool may_fragment = false) {
    ++datagrams[from];
    largest[from] = std::max(largest[from], bytes.size());
    if (config.mtu[from] > 0 && bytes.size() > config.mtu[from] && !may_fragment) return;
    std::uniform_real_distribution<double> u(0, 1);
    if (config.loss > 0 && u(rng_) < config.loss) return;
    if (config.drop) {
      auto p = decode_packet(bytes);
      if (p && config.drop(from, *p)) return;
    }
    TimeUs extra =
        config.jitter_us > 0 ? std::uniform_int_distribution<TimeUs>(0, config.jitter_us)(rng_) : 0;
    if (config.rate_bytes_per_s > 0 && from == 0) {
      busy_until_ = std::max(busy_until_, now) +
                    static_cast<TimeUs>(static_cast<double>(bytes.size()) * 1e6 / config.rate_bytes_per_s);
      extra += busy_until_ - now;
    }
    std::vector<std::uint8_t> copy(bytes.begin(), bytes.end());
    if (config.duplicate > 0 && u(rng_) < config.duplicate)
      wire_.emplace(now + config.delay_us + extra + 1, Flight{1 - from, copy});
    wire_.emplace(now + config.delay_us + extra, Flight{1 - from, std::move(copy)});
  }

  // Advances to the next event (a delivery or a timer) and handles it; false when nothing is left to happen.
  bool step() {
    collect();
    TimeUs next = kNever;
    if (!wire_.empty()) next = wire_.begin()->first;
    for (auto& s : side)
      if (s) next = std::min(next, s->next_deadline());
    if (next == kNever) return false;
    now = std::max(now, next);
    while (!wire_.empty() && wire_.begin()->first <= now) {
      auto flight = std::move(wire_.begin()->second);
      wire_.erase(wire_.begin());
      auto p = decode_packet(flight.bytes);
      if (!p) continue;
      if (side[flight.to]) {
        side[flight.to]->on_packet(*p, now);
      } else if (on_unbound) {
        on_unbound(flight.to, *p);
      }
    }
    for (auto& s : side) {
      if (!s) continue;
      if (s->next_deadline() <= now) s->on_timer(now);
    }
    return true;
  }

  void flush_all() {
    for (auto& s : side)
      if (s) s->flush(now);
  }

  std::size_t in_flight_datagrams() const { return wire_.size(); }

 private:
  struct Flight {
    int to;
    std::vector<std::uint8_t> bytes;
  };
  std::mt19937 rng_;
  std::multimap<TimeUs, Flight> wire_;
  TimeUs busy_until_ = 0;
};

}  // namespace shoal::utp::test
