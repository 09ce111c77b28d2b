#include "swarm/send_queue.hpp"
#include "swarm/token_bucket.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace shoal::swarm {
namespace {

std::vector<std::uint8_t> message_of(std::size_t size) {
  return std::vector<std::uint8_t>(size, 0xab);
}

TEST(SendQueue, CountsTheBytesItHolds) {
  SendQueue q;
  EXPECT_TRUE(q.push({PieceIndex{0}, 0, kBlockSize}, message_of(13 + kBlockSize)));
  EXPECT_TRUE(q.push({PieceIndex{0}, kBlockSize, kBlockSize}, message_of(13 + kBlockSize)));
  EXPECT_EQ(q.bytes(), 2u * (13 + kBlockSize));
  EXPECT_TRUE(q.has_room(3 * (13 + kBlockSize)));
  EXPECT_FALSE(q.has_room(2 * (13 + kBlockSize)));
  EXPECT_FALSE(q.has_room(3 * (13 + kBlockSize), 13 + kBlockSize));  // other bytes held for the peer count
  auto b = q.pop_front();
  EXPECT_EQ(b.request, (BlockRequest{PieceIndex{0}, 0, kBlockSize}));
  EXPECT_EQ(q.bytes(), 13u + kBlockSize);
}

TEST(SendQueue, ARequestIsQueuedOnce) {
  SendQueue q;
  EXPECT_TRUE(q.push({PieceIndex{1}, 0, 100}, message_of(113)));
  EXPECT_FALSE(q.push({PieceIndex{1}, 0, 100}, message_of(113)));
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.bytes(), 113u);
}

TEST(SendQueue, CancelRemovesOneBlockAndKeepsTheOrder) {
  SendQueue q;
  for (std::int32_t p = 0; p < 5; ++p)
    q.push({PieceIndex{p}, 0, kBlockSize}, message_of(10));
  EXPECT_TRUE(q.cancel({PieceIndex{2}, 0, kBlockSize}));
  EXPECT_FALSE(q.cancel({PieceIndex{2}, 0, kBlockSize}));
  EXPECT_FALSE(q.cancel({PieceIndex{7}, 0, kBlockSize}));
  EXPECT_EQ(q.bytes(), 40u);
  std::vector<std::int32_t> order;
  while (!q.empty())
    order.push_back(q.pop_front().request.piece.get());
  EXPECT_EQ(order, (std::vector<std::int32_t>{0, 1, 3, 4}));
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(SendQueue, CancelIsNotALinearScan) {
  // 100,000 queued blocks and as many cancels, from the back: a scan would take 5e9 steps.
  SendQueue q;
  constexpr std::int32_t kN = 100000;
  for (std::int32_t i = 0; i < kN; ++i)
    q.push({PieceIndex{i}, 0, 1}, message_of(1));
  for (std::int32_t i = kN - 1; i >= 0; --i)
    ASSERT_TRUE(q.cancel({PieceIndex{i}, 0, 1}));
  EXPECT_TRUE(q.empty());
}

TEST(SendQueue, ClearHandsBackEveryRequestInOrder) {
  SendQueue q;
  q.push({PieceIndex{4}, 0, 10}, message_of(20));
  q.push({PieceIndex{2}, 10, 10}, message_of(20));
  std::vector<BlockRequest> dropped;
  q.clear(dropped);
  EXPECT_EQ(dropped, (std::vector<BlockRequest>{{PieceIndex{4}, 0, 10}, {PieceIndex{2}, 10, 10}}));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_TRUE(q.push({PieceIndex{4}, 0, 10}, message_of(20)));  // the index forgot them too
}

TEST(SendQueue, CapacityFollowsTheRateWithinAFloorAndACeiling) {
  EXPECT_EQ(send_queue_capacity(0), kMinSendQueueBytes);
  EXPECT_EQ(send_queue_capacity(-5), kMinSendQueueBytes);
  EXPECT_EQ(send_queue_capacity(1e6), 4'000'000u);
  EXPECT_EQ(send_queue_capacity(100'000), 400'000u);
  EXPECT_EQ(send_queue_capacity(10'000), kMinSendQueueBytes);
  EXPECT_EQ(send_queue_capacity(1e12), kMaxSendQueueBytes);
}

TEST(TokenBucket, SpendsTheBurstThenRefillsAtTheRate) {
  using namespace std::chrono_literals;
  TokenBucket b(2, 3);
  TokenBucket::Clock::time_point t{};
  EXPECT_TRUE(b.take(t));
  EXPECT_TRUE(b.take(t));
  EXPECT_TRUE(b.take(t));
  EXPECT_FALSE(b.take(t));
  EXPECT_TRUE(b.take(t + 500ms));
  EXPECT_FALSE(b.take(t + 500ms));
  // A long silence saves up no more than the burst.
  int taken = 0;
  for (int i = 0; i < 10; ++i)
    taken += b.take(t + 100s) ? 1 : 0;
  EXPECT_EQ(taken, 3);
}

}  // namespace
}  // namespace shoal::swarm
