#include "tracker/udp_protocol.hpp"

#include <gtest/gtest.h>

#include "tracker/connection_id.hpp"

namespace shoal::tracker::udp {
namespace {

std::span<const std::uint8_t> bytes(const auto& a) {
  return {a.data(), a.size()};
}

TEST(UdpProtocol, ConnectRoundTrip) {
  auto req = encode_connect(0xdeadbeef);
  auto parsed = parse_request(req);
  ASSERT_TRUE(parsed.request);
  EXPECT_EQ(std::get<ConnectRequest>(*parsed.request).transaction_id, 0xdeadbeefu);
  std::array<std::uint8_t, kMaxPacketSize> out{};
  auto n = write_connect_response(out, 0xdeadbeef, 0x1122334455667788ULL);
  auto resp = parse_response(std::span(out.data(), n), 0xdeadbeef, Action::connect, false);
  ASSERT_TRUE(resp);
  EXPECT_EQ(std::get<ConnectResponse>(*resp).connection_id, 0x1122334455667788ULL);
  EXPECT_FALSE(parse_response(std::span(out.data(), n), 0xdeadbeee, Action::connect, false));  // wrong tid
  EXPECT_FALSE(parse_response(std::span(out.data(), n - 1), 0xdeadbeef, Action::connect, false));
}

TEST(UdpProtocol, AnnounceRoundTripAndReplyPeers) {
  AnnounceRequest a;
  a.connection_id = 42;
  a.transaction_id = 7;
  a.info_hash.bytes.fill(0xab);
  a.peer_id.fill('p');
  a.downloaded = 1;
  a.left = 1LL << 40;
  a.uploaded = 3;
  a.event = Event::started;
  a.key = 99;
  a.num_want = -1;
  a.port = 51413;
  auto packet = encode_announce(a);
  auto parsed = parse_request(packet);
  ASSERT_TRUE(parsed.request);
  const auto& b = std::get<AnnounceRequest>(*parsed.request);
  EXPECT_EQ(b.connection_id, 42u);
  EXPECT_EQ(b.info_hash, a.info_hash);
  EXPECT_EQ(b.left, 1LL << 40);
  EXPECT_EQ(b.event, Event::started);
  EXPECT_EQ(b.num_want, -1);
  EXPECT_EQ(b.port, 51413);

  std::array<std::uint8_t, kMaxPacketSize> out{};
  auto n = write_announce_header(out, {7, 900, 3, 4});
  auto peer = Endpoint::parse("127.0.0.1:6881")->to_compact();
  std::memcpy(out.data() + n, peer.data(), 6);
  n += 6;
  auto resp = parse_response(std::span(out.data(), n), 7, Action::announce, false);
  ASSERT_TRUE(resp);
  const auto& r = std::get<AnnounceResponse>(*resp);
  EXPECT_EQ(r.interval, 900u);
  EXPECT_EQ(r.leechers, 3u);
  EXPECT_EQ(r.seeders, 4u);
  ASSERT_EQ(r.peers.size(), 1u);
  EXPECT_EQ(r.peers[0].to_string(), "127.0.0.1:6881");
  // The same body read as IPv6 peers is malformed (6 is not a multiple of 18).
  EXPECT_FALSE(parse_response(std::span(out.data(), n), 7, Action::announce, true));
}

TEST(UdpProtocol, ScrapeAndErrors) {
  std::vector<Sha1Digest> hashes(100);
  auto packet = encode_scrape(5, 6, hashes);
  EXPECT_EQ(packet.size(), kScrapeHeaderSize + 20 * kMaxScrapeHashes);
  auto parsed = parse_request(packet);
  ASSERT_TRUE(parsed.request);
  EXPECT_EQ(std::get<ScrapeRequest>(*parsed.request).count(), kMaxScrapeHashes);

  std::array<std::uint8_t, kMaxPacketSize> out{};
  auto n = write_scrape_header(out, 6);
  n += write_scrape_entry(std::span(out).subspan(n), 1, 2, 3);
  auto resp = parse_response(std::span(out.data(), n), 6, Action::scrape, false);
  ASSERT_TRUE(resp);
  ASSERT_EQ(std::get<ScrapeResponse>(*resp).entries.size(), 1u);
  EXPECT_EQ(std::get<ScrapeResponse>(*resp).entries[0].completed, 2u);

  n = write_error(out, 6, "connection id expired");
  resp = parse_response(std::span(out.data(), n), 6, Action::announce, false);
  ASSERT_TRUE(resp);
  EXPECT_EQ(std::get<ErrorResponse>(*resp).message, "connection id expired");
}

TEST(UdpProtocol, MalformedRequestsSayWhetherToAnswer) {
  std::array<std::uint8_t, 15> short_packet{};
  EXPECT_EQ(parse_request(short_packet).error, ParseError::too_short);
  auto connect = encode_connect(1);
  connect[0] ^= 1;  // not the magic
  EXPECT_EQ(parse_request(connect).error, ParseError::bad_magic);
  auto unknown = encode_connect(1);
  unknown[11] = 9;
  auto parsed = parse_request(unknown);
  EXPECT_EQ(parsed.error, ParseError::unknown_action);
  EXPECT_EQ(parsed.transaction_id, 1u);
  AnnounceRequest a;
  auto announce = encode_announce(a);
  EXPECT_EQ(parse_request(std::span(announce.data(), 97)).error, ParseError::too_short);
  announce[83] = 4;  // event 4
  EXPECT_EQ(parse_request(announce).error, ParseError::bad_event);
}

TEST(ConnectionIds, BoundToAddressAndTimeAndKey) {
  ConnectionIds ids({1, 2});
  auto client = *Endpoint::parse("10.0.0.1:5000");
  auto other_port = *Endpoint::parse("10.0.0.1:5001");
  auto other_ip = *Endpoint::parse("10.0.0.2:5000");
  std::int64_t t = 1'000'000;
  auto id = ids.issue(client, t);
  EXPECT_TRUE(ids.verify(client, id, t));
  EXPECT_TRUE(ids.verify(client, id, t + 60));    // still valid in the next minute
  EXPECT_FALSE(ids.verify(client, id, t + 180));  // expired
  EXPECT_FALSE(ids.verify(client, id, t - 120));  // issued "in the future" relative to then
  EXPECT_FALSE(ids.verify(other_port, id, t));
  EXPECT_FALSE(ids.verify(other_ip, id, t));
  EXPECT_FALSE(ids.verify(client, id ^ 1, t));
  EXPECT_FALSE(ConnectionIds({1, 3}).verify(client, id, t));  // another server's secret
  // A future-dated id (what the server would issue in 3 minutes) is refused now.
  EXPECT_FALSE(ids.verify(client, ids.issue(client, t + 180), t));
  // Ids change across epochs even for the same bucket arithmetic.
  EXPECT_NE(ids.issue(client, t), ids.issue(client, t + ConnectionIds::kEpochSeconds));
}

}  // namespace
}  // namespace shoal::tracker::udp
