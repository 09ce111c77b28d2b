#include "lsd/lsd_state.hpp"

#include <gtest/gtest.h>

namespace shoal::lsd {
namespace {

using namespace std::chrono_literals;

Sha1Digest hash_of(std::uint8_t fill) {
  Sha1Digest d;
  d.bytes.fill(fill);
  return d;
}

const TimePoint t0 = TimePoint{} + 1000h;  // virtual time; the start is arbitrary

Endpoint source(const char* text) {
  return *Endpoint::parse(text);
}

// Where a multicast announce from `from` arrives: the LSD group of its family.
Endpoint group_of(const char* from) {
  return *Endpoint::parse(from[0] == '[' ? "[ff15::efc0:988f]:6771" : "239.192.152.143:6771");
}

std::string announce_packet(std::uint16_t port, std::vector<Sha1Digest> hashes,
                            std::optional<std::string> cookie = "theirs") {
  Announce a;
  a.port = port;
  a.info_hashes = std::move(hashes);
  a.cookie = std::move(cookie);
  return encode(a);
}

std::size_t hashes_in(const std::vector<Announce>& announces) {
  std::size_t n = 0;
  for (const auto& a : announces)
    n += a.info_hashes.size();
  return n;
}

TEST(LsdState, AnnouncesAtStartThenEveryFiveMinutes) {
  LsdState lsd("ours");
  EXPECT_FALSE(lsd.next_due());
  lsd.add_torrent(hash_of(1), 6881, t0);
  EXPECT_EQ(lsd.next_due(), t0);
  auto first = lsd.due(t0);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].port, 6881);
  EXPECT_EQ(first[0].info_hashes, std::vector{hash_of(1)});
  EXPECT_EQ(first[0].cookie, "ours");
  EXPECT_EQ(first[0].group, Group::v4);
  EXPECT_TRUE(decode(encode(first[0])));

  EXPECT_EQ(lsd.next_due(), t0 + 5min);
  EXPECT_TRUE(lsd.due(t0 + 4min + 59s).empty());
  EXPECT_EQ(lsd.due(t0 + 5min).size(), 1u);
  EXPECT_EQ(lsd.next_due(), t0 + 10min);
}

TEST(LsdState, NeverMoreThanOncePerMinutePerTorrent) {
  LsdState lsd("ours");
  auto ih = hash_of(1);
  lsd.add_torrent(ih, 6881, t0);
  ASSERT_EQ(lsd.due(t0).size(), 1u);
  // Asked to hurry, re-added, polled over and over: still nothing until a minute has passed.
  lsd.announce_soon(ih, t0 + 1s);
  lsd.add_torrent(ih, 6881, t0 + 2s);
  for (auto t = t0; t < t0 + 60s; t += 5s)
    EXPECT_TRUE(lsd.due(t).empty());
  EXPECT_EQ(lsd.next_due(), t0 + 60s);
  EXPECT_EQ(lsd.due(t0 + 60s).size(), 1u);
  // announce_soon after that: again one minute after the last announce, not five.
  lsd.announce_soon(ih, t0 + 70s);
  EXPECT_EQ(lsd.next_due(), t0 + 120s);
  EXPECT_TRUE(lsd.due(t0 + 119s).empty());
  EXPECT_EQ(lsd.due(t0 + 120s).size(), 1u);
}

TEST(LsdState, AnnounceSoonForAnUnknownTorrentDoesNothing) {
  LsdState lsd("ours");
  lsd.announce_soon(hash_of(9), t0);
  EXPECT_FALSE(lsd.next_due());
  EXPECT_TRUE(lsd.due(t0).empty());
}

TEST(LsdState, PacksTorrentsOfOnePortIntoOnePacket) {
  LsdState lsd("ours");
  for (std::uint8_t i = 1; i <= 3; ++i)
    lsd.add_torrent(hash_of(i), 6881, t0);
  lsd.add_torrent(hash_of(4), 7000, t0);
  auto out = lsd.due(t0);
  ASSERT_EQ(out.size(), 2u);  // one per port
  EXPECT_EQ(hashes_in(out), 4u);
  for (const auto& a : out)
    EXPECT_EQ(a.info_hashes.size(), a.port == 6881 ? 3u : 1u);
}

