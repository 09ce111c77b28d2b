#include "shoal/endpoint.hpp"

#include <gtest/gtest.h>

namespace shoal {
namespace {

TEST(Endpoint, ParsesAndPrintsV4AndV6) {
  auto a = Endpoint::parse("127.0.0.1:6881");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->v6);
  EXPECT_EQ(a->port, 6881);
  EXPECT_EQ(a->to_string(), "127.0.0.1:6881");
  auto b = Endpoint::parse("[::1]:51413");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->v6);
  EXPECT_EQ(b->to_string(), "[::1]:51413");
}

TEST(Endpoint, RejectsMalformed) {
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:80x",
                          "host:80", "::1:80", "[::1]80", "[::1]:", "[nonsense]:80", "1.2.3.4.5:80"}) {
    EXPECT_FALSE(Endpoint::parse(bad)) << bad;
  }
}

TEST(Endpoint, CompactRoundTrip) {
  auto a = *Endpoint::parse("10.1.2.3:258");
  auto compact = a.to_compact();
  ASSERT_EQ(compact.size(), 6u);
  EXPECT_EQ(static_cast<unsigned char>(compact[4]), 1);
  EXPECT_EQ(static_cast<unsigned char>(compact[5]), 2);
  auto back = Endpoint::from_compact(
      std::span(reinterpret_cast<const std::uint8_t*>(compact.data()), compact.size()));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, a);
  auto v6 = *Endpoint::parse("[2001:db8::1]:80");
  auto c6 = v6.to_compact();
  EXPECT_EQ(c6.size(), 18u);
  EXPECT_EQ(*Endpoint::from_compact(std::span(reinterpret_cast<const std::uint8_t*>(c6.data()), c6.size())),
            v6);
  EXPECT_FALSE(Endpoint::from_compact(std::span<const std::uint8_t>()));
}

}  // namespace
}  // namespace shoal
