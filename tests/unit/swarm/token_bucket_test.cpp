#include "swarm/token_bucket.hpp"

#include <gtest/gtest.h>

namespace shoal::swarm {
namespace {

using namespace std::chrono_literals;
using Clock = TokenBucket::Clock;

TEST(TokenBucket, UnlimitedNeverWaits) {
  TokenBucket bucket(0);
  EXPECT_TRUE(bucket.unlimited());
  EXPECT_EQ(bucket.consume(1'000'000'000, Clock::time_point{}), Clock::duration::zero());
}

TEST(TokenBucket, DebtIsPaidAtTheRate) {
  TokenBucket bucket(1000);
  Clock::time_point t0{};
  // Starts empty: 500 bytes cost half a second.
  auto wait = bucket.consume(500, t0);
  EXPECT_NEAR(std::chrono::duration<double>(wait).count(), 0.5, 1e-6);
  // Half a second later the debt is paid; the next 1000 bytes cost a second.
  wait = bucket.consume(1000, t0 + 500ms);
  EXPECT_NEAR(std::chrono::duration<double>(wait).count(), 1.0, 1e-6);
}

TEST(TokenBucket, SavesAtMostOneSecondOfBurst) {
  TokenBucket bucket(1000);
  Clock::time_point t0{};
  bucket.consume(0, t0);
  // Ten idle seconds save one second's worth, not ten.
  EXPECT_DOUBLE_EQ(bucket.available(t0 + 10s), 1000.0);
  EXPECT_EQ(bucket.consume(1000, t0 + 10s), Clock::duration::zero());
  EXPECT_GT(bucket.consume(1, t0 + 10s), Clock::duration::zero());
}

TEST(TokenBucket, LongRunRateMatchesTheLimit) {
  // A sender that always waits as told moves rate x time bytes (within one burst).
  TokenBucket bucket(64 * 1024);
  Clock::time_point now{};
  std::int64_t moved = 0;
  while (now < Clock::time_point{} + 60s) {
    moved += 16 * 1024;
    now += bucket.consume(16 * 1024, now);
  }
  EXPECT_NEAR(static_cast<double>(moved), 60.0 * 64 * 1024, 64.0 * 1024 + 16 * 1024);
}

TEST(TokenBucket, LoweringTheRateCapsSavedTokens) {
  TokenBucket bucket(10'000);
  Clock::time_point t0{};
  bucket.consume(0, t0);
  EXPECT_DOUBLE_EQ(bucket.available(t0 + 5s), 10'000.0);
  bucket.set_rate(100);
  EXPECT_DOUBLE_EQ(bucket.available(t0 + 5s), 100.0);
}

TEST(TokenBucket, ClockGoingBackwardsChangesNothing) {
  TokenBucket bucket(1000);
  Clock::time_point t0 = Clock::time_point{} + 10s;
  bucket.consume(0, t0);
  EXPECT_DOUBLE_EQ(bucket.available(t0 - 5s), 0.0);
}

}  // namespace
}  // namespace shoal::swarm
