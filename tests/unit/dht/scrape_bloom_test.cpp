#include "dht/scrape_bloom.hpp"

#include <gtest/gtest.h>

#include <cctype>

namespace shoal::dht {
namespace {

std::string unhex(std::string_view text) {
  std::string out;
  int high = -1;
  for (char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) continue;
    int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::tolower(c) - 'a' + 10;
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<char>(high * 16 + v));
      high = -1;
    }
  }
  return out;
}

// The test vector of BEP 33: 192.0.2.0-255 and 2001:db8::-2001:db8::3e7 inserted.
TEST(ScrapeBloom, MatchesTheBepTestVector) {
  ScrapeBloom bloom;
  for (int i = 0; i < 256; ++i) {
    Endpoint e;
    e.address[0] = 192;
    e.address[2] = 2;
    e.address[3] = static_cast<std::uint8_t>(i);
    e.port = static_cast<std::uint16_t>(1000 + i);  // ports are not part of the filter
    bloom.insert(e);
  }
  for (int i = 0; i <= 0x3e7; ++i) {
    Endpoint e;
    e.v6 = true;
    e.address[0] = 0x20;
    e.address[1] = 0x01;
    e.address[2] = 0x0d;
    e.address[3] = 0xb8;
    e.address[14] = static_cast<std::uint8_t>(i >> 8);
    e.address[15] = static_cast<std::uint8_t>(i & 0xff);
    bloom.insert(e);
  }
  const std::string expected = unhex(
      "F6C3F5EA A07FFD91 BDE89F77 7F26FB2B FF37BDB8 FB2BBAA2 FD3DDDE7 BACFFF75 EE7CCBAE"
      "FE5EEDB1 FBFAFF67 F6ABFF5E 43DDBCA3 FD9B9FFD F4FFD3E9 DFF12D1B DF59DB53 DBE9FA5B"
      "7FF3B8FD FCDE1AFB 8BEDD7BE 2F3EE71E BBBFE93B CDEEFE14 8246C2BC 5DBFF7E7 EFDCF24F"
      "D8DC7ADF FD8FFFDF DDFFF7A4 BBEEDF5C B95CE81F C7FCFF1F F4FFFFDF E5F7FDCB B7FD79B3"
      "FA1FC77B FE07FFF9 05B7B7FF C7FEFEFF E0B8370B B0CD3F5B 7F2BD93F EB4386CF DD6F7FD5"
      "BFAF2E9E BFFFFEEC D67ADBF7 C67F17EF D5D75EBA 6FFEBA7F FF47A91E B1BFBB53 E8ABFB57"
      "62ABE8FF 237279BF EFBFEEF5 FFC5FEBF DFE5ADFF ADFEE1FB 737FFFFB FD9F6AEF FEEE76B6"
      "FD8F72EF");
  ASSERT_EQ(expected.size(), kScrapeBloomSize);
  EXPECT_EQ(bloom.bytes(), expected);
  EXPECT_NEAR(bloom.estimate(), 1224.9308, 0.001);
}

TEST(ScrapeBloom, UnionsCountEachAddressOnceAndRejectWrongSizes) {
  ScrapeBloom a, b;
  for (int i = 0; i < 40; ++i) {
    Endpoint e;
    e.address = {10, 0, 0, static_cast<std::uint8_t>(i)};
    (i < 30 ? a : b).insert(e);
    if (i >= 20) b.insert(e);  // 20..29 in both
  }
  a.merge(b);
  EXPECT_NEAR(a.estimate(), 40, 2);
  EXPECT_LT(ScrapeBloom{}.estimate(), 1);  // the BEP's formula caps the zero count at m - 1
  EXPECT_FALSE(ScrapeBloom::from_bytes(std::string(255, '\0')));
  auto round_trip = ScrapeBloom::from_bytes(a.bytes());
  ASSERT_TRUE(round_trip);
  EXPECT_EQ(round_trip->bytes(), a.bytes());
}

}  // namespace
}  // namespace shoal::dht
