#include "utp/path_mtu.hpp"

#include <gtest/gtest.h>

namespace shoal::utp {
namespace {

PathMtuConfig config(std::size_t max) {
  PathMtuConfig c;
  c.min_packet_size = 1232;
  c.max_packet_size = max;
  return c;
}

// Runs the search against a path that carries up to `path` bytes; returns the probes it took.
int search(PathMtu& m, std::size_t path, std::int64_t now) {
  int probes = 0;
  while (std::size_t size = m.probe_size(now)) {
    ++probes;
    if (size <= path) {
      m.on_probe_acked(size, now);
    } else {
      m.on_probe_lost(size, now);
    }
    if (probes > 100) break;
  }
  return probes;
}

TEST(UtpPathMtu, StartsAtTheMinimumEveryPathCarries) {
  PathMtu m(config(1472));
  EXPECT_EQ(m.packet_size(), 1232u);
  EXPECT_TRUE(m.searching());
  EXPECT_GT(m.probe_size(0), 1232u);
  EXPECT_LE(m.probe_size(0), 1472u);
}

TEST(UtpPathMtu, FindsTheLargestSizeThePathCarriesInFewProbes) {
  for (std::size_t path : {1232u, 1233u, 1252u, 1300u, 1471u, 1472u, 1500u}) {
    PathMtu m(config(1472));
    int probes = search(m, path, 0);
    EXPECT_EQ(m.packet_size(), std::min<std::size_t>(path, 1472)) << path;
    EXPECT_FALSE(m.searching());
    // Binary search over 240 sizes, every failure confirmed once more: at most 2 * 8.
    EXPECT_LE(probes, 16) << path;
  }
}

TEST(UtpPathMtu, FindsAJumboPathTooInABoundedNumberOfProbes) {
  PathMtu m(config(8972));
  int probes = search(m, 8972, 0);
  EXPECT_EQ(m.packet_size(), 8972u);
  EXPECT_LE(probes, 13);
  PathMtu n(config(8972));
  EXPECT_LE(search(n, 1400, 0), 26);
  EXPECT_EQ(n.packet_size(), 1400u);
}

TEST(UtpPathMtu, OneLossDoesNotCostASize) {
  PathMtu m(config(1472));
  std::size_t first = m.probe_size(0);
  m.on_probe_lost(first, 0);  // a random loss
  EXPECT_EQ(m.probe_size(0), first);
  m.on_probe_acked(first, 0);
  EXPECT_EQ(m.packet_size(), first);
}

TEST(UtpPathMtu, SearchesAgainAfterTheIntervalAndFindsAGrownRoute) {
  PathMtu m(config(1472));
  search(m, 1300, 0);
  ASSERT_EQ(m.packet_size(), 1300u);
  EXPECT_EQ(m.probe_size(1'000'000), 0u);  // settled
  std::int64_t later = 600'000'001;
  EXPECT_GT(m.probe_size(later), 1300u);
  search(m, 1472, later);
  EXPECT_EQ(m.packet_size(), 1472u);
  // A later round on the same path costs a few probes and keeps the size.
  std::int64_t again = later + 700'000'000;
  search(m, 1472, again);
  EXPECT_EQ(m.packet_size(), 1472u);
}

TEST(UtpPathMtu, BlackHoleDropsToTheMinimumAndSearchesBelowTheOldSize) {
  PathMtu m(config(1472));
  search(m, 1472, 0);
  ASSERT_EQ(m.packet_size(), 1472u);
  m.on_black_hole(10);
  EXPECT_EQ(m.packet_size(), 1232u);
  EXPECT_EQ(m.ceiling(), 1471u);
  search(m, 1252, 10);
  EXPECT_EQ(m.packet_size(), 1252u);
}

TEST(UtpPathMtu, TooBigWithALimitTakesItAtOnce) {
  PathMtu m(config(1472));
  search(m, 1472, 0);
  m.on_too_big(1252, 5);
  EXPECT_EQ(m.packet_size(), 1252u);
  EXPECT_FALSE(m.searching());
  m.on_too_big(100, 6);  // below the minimum every path must carry: the minimum
  EXPECT_EQ(m.packet_size(), 1232u);
  m.on_too_big(0, 7);  // no size given, already at the minimum
  EXPECT_EQ(m.packet_size(), 1232u);
}

TEST(UtpPathMtu, CeilingAtTheMinimumMeansNoProbing) {
  PathMtu m(config(1232));
  EXPECT_FALSE(m.searching());
  EXPECT_EQ(m.probe_size(0), 0u);
  EXPECT_EQ(m.probe_size(10'000'000'000), 0u);
  PathMtu huge(config(1'000'000));  // a bogus ceiling is clamped to what UDP can carry
  EXPECT_LE(huge.probe_size(0), kMaxPacketSize);
  EXPECT_EQ(huge.ceiling(), kMaxPacketSize);
}

TEST(UtpPathMtu, LateOrStaleAnswersAreHarmless) {
  PathMtu m(config(1472));
  search(m, 1300, 0);
  m.on_probe_lost(1250, 1);  // below the floor: a congestion loss of an old probe
  EXPECT_EQ(m.packet_size(), 1300u);
  m.on_probe_acked(1200, 2);
  EXPECT_EQ(m.packet_size(), 1300u);
}

}  // namespace
}  // namespace shoal::utp