TEST(LsdState, TorrentsDueSoonGoAlongWithOneDueNow) {
  LsdState lsd("ours");
  lsd.add_torrent(hash_of(1), 6881, t0);
  ASSERT_EQ(lsd.due(t0).size(), 1u);  // hash 1: next at t0+5min
  lsd.add_torrent(hash_of(2), 6881, t0 + 4min + 30s);
  auto out = lsd.due(t0 + 4min + 30s);  // hash 2 is due; hash 1 would be due in 30 s: sent together
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].info_hashes.size(), 2u);
  EXPECT_TRUE(lsd.due(t0 + 5min).empty());
  EXPECT_EQ(lsd.next_due(), t0 + 9min + 30s);
}

TEST(LsdState, ManyTorrentsSplitAtThePacketCap) {
  LsdState lsd("ours");
  for (int i = 0; i < 60; ++i)
    lsd.add_torrent(hash_of(static_cast<std::uint8_t>(i)), 6881, t0);
  auto out = lsd.due(t0);
  EXPECT_EQ(out.size(), 3u);
  EXPECT_EQ(hashes_in(out), 60u);
  for (const auto& a : out)
    EXPECT_LE(encode(a).size(), kMaxPacketSize);
}

TEST(LsdState, RemovedTorrentIsNeitherAnnouncedNorMatched) {
  LsdState lsd("ours");
  lsd.add_torrent(hash_of(1), 6881, t0);
  lsd.remove_torrent(hash_of(1));
  EXPECT_TRUE(lsd.due(t0).empty());
  auto r = lsd.on_packet(announce_packet(5000, {hash_of(1)}), source("192.168.1.7:6771"),
                         group_of("192.168.1.7:6771"), t0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, Ignored::unknown_torrents);
}

TEST(LsdState, IncomingAnnounceNamesSenderAddressWithAnnouncedPort) {
  LsdState lsd("ours");
  lsd.add_torrent(hash_of(1), 6881, t0);
  lsd.add_torrent(hash_of(2), 6881, t0);
  auto r = lsd.on_packet(announce_packet(51413, {hash_of(2), hash_of(3)}), source("192.168.1.7:6771"),
                         group_of("192.168.1.7:6771"), t0);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 1u);  // hash 3 is not ours
  EXPECT_EQ((*r)[0].info_hash, hash_of(2));
  EXPECT_EQ((*r)[0].endpoint.to_string(), "192.168.1.7:51413");

  auto v6 = lsd.on_packet(announce_packet(7, {hash_of(1)}), source("[fd00::1]:6771"),
                          group_of("[fd00::1]:6771"), t0);
  ASSERT_TRUE(v6);
  EXPECT_EQ((*v6)[0].endpoint.to_string(), "[fd00::1]:7");
}

TEST(LsdState, IgnoresOurOwnCookie) {
  LsdState lsd("ours");
  lsd.add_torrent(hash_of(1), 6881, t0);
  auto own = lsd.due(t0);
  ASSERT_EQ(own.size(), 1u);
  auto r = lsd.on_packet(encode(own[0]), source("127.0.0.1:6771"), group_of("127.0.0.1:6771"), t0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, Ignored::own_announce);
  // Another process on the same host (another cookie, or none) is a peer.
  EXPECT_TRUE(lsd.on_packet(announce_packet(6882, {hash_of(1)}), source("127.0.0.1:6771"),
                            group_of("127.0.0.1:6771"), t0));
  EXPECT_TRUE(lsd.on_packet(announce_packet(6883, {hash_of(1)}, std::nullopt), source("127.0.0.1:6771"),
                            group_of("127.0.0.1:6771"), t0));
}

TEST(LsdState, MalformedPacketsAreIgnoredWithTheReason) {
  LsdState lsd("ours");
  lsd.add_torrent(hash_of(1), 6881, t0);
  auto r = lsd.on_packet("BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 0\r\n\r\n",
                         source("10.0.0.2:6771"), group_of("10.0.0.2:6771"), t0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, Ignored::malformed);
  EXPECT_EQ(r.error().decode_error, Errc::bad_port);
  EXPECT_EQ(r.error().message(), describe(Errc::bad_port));
  EXPECT_FALSE(
      lsd.on_packet(std::string(5000, '\xff'), source("10.0.0.2:6771"), group_of("10.0.0.2:6771"), t0));
  EXPECT_FALSE(lsd.on_packet("", source("10.0.0.2:6771"), group_of("10.0.0.2:6771"), t0));
}

