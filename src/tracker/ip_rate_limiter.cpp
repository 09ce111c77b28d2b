#include "tracker/ip_rate_limiter.hpp"

#include <algorithm>

namespace shoal::tracker {

std::size_t IpRateLimiter::largest_bucket() const {
  std::size_t largest = 0;
  for (std::size_t b = 0; b < buckets_.bucket_count(); ++b)
    largest = std::max(largest, buckets_.bucket_size(b));
  return largest;
}

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
