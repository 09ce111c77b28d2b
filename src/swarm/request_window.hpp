// How many block requests to keep in flight to one peer: enough to fill the path between us (its rate times
// the round trip, the bandwidth-delay product) plus a margin of rate, found quickly on a new connection.
// Pure: the peer protocol feeds it the send and arrival time of each block it asked for, and a tick's rate.
//
// What it measures and why:
//  - The round trip is the time from our request to its block. With a deep queue that time also holds the
//    wait behind our earlier requests at the sender, and this window keeps such a queue on purpose (the
//    margin); so the path's round trip is the smallest sample of the connection's life. A windowed minimum
//    would forget the path under the standing queue and take the queue for path, growing the window to fill
//    it, round after round.
//  - Until the rate is known, the window grows by one request for each block that comes (doubling per round
//    trip, as TCP's slow start), not per tick: at a 400 ms round trip, a tick-driven rule needs many seconds
//    to grow past the floor. Slow start ends when a block's round trip passes twice the path's plus a slack
//    (our requests are now queueing at the sender: the window exceeds the path) or at the ceiling; after it,
//    the window is the rate rule, and what slow start reached decays into it tick by tick (the measured rate
//    lags what the peer delivers by a few ticks).
//
// Invariants: kMinDepth <= depth() <= kMaxDepth before the caller's limit; one while snubbed.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

namespace shoal::swarm {

class RequestWindow {
 public:
  using Clock = std::chrono::steady_clock;

  // Rate times (path round trip + kQueueTime): the bandwidth-delay product plus a second of the rate as a
  // margin for the rate to grow and for the sender's own pauses (disk reads, other peers on its uplink).
  static constexpr double kQueueTime = 1.0;  // seconds
  static constexpr std::size_t kMinDepth = 8;
  // 64 MiB of blocks: a second of 500 Mbit/s plus a 400 ms round trip. A torrent's requests in flight are
  // bounded as a whole by its budget (torrent::Params::request_budget_bytes).
  static constexpr std::size_t kMaxDepth = 4096;
  // Queueing beyond twice the path's round trip ends slow start; the slack keeps a loopback path (a round
  // trip of microseconds) from ending it at a disk read.
  static constexpr auto kQueueingSlack = std::chrono::milliseconds(50);
  // After slow start, what it reached falls this share towards the rate rule each tick.
  static constexpr double kDecayPerTick = 0.25;

  // A block we asked for at `sent` arrived at `now`.
  void on_block(Clock::time_point sent, Clock::time_point now);
  // The peer sits on our requests: slow start is over and the window starts again from the floor.
  void on_snubbed();
  // Once a second, with the peer's measured rate (bytes/s).
  void on_tick(double rate);
  // Requests to keep in flight at `rate` (bytes/s): the larger of the rate rule and slow start's window.
  std::size_t depth(double rate) const;

  // The path's round trip: the smallest request-to-block time seen; none before the first block.
  std::optional<Clock::duration> path_rtt() const { return path_rtt_; }
  bool in_slow_start() const { return slow_start_; }

 private:
  std::size_t by_rate(double rate) const;

  std::optional<Clock::duration> path_rtt_;
  bool slow_start_ = true;
  double window_ = static_cast<double>(kMinDepth);  // slow start's window, then its decaying remainder
};

}  // namespace shoal::swarm