// A BT-SEARCH sent straight to our port (from anywhere on the internet) must not make us dial anyone.
TEST(LsdState, OnlyDatagramsToTheGroupCount) {
  LsdState lsd("ours");
  lsd.add_torrent(hash_of(1), 6881, t0);
  auto packet = announce_packet(5000, {hash_of(1)});
  for (const char* to : {"192.168.1.2:6771", "127.0.0.1:6771", "0.0.0.0:6771", "239.192.152.144:6771",
                         "[fd00::2]:6771", "[::]:6771", "[ff02::1]:6771"}) {
    const char* from = to[0] == '[' ? "[fd00::7]:6771" : "192.168.1.7:6771";
    auto r = lsd.on_packet(packet, source(from), source(to), t0);
    ASSERT_FALSE(r) << to;
    EXPECT_EQ(r.error().reason, Ignored::not_to_group) << to;
    EXPECT_NE(r.error().message().find("multicast group"), std::string::npos);
  }
  EXPECT_TRUE(lsd.on_packet(packet, source("192.168.1.7:6771"), source("239.192.152.143:6771"), t0));
  EXPECT_TRUE(lsd.on_packet(packet, source("[fd00::7]:6771"), source("[ff15::efc0:988f]:6771"), t0));
}

TEST(LsdState, SenderWithoutAddressNamesNoPeer) {
  LsdState lsd("ours");
  lsd.add_torrent(hash_of(1), 6881, t0);
  for (const char* from : {"0.0.0.0:6771", "[::]:6771", "[fe80::1]:6771", "[febf::1]:6771"}) {
    auto r = lsd.on_packet(announce_packet(5000, {hash_of(1)}), source(from), group_of(from), t0);
    ASSERT_FALSE(r) << from;
    EXPECT_EQ(r.error().reason, Ignored::unusable_source) << from;
  }
}

TEST(LsdState, RateLimitsEachSourceAddress) {
  LsdConfig config;
  config.source_burst = 3;
  config.source_refill = 10s;
  LsdState lsd("ours", config);
  lsd.add_torrent(hash_of(1), 6881, t0);
  auto packet = announce_packet(5000, {hash_of(1)});
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(lsd.on_packet(packet, source("10.0.0.2:1"), group_of("10.0.0.2:1"), t0));
  auto r = lsd.on_packet(packet, source("10.0.0.2:2"), group_of("10.0.0.2:2"),
                         t0);  // another port of the same address
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, Ignored::rate_limited);
  EXPECT_TRUE(lsd.on_packet(packet, source("10.0.0.3:1"), group_of("10.0.0.3:1"),
                            t0));  // another address has its own budget
  // Announces of torrents we do not have cost nothing and say so rather than "rate-limited".
  auto other =
      lsd.on_packet(announce_packet(5000, {hash_of(7)}), source("10.0.0.2:1"), group_of("10.0.0.2:1"), t0);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().reason, Ignored::unknown_torrents);
  EXPECT_FALSE(lsd.on_packet(packet, source("10.0.0.2:1"), group_of("10.0.0.2:1"), t0 + 9s));
  EXPECT_TRUE(lsd.on_packet(packet, source("10.0.0.2:1"), group_of("10.0.0.2:1"), t0 + 20s));
}

TEST(SourceRateLimiter, TableStaysBounded) {
  SourceRateLimiter limiter(2, 1000ms, 16);
  for (std::uint32_t i = 0; i < 1000; ++i) {
    Endpoint e;
    e.address[0] = static_cast<std::uint8_t>(i >> 8);
    e.address[1] = static_cast<std::uint8_t>(i);
    EXPECT_TRUE(limiter.allow(e, t0));
    EXPECT_LE(limiter.tracked(), 16u);
  }
  // Refilled buckets are what is forgotten first.
  Endpoint busy = source("10.9.9.9:1");
  EXPECT_TRUE(limiter.allow(busy, t0 + 10s));
  EXPECT_TRUE(limiter.allow(busy, t0 + 10s));
  EXPECT_FALSE(limiter.allow(busy, t0 + 10s));
}

}  // namespace
}  // namespace shoal::lsd
