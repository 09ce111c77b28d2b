#include "session/piece_buffer_pool.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace shoal::session {
namespace {

TEST(PieceBufferPool, ABufferComesBackWhenItsLastReferenceGoesAndIsReusedWithoutAFreshAllocation) {
  auto pool = std::make_shared<PieceBufferPool>(2);
  auto first = pool->take(1 << 20);
  ASSERT_EQ(first->size(), 1u << 20);
  (*first)[7] = 0x5a;
  const auto* storage = first->data();
  auto second_reference = first;
  first.reset();
  EXPECT_EQ(pool->free_count(), 0u) << "still referenced";
  second_reference.reset();
  EXPECT_EQ(pool->free_count(), 1u);
  auto again = pool->take(1 << 20);
  EXPECT_EQ(again->data(), storage) << "the same memory, not a new zero-filled buffer";
  EXPECT_EQ(pool->free_count(), 0u);
}

TEST(PieceBufferPool, ASmallerPieceThenALargerOneGetExactSizes) {
  auto pool = std::make_shared<PieceBufferPool>(1);
  pool->take(100).reset();
  EXPECT_EQ(pool->take(40)->size(), 40u);  // the last piece of a torrent is shorter
  EXPECT_EQ(pool->take(300)->size(), 300u);
}

TEST(PieceBufferPool, KeepsAtMostMaxFreeBuffers) {
  auto pool = std::make_shared<PieceBufferPool>(2);
  {
    std::vector<std::shared_ptr<PieceBufferPool::Buffer>> held;
    for (int i = 0; i < 5; ++i)
      held.push_back(pool->take(64));
  }
  EXPECT_EQ(pool->free_count(), 2u);
}

TEST(PieceBufferPool, BuffersOutliveThePool) {
  auto pool = std::make_shared<PieceBufferPool>(2);
  auto buffer = pool->take(64);
  pool.reset();
  (*buffer)[0] = 1;  // still valid; freed by itself below (ASan checks)
  buffer.reset();
}

TEST(PieceBufferPool, TakeAndReturnFromManyThreads) {
  auto pool = std::make_shared<PieceBufferPool>(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([pool] {
      for (int i = 0; i < 2000; ++i) {
        auto b = pool->take(256);
        (*b)[static_cast<std::size_t>(i % 256)] = static_cast<std::uint8_t>(i);
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_LE(pool->free_count(), 4u);
}

}  // namespace
}  // namespace shoal::session
