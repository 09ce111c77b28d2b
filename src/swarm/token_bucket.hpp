// A token bucket with no clock of its own: time is a parameter, so limits are unit-tested on virtual time.
// Two uses:
//  - rate limits in bytes (TokenBucket(bytes_per_second)): bytes are taken first and paid for after;
//  consume()
//    may put the bucket into debt and says how long the caller must wait before moving more. At most one
//    second's worth is saved up. One bucket serves a whole session (global limit), one each torrent.
//  - counting requests (TokenBucket(rate, burst)): take() grants one if a token is there, never goes into
//    debt; it starts full (e.g. the ut_metadata requests a peer may make).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace shoal::swarm {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // A byte rate limit; 0 or less: unlimited. Starts empty.
  explicit TokenBucket(std::int64_t bytes_per_second = 0)
      : rate_(static_cast<double>(bytes_per_second)), burst_(static_cast<double>(bytes_per_second)) {}
  // `rate` tokens a second, at most `burst` saved up; starts full.
  TokenBucket(double rate, double burst) : rate_(rate), burst_(burst), tokens_(burst) {}

  bool unlimited() const { return rate_ <= 0; }
  std::int64_t rate() const { return static_cast<std::int64_t>(rate_); }
  // A new byte rate applies from now on; what was saved up is capped by the new burst.
  void set_rate(std::int64_t bytes_per_second) {
    rate_ = static_cast<double>(bytes_per_second);
    burst_ = std::max(rate_, 0.0);
    tokens_ = std::min(tokens_, burst_);
  }

  // Takes `bytes` at `now`; returns how long to wait before the next transfer (zero when not in debt).
  Clock::duration consume(std::int64_t bytes, Clock::time_point now) {
    if (unlimited()) return Clock::duration::zero();
    refill(now);
    tokens_ -= static_cast<double>(bytes);
    if (tokens_ >= 0) return Clock::duration::zero();
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(-tokens_ / rate_));
  }
  // Takes one token if there is one at `now`.
  bool take(Clock::time_point now) {
    refill(now);
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
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
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
  }

  double rate_;
  double burst_;
  double tokens_ = 0;
  bool started_ = false;
  Clock::time_point last_{};
};

}  // namespace shoal::swarm
