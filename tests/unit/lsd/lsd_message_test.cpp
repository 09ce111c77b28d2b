#include "lsd/lsd_message.hpp"

#include <gtest/gtest.h>

namespace shoal::lsd {
namespace {

Sha1Digest hash_of(std::uint8_t fill) {
  Sha1Digest d;
  d.bytes.fill(fill);
  return d;
}

const std::string kHashHex = std::string(40, 'a');

TEST(LsdMessage, RoundTripV4WithCookie) {
  Announce a;
  a.port = 6881;
  a.info_hashes = {hash_of(1), hash_of(2)};
  a.cookie = "c0ffee";
  auto packet = encode(a);
  EXPECT_EQ(packet.rfind("BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\n", 0), 0u);
  EXPECT_NE(packet.find("Infohash: 0101010101010101010101010101010101010101\r\n"), std::string::npos);
  auto back = decode(packet);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, a);
}

TEST(LsdMessage, RoundTripV6WithoutCookie) {
  Announce a;
  a.group = Group::v6;
  a.port = 65535;
  a.info_hashes = {hash_of(0xfe)};
  auto packet = encode(a);
  EXPECT_NE(packet.find("Host: [ff15::efc0:988f]:6771\r\n"), std::string::npos);
  auto back = decode(packet);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, a);
}

TEST(LsdMessage, LargestAnnounceFitsThePacketCap) {
  Announce a;
  a.group = Group::v6;
  a.port = 65535;
  for (std::size_t i = 0; i < kMaxInfoHashes; ++i)
    a.info_hashes.push_back(hash_of(static_cast<std::uint8_t>(i)));
  a.cookie = std::string(kMaxCookieSize, 'x');
  auto packet = encode(a);
  EXPECT_LE(packet.size(), kMaxPacketSize);
  auto back = decode(packet);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, a);
}

TEST(LsdMessage, PackSplitsAtTheInfoHashCap) {
  std::vector<Sha1Digest> hashes;
  for (int i = 0; i < 50; ++i)
    hashes.push_back(hash_of(static_cast<std::uint8_t>(i)));
  auto packets = pack(Group::v4, 1234, hashes, std::string("k"));
  ASSERT_EQ(packets.size(), 3u);
  EXPECT_EQ(packets[0].info_hashes.size(), kMaxInfoHashes);
  EXPECT_EQ(packets[1].info_hashes.size(), kMaxInfoHashes);
  EXPECT_EQ(packets[2].info_hashes.size(), 2u);
  EXPECT_EQ(packets[2].info_hashes.back(), hashes.back());
  EXPECT_TRUE(pack(Group::v4, 1234, {}, std::nullopt).empty());
}

// What other clients send: LF-only line ends, any header case, extra headers, libtorrent's trailing blank
// lines, spaces around values.
TEST(LsdMessage, ToleratesOtherClientsSpelling) {
  auto a = decode(
      "BT-SEARCH * HTTP/1.1\nhost: 239.192.152.143:6771\nPORT:   51413  \nX-Extra: yes\n"
      "INFOHASH: " +
      std::string(40, 'A') + "\nCookie: 1f\n\n");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port, 51413);
  ASSERT_EQ(a->info_hashes.size(), 1u);
  EXPECT_EQ(a->info_hashes[0], hash_of(0xaa));
  EXPECT_EQ(a->cookie, "1f");

  auto b = decode("BT-SEARCH * HTTP/1.1\r\nHost: [FF15::EFC0:988F]:6771\r\nPort: 1\r\nInfohash: " + kHashHex +
                  "\r\n\r\n\r\ntrailing junk after the end");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->group, Group::v6);
  EXPECT_FALSE(b->cookie);
}

TEST(LsdMessage, DuplicateInfoHashesCountOnce) {
  std::string packet = "BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 9\r\n";
  for (std::size_t i = 0; i < kMaxInfoHashes + 1; ++i)  // more than the cap, yet one torrent
    packet += "Infohash: " + kHashHex + "\r\n";
  packet += "\r\n";
  auto a = decode(packet);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->info_hashes.size(), 1u);
}

struct Malformed {
  const char* name;
  std::string packet;
  Errc expected;
};

std::string announce_with(const std::string& headers) {
  return "BT-SEARCH * HTTP/1.1\r\n" + headers + "\r\n";
}

const std::string kHost = "Host: 239.192.152.143:6771\r\n";
const std::string kPort = "Port: 6881\r\n";
const std::string kHash = "Infohash: " + kHashHex + "\r\n";

std::string many_hashes(std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    Sha1Digest d;
    d.bytes[0] = static_cast<std::uint8_t>(i);
    out += "Infohash: " + d.to_hex() + "\n";
  }
  return out;
}

class LsdMalformed : public testing::TestWithParam<Malformed> {};

