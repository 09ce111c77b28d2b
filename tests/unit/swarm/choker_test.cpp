#include "swarm/choker.hpp"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace shoal::swarm {
namespace {

ChokeCandidate peer(PeerId id, double down, double up = 0, bool interested = true, bool snubbed = false) {
  return {id, interested, snubbed, down, up};
}

// A tick that is not a rotation tick, so only the regular slots and the optimistic rules under test decide.
constexpr int kQuietTick = 1;

TEST(Choker, RegularSlotsGoToTheFastestUploadersToUsWhileDownloading) {
  Choker choker(1);
  std::vector<ChokeCandidate> peers = {peer(1, 10), peer(2, 50), peer(3, 30), peer(4, 20)};
  // Three slots: two regular (the two fastest) and one optimistic among the rest.
  auto keep = choker.unchoke_set(peers, false, 3, kQuietTick);
  EXPECT_EQ(keep.size(), 3u);
  EXPECT_TRUE(keep.count(2));
  EXPECT_TRUE(keep.count(3));
  EXPECT_TRUE(keep.count(choker.optimistic()));
  EXPECT_TRUE(choker.optimistic() == 1 || choker.optimistic() == 4);
}

TEST(Choker, NeverUnchokesMoreThanItsSlots) {
  std::vector<ChokeCandidate> peers = {peer(1, 10), peer(2, 50), peer(3, 30), peer(4, 20)};
  for (int slots = 0; slots <= 5; ++slots) {
    Choker choker(1);
    for (int tick = 0; tick < 100; ++tick) {
      auto keep = choker.unchoke_set(peers, false, slots, tick);
      ASSERT_LE(keep.size(), static_cast<std::size_t>(slots)) << slots << " slot(s), tick " << tick;
      if (slots > 0) {
        ASSERT_EQ(keep.size(), std::min<std::size_t>(peers.size(), static_cast<std::size_t>(slots)));
      }
    }
  }
}

TEST(Choker, OneSlotRotatesAmongTheInterested) {
  Choker choker(1);
  std::vector<ChokeCandidate> peers = {peer(1, 10), peer(2, 50), peer(3, 30)};
  std::set<PeerId> had_the_slot;
  for (int tick = 0; tick < 100 * Choker::kTicksPerOptimistic; tick += Choker::kTicksPerOptimistic) {
    auto keep = choker.unchoke_set(peers, false, 1, tick);
    ASSERT_EQ(keep.size(), 1u);
    had_the_slot.insert(*keep.begin());
  }
  EXPECT_EQ(had_the_slot.size(), 3u) << "the fastest does not keep the only slot forever";
}

TEST(Choker, AnOptimisticPeerThatLosesInterestGivesTheSlotUp) {
  Choker choker(1);
  std::vector<ChokeCandidate> peers = {peer(1, 50), peer(2, 0)};
  choker.unchoke_set(peers, false, 2, 0);
  ASSERT_EQ(choker.optimistic(), 2);
  peers[1].interested = false;
  peers.push_back(peer(3, 0));
  auto keep = choker.unchoke_set(peers, false, 2, kQuietTick);
  EXPECT_EQ(choker.optimistic(), 3);
  EXPECT_FALSE(keep.count(2));
}

TEST(Choker, SeedingRanksByUploadRate) {
  Choker choker(1);
  std::vector<ChokeCandidate> peers = {peer(1, 0, 5), peer(2, 100, 1), peer(3, 0, 9)};
  auto keep = choker.unchoke_set(peers, true, 2, kQuietTick);
  EXPECT_TRUE(keep.count(3));  // the one regular slot
  EXPECT_FALSE(choker.optimistic() == 3);
}

TEST(Choker, SnubbedPeersSortAfterEveryoneElse) {
  Choker choker(1);
  std::vector<ChokeCandidate> peers = {peer(1, 1000, 0, true, true), peer(2, 1), peer(3, 2)};
  auto keep = choker.unchoke_set(peers, false, 3, kQuietTick);
  EXPECT_TRUE(keep.count(2));
  EXPECT_TRUE(keep.count(3));
  EXPECT_EQ(choker.optimistic(), 1u);  // only the optimistic slot is left for it
  // With one regular slot and nobody else, a snubbed peer may still hold it.
  Choker alone(1);
  std::vector<ChokeCandidate> only = {peer(1, 1000, 0, true, true)};
  EXPECT_TRUE(alone.unchoke_set(only, false, 2, kQuietTick).count(1));
}

TEST(Choker, UninterestedPeersGetNoSlot) {
  Choker choker(1);
  std::vector<ChokeCandidate> peers = {peer(1, 100, 0, false), peer(2, 1)};
  auto keep = choker.unchoke_set(peers, false, 4, kQuietTick);
  EXPECT_EQ(keep, std::set<PeerId>{2});
}

TEST(Choker, SlotCountBoundsTheUnchokeSet) {
  Choker choker(7);
  std::vector<ChokeCandidate> peers;
  for (PeerId id = 1; id <= 20; ++id)
    peers.push_back(peer(id, id));
  for (int slots : {1, 2, 4, 8}) {
    auto keep = choker.unchoke_set(peers, false, slots, kQuietTick);
    // slots - 1 regular slots plus the optimistic one (with one slot, only the optimistic one).
    EXPECT_EQ(keep.size(), static_cast<std::size_t>(slots)) << slots;
    if (slots > 1) {
      EXPECT_TRUE(keep.count(20));
    }
  }
}

TEST(Choker, OptimisticSlotPersistsBetweenRotationsAndRotatesOnSchedule) {
  Choker choker(3);
  std::vector<ChokeCandidate> peers;
  for (PeerId id = 1; id <= 30; ++id)
    peers.push_back(peer(id, id == 30 ? 100 : 0));
  choker.unchoke_set(peers, false, 2, 0);
  PeerId first = choker.optimistic();
  ASSERT_NE(first, kNoPeer);
  ASSERT_NE(first, 30u);
  for (int tick = 1; tick < Choker::kTicksPerOptimistic; ++tick) {
    choker.unchoke_set(peers, false, 2, tick);
    EXPECT_EQ(choker.optimistic(), first) << tick;
  }
  // Rotation ticks pick at random among 29 peers: over a few rotations it must move.
  bool moved = false;
  for (int round = 1; round <= 5 && !moved; ++round) {
    choker.unchoke_set(peers, false, 2, round * Choker::kTicksPerOptimistic);
    moved = choker.optimistic() != first;
  }
  EXPECT_TRUE(moved);
}

TEST(Choker, OptimisticHolderThatLeavesOrEarnsARegularSlotIsReplacedAtOnce) {
  Choker choker(5);
  std::vector<ChokeCandidate> peers = {peer(1, 10), peer(2, 0), peer(3, 0)};
  choker.unchoke_set(peers, false, 2, 0);
  PeerId lucky = choker.optimistic();
  ASSERT_TRUE(lucky == 2 || lucky == 3);
  // It leaves.
  std::vector<ChokeCandidate> without;
  for (const auto& p : peers)
    if (p.id != lucky) without.push_back(p);
  choker.unchoke_set(without, false, 2, kQuietTick);
  EXPECT_NE(choker.optimistic(), lucky);
  EXPECT_NE(choker.optimistic(), kNoPeer);
  // The new holder becomes the fastest: it takes the regular slot and the optimistic one moves on.
  PeerId next = choker.optimistic();
  for (auto& p : without)
    if (p.id == next) p.download_rate = 1000;
  auto keep = choker.unchoke_set(without, false, 2, kQuietTick);
  EXPECT_TRUE(keep.count(next));
  EXPECT_NE(choker.optimistic(), next);
}

TEST(Choker, SameSeedSameRotation) {
  std::vector<ChokeCandidate> peers;
  for (PeerId id = 1; id <= 10; ++id)
    peers.push_back(peer(id, 0));
  Choker a(42), b(42);
  for (int tick = 0; tick < 300; tick += 10) {
    EXPECT_EQ(a.unchoke_set(peers, false, 3, tick), b.unchoke_set(peers, false, 3, tick));
  }
}

TEST(Choker, PeersThatDoNotReadSortAfterEveryoneElseWhenSeeding) {
  Choker choker(1);
  auto stalled = peer(1, 0, 5000);  // it took a lot before it stopped reading
  stalled.stalled = true;
  std::vector<ChokeCandidate> peers = {stalled, peer(2, 0, 1), peer(3, 0, 0)};
  auto keep = choker.unchoke_set(peers, true, 3, kQuietTick);
  EXPECT_TRUE(keep.count(2));
  EXPECT_TRUE(keep.count(3));
  EXPECT_EQ(choker.optimistic(), 1u);  // only the optimistic slot is left for it
}

TEST(Choker, ANewcomerTakesTheSlotOfAStalledPeer) {
  auto stalled = peer(2, 0, 100);
  stalled.stalled = true;
  std::vector<ChokeCandidate> unchoked = {peer(1, 0, 1), stalled, peer(3, 0, 0)};
  EXPECT_EQ(Choker::slot_for_newcomer(unchoked), 2u);
  unchoked[1].stalled = false;
  EXPECT_EQ(Choker::slot_for_newcomer(unchoked), kNoPeer);  // everyone reads: the newcomer waits
}

}  // namespace
}  // namespace shoal::swarm
