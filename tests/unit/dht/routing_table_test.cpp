#include "dht/routing_table.hpp"

#include <gtest/gtest.h>

#include <random>

namespace shoal::dht {
namespace {

using namespace std::chrono_literals;

NodeId random_id(std::mt19937_64& rng) {
  NodeId id;
  for (auto& b : id.bytes)
    b = static_cast<std::uint8_t>(rng());
  return id;
}

NodeInfo node(const NodeId& id, int i) {
  Endpoint e;
  e.address = {10, static_cast<std::uint8_t>(i >> 16), static_cast<std::uint8_t>(i >> 8),
               static_cast<std::uint8_t>(i)};
  e.port = 6881;
  return {id, e};
}

TEST(RoutingTable, DistanceHelpers) {
  NodeId zero{};
  NodeId one{};
  one.bytes[19] = 1;
  NodeId high{};
  high.bytes[0] = 0x80;
  EXPECT_TRUE(closer(zero, one, high));
  EXPECT_EQ(shared_prefix(zero, high), 0);
  EXPECT_EQ(shared_prefix(zero, one), 159);
  EXPECT_EQ(shared_prefix(one, one), 160);
}

TEST(RoutingTable, BucketsHoldKAndTheClosestComeBackSorted) {
  std::mt19937_64 rng(1);
  auto own = random_id(rng);
  RoutingTable table(own);
  Clock::time_point now{};
  std::vector<NodeInfo> added;
  for (int i = 0; i < 2000; ++i) {
    auto n = node(random_id(rng), i);
    if (table.heard_from(n, now, true)) added.push_back(n);
  }
  // Half of all ids fall in bucket 0, a quarter in bucket 1...: each holds at most k.
  EXPECT_LE(table.size(), 160 * kBucketSize);
  EXPECT_GE(table.size(), 8u * kBucketSize);  // the first several buckets are full
  auto target = random_id(rng);
  auto closest = table.closest(target, 8, false);
  ASSERT_EQ(closest.size(), 8u);
  for (std::size_t i = 1; i < closest.size(); ++i)
    EXPECT_FALSE(closer(target, closest[i].id, closest[i - 1].id));
  // Nothing in the table is closer than the 8th returned.
  for (const auto& n : table.all()) {
    bool returned = std::find(closest.begin(), closest.end(), n) != closest.end();
    if (!returned) {
      EXPECT_FALSE(closer(target, n.id, closest.back().id));
    }
  }
}

TEST(RoutingTable, BadNodesAreReplacedFromTheCache) {
  NodeId own{};
  RoutingTable table(own);
  Clock::time_point now{};
  // Ids with the top bit set all land in bucket 0.
  std::vector<NodeInfo> first;
  for (int i = 0; i < 10; ++i) {
    NodeId id{};
    id.bytes[0] = 0x80;
    id.bytes[19] = static_cast<std::uint8_t>(i);
    auto n = node(id, i);
    bool in = table.heard_from(n, now, true);
    EXPECT_EQ(in, i < 8);
    if (i < 8) first.push_back(n);
  }
  EXPECT_EQ(table.size(), 8u);
  table.failed(first[0].endpoint);
  EXPECT_EQ(table.size(), 8u);      // one failure: questionable, still there
  table.failed(first[0].endpoint);  // bad: replaced
  auto all = table.all();
  EXPECT_EQ(std::find(all.begin(), all.end(), first[0]), all.end());
  EXPECT_EQ(all.size(), 8u);
  EXPECT_FALSE(table.to_ping(now + 16min, 100).empty());  // nobody answered for 15 minutes: ping them
}

TEST(RoutingTable, OneNodePerAddressUnlessRelaxed) {
  std::mt19937_64 rng(2);
  NodeId own = random_id(rng);
  RoutingTable strict(own);
  RoutingTable relaxed(own, RoutingOptions{false});
  Clock::time_point now{};
  int strict_in = 0, relaxed_in = 0;
  for (int i = 0; i < 20; ++i) {
    NodeInfo n = node(random_id(rng), 1);  // all at 10.0.0.1
    n.endpoint.port = static_cast<std::uint16_t>(1000 + i);
    strict_in += strict.heard_from(n, now, true) ? 1 : 0;
    relaxed_in += relaxed.heard_from(n, now, true) ? 1 : 0;
  }
  EXPECT_EQ(strict_in, 1);
  EXPECT_GT(relaxed_in, 1);
  EXPECT_FALSE(strict.heard_from({own, *Endpoint::parse("1.1.1.1:1")}, now, true));  // never ourselves
}

TEST(RoutingTable, StaleBucketsGetRefreshTargetsInTheirRange) {
  std::mt19937_64 rng(3);
  NodeId own = random_id(rng);
  RoutingTable table(own);
  Clock::time_point now{};
  for (int i = 0; i < 200; ++i)
    table.heard_from(node(random_id(rng), i), now, true);
  EXPECT_TRUE(table.refresh_targets(now + 1min, 7).empty());
  auto targets = table.refresh_targets(now + 16min, 7);
  ASSERT_FALSE(targets.empty());
  for (std::size_t i = 0; i < targets.size(); ++i)
    EXPECT_EQ(shared_prefix(own, targets[i]), static_cast<int>(i));
}

}  // namespace
}  // namespace shoal::dht
