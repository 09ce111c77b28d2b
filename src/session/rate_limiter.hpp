// The Asio side of a rate limit: a swarm::TokenBucket (pure, time as a parameter) and a wait on a timer when
// the bucket is in debt. A torrent's transfers pass through its own limiter and the session's global one.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>

#include "swarm/token_bucket.hpp"

namespace shoal::session {

class RateLimiter {
 public:
  explicit RateLimiter(std::int64_t bytes_per_second = 0) : bucket_(bytes_per_second) {}

  bool unlimited() const { return bucket_.unlimited(); }
  void set_rate(std::int64_t bytes_per_second) { bucket_.set_rate(bytes_per_second); }

  // Takes `bytes` from the bucket, sleeping first when it is in debt.
  boost::asio::awaitable<void> consume(std::int64_t bytes) {
    auto wait = bucket_.consume(bytes, std::chrono::steady_clock::now());
    if (wait <= std::chrono::steady_clock::duration::zero()) co_return;
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    timer.expires_after(wait);
    co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }

 private:
  swarm::TokenBucket bucket_;
};

}  // namespace shoal::session
