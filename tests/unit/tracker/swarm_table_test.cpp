#include "tracker/swarm_table.hpp"

#include <gtest/gtest.h>

#include <set>

namespace shoal::tracker {
namespace {

Sha1Digest hash_of(std::uint8_t b) {
  Sha1Digest d;
  d.bytes.fill(b);
  return d;
}

SwarmAnnounce from(const std::string& peer, bool seed = false, AnnounceKind kind = AnnounceKind::regular) {
  SwarmAnnounce a;
  a.info_hash = hash_of(1);
  a.peer = *Endpoint::parse(peer);
  a.seed = seed;
  a.kind = kind;
  return a;
}

constexpr hash::SipKey kKey{0x0123456789abcdefULL, 0xfedcba9876543210ULL};

std::set<std::string> peers_in(std::span<const std::uint8_t> bytes, std::size_t stride) {
  std::set<std::string> out;
  for (std::size_t i = 0; i + stride <= bytes.size(); i += stride)
    out.insert(Endpoint::from_compact(bytes.subspan(i, stride))->to_string());
  return out;
}

TEST(SwarmTable, AnnouncersSeeEachOtherButNotThemselves) {
  SwarmTable t({}, kKey);
  std::array<std::uint8_t, 1200> v4{};
  std::array<std::uint8_t, 1800> v6{};
  t.announce(from("10.0.0.1:1000", false, AnnounceKind::started), 0, v4, v6);
  t.announce(from("[2001:db8::1]:2000", true), 0, v4, v6);
  auto r = t.announce(from("10.0.0.2:1000"), 1, v4, v6);
  EXPECT_EQ(r.counts.leechers, 2u);
  EXPECT_EQ(r.counts.seeders, 1u);
  EXPECT_EQ(peers_in(std::span(v4.data(), r.v4_bytes), 6), (std::set<std::string>{"10.0.0.1:1000"}));
  EXPECT_EQ(peers_in(std::span(v6.data(), r.v6_bytes), 18), (std::set<std::string>{"[2001:db8::1]:2000"}));
  // Re-announcing updates in place; the peer count does not grow.
  t.announce(from("10.0.0.2:1000"), 2, v4, v6);
  EXPECT_EQ(t.peers(), 3u);
  // A family the caller has no room for is skipped.
  r = t.announce(from("10.0.0.3:1"), 2, v4, {});
  EXPECT_EQ(r.v6_bytes, 0u);
}

TEST(SwarmTable, SeedsGetLeechersFirstAndCompletedIsCounted) {
  SwarmTable t({}, kKey);
  std::array<std::uint8_t, 1200> v4{};
  t.announce(from("10.0.0.1:1", true), 0, v4, {});
  t.announce(from("10.0.0.2:1", false), 0, v4, {});
  auto numwant_one = from("10.0.0.3:1", true);
  numwant_one.numwant = 1;
  auto r = t.announce(numwant_one, 0, v4, {});
  EXPECT_EQ(peers_in(std::span(v4.data(), r.v4_bytes), 6), (std::set<std::string>{"10.0.0.2:1"}));
  r = t.announce(from("10.0.0.3:1", true), 0, v4, {});  // room for more: the other seed as well
  EXPECT_EQ(peers_in(std::span(v4.data(), r.v4_bytes), 6),
            (std::set<std::string>{"10.0.0.1:1", "10.0.0.2:1"}));
  r = t.announce(from("10.0.0.2:1", true, AnnounceKind::completed), 1, v4, {});
  EXPECT_EQ(r.counts.seeders, 3u);
  EXPECT_EQ(r.counts.leechers, 0u);
  EXPECT_EQ(r.counts.completed, 1u);
  // Only seeds left: a seed still hears of them (a magnet's metadata fetch announces left=0, as a seed).
  EXPECT_EQ(peers_in(std::span(v4.data(), r.v4_bytes), 6),
            (std::set<std::string>{"10.0.0.1:1", "10.0.0.3:1"}));
  EXPECT_EQ(t.scrape(hash_of(1)).completed, 1u);
  t.announce(from("10.0.0.2:1", true, AnnounceKind::completed), 2, v4, {});  // said twice: counted once
  EXPECT_EQ(t.scrape(hash_of(1)).completed, 1u);
  EXPECT_EQ(t.scrape(hash_of(9)).seeders, 0u);
}

TEST(SwarmTable, StoppedRemovesAndExpiryDropsSilentPeers) {
  SwarmLimits limits;
  limits.interval = 100;
  SwarmTable t(limits, kKey);
  std::array<std::uint8_t, 1200> v4{};
  t.announce(from("10.0.0.1:1"), 0, v4, {});
  t.announce(from("10.0.0.2:1"), 150, v4, {});
  auto r = t.announce(from("10.0.0.2:1", false, AnnounceKind::stopped), 151, v4, {});
  EXPECT_EQ(r.v4_bytes, 0u);
  EXPECT_EQ(t.peers(), 1u);
  t.expire(199);  // 10.0.0.1 last seen at 0: 199 < 2 intervals
  EXPECT_EQ(t.peers(), 1u);
  t.expire(230);  // stamps are an eighth of an interval: dead a little after two intervals
  EXPECT_EQ(t.peers(), 0u);
  EXPECT_EQ(t.swarms(), 0u);
  // Stopping in a swarm we never saw creates nothing.
  t.announce(from("10.0.0.3:1", false, AnnounceKind::stopped), 300, v4, {});
  EXPECT_EQ(t.swarms(), 0u);
}

TEST(SwarmTable, NumwantIsCappedAndTheSubsetIsRandom) {
  SwarmLimits limits;
  limits.max_numwant = 30;
  SwarmTable t(limits, kKey, 12345);
  std::array<std::uint8_t, 6 * 300> v4{};
  for (int i = 0; i < 300; ++i)
    t.announce(from("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":80"), 0, v4, {});
  auto a = from("10.9.9.9:1");
  a.numwant = 100000;
  auto r = t.announce(a, 0, v4, {});
  EXPECT_EQ(r.v4_bytes, 30u * 6);
  auto first = peers_in(std::span(v4.data(), r.v4_bytes), 6);
  r = t.announce(a, 0, v4, {});
  auto second = peers_in(std::span(v4.data(), r.v4_bytes), 6);
  EXPECT_NE(first, second);
  a.numwant = 0;
  EXPECT_EQ(t.announce(a, 0, v4, {}).v4_bytes, 0u);
  a.numwant = -1;  // the default
  std::array<std::uint8_t, 6 * 300> big{};
  EXPECT_EQ(t.announce(a, 0, big, {}).v4_bytes, 6u * limits.default_numwant);
}

TEST(SwarmTable, MemoryIsBoundedBySwarmAndPeerCaps) {
  SwarmLimits limits;
  limits.max_swarms = 2;
  limits.max_peers_per_swarm = 3;
  SwarmTable t(limits, kKey);
  std::array<std::uint8_t, 600> v4{};
  for (std::uint8_t h = 0; h < 5; ++h) {
    auto a = from("10.0.0.1:1");
    a.info_hash = hash_of(h);
    t.announce(a, 0, v4, {});
  }
  EXPECT_EQ(t.swarms(), 2u);
  for (int i = 0; i < 10; ++i)
    t.announce(from("10.0.1." + std::to_string(i) + ":1"), 0, v4, {});
  EXPECT_LE(t.peers(), 2u + 3u);
}

}  // namespace
}  // namespace shoal::tracker

#include "tracker/ip_rate_limiter.hpp"

namespace shoal::tracker {
namespace {

TEST(IpRateLimiter, BurstThenRateAndPerAddress) {
  IpRateLimiter limiter(10, kKey);  // 10/s, burst 20
  auto a = *Endpoint::parse("10.0.0.1:1");
  auto b = *Endpoint::parse("10.0.0.2:1");
  int allowed = 0;
  for (int i = 0; i < 100; ++i)
    allowed += limiter.allow(a, 0) ? 1 : 0;
  EXPECT_EQ(allowed, 20);
  EXPECT_TRUE(limiter.allow(b, 0));    // another address has its own bucket
  EXPECT_FALSE(limiter.allow(a, 50));  // half a token after 50 ms
  EXPECT_TRUE(limiter.allow(a, 150));  // 1.5 tokens after 150 ms
  EXPECT_TRUE(IpRateLimiter(0, kKey).allow(a, 0));
  EXPECT_FALSE(IpRateLimiter(0, kKey).enabled());
}

TEST(IpRateLimiter, TableIsBounded) {
  IpRateLimiter limiter(1, kKey);
  for (std::uint32_t i = 0; i < IpRateLimiter::kMaxTracked + 10; ++i) {
    Endpoint e;
    e.address[0] = static_cast<std::uint8_t>(i >> 24);
    e.address[1] = static_cast<std::uint8_t>(i >> 16);
    e.address[2] = static_cast<std::uint8_t>(i >> 8);
    e.address[3] = static_cast<std::uint8_t>(i);
    EXPECT_TRUE(limiter.allow(e, 0));
  }
}

// Info-hashes a remote party crafted to share bytes 0-15 (so every unkeyed choice of bytes collides): the
// keyed bucket hash still spreads them.
TEST(SwarmTable, ChosenInfoHashesSpreadOverBuckets) {
  SwarmTable t({}, kKey);
  std::array<std::uint8_t, 1200> v4{};
  constexpr std::uint32_t kHashes = 4096;
  for (std::uint32_t i = 0; i < kHashes; ++i) {
    SwarmAnnounce a = from("10.0.0.1:1000");
    a.info_hash.bytes.fill(0x42);
    for (int b = 0; b < 4; ++b)
      a.info_hash.bytes[16 + b] = static_cast<std::uint8_t>(i >> (8 * b));
    t.announce(a, 0, v4, {});
  }
  EXPECT_EQ(t.swarms(), kHashes);
  EXPECT_LE(t.largest_bucket(), 12u);  // random placement: ~7 at most at load factor 1; unkeyed: 4096
}

TEST(IpRateLimiter, ChosenAddressesSpreadOverBuckets) {
  // One /64 (the part of an IPv6 address any host controls), addresses stepped in the low bytes.
  IpRateLimiter limiter(1, kKey);
  constexpr std::uint32_t kAddresses = 4096;
  for (std::uint32_t i = 0; i < kAddresses; ++i) {
    auto e = *Endpoint::parse("[2001:db8::1]:1");
    for (int b = 0; b < 4; ++b)
      e.address[8 + b] = static_cast<std::uint8_t>(i >> (8 * b));
    EXPECT_TRUE(limiter.allow(e, 0));
  }
  EXPECT_LE(limiter.largest_bucket(), 12u);
}

}  // namespace
}  // namespace shoal::tracker
