#include <gtest/gtest.h>

#include "storage/file_pool_policy.hpp"

namespace shoal::storage {
namespace {

using Step = FilePoolPolicy::Step;

PoolKey key(std::int32_t index, std::uint32_t owner = 1) {
  return PoolKey{owner, index};
}

// Opens `index` as the shell would (the handle is 100 + index) and returns the lease; what was closed goes to
// *closed.
std::vector<FilePoolPolicy::Closed> open(FilePoolPolicy& policy, std::int32_t index, bool writable = false,
                                         std::uint32_t owner = 1) {
  int handle = -1;
  EXPECT_EQ(policy.acquire(key(index, owner), writable, &handle), Step::open);
  return policy.opened(key(index, owner), 100 + index, writable);
}

std::vector<std::int32_t> indexes(const std::vector<FilePoolPolicy::Closed>& closed) {
  std::vector<std::int32_t> out;
  for (const auto& c : closed)
    out.push_back(c.key.index);
  return out;
}

TEST(FilePoolPolicy, ClosesTheLeastRecentlyReleasedAtTheBound) {
  FilePoolPolicy policy(3);
  for (std::int32_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(open(policy, i).empty());
    EXPECT_FALSE(policy.release(key(i)));
  }
  // 0 is used again: 1 is now the least recently used.
  int handle = -1;
  EXPECT_EQ(policy.acquire(key(0), false, &handle), Step::use);
  EXPECT_EQ(handle, 100);
  policy.release(key(0));
  EXPECT_EQ(indexes(open(policy, 3)), std::vector<std::int32_t>{1});
  policy.release(key(3));
  EXPECT_EQ(indexes(open(policy, 4)), std::vector<std::int32_t>{2});
  EXPECT_EQ(policy.size(), 3u);
  // The shell makes room before it opens, so the process never holds more than the bound at any moment.
  policy.release(key(4));
  int handle2 = -1;
  EXPECT_EQ(policy.acquire(key(5), false, &handle2), Step::open);
  EXPECT_EQ(indexes(policy.make_room()), std::vector<std::int32_t>{0});
  EXPECT_TRUE(policy.opened(key(5), 105, false).empty());
  EXPECT_EQ(policy.size(), 3u);
}

TEST(FilePoolPolicy, AColdReleaseClosesFirst) {
  FilePoolPolicy policy(3);
  open(policy, 0);
  policy.release(key(0));
  open(policy, 1);
  policy.release(key(1), true);  // written whole: not wanted again soon
  open(policy, 2);
  policy.release(key(2));
  // 0 is the least recently used, but 1 went cold: 1 closes first.
  EXPECT_EQ(indexes(open(policy, 3)), std::vector<std::int32_t>{1});
  policy.release(key(3));
  EXPECT_EQ(indexes(open(policy, 4)), std::vector<std::int32_t>{0});
}

TEST(FilePoolPolicy, UsedEntriesAreTakenOnceAndColdOnesNot) {
  FilePoolPolicy policy(4);
  open(policy, 0);
  policy.release(key(0));
  open(policy, 1);
  policy.release(key(1), true);
  EXPECT_EQ(indexes(policy.take_used(1)), std::vector<std::int32_t>{0});
  EXPECT_TRUE(policy.take_used(1).empty());  // nothing used since
  int handle = -1;
  EXPECT_EQ(policy.acquire(key(1), false, &handle), Step::use);
  policy.release(key(1));
  EXPECT_EQ(indexes(policy.take_used(1)), std::vector<std::int32_t>{1});
}

TEST(FilePoolPolicy, AnEntryBeingOpenedMakesOthersWait) {
  FilePoolPolicy policy(4);
  int handle = -1;
  EXPECT_EQ(policy.acquire(key(0), true, &handle), Step::open);
  EXPECT_EQ(policy.acquire(key(0), false, &handle), Step::wait);  // nothing taken: no lease to return
  EXPECT_FALSE(policy.lease_if_open(key(0), false, &handle));
  EXPECT_TRUE(policy.opened(key(0), 100, true).empty());
  EXPECT_EQ(policy.acquire(key(0), false, &handle), Step::use);
  EXPECT_EQ(handle, 100);
  policy.release(key(0));
  policy.release(key(0));
  EXPECT_EQ(policy.leased(), 0u);
}

TEST(FilePoolPolicy, NeverClosesALeasedEntryAndCatchesUpOnRelease) {
  FilePoolPolicy policy(2);
  open(policy, 0);  // leased
  open(policy, 1);  // leased
  // Every entry is leased: the third one opens over the bound rather than closing a descriptor in use.
  EXPECT_TRUE(open(policy, 2).empty());
  EXPECT_EQ(policy.size(), 3u);
  EXPECT_EQ(policy.overshoots(), 1u);
  // The first lease returned closes (it is the only one not leased), and the pool is back at its bound.
  auto closed = policy.release(key(1));
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->key.index, 1);
  EXPECT_EQ(closed->handle, 101);
  EXPECT_EQ(policy.size(), 2u);
  EXPECT_FALSE(policy.release(key(0)));
  EXPECT_FALSE(policy.release(key(2)));
  EXPECT_EQ(policy.leased(), 0u);
}

TEST(FilePoolPolicy, ReadOnlyEntryIsUpgradedOnceForWriting) {
  FilePoolPolicy policy(4);
  open(policy, 0, false);
  int handle = -1;
  // A second reader shares it; a writer asks for an upgrade while both hold it.
  EXPECT_EQ(policy.acquire(key(0), false, &handle), Step::use);
  EXPECT_EQ(policy.acquire(key(0), true, &handle), Step::upgrade);
  EXPECT_EQ(handle, 100);  // the read-only descriptor the shell replaces
  EXPECT_TRUE(policy.shared(key(0)));
  EXPECT_TRUE(policy.opened(key(0), 100, true).empty());
  // Writable now: readers and writers both use it as it is.
  EXPECT_EQ(policy.acquire(key(0), true, &handle), Step::use);
  EXPECT_EQ(policy.acquire(key(0), false, &handle), Step::use);
  for (int i = 0; i < 5; ++i)
    EXPECT_FALSE(policy.release(key(0)));
  EXPECT_EQ(policy.leased(), 0u);
  EXPECT_FALSE(policy.shared(key(0)));
}

TEST(FilePoolPolicy, LeaseIfOpenChangesNothingOnAMiss) {
  FilePoolPolicy policy(2);
  int handle = -1;
  EXPECT_FALSE(policy.lease_if_open(key(0), false, &handle));
  EXPECT_EQ(policy.size(), 0u);
  open(policy, 0, false);
  policy.release(key(0));
  EXPECT_FALSE(policy.lease_if_open(key(0), true, &handle));  // read-only: a writer needs the upgrade step
  EXPECT_EQ(policy.leased(), 0u);
  EXPECT_TRUE(policy.lease_if_open(key(0), false, &handle));
  EXPECT_EQ(handle, 100);
  EXPECT_EQ(policy.leased(), 1u);
}

TEST(FilePoolPolicy, AFailedOpenLeavesNoEntryAndAFailedUpgradeKeepsTheReader) {
  FilePoolPolicy policy(2);
  int handle = -1;
  EXPECT_EQ(policy.acquire(key(0), true, &handle), Step::open);
  policy.failed(key(0));
  EXPECT_EQ(policy.size(), 0u);
  EXPECT_EQ(policy.leased(), 0u);
  open(policy, 1, false);
  policy.release(key(1));
  EXPECT_EQ(policy.acquire(key(1), true, &handle), Step::upgrade);
  policy.failed(key(1));
  EXPECT_EQ(policy.size(), 1u);
  EXPECT_EQ(policy.acquire(key(1), false, &handle), Step::use);
  EXPECT_EQ(handle, 101);
}

TEST(FilePoolPolicy, DropOwnerClosesItsEntriesAndLeasedOnesOnRelease) {
  FilePoolPolicy policy(8);
  open(policy, 0, false, 1);
  policy.release(key(0, 1));
  open(policy, 1, false, 1);  // still leased
  open(policy, 0, false, 2);  // another owner's
  policy.release(key(0, 2));
  EXPECT_EQ(indexes(policy.drop_owner(1)), std::vector<std::int32_t>{0});
  EXPECT_EQ(policy.open_entries(1).size(), 0u);  // the leased one is no longer offered
  EXPECT_EQ(policy.size(), 2u);                  // but it is still open, and counted
  auto closed = policy.release(key(1, 1));
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->handle, 101);
  EXPECT_EQ(policy.size(), 1u);
  EXPECT_EQ(policy.open_entries(2).size(), 1u);
}

TEST(FilePoolPolicy, ManyKeysThroughATinyBoundStayWithinIt) {
  FilePoolPolicy policy(8);
  std::size_t closed = 0;
  for (int round = 0; round < 3; ++round) {
    for (std::int32_t i = 0; i < 200; ++i) {
      int handle = -1;
      auto step = policy.acquire(key(i), round > 0, &handle);
      if (step != Step::use) closed += policy.opened(key(i), 100 + i, round > 0).size();
      EXPECT_FALSE(policy.release(key(i)));
      EXPECT_LE(policy.size(), 8u);
    }
  }
  EXPECT_EQ(closed, 600u - 8u);
  EXPECT_EQ(policy.overshoots(), 0u);
}

}  // namespace
}  // namespace shoal::storage
