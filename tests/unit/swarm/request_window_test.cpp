#include "swarm/request_window.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "wire/message.hpp"

namespace shoal::swarm {
namespace {

using Clock = RequestWindow::Clock;
using namespace std::chrono_literals;

const Clock::time_point kT0 = Clock::time_point{} + 1000s;

TEST(RequestWindow, StartsAtTheFloorWithNoRoundTripKnown) {
  RequestWindow w;
  EXPECT_EQ(w.depth(0), RequestWindow::kMinDepth);
  EXPECT_FALSE(w.path_rtt().has_value());
  EXPECT_TRUE(w.in_slow_start());
}

TEST(RequestWindow, SlowStartDoublesPerRoundTripNotPerTick) {
  // A path of 400 ms round trip with room to spare: every request is answered one round trip later.
  RequestWindow w;
  auto now = kT0;
  for (int round = 0; round < 5; ++round) {
    auto in_flight = w.depth(0);
    for (std::size_t i = 0; i < in_flight; ++i)
      w.on_block(now, now + 400ms);
    now += 400ms;
    EXPECT_EQ(w.depth(0), 2 * in_flight) << "round " << round;
  }
  EXPECT_EQ(w.depth(0), RequestWindow::kMinDepth << 5);  // two seconds: 256, not 8
  EXPECT_TRUE(w.in_slow_start());
  EXPECT_EQ(w.path_rtt(), Clock::duration(400ms));
}

TEST(RequestWindow, TheRoundTripIsTheSmallestSampleNotTheQueueBehindIt) {
  // The first block comes after the path's 200 ms; then each waits behind more of our earlier requests at a
  // sender that serves 100 blocks a second.
  RequestWindow w;
  w.on_block(kT0, kT0 + 200ms);
  for (int i = 1; i <= 500; ++i)
    w.on_block(kT0 + std::chrono::milliseconds(i), kT0 + 200ms + std::chrono::milliseconds(10 * i));
  ASSERT_TRUE(w.path_rtt().has_value());
  EXPECT_EQ(*w.path_rtt(), Clock::duration(200ms));
  // The queue (seconds long by the end) ended slow start.
  EXPECT_FALSE(w.in_slow_start());
}

TEST(RequestWindow, AStandingQueueDoesNotGrowTheEstimateOverTime) {
  // A minute of samples with a second of queueing each, after one at the path's round trip: a windowed
  // minimum would forget the 100 ms and size the window for 1.1 s.
  RequestWindow w;
  w.on_block(kT0, kT0 + 100ms);
  for (int s = 1; s <= 60; ++s) {
    auto sent = kT0 + std::chrono::seconds(s);
    w.on_block(sent, sent + 1100ms);
    w.on_tick(10e6);
  }
  EXPECT_EQ(*w.path_rtt(), Clock::duration(100ms));
  // 10 MB/s for 0.1 s + kQueueTime.
  EXPECT_EQ(w.depth(10e6), static_cast<std::size_t>(10e6 * 1.1 / wire::kBlockSize));
}

TEST(RequestWindow, AfterSlowStartTheDepthIsTheBandwidthDelayProductPlusAMargin) {
  RequestWindow w;
  w.on_block(kT0, kT0 + 400ms);
  w.on_block(kT0, kT0 + 2s);  // queueing: slow start ends
  ASSERT_FALSE(w.in_slow_start());
  for (int i = 0; i < 40; ++i)
    w.on_tick(100e6);  // what slow start reached decays into the rate rule
  double bdp_blocks = 100e6 * 0.4 / wire::kBlockSize;
  EXPECT_GT(static_cast<double>(w.depth(100e6)), bdp_blocks);
  EXPECT_EQ(w.depth(100e6), RequestWindow::kMaxDepth);  // 100 MB/s x 1.4 s is past the ceiling
  EXPECT_EQ(w.depth(1e6), static_cast<std::size_t>(1e6 * 1.4 / wire::kBlockSize));
  EXPECT_LE(w.depth(1e3), RequestWindow::kMinDepth + 1);  // the floor, and the block that came
}

TEST(RequestWindow, WhatSlowStartReachedDecaysToTheRateRule) {
  RequestWindow w;
  auto now = kT0;
  for (int i = 0; i < 1000; ++i)
    w.on_block(now, now + 10ms);
  w.on_block(now, now + 1s);  // queueing
  ASSERT_FALSE(w.in_slow_start());
  EXPECT_EQ(w.depth(0), RequestWindow::kMinDepth + 1000);
  // The rate turns out small: the window falls to it within some ticks, not at once.
  w.on_tick(160e3);
  EXPECT_GT(w.depth(160e3), 500u);
  for (int i = 0; i < 30; ++i)
    w.on_tick(160e3);
  EXPECT_LE(w.depth(160e3), RequestWindow::kMinDepth + 2);
}

TEST(RequestWindow, SlowStartStopsAtTheCeiling) {
  RequestWindow w;
  for (std::size_t i = 0; i < 2 * RequestWindow::kMaxDepth; ++i)
    w.on_block(kT0, kT0 + 1ms);
  EXPECT_FALSE(w.in_slow_start());
  EXPECT_EQ(w.depth(0), RequestWindow::kMaxDepth);
  EXPECT_EQ(w.depth(1e12), RequestWindow::kMaxDepth);
}

TEST(RequestWindow, ASnubEndsSlowStartAndStartsAgainFromTheFloor) {
  RequestWindow w;
  for (int i = 0; i < 100; ++i)
    w.on_block(kT0, kT0 + 50ms);
  w.on_snubbed();
  EXPECT_FALSE(w.in_slow_start());
  EXPECT_EQ(w.depth(0), RequestWindow::kMinDepth);
  w.on_block(kT0, kT0 + 50ms);
  EXPECT_EQ(w.depth(0), RequestWindow::kMinDepth) << "no more slow start after a snub";
}

TEST(RequestWindow, AClockThatWentBackwardsIsAZeroSample) {
  RequestWindow w;
  w.on_block(kT0, kT0 - 1s);
  EXPECT_EQ(*w.path_rtt(), Clock::duration::zero());
}

}  // namespace
}  // namespace shoal::swarm
