#include "server/udp_request.hpp"

#include <gtest/gtest.h>

#include "tracker/udp_protocol.hpp"

namespace shoal::server {
namespace {

namespace udp = tracker::udp;

constexpr hash::SipKey kKey{0x0102030405060708ULL, 0x1112131415161718ULL};

struct Fixture {
  TrackerState state{{}, kKey};
  tracker::ConnectionIds ids{kKey};
  tracker::IpRateLimiter limiter{100, kKey};  // the CLI default: 100/s, burst 200
  UdpRequestContext context{state, ids, limiter};
  std::array<std::uint8_t, udp::kMaxPacketSize> out{};

  std::size_t send(std::span<const std::uint8_t> packet, const Endpoint& from, std::int64_t now_ms = 0) {
    return answer_udp_request(context, packet, from, now_ms, out);
  }
  std::optional<std::uint64_t> connect(const Endpoint& from) {
    auto n = send(udp::encode_connect(1), from);
    auto r = udp::parse_response(std::span(out.data(), n), 1, udp::Action::connect, false);
    if (!r) return std::nullopt;
    return std::get<udp::ConnectResponse>(*r).connection_id;
  }
  std::vector<std::uint8_t> announce_packet(std::uint64_t connection_id) {
    udp::AnnounceRequest a;
    a.connection_id = connection_id;
    a.transaction_id = 2;
    a.info_hash.bytes.fill(7);
    a.port = 6881;
    a.left = 1;
    auto bytes = udp::encode_announce(a);
    return {bytes.begin(), bytes.end()};
  }
  bool announced(std::size_t n) {
    auto r = udp::parse_response(std::span(out.data(), n), 2, udp::Action::announce, false);
    return r && std::holds_alternative<udp::AnnounceResponse>(*r);
  }
};

// A flood spoofing the victim's address exhausts its connect budget, yet the victim's announces with the
// connection id it already holds are still answered.
TEST(UdpRequest, SpoofedConnectFloodDoesNotSilenceVerifiedAnnounces) {
  Fixture f;
  auto victim = *Endpoint::parse("10.1.2.3:6881");
  auto id = f.connect(victim);
  ASSERT_TRUE(id);
  for (int i = 0; i < 1000; ++i)
    f.send(udp::encode_connect(9), victim);  // the spoofer, with the victim's source address
  EXPECT_FALSE(f.connect(victim)) << "connects over the limit are still answered";
  EXPECT_GT(f.state.counters.rate_limited.load(), 0u);
  auto packet = f.announce_packet(*id);
  for (int i = 0; i < 500; ++i)
    ASSERT_TRUE(f.announced(f.send(packet, victim))) << "verified announce " << i << " was limited";
  EXPECT_EQ(f.state.counters.announces.load(), 500u);
}

// Requests without a valid id cost the sender's budget: forged announces use it up as connects do.
TEST(UdpRequest, ForgedIdsCountAgainstTheAddress) {
  Fixture f;
  auto source = *Endpoint::parse("10.1.2.4:6881");
  auto forged = f.announce_packet(0x1234);
  for (int i = 0; i < 1000; ++i)
    EXPECT_EQ(f.send(forged, source), 0u);
  EXPECT_FALSE(f.connect(source));
  // The budget refills with time.
  auto n = f.send(udp::encode_connect(1), source, 1000);
  EXPECT_EQ(n, 16u);
}

TEST(UdpRequest, OtherAddressesKeepTheirOwnBudget) {
  Fixture f;
  auto flooded = *Endpoint::parse("10.1.2.5:1");
  for (int i = 0; i < 1000; ++i)
    f.send(udp::encode_connect(9), flooded);
  EXPECT_TRUE(f.connect(*Endpoint::parse("10.1.2.6:1")));
}

}  // namespace
}  // namespace shoal::server
