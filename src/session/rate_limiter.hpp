// A token bucket shared by the connections of one torrent: callers await permission to move bytes.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>

namespace shoal::session {

class RateLimiter {
 public:
  explicit RateLimiter(std::int64_t bytes_per_second = 0) : rate_(bytes_per_second) {}

  bool unlimited() const { return rate_ <= 0; }
  void set_rate(std::int64_t bytes_per_second) { rate_ = bytes_per_second; }

  // Takes `bytes` from the bucket, sleeping first when it is in debt. Burst: one second's worth.
  boost::asio::awaitable<void> consume(std::int64_t bytes) {
    if (rate_ <= 0) co_return;
    using clock = std::chrono::steady_clock;
    auto now = clock::now();
    double elapsed = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    tokens_ = std::min<double>(static_cast<double>(rate_), tokens_ + elapsed * static_cast<double>(rate_));
    tokens_ -= static_cast<double>(bytes);
    if (tokens_ < 0) {
      boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
      timer.expires_after(std::chrono::duration_cast<clock::duration>(
          std::chrono::duration<double>(-tokens_ / static_cast<double>(rate_))));
      co_await timer.async_wait(boost::asio::use_awaitable);
    }
  }

 private:
  std::int64_t rate_;
  double tokens_ = 0;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace shoal::session
