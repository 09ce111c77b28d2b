#include "wire/ut_holepunch.hpp"

#include <gtest/gtest.h>

#include <string>

namespace shoal::wire {
namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (int v : values)
    s.push_back(static_cast<char>(v));
  return s;
}

TEST(UtHolepunch, RendezvousV4MatchesTheBepLayout) {
  HolepunchMessage m{HolepunchType::rendezvous, *Endpoint::parse("10.1.2.3:6881"), HolepunchError::none};
  const auto encoded = encode_holepunch(m);
  EXPECT_EQ(encoded, bytes({0x00, 0x00, 10, 1, 2, 3, 0x1a, 0xe1, 0, 0, 0, 0}));
  auto back = decode_holepunch(encoded);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, m);
}

TEST(UtHolepunch, ConnectV6RoundTrips) {
  HolepunchMessage m{HolepunchType::connect, *Endpoint::parse("[2001:db8::7]:51413"), HolepunchError::none};
  const auto encoded = encode_holepunch(m);
  ASSERT_EQ(encoded.size(), 24u);
  EXPECT_EQ(encoded[0], 0x01);
  EXPECT_EQ(encoded[1], 0x01);
  auto back = decode_holepunch(encoded);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, m);
}

TEST(UtHolepunch, EveryErrorCodeRoundTrips) {
  for (auto code : {HolepunchError::no_such_peer, HolepunchError::not_connected, HolepunchError::no_support,
                    HolepunchError::no_self}) {
    HolepunchMessage m{HolepunchType::error, *Endpoint::parse("192.0.2.9:1"), code};
    const auto encoded = encode_holepunch(m);
    EXPECT_EQ(static_cast<unsigned char>(encoded.back()), static_cast<unsigned char>(code));
    auto back = decode_holepunch(encoded);
    ASSERT_TRUE(back) << to_string(code);
    EXPECT_EQ(back->error, code);
  }
  EXPECT_STREQ(to_string(HolepunchError::no_self), "NoSelf");
}

TEST(UtHolepunch, PortZeroDecodesForTheRelayToRefuse) {
  auto m = decode_holepunch(bytes({0x00, 0x00, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0}));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->endpoint.port, 0);
}

struct Malformed {
  const char* name;
  std::string payload;
};

class UtHolepunchMalformed : public ::testing::TestWithParam<Malformed> {};

TEST_P(UtHolepunchMalformed, IsRefused) {
  auto m = decode_holepunch(GetParam().payload);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Errc::bad_extension_payload);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, UtHolepunchMalformed,
    ::testing::Values(Malformed{"Empty", ""}, Malformed{"OnlyMsgType", bytes({0x00})},
                      Malformed{"UnknownMsgType", bytes({0x03, 0x00, 1, 2, 3, 4, 0, 1, 0, 0, 0, 0})},
                      Malformed{"UnknownAddrType", bytes({0x00, 0x02, 1, 2, 3, 4, 0, 1, 0, 0, 0, 0})},
                      Malformed{"V4Truncated", bytes({0x00, 0x00, 1, 2, 3, 4, 0, 1, 0, 0, 0})},
                      Malformed{"V4NoPort", bytes({0x01, 0x00, 1, 2, 3, 4})},
                      Malformed{"V6WithAV4Body", bytes({0x01, 0x01, 1, 2, 3, 4, 0, 1, 0, 0, 0, 0})},
                      Malformed{"TrailingByte", bytes({0x00, 0x00, 1, 2, 3, 4, 0, 1, 0, 0, 0, 0, 9})},
                      Malformed{"ErrorWithCodeZero", bytes({0x02, 0x00, 1, 2, 3, 4, 0, 1, 0, 0, 0, 0})},
                      Malformed{"ErrorWithUnknownCode", bytes({0x02, 0x00, 1, 2, 3, 4, 0, 1, 0, 0, 0, 5})},
                      Malformed{"ErrorWithHugeCode", bytes({0x02, 0x00, 1, 2, 3, 4, 0, 1, 0xff, 0, 0, 1})},
                      Malformed{"ConnectWithACode", bytes({0x01, 0x00, 1, 2, 3, 4, 0, 1, 0, 0, 0, 1})},
                      Malformed{"RendezvousWithACode", bytes({0x00, 0x00, 1, 2, 3, 4, 0, 1, 0, 0, 1, 0})}),
    [](const ::testing::TestParamInfo<Malformed>& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace shoal::wire
