// A token bucket for rate limits, with no clock of its own: time is a parameter, so limits are unit-tested on
// virtual time and one bucket can be shared by a whole session (global limit) while each torrent has its own.
//
// Bytes are taken first and paid for after: consume() may put the bucket into debt and says how long the
// caller must wait before moving more bytes. The bucket holds at most one second's worth (the burst).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace shoal::swarm {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  explicit TokenBucket(std::int64_t bytes_per_second = 0) : rate_(bytes_per_second) {}

  bool unlimited() const { return rate_ <= 0; }
  std::int64_t rate() const { return rate_; }
  // A new rate applies from now on; what was saved up is capped by the new burst.
  void set_rate(std::int64_t bytes_per_second) {
    rate_ = bytes_per_second;
    tokens_ = std::min(tokens_, static_cast<double>(std::max<std::int64_t>(rate_, 0)));
  }

  // Takes `bytes` at `now`; returns how long to wait before the next transfer (zero when not in debt).
  Clock::duration consume(std::int64_t bytes, Clock::time_point now) {
    if (unlimited()) return Clock::duration::zero();
    refill(now);
    tokens_ -= static_cast<double>(bytes);
    if (tokens_ >= 0) return Clock::duration::zero();
    return std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(-tokens_ / static_cast<double>(rate_)));
  }
  // Tokens available at `now` (negative: debt), for tests and status.
  double available(Clock::time_point now) {
    refill(now);
    return tokens_;
  }

 private:
  void refill(Clock::time_point now) {
    if (!started_) {
      started_ = true;
      last_ = now;
      return;
    }
    if (now <= last_) return;
    double elapsed = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    tokens_ = std::min(static_cast<double>(rate_), tokens_ + elapsed * static_cast<double>(rate_));
  }

  std::int64_t rate_;
  double tokens_ = 0;
  bool started_ = false;
  Clock::time_point last_{};
};

}  // namespace shoal::swarm
