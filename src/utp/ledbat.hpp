// LEDBAT congestion control for one uTP connection (BEP 29, RFC 6817): the window grows while the one-way
// queuing delay is below the 100 ms target and shrinks above it, so uTP yields to TCP on a shared bottleneck.
// Growth is RFC 6817's (at most max_increase_per_rtt per round trip); the decrease is LEDBAT++'s, in
// proportion to the window (see on_ack), so a large window is given back within a few round trips.
// The one-way delay comes from the peer's timestamp_difference: its receive clock minus our send clock, so it
// holds an unknown clock offset that cancels when the smallest delay seen (the base delay) is subtracted.
// The base delay is the minimum over the last kBaseDelayMinutes one-minute buckets, so a route change or
// clock drift ages out. Slow start (doubling per RTT) runs until the delay reaches half the target or a loss.
// Pure: time is a parameter (microseconds on any monotonic clock).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace shoal::utp {

struct LedbatConfig {
  std::uint32_t target_delay_us = 100'000;
  std::size_t max_increase_per_rtt = 3000;  // bytes, BEP 29's MAX_CWND_INCREASE_BYTES_PER_RTT
  std::size_t min_window = 1400;            // never below one full packet: the connection keeps moving
  std::size_t max_window = 8 * 1024 * 1024;
  std::size_t initial_window = 16 * 1400;
};

// The minimum of the delay samples of the last few minutes. Samples are 32-bit and may wrap (the clocks'
// offset is arbitrary), so "smaller" means "behind, modulo 2^32".
class BaseDelayHistory {
 public:
  static constexpr int kBaseDelayMinutes = 13;
  static constexpr std::int64_t kBucketUs = 60'000'000;

  void add(std::uint32_t sample, std::int64_t now_us);
  bool empty() const { return !have_; }
  std::uint32_t base() const { return base_; }

 private:
  std::array<std::uint32_t, kBaseDelayMinutes> buckets_{};
  int current_ = 0;
  int filled_ = 0;
  std::int64_t bucket_start_us_ = 0;
  std::uint32_t base_ = 0;
  bool have_ = false;
};

class Ledbat {
 public:
  explicit Ledbat(LedbatConfig config = {}) : config_(config), window_(config.initial_window) {}

  // `bytes_acked` newly acknowledged; `delay_us` the peer's timestamp_difference on the ACK (0: none);
  // `in_flight` the bytes outstanding before this ACK (the window grows only when it was used).
  void on_ack(std::size_t bytes_acked, std::uint32_t delay_us, std::size_t in_flight, std::int64_t now_us);
  // A packet was lost (fast retransmit, SACK): halve, once per window (the caller decides "once").
  void on_loss();
  // The retransmission timer fired: back to one packet, slow start up to half the old window.
  void on_timeout();

  std::size_t window() const { return window_; }
  bool slow_start() const { return slow_start_; }
  // The last queuing delay estimate (current minus base), microseconds.
  std::uint32_t queuing_delay_us() const { return queuing_delay_us_; }
  const LedbatConfig& config() const { return config_; }

 private:
  LedbatConfig config_;
  std::size_t window_;
  std::size_t ssthresh_ = SIZE_MAX;
  bool slow_start_ = true;
  BaseDelayHistory history_;
  // The current delay is the minimum of the last few samples (RFC 6817's filter against single outliers).
  std::array<std::uint32_t, 4> recent_{};
  int recent_count_ = 0;
  int recent_next_ = 0;
  std::uint32_t queuing_delay_us_ = 0;
  double fraction_ = 0;  // sub-byte window growth carried over between ACKs
};

}  // namespace shoal::utp
