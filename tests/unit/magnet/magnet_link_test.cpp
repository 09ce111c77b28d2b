#include "magnet/magnet_link.hpp"

#include <gtest/gtest.h>

#include <random>

#include "magnet/base32.hpp"
#include "magnet/uri_codec.hpp"

namespace shoal::magnet {
namespace {

constexpr const char* kHex = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";

TEST(Base32, Rfc4648Vectors) {
  EXPECT_EQ(base32_encode(""), "");
  EXPECT_EQ(base32_encode("f"), "MY======");
  EXPECT_EQ(base32_encode("fo"), "MZXQ====");
  EXPECT_EQ(base32_encode("foo"), "MZXW6===");
  EXPECT_EQ(base32_encode("foob"), "MZXW6YQ=");
  EXPECT_EQ(base32_encode("fooba"), "MZXW6YTB");
  EXPECT_EQ(base32_encode("foobar"), "MZXW6YTBOI======");
  EXPECT_EQ(base32_decode("MZXW6YTBOI======"), "foobar");
  EXPECT_EQ(base32_decode("mzxw6ytboi"), "foobar");
  EXPECT_FALSE(base32_decode("MZXW6YTB1"));  // '1' is not in the alphabet
  EXPECT_FALSE(base32_decode("MZ1"));
}

TEST(PercentCodec, DecodesAndRejects) {
  EXPECT_EQ(percent_decode("a%20b+c%2F"), "a b+c/");
  EXPECT_FALSE(percent_decode("%G1"));
  EXPECT_FALSE(percent_decode("abc%4"));
  EXPECT_FALSE(percent_decode("%"));
  EXPECT_EQ(percent_encode("a b/~"), "a%20b%2F~");
}

TEST(ParseMagnet, HexAndBase32GiveTheSameDigest) {
  auto hex = parse_magnet(std::string("magnet:?xt=urn:btih:") + kHex);
  ASSERT_TRUE(hex) << hex.error().message();
  std::string b32 = base32_encode(hex->btih->raw());
  auto b32_link = parse_magnet("magnet:?xt=urn:btih:" + b32.substr(0, 32));
  ASSERT_TRUE(b32_link) << b32_link.error().message();
  EXPECT_EQ(hex->btih, b32_link->btih);
  auto upper = parse_magnet("MAGNET:?xt=urn:BTIH:C12FE1C06BBA254A9DC9F519B335AA7C1367A88A");
  ASSERT_TRUE(upper);
  EXPECT_EQ(upper->btih, hex->btih);
}

TEST(ParseMagnet, RealWorldShape) {
  std::string uri =
      std::string("magnet:?xt=urn:btih:") + kHex +
      "&dn=Big%20Buck%20Bunny%20%E6%97%A5&tr=udp%3A%2F%2Ftracker.example%3A1337&tr=http://a/announce"
      "&tr=http://a/announce&ws=https%3A%2F%2Fws.example%2F&x.pe=127.0.0.1:6881&x.pe=%5B%3A%3A1%5D:51413"
      "&so=0,2,4-6&xl=12345&unknown=1";
  auto link = parse_magnet(uri);
  ASSERT_TRUE(link) << link.error().message();
  EXPECT_EQ(link->display_name, "Big Buck Bunny \xe6\x97\xa5");
  EXPECT_EQ(link->trackers, (std::vector<std::string>{"udp://tracker.example:1337", "http://a/announce"}));
  EXPECT_EQ(link->web_seeds, std::vector<std::string>{"https://ws.example/"});
  EXPECT_EQ(link->peers, (std::vector<std::string>{"127.0.0.1:6881", "[::1]:51413"}));
  EXPECT_EQ(link->select_only, (std::vector<std::pair<int, int>>{{0, 0}, {2, 2}, {4, 6}}));
}

TEST(ParseMagnet, V2AndHybrid) {
  std::string sha256(64, 'a');
  auto link = parse_magnet(std::string("magnet:?xt=urn:btih:") + kHex + "&xt=urn:btmh:1220" + sha256);
  ASSERT_TRUE(link) << link.error().message();
  EXPECT_TRUE(link->btih);
  ASSERT_TRUE(link->btmh);
  EXPECT_EQ(link->btmh->to_hex(), sha256);
  auto v2only = parse_magnet("magnet:?xt.1=urn:btmh:1220" + sha256);
  ASSERT_TRUE(v2only);
  EXPECT_FALSE(v2only->btih);
}

const std::string kKey(64, 'e');

TEST(ParseMagnet, PublicKeyAndSalt) {
  auto link = parse_magnet("magnet:?xs=urn:btpk:" + kKey + "&s=6d795f666f6c646572");
  ASSERT_TRUE(link) << link.error().message();
  ASSERT_TRUE(link->btpk);
  EXPECT_EQ(link->btpk->to_hex(), kKey);
  EXPECT_EQ(link->salt, "my_folder");
  EXPECT_FALSE(link->btih);
  EXPECT_EQ(to_uri(*link), "magnet:?xs=urn:btpk:" + kKey + "&s=6d795f666f6c646572");
  auto upper = parse_magnet("magnet:?xs=URN:BTPK:" + std::string(64, 'E') + "&s=6D79");
  ASSERT_TRUE(upper) << upper.error().message();
  EXPECT_EQ(upper->btpk, link->btpk);
  EXPECT_EQ(upper->salt, "my");
}

TEST(ParseMagnet, PublicKeyWithoutSalt) {
  auto link = parse_magnet("magnet:?xs=urn:btpk:" + kKey);
  ASSERT_TRUE(link) << link.error().message();
  EXPECT_TRUE(link->btpk);
  EXPECT_TRUE(link->salt.empty());
}

TEST(ParseMagnet, PublicKeyBesideInfoHashKeepsBoth) {
  auto link = parse_magnet(std::string("magnet:?xt=urn:btih:") + kHex + "&xs=urn:btpk:" + kKey + "&s=00ff");
  ASSERT_TRUE(link) << link.error().message();
  EXPECT_TRUE(link->btih);
  EXPECT_TRUE(link->btpk);
  EXPECT_EQ(link->salt, std::string("\0\xff", 2));
}

TEST(ParseMagnet, SaltOfSixtyFourBytesIsTheMost) {
  auto link = parse_magnet("magnet:?xs=urn:btpk:" + kKey + "&s=" + std::string(2 * kMaxSalt, 'a'));
  ASSERT_TRUE(link) << link.error().message();
  EXPECT_EQ(link->salt.size(), kMaxSalt);
}

TEST(ParseMagnet, OtherExactSourcesAreIgnored) {
  auto link = parse_magnet(std::string("magnet:?xt=urn:btih:") + kHex + "&xs=http%3A%2F%2Fa%2Fb.torrent");
  ASSERT_TRUE(link) << link.error().message();
  EXPECT_FALSE(link->btpk);
}

struct BadMagnet {
  const char* name;
  std::string uri;
  Errc code;
};

// Names the case in test listings instead of dumping its bytes.
void PrintTo(const BadMagnet& c, std::ostream* os) {
  *os << c.name;
}

class RejectsMagnet : public ::testing::TestWithParam<BadMagnet> {};

TEST_P(RejectsMagnet, WithPreciseError) {
  auto link = parse_magnet(GetParam().uri);
  ASSERT_FALSE(link) << GetParam().name;
  EXPECT_EQ(link.error().code, GetParam().code) << GetParam().name << ": " << link.error().message();
}

const std::string kXt = std::string("xt=urn:btih:") + kHex;

INSTANTIATE_TEST_SUITE_P(
    Magnet, RejectsMagnet,
    ::testing::Values(
        BadMagnet{"http_url", "http://example.com/?" + kXt, Errc::not_a_magnet},
        BadMagnet{"missing_question_mark", "magnet:" + kXt, Errc::not_a_magnet},
        BadMagnet{"empty", "", Errc::not_a_magnet},
        BadMagnet{"no_hash", "magnet:?dn=nohash", Errc::missing_info_hash},
        BadMagnet{"other_urn_only", "magnet:?xt=urn:ed2k:abcdef", Errc::missing_info_hash},
        BadMagnet{"short_hex", "magnet:?xt=urn:btih:1234", Errc::invalid_info_hash},
        BadMagnet{"bad_hex_char", "magnet:?xt=urn:btih:g12fe1c06bba254a9dc9f519b335aa7c1367a88a",
                  Errc::invalid_info_hash},
        BadMagnet{"bad_base32", "magnet:?xt=urn:btih:11111111111111111111111111111111",
                  Errc::invalid_info_hash},
        BadMagnet{"btmh_sha1_code", "magnet:?xt=urn:btmh:1114" + std::string(40, 'a'),
                  Errc::unsupported_multihash},
        BadMagnet{"btmh_short", "magnet:?xt=urn:btmh:1220abcd", Errc::invalid_info_hash},
        BadMagnet{"btmh_garbage", "magnet:?xt=urn:btmh:zz", Errc::invalid_info_hash},
        BadMagnet{"two_hashes", "magnet:?" + kXt + "&xt=urn:btih:" + std::string(40, 'b'),
                  Errc::conflicting_info_hash},
        BadMagnet{"bad_percent", "magnet:?" + kXt + "&dn=%G1", Errc::invalid_percent_encoding},
        BadMagnet{"truncated_percent", "magnet:?" + kXt + "&dn=abc%4", Errc::invalid_percent_encoding},
        BadMagnet{"peer_without_port", "magnet:?" + kXt + "&x.pe=127.0.0.1", Errc::invalid_peer},
        BadMagnet{"peer_port_zero", "magnet:?" + kXt + "&x.pe=127.0.0.1:0", Errc::invalid_peer},
        BadMagnet{"peer_port_too_big", "magnet:?" + kXt + "&x.pe=127.0.0.1:70000", Errc::invalid_peer},
        BadMagnet{"peer_bare_v6", "magnet:?" + kXt + "&x.pe=::1:80", Errc::invalid_peer},
        BadMagnet{"peer_empty_host", "magnet:?" + kXt + "&x.pe=:80", Errc::invalid_peer},
        BadMagnet{"so_reversed", "magnet:?" + kXt + "&so=5-2", Errc::invalid_select_only},
        BadMagnet{"so_negative", "magnet:?" + kXt + "&so=-1", Errc::invalid_select_only},
        BadMagnet{"so_huge", "magnet:?" + kXt + "&so=99999999999", Errc::invalid_select_only},
        BadMagnet{"so_empty_item", "magnet:?" + kXt + "&so=1,,2", Errc::invalid_select_only},
        BadMagnet{"btpk_short", "magnet:?xs=urn:btpk:" + std::string(62, 'a'), Errc::invalid_public_key},
        BadMagnet{"btpk_long", "magnet:?xs=urn:btpk:" + std::string(66, 'a'), Errc::invalid_public_key},
        BadMagnet{"btpk_not_hex", "magnet:?xs=urn:btpk:" + std::string(63, 'a') + "g", Errc::invalid_public_key},
        BadMagnet{"btpk_empty", "magnet:?xs=urn:btpk:", Errc::invalid_public_key},
        BadMagnet{"btpk_two_keys",
                  "magnet:?xs=urn:btpk:" + std::string(64, 'a') + "&xs.2=urn:btpk:" + std::string(64, 'b'),
                  Errc::conflicting_public_key},
        BadMagnet{"salt_not_hex", "magnet:?xs=urn:btpk:" + std::string(64, 'a') + "&s=zz", Errc::invalid_salt},
        BadMagnet{"salt_odd_digits", "magnet:?xs=urn:btpk:" + std::string(64, 'a') + "&s=abc", Errc::invalid_salt},
        BadMagnet{"salt_twice_different", "magnet:?xs=urn:btpk:" + std::string(64, 'a') + "&s=aa&s=bb",
                  Errc::invalid_salt},
        BadMagnet{"salt_too_long", "magnet:?xs=urn:btpk:" + std::string(64, 'a') + "&s=" + std::string(130, 'a'),
                  Errc::salt_too_long},
        BadMagnet{"salt_without_key", "magnet:?" + kXt + "&s=6161", Errc::salt_without_key},
        BadMagnet{"only_other_exact_source", "magnet:?xs=http://a/b.torrent", Errc::missing_info_hash},
        BadMagnet{"too_long", "magnet:?" + kXt + "&dn=" + std::string(kMaxUriLength, 'a'), Errc::too_long},
        BadMagnet{"too_many_parameters",
                  [] {
                    std::string u = "magnet:?" + kXt;
                    for (std::size_t i = 0; i < kMaxParameters; ++i)
                      u += "&a=1";
                    return u;
                  }(),
                  Errc::too_many_parameters}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(ToUri, RoundTripsRandomLinks) {
  std::mt19937_64 rng(7);
  auto random_text = [&rng](std::size_t max) {
    std::string s(rng() % max + 1, '\0');
    for (auto& c : s)
      c = static_cast<char>(rng() & 0xff);
    return s;
  };
  for (int i = 0; i < 500; ++i) {
    MagnetLink link;
    Sha1Digest d;
    for (auto& b : d.bytes)
      b = static_cast<std::uint8_t>(rng());
    link.btih = d;
    if (rng() % 2) {
      Sha256Digest d2;
      for (auto& b : d2.bytes)
        b = static_cast<std::uint8_t>(rng());
      link.btmh = d2;
    }
    link.display_name = random_text(20);
    for (int k = static_cast<int>(rng() % 3); k > 0; --k)
      link.trackers.push_back("http://t" + std::to_string(k) + "/" + random_text(5));
    if (rng() % 2) link.web_seeds.push_back("http://ws/" + random_text(8));
    if (rng() % 2)
      link.peers.push_back("127.0.0." + std::to_string(rng() % 255) + ":" +
                           std::to_string(rng() % 65535 + 1));
    if (rng() % 2) link.select_only = {{1, 1}, {3, 7}};
    if (rng() % 2) {
      Digest<32> pk;
      for (auto& b : pk.bytes)
        b = static_cast<std::uint8_t>(rng());
      link.btpk = pk;
      if (rng() % 2) link.salt = random_text(kMaxSalt);
    }
    auto parsed = parse_magnet(to_uri(link));
    ASSERT_TRUE(parsed) << parsed.error().message() << " in " << to_uri(link);
    EXPECT_EQ(*parsed, link);
  }
}

TEST(MagnetError, CategoryAndMessage) {
  EXPECT_STREQ(make_error_code(Errc::invalid_peer).category().name(), "shoal.magnet");
  auto link = parse_magnet("magnet:?xt=urn:btih:1234");
  ASSERT_FALSE(link);
  EXPECT_EQ(link.error().message(), "invalid info-hash: 1234");
}

}  // namespace
}  // namespace shoal::magnet
