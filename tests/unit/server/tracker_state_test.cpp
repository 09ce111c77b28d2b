#include "server/tracker_state.hpp"

#include <gtest/gtest.h>

#include <set>

namespace shoal::server {
namespace {

constexpr hash::SipKey kKey{0x1111222233334444ULL, 0x5555666677778888ULL};

// Hashes sharing a 16-byte prefix, as an attacker would mint them against an open tracker.
Sha1Digest chosen_hash(std::uint32_t i) {
  Sha1Digest d;
  d.bytes.fill(0x37);
  for (int b = 0; b < 4; ++b)
    d.bytes[16 + b] = static_cast<std::uint8_t>(i >> (8 * b));
  return d;
}

TEST(TrackerState, ChosenInfoHashesSpreadOverShards) {
  TrackerState state({}, kKey);
  std::set<std::size_t> shards;
  for (std::uint32_t i = 0; i < 4096; ++i)
    shards.insert(state.shard_index(chosen_hash(i)));
  EXPECT_GE(shards.size(), TrackerState::kShards * 9 / 10);  // 4096 random picks miss almost no shard
}

// The per-shard swarm budget is max_swarms / kShards: with a predictable shard, hashes crafted into one shard
// would be refused swarms long before the table is full.
TEST(TrackerState, ChosenInfoHashesAllGetSwarms) {
  tracker::SwarmLimits limits;
  limits.max_swarms = 256 * 64;  // 64 per shard
  TrackerState state(limits, kKey);
  std::array<std::uint8_t, 1200> v4{};
  constexpr std::uint32_t kHashes = 4096;  // a quarter of the budget
  for (std::uint32_t i = 0; i < kHashes; ++i) {
    tracker::SwarmAnnounce a;
    a.info_hash = chosen_hash(i);
    a.peer = *Endpoint::parse("10.0.0.1:1000");
    state.announce(a, v4, {});
  }
  EXPECT_EQ(state.swarms(), kHashes);
}

TEST(TrackerState, KeysDifferBetweenRuns) {
  EXPECT_NE(TrackerState::random_key(), TrackerState::random_key());
}

}  // namespace
}  // namespace shoal::server