TEST_P(LsdMalformed, IsRejectedWithItsReason) {
  auto result = decode(GetParam().packet);
  ASSERT_FALSE(result) << GetParam().name;
  EXPECT_EQ(result.error(), GetParam().expected) << GetParam().name;
  EXPECT_FALSE(describe(result.error()).empty());
  EXPECT_EQ(make_error_code(result.error()).category().name(), std::string("shoal.lsd"));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LsdMalformed,
    testing::Values(
        Malformed{"empty", "", Errc::not_bt_search},
        Malformed{"too_large", announce_with(kHost + kPort + kHash + "X: " + std::string(1400, 'x') + "\r\n"),
                  Errc::packet_too_large},
        Malformed{"m_search", "M-SEARCH * HTTP/1.1\r\n" + kHost + kPort + kHash + "\r\n",
                  Errc::not_bt_search},
        Malformed{"http_1_0", "BT-SEARCH * HTTP/1.0\r\n" + kHost + kPort + kHash + "\r\n",
                  Errc::not_bt_search},
        Malformed{"request_line_only", "BT-SEARCH * HTTP/1.1", Errc::not_bt_search},
        Malformed{"no_empty_line", "BT-SEARCH * HTTP/1.1\r\n" + kHost + kPort + kHash, Errc::unterminated},
        Malformed{"header_cut_off", "BT-SEARCH * HTTP/1.1\r\n" + kHost + kPort + "Infohash: aaaa",
                  Errc::unterminated},
        Malformed{"no_colon", announce_with(kHost + kPort + kHash + "garbage\r\n"), Errc::malformed_header},
        Malformed{"empty_name", announce_with(kHost + kPort + kHash + ": x\r\n"), Errc::malformed_header},
        Malformed{"space_in_name", announce_with(kHost + "Port : 6881\r\n" + kHash), Errc::malformed_header},
        Malformed{"nul_byte", announce_with(kHost + kPort + kHash + std::string("X: a\0b\r\n", 8)),
                  Errc::malformed_header},
        Malformed{"stray_cr", announce_with(kHost + "Port: 68\r81\r\n" + kHash), Errc::malformed_header},
        Malformed{"missing_host", announce_with(kPort + kHash), Errc::missing_host},
        Malformed{"other_host", announce_with("Host: 192.168.1.1:6771\r\n" + kPort + kHash),
                  Errc::unknown_host},
        Malformed{"wrong_group_port", announce_with("Host: 239.192.152.143:6772\r\n" + kPort + kHash),
                  Errc::unknown_host},
        Malformed{"two_hosts", announce_with(kHost + kHost + kPort + kHash), Errc::duplicate_header},
        Malformed{"missing_port", announce_with(kHost + kHash), Errc::missing_port},
        Malformed{"port_zero", announce_with(kHost + "Port: 0\r\n" + kHash), Errc::bad_port},
        Malformed{"port_too_big", announce_with(kHost + "Port: 65536\r\n" + kHash), Errc::bad_port},
        Malformed{"port_huge", announce_with(kHost + "Port: 99999999999999999999\r\n" + kHash),
                  Errc::bad_port},
        Malformed{"port_negative", announce_with(kHost + "Port: -1\r\n" + kHash), Errc::bad_port},
        Malformed{"port_hex", announce_with(kHost + "Port: 0x1A\r\n" + kHash), Errc::bad_port},
        Malformed{"port_empty", announce_with(kHost + "Port:\r\n" + kHash), Errc::bad_port},
        Malformed{"two_ports", announce_with(kHost + kPort + kPort + kHash), Errc::duplicate_header},
        Malformed{"missing_info_hash", announce_with(kHost + kPort), Errc::missing_info_hash},
        Malformed{"short_info_hash", announce_with(kHost + kPort + "Infohash: abcd\r\n"),
                  Errc::bad_info_hash},
        Malformed{"long_info_hash", announce_with(kHost + kPort + "Infohash: " + kHashHex + "a\r\n"),
                  Errc::bad_info_hash},
        Malformed{"non_hex_info_hash",
                  announce_with(kHost + kPort + "Infohash: " + std::string(40, 'g') + "\r\n"),
                  Errc::bad_info_hash},
        Malformed{"too_many_info_hashes", announce_with(kHost + kPort + many_hashes(kMaxInfoHashes + 1)),
                  Errc::too_many_info_hashes},
        Malformed{"empty_cookie", announce_with(kHost + kPort + kHash + "cookie:\r\n"), Errc::bad_cookie},
        Malformed{
            "long_cookie",
            announce_with(kHost + kPort + kHash + "cookie: " + std::string(kMaxCookieSize + 1, 'c') + "\r\n"),
            Errc::bad_cookie},
        Malformed{"cookie_with_space", announce_with(kHost + kPort + kHash + "cookie: a b\r\n"),
                  Errc::bad_cookie},
        Malformed{"two_cookies", announce_with(kHost + kPort + kHash + "cookie: a\r\ncookie: b\r\n"),
                  Errc::duplicate_header}),
    [](const testing::TestParamInfo<Malformed>& case_info) { return std::string(case_info.param.name); });

}  // namespace
}  // namespace shoal::lsd
