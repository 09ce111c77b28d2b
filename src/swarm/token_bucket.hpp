// A token bucket on a caller's clock: `rate` tokens a second, at most `burst` saved up. Pure: time is a
// parameter, so the policy it enforces (e.g. ut_metadata requests a peer may make) is tested on virtual time.
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>

namespace shoal::swarm {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  TokenBucket(double rate, double burst) : rate_(rate), burst_(burst), tokens_(burst) {}

  // Takes one token if there is one at `now`.
  bool take(Clock::time_point now) {
    if (last_) {
      double elapsed = std::chrono::duration<double>(now - *last_).count();
      if (elapsed > 0) tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    }
    if (!last_ || now > *last_) last_ = now;
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

 private:
  double rate_;
  double burst_;
  double tokens_;
  std::optional<Clock::time_point> last_;
};

}  // namespace shoal::swarm
