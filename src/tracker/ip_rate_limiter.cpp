#include "tracker/ip_rate_limiter.hpp"

#include <algorithm>

namespace shoal::tracker {

bool IpRateLimiter::allow(const Endpoint& source, std::int64_t now_ms) {
  if (rate_ == 0) return true;
  Key key{source.address};
  double burst = 2.0 * rate_;
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= kMaxTracked) buckets_.clear();
    buckets_.emplace(key, Bucket{burst - 1, now_ms});
    return true;
  }
  Bucket& b = it->second;
  double refill = static_cast<double>(std::max<std::int64_t>(0, now_ms - b.last_ms)) * rate_ / 1000.0;
  b.tokens = std::min(burst, b.tokens + refill);
  b.last_ms = now_ms;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

}  // namespace shoal::tracker
