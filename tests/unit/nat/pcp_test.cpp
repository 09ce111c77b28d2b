#include "nat/pcp.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace shoal::nat {
namespace {

PcpMapRequest tcp_request() {
  PcpMapRequest r;
  r.client = pcp_address_v4({192, 168, 77, 2});
  r.nonce = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  r.protocol = Protocol::tcp;
  r.internal_port = 6881;
  r.suggested_external_port = 6881;
  r.lifetime_seconds = 3600;
  return r;
}

// The answer a PCP server gives to `request`, built by hand from RFC 6887 7.2 and 11.1.
std::vector<std::uint8_t> answer(const PcpMapRequest& request, std::uint8_t result,
                                 std::uint16_t external_port,
                                 std::array<std::uint8_t, 4> external = {198, 51, 100, 7}) {
  std::vector<std::uint8_t> m(kPcpMapMessageSize, 0);
  m[0] = 2;
  m[1] = 0x81;  // R bit + MAP
  m[3] = result;
  m[4] = 0, m[5] = 0, m[6] = 0x0e, m[7] = 0x10;  // lifetime 3600
  m[11] = 42;                                    // epoch 42
  std::copy(request.nonce.begin(), request.nonce.end(), m.begin() + 24);
  m[36] = request.protocol == Protocol::tcp ? 6 : 17;
  m[40] = static_cast<std::uint8_t>(request.internal_port >> 8);
  m[41] = static_cast<std::uint8_t>(request.internal_port);
  m[42] = static_cast<std::uint8_t>(external_port >> 8);
  m[43] = static_cast<std::uint8_t>(external_port);
  auto address = pcp_address_v4(external);
  std::copy(address.begin(), address.end(), m.begin() + 44);
  return m;
}

TEST(Pcp, AMapRequestIsLaidOutAsTheRfcSays) {
  auto m = encode_map_request(tcp_request());
  ASSERT_EQ(m.size(), 60u);
  EXPECT_EQ(m[0], 2);  // version
  EXPECT_EQ(m[1], 1);  // request, MAP
  EXPECT_EQ(m[2], 0);
  EXPECT_EQ(m[3], 0);
  EXPECT_EQ((m[4] << 24) | (m[5] << 16) | (m[6] << 8) | m[7], 3600);
  // Client address: ::ffff:192.168.77.2.
  EXPECT_EQ(m[18], 0xff);
  EXPECT_EQ(m[19], 0xff);
  EXPECT_EQ(m[20], 192);
  EXPECT_EQ(m[23], 2);
  EXPECT_EQ(m[24], 1);  // nonce
  EXPECT_EQ(m[35], 12);
  EXPECT_EQ(m[36], 6);  // TCP
  EXPECT_EQ((m[40] << 8) | m[41], 6881);
  EXPECT_EQ((m[42] << 8) | m[43], 6881);
  // Suggested external address for an IPv4 mapping: ::ffff:0.0.0.0 ("any").
  EXPECT_EQ(m[54], 0xff);
  EXPECT_EQ(m[55], 0xff);
  EXPECT_EQ(m[56] | m[57] | m[58] | m[59], 0);
}

TEST(Pcp, UdpIsProtocol17AndLifetimeZeroDeletes) {
  auto r = tcp_request();
  r.protocol = Protocol::udp;
  r.lifetime_seconds = 0;
  auto m = encode_map_request(r);
  EXPECT_EQ(m[36], 17);
  EXPECT_EQ(m[4] | m[5] | m[6] | m[7], 0);
}

TEST(Pcp, AGrantIsReadWithItsPortAddressAndLifetime) {
  auto request = tcp_request();
  auto bytes = answer(request, 0, 40001);
  auto r = read_map_response(bytes);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->result, PcpResult::success);
  EXPECT_EQ(r->external_port, 40001);
  EXPECT_EQ(r->lifetime_seconds, 3600u);
  EXPECT_EQ(r->epoch_seconds, 42u);
  EXPECT_EQ(to_string(r->external_address), "198.51.100.7");
  EXPECT_TRUE(answers(*r, request));
}

TEST(Pcp, OptionsAfterTheMapBodyAreIgnored) {
  auto request = tcp_request();
  auto bytes = answer(request, 0, 40001);
  bytes.insert(bytes.end(), {1, 0, 0, 0});  // a THIRD_PARTY-shaped option header, no body
  EXPECT_TRUE(read_map_response(bytes));
}

TEST(Pcp, AnAnswerForAnotherNonceProtocolOrPortIsNotOurs) {
  auto request = tcp_request();
  auto other = request;
  other.nonce[0] ^= 1;
  EXPECT_FALSE(answers(*read_map_response(answer(other, 0, 1)), request));
  other = request;
  other.protocol = Protocol::udp;
  EXPECT_FALSE(answers(*read_map_response(answer(other, 0, 1)), request));
  other = request;
  other.internal_port = 6882;
  EXPECT_FALSE(answers(*read_map_response(answer(other, 0, 1)), request));
}

TEST(Pcp, ARefusalSaysWhy) {
  auto request = tcp_request();
  PcpMapResponse refused;
  auto r = read_map_response(answer(request, 2, 0), &refused);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), PcpError::refused);
  EXPECT_EQ(refused.result, PcpResult::not_authorized);
  EXPECT_STREQ(to_string(refused.result), "not authorized");
  EXPECT_TRUE(answers(refused, request));
  // A code the RFC does not name is still a refusal, with its number kept.
  r = read_map_response(answer(request, 200, 0), &refused);
  EXPECT_EQ(r.error(), PcpError::refused);
  EXPECT_EQ(refused.raw_result, 200);
  EXPECT_STREQ(to_string(refused.result), "unknown result");
}

TEST(Pcp, ANatPmpRoutersAnswerIsToldApart) {
  // RFC 6886 3.5: version 0, opcode 128 + ours, result 1 (unsupported version), epoch.
  std::vector<std::uint8_t> natpmp = {0, 0x81, 0, 1, 0, 0, 0, 9};
  EXPECT_EQ(read_map_response(natpmp).error(), PcpError::server_speaks_only_nat_pmp);
}

TEST(Pcp, MalformedAnswersAreRefusedWithTheirReason) {
  auto good = answer(tcp_request(), 0, 40001);
  EXPECT_EQ(read_map_response({}).error(), PcpError::too_short);
  EXPECT_EQ(read_map_response(std::span(good).first(59)).error(), PcpError::too_short);
  auto bad = good;
  bad[0] = 3;
  EXPECT_EQ(read_map_response(bad).error(), PcpError::wrong_version);
  bad = good;
  bad[1] = 0x01;  // our own request echoed back
  EXPECT_EQ(read_map_response(bad).error(), PcpError::not_a_response);
  bad = good;
  bad[1] = 0x82;  // PEER
  EXPECT_EQ(read_map_response(bad).error(), PcpError::wrong_opcode);
  for (auto e : {PcpError::too_short, PcpError::server_speaks_only_nat_pmp, PcpError::wrong_version,
                 PcpError::not_a_response, PcpError::wrong_opcode, PcpError::refused})
    EXPECT_FALSE(make_error_code(e).message().empty());
}

TEST(Pcp, AddressesPrintAsTheirFamily) {
  EXPECT_EQ(to_string(pcp_address_v4({10, 0, 0, 1})), "10.0.0.1");
  PcpAddress v6{};
  v6[0] = 0x20;
  v6[1] = 0x01;
  v6[2] = 0x0d;
  v6[3] = 0xb8;
  v6[15] = 1;
  EXPECT_EQ(to_string(v6), "2001:db8::1");
}

}  // namespace
}  // namespace shoal::nat
