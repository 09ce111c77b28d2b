#include "utp/ledbat.hpp"

#include <gtest/gtest.h>

namespace shoal::utp {
namespace {

// Feeds a window's worth of ACKs per simulated RTT with the given one-way delay (plus a fixed clock offset).
void one_rtt(Ledbat& l, std::uint32_t delay_us, std::int64_t& now) {
  std::size_t window = l.window();
  for (std::size_t acked = 0; acked < window; acked += 1400) {
    l.on_ack(1400, 3'000'000'000u + delay_us, window, now);
  }
  now += 50'000 + delay_us;
}

TEST(UtpLedbat, GrowsWhileDelayIsLowAndShrinksWhenItRises) {
  Ledbat l;
  std::int64_t now = 0;
  for (int i = 0; i < 5; ++i)
    one_rtt(l, 1000, now);
  EXPECT_TRUE(l.slow_start());
  std::size_t grown = l.window();
  EXPECT_GT(grown, LedbatConfig{}.initial_window);
  // The queue builds: 150 ms above the base delay, over the 100 ms target.
  for (int i = 0; i < 20; ++i)
    one_rtt(l, 151'000, now);
  EXPECT_FALSE(l.slow_start());
  EXPECT_NEAR(l.queuing_delay_us(), 150'000u, 1000u);
  EXPECT_LT(l.window(), grown);
  // Still above target: keeps shrinking, never below one packet.
  for (int i = 0; i < 2000; ++i)
    one_rtt(l, 151'000, now);
  EXPECT_EQ(l.window(), LedbatConfig{}.min_window);
}

// A TCP flow fills the bottleneck queue far past the target: a window of hundreds of kilobytes must be given
// back within a few round trips (at most half per round trip), not 3 KB per round trip. Just over the target
// it shrinks gently, in proportion to how far over it is.
TEST(UtpLedbat, FarAboveTheTargetALargeWindowIsGivenBackWithinAFewRoundTrips) {
  Ledbat l;
  std::int64_t now = 0;
  while (l.window() < 500'000)
    one_rtt(l, 1000, now);
  std::size_t grown = l.window();
  one_rtt(l, 401'000, now);  // 400 ms over the base: three times the target over it
  EXPECT_GE(l.window(), grown / 2 - 1400);
  for (int i = 0; i < 4; ++i)
    one_rtt(l, 401'000, now);
  EXPECT_LT(l.window(), grown / 16);

  Ledbat gentle;
  now = 0;
  while (gentle.window() < 500'000)
    one_rtt(gentle, 1000, now);
  grown = gentle.window();
  one_rtt(gentle, 111'000, now);  // 10% over the target
  EXPECT_GT(gentle.window(), grown * 85 / 100);
  EXPECT_LT(gentle.window(), grown);
}

TEST(UtpLedbat, AtTheTargetTheWindowHolds) {
  Ledbat l;
  std::int64_t now = 0;
  one_rtt(l, 0, now);
  for (int i = 0; i < 3; ++i)
    one_rtt(l, 100'000, now);  // ends slow start
  std::size_t w = l.window();
  for (int i = 0; i < 20; ++i)
    one_rtt(l, 100'000, now);
  EXPECT_NEAR(static_cast<double>(l.window()), static_cast<double>(w), 1400.0);
}

TEST(UtpLedbat, BelowTargetGrowsByAtMostThreeKilobytesPerRtt) {
  Ledbat l;
  std::int64_t now = 0;
  l.on_loss();  // out of slow start
  std::size_t before = l.window();
  one_rtt(l, 0, now);
  EXPECT_GT(l.window(), before);
  EXPECT_LE(l.window(), before + 3000);
}

TEST(UtpLedbat, LossHalvesAndTimeoutResetsToOnePacket) {
  Ledbat l;
  std::size_t w = l.window();
  l.on_loss();
  EXPECT_EQ(l.window(), w / 2);
  l.on_timeout();
  EXPECT_EQ(l.window(), LedbatConfig{}.min_window);
}

TEST(UtpLedbat, BaseDelayForgetsOldMinimaAfterTheHistory) {
  BaseDelayHistory h;
  h.add(1000, 0);
  h.add(5000, 1);
  EXPECT_EQ(h.base(), 1000u);
  // Minutes later every sample is 5000: the old 1000 ages out after kBaseDelayMinutes buckets.
  std::int64_t t = 0;
  for (int m = 1; m <= BaseDelayHistory::kBaseDelayMinutes + 1; ++m) {
    t = m * BaseDelayHistory::kBucketUs;
    h.add(5000, t);
  }
  EXPECT_EQ(h.base(), 5000u);
}

TEST(UtpLedbat, BaseDelayHandlesWrappingClocks) {
  BaseDelayHistory h;
  h.add(0xfffffff0u, 0);
  h.add(0x10u, 1);  // 32 µs later on a wrapped clock: larger, not smaller
  EXPECT_EQ(h.base(), 0xfffffff0u);
}

}  // namespace
}  // namespace shoal::utp
