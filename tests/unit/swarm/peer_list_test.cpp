#include "swarm/peer_list.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace shoal::swarm {
namespace {

using namespace std::chrono_literals;
using Clock = PeerList::Clock;

Endpoint v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d, std::uint16_t port) {
  const std::uint8_t addr[4] = {a, b, c, d};
  return Endpoint::from_v4(std::span<const std::uint8_t, 4>(addr), port);
}

std::vector<Endpoint> all_candidates(const PeerList& list, Clock::time_point now) {
  return list.dial_candidates(now, 100000, [](const Endpoint&) { return false; });
}

const Clock::time_point t0 = Clock::time_point{} + 1000s;

TEST(PeerList, PexFloodsCannotLockRealPeersOut) {
  PeerList list;
  // Forty PEX messages of 50 made-up addresses each, from four connections.
  for (int m = 0; m < 40; ++m) {
    for (int i = 0; i < 50; ++i)
      list.add(v4(10, static_cast<std::uint8_t>(m), static_cast<std::uint8_t>(i), 1, 6881), PeerSource::pex,
               t0, static_cast<PeerId>(1 + m % 4));
  }
  EXPECT_LE(list.count(PeerSource::pex), PeerList::Limits{}.quota[static_cast<std::size_t>(PeerSource::pex)]);
  // Real peers from the tracker, DHT and the user still get in.
  EXPECT_TRUE(list.add(v4(1, 2, 3, 4, 6881), PeerSource::tracker, t0));
  EXPECT_TRUE(list.add(v4(1, 2, 3, 5, 6881), PeerSource::dht, t0));
  EXPECT_TRUE(list.add(v4(1, 2, 3, 6, 6881), PeerSource::user, t0));
  EXPECT_TRUE(list.contains(v4(1, 2, 3, 4, 6881)));
}

TEST(PeerList, OneConnectionGetsOnlyItsShareOfThePexQuota) {
  PeerList::Limits limits;
  limits.pex_per_connection = 10;
  PeerList list(limits);
  int kept = 0;
  for (int i = 0; i < 50; ++i)
    kept += list.add(v4(10, 0, 0, static_cast<std::uint8_t>(i), 1), PeerSource::pex, t0, 7) ? 1 : 0;
  EXPECT_EQ(kept, 10);
  EXPECT_TRUE(list.add(v4(10, 0, 1, 0, 1), PeerSource::pex, t0, 8));  // another connection still may
}

TEST(PeerList, EachSourceHasAQuota) {
  PeerList::Limits limits;
  limits.quota = {0, 3, 3, 3, 3, 3};
  PeerList list(limits);
  for (int i = 0; i < 10; ++i)
    list.add(v4(10, 0, 0, static_cast<std::uint8_t>(i), 1), PeerSource::tracker, t0);
  EXPECT_EQ(list.count(PeerSource::tracker), 3u);
  for (int i = 0; i < 10; ++i)
    list.add(v4(10, 0, 1, static_cast<std::uint8_t>(i), 1), PeerSource::user, t0);
  EXPECT_EQ(list.count(PeerSource::user), 10u);  // the user's are not limited
}

TEST(PeerList, AKnownAddressIsRefreshedNotCountedTwice) {
  PeerList list;
  auto e = v4(1, 1, 1, 1, 1);
  EXPECT_TRUE(list.add(e, PeerSource::tracker, t0));
  EXPECT_TRUE(list.add(e, PeerSource::pex, t0, 3));
  EXPECT_EQ(list.size(), 1u);
  EXPECT_EQ(list.count(PeerSource::tracker), 1u);
  EXPECT_EQ(list.count(PeerSource::pex), 0u);
  EXPECT_FALSE(list.add(v4(1, 1, 1, 1, 0), PeerSource::tracker, t0));  // no port
}

TEST(PeerList, FailedDialsBackOffAndDeadAddressesAreDropped) {
  PeerList list;
  auto e = v4(1, 1, 1, 1, 1);
  list.add(e, PeerSource::tracker, t0);
  EXPECT_EQ(all_candidates(list, t0).size(), 1u);
  list.on_dial_started(e, t0);
  EXPECT_TRUE(all_candidates(list, t0 + 1s).empty());
  list.on_dial_failed(e, t0 + 1s);
  EXPECT_TRUE(all_candidates(list, t0 + 2s).empty());  // back-off: 2 s after the failure
  EXPECT_EQ(all_candidates(list, t0 + 3s).size(), 1u);
  list.on_dial_failed(e, t0 + 3s);
  EXPECT_TRUE(all_candidates(list, t0 + 6s).empty());  // then 4 s
  EXPECT_EQ(all_candidates(list, t0 + 7s).size(), 1u);
  list.on_dial_failed(e, t0 + 7s);
  EXPECT_FALSE(list.contains(e));  // three failures in a row: dead
  EXPECT_EQ(list.count(PeerSource::tracker), 0u);
}

