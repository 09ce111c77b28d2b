#include "hash/sha.hpp"

#include <gtest/gtest.h>

namespace shoal::hash {
namespace {

TEST(Sha1, KnownVectors) {
  EXPECT_EQ(sha1("").to_hex(), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(sha1("abc").to_hex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256("abc").to_hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha1Hasher, IncrementalEqualsOneShotAndResets) {
  Sha1Hasher h;
  h.update("a");
  h.update("bc");
  EXPECT_EQ(h.finish(), sha1("abc"));
  h.update("abc");
  EXPECT_EQ(h.finish(), sha1("abc"));
}

TEST(Digest, HexRoundTripAndRejects) {
  auto d = Sha1Digest::from_hex("A9993E364706816ABA3E25717850C26C9CD0D89D");
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, sha1("abc"));
  EXPECT_FALSE(Sha1Digest::from_hex("a9993e"));
  EXPECT_FALSE(Sha1Digest::from_hex("g9993e364706816aba3e25717850c26c9cd0d89d"));
}

}  // namespace
}  // namespace shoal::hash

#include "hash/siphash.hpp"

namespace shoal::hash {
namespace {

TEST(SipHash, MatchesThePaperTestVector) {
  // Aumasson & Bernstein, appendix A: key 00..0f, message 00..0e.
  SipKey key{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
  std::array<std::uint8_t, 15> message{};
  for (std::uint8_t i = 0; i < 15; ++i)
    message[i] = i;
  EXPECT_EQ(siphash24(key, message), 0xa129ca6149be45e5ULL);
  EXPECT_NE(siphash24(key, std::span(message).first(14)), siphash24(key, message));
}

}  // namespace
}  // namespace shoal::hash
