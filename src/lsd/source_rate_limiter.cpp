#include "lsd/source_rate_limiter.hpp"

#include <algorithm>

namespace shoal::lsd {

double SourceRateLimiter::refilled(const Bucket& b, TimePoint now) const {
  if (now <= b.last) return b.tokens;
  auto elapsed = std::chrono::duration<double, std::milli>(now - b.last).count();
  return std::min<double>(burst_, b.tokens + elapsed / static_cast<double>(refill_.count()));
}

void SourceRateLimiter::make_room(TimePoint now) {
  std::erase_if(buckets_, [&](const auto& entry) { return refilled(entry.second, now) >= burst_; });
  if (buckets_.size() >= max_sources_) buckets_.clear();
}

bool SourceRateLimiter::allow(const Endpoint& source, TimePoint now) {
  auto key = std::make_pair(source.v6, source.address);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_sources_) make_room(now);
    it = buckets_.emplace(key, Bucket{static_cast<double>(burst_), now}).first;
  }
  auto& bucket = it->second;
  bucket.tokens = refilled(bucket, now);
  bucket.last = std::max(bucket.last, now);
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

}  // namespace shoal::lsd