TEST(PeerList, AConnectionResetsTheFailures) {
  PeerList list;
  auto e = v4(1, 1, 1, 1, 1);
  list.add(e, PeerSource::tracker, t0);
  list.on_dial_failed(e, t0);
  list.on_dial_failed(e, t0);
  list.on_connected(e, t0);
  EXPECT_TRUE(all_candidates(list, t0 + 1h).empty());  // connected: not a candidate
  list.on_disconnected(e, t0 + 1h);
  list.on_dial_failed(e, t0 + 2h);
  list.on_dial_failed(e, t0 + 2h);
  EXPECT_TRUE(list.contains(e));
}

TEST(PeerList, UserGivenAddressesAreNeverEvicted) {
  PeerList list;
  auto e = v4(1, 1, 1, 1, 1);
  list.add(e, PeerSource::user, t0);
  for (int i = 0; i < 20; ++i)
    list.on_dial_failed(e, t0 + std::chrono::seconds(i));
  list.expire(t0 + 1000h);
  EXPECT_TRUE(list.contains(e));
  // Retried at a short cap.
  EXPECT_EQ(all_candidates(list, t0 + 19s + PeerList::Limits{}.max_user_retry).size(), 1u);
}

TEST(PeerList, OldAddressesExpireUnlessConnectedOrRefreshed) {
  PeerList list;
  auto old = v4(1, 1, 1, 1, 1), refreshed = v4(1, 1, 1, 2, 1), connected = v4(1, 1, 1, 3, 1);
  list.add(old, PeerSource::dht, t0);
  list.add(refreshed, PeerSource::dht, t0);
  list.add(connected, PeerSource::dht, t0);
  list.on_connected(connected, t0);
  list.add(refreshed, PeerSource::tracker, t0 + 90min);
  list.expire(t0 + 3h);
  EXPECT_FALSE(list.contains(old));
  EXPECT_TRUE(list.contains(refreshed));
  EXPECT_TRUE(list.contains(connected));
  EXPECT_EQ(list.count(PeerSource::dht), 2u);
}

TEST(PeerList, CandidatesSkipWhatTheCallerSkips) {
  PeerList list;
  list.add(v4(1, 1, 1, 1, 1), PeerSource::tracker, t0);
  list.add(v4(1, 1, 1, 2, 1), PeerSource::tracker, t0);
  auto c = list.dial_candidates(t0, 10, [](const Endpoint& e) { return e.address[3] == 1; });
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].address[3], 2);
  EXPECT_EQ(list.dial_candidates(t0, 1, [](const Endpoint&) { return false; }).size(), 1u);
}

TEST(PeerList, ConnectionsPerAddressAreCappedExceptOnLoopback) {
  auto remote = v4(8, 8, 8, 8, 1);
  EXPECT_TRUE(PeerList::address_allowed(remote, PeerList::kMaxConnectionsPerAddress - 1));
  EXPECT_FALSE(PeerList::address_allowed(remote, PeerList::kMaxConnectionsPerAddress));
  EXPECT_TRUE(PeerList::address_allowed(v4(127, 0, 0, 1, 1), 50));
  Endpoint v6_loopback;
  v6_loopback.v6 = true;
  v6_loopback.address[15] = 1;
  v6_loopback.port = 1;
  EXPECT_TRUE(PeerList::address_allowed(v6_loopback, 50));
}

TEST(PeerList, BanKeysAreAddressesExceptOnLoopback) {
  EXPECT_EQ(ban_key(v4(8, 8, 8, 8, 1)), ban_key(v4(8, 8, 8, 8, 2)));  // reconnecting from another port: same
  EXPECT_EQ(ban_key(v4(8, 8, 8, 8, 1)).port, 0);
  EXPECT_NE(ban_key(v4(127, 0, 0, 1, 1)), ban_key(v4(127, 0, 0, 1, 2)));  // two local peers: two keys
}

}  // namespace
}  // namespace shoal::swarm
