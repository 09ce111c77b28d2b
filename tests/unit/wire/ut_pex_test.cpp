#include "wire/ut_pex.hpp"

#include <gtest/gtest.h>

#include "swarm/pex_state.hpp"

namespace shoal::wire {
namespace {

Endpoint v4(std::uint8_t last, std::uint16_t port) {
  return *Endpoint::parse("10.0.0." + std::to_string(last) + ":" + std::to_string(port));
}

TEST(UtPex, RoundTripsIPv4AndIPv6WithFlags) {
  PexMessage m;
  m.added = {{v4(1, 6881), PexFlags::seed | PexFlags::reachable},
             {*Endpoint::parse("[2001:db8::1]:51413"), 0}};
  m.dropped = {v4(2, 7000), *Endpoint::parse("[2001:db8::2]:1")};
  auto bytes = encode_pex(m);
  EXPECT_NE(bytes.find("6:added6"), std::string::npos);
  auto back = decode_pex(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->added, m.added);
  EXPECT_EQ(back->dropped, m.dropped);
}

TEST(UtPex, MissingFlagsAndEmptyListsAreFine) {
  std::string compact = v4(9, 80).to_compact();
  auto m = decode_pex("d5:added6:" + compact + "e");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->added.size(), 1u);
  EXPECT_EQ(m->added[0].flags, 0);
  EXPECT_TRUE(decode_pex("de"));
}

TEST(UtPex, MalformedPayloadsAreErrors) {
  EXPECT_FALSE(decode_pex(""));
  EXPECT_FALSE(decode_pex("le"));
  EXPECT_FALSE(decode_pex("d5:added5:abcdee"));      // not a multiple of 6
  EXPECT_FALSE(decode_pex("d6:added67:abcdefge"));   // not a multiple of 18
  EXPECT_FALSE(decode_pex("d7:dropped7:abcdefge"));  // not a multiple of 6
  EXPECT_FALSE(decode_pex("d5:added"));              // truncated
  auto err = decode_pex("le");
  EXPECT_EQ(err.error().code, Errc::bad_extension_payload);
}

TEST(UtPex, OversizedListsAreCutAtTheAcceptedCapAndPortZeroSkipped) {
  std::string list;
  for (int i = 0; i < 1000; ++i)
    list += v4(static_cast<std::uint8_t>(i % 250), static_cast<std::uint16_t>(1000 + i)).to_compact();
  list += std::string(6, '\0');  // port 0
  auto m = decode_pex("d5:added" + std::to_string(list.size()) + ":" + list + "e");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->added.size(), kMaxPexPeersAccepted);
  for (const auto& p : m->added)
    EXPECT_NE(p.endpoint.port, 0);
}

}  // namespace
}  // namespace shoal::wire

namespace shoal::swarm {
namespace {

using namespace std::chrono_literals;

std::vector<wire::PexPeer> peers(int from, int to) {
  std::vector<wire::PexPeer> out;
  for (int i = from; i < to; ++i)
    out.push_back({*Endpoint::parse("10.1.0." + std::to_string(i) + ":6881"), 0});
  return out;
}

TEST(PexState, SendsDiffsAtMostOnceAMinuteAndAtMostFiftyEach) {
  PexState::Clock::time_point t0{};
  PexState pex(t0);
  EXPECT_FALSE(pex.next_message(t0, peers(0, 3)));  // too early
  auto first = pex.next_message(t0 + 2s, peers(0, 3));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->added.size(), 3u);
  EXPECT_TRUE(first->dropped.empty());
  EXPECT_FALSE(pex.next_message(t0 + 30s, peers(1, 4)));  // within the minute
  auto second = pex.next_message(t0 + 62s, peers(1, 4));
  ASSERT_TRUE(second);
  ASSERT_EQ(second->added.size(), 1u);
  EXPECT_EQ(second->added[0].endpoint, peers(3, 4)[0].endpoint);
  ASSERT_EQ(second->dropped.size(), 1u);
  EXPECT_EQ(second->dropped[0], peers(0, 1)[0].endpoint);
  EXPECT_FALSE(pex.next_message(t0 + 200s, peers(1, 4)));  // nothing changed: nothing sent

  auto big = pex.next_message(t0 + 300s, peers(1, 200));
  ASSERT_TRUE(big);
  EXPECT_EQ(big->added.size(), wire::kMaxPexPeersPerMessage);
  EXPECT_EQ(pex.advertised().size(), 3u + wire::kMaxPexPeersPerMessage);
}

TEST(PexState, IncomingMessagesFasterThanTheLimitAreRefused) {
  PexState::Clock::time_point t0{};
  PexState pex(t0);
  EXPECT_TRUE(pex.accept_incoming(t0));
  EXPECT_FALSE(pex.accept_incoming(t0 + 10s));
  EXPECT_FALSE(pex.accept_incoming(t0 + 44s));
  EXPECT_TRUE(pex.accept_incoming(t0 + 50s));
}

}  // namespace
}  // namespace shoal::swarm
