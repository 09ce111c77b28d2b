#include "utp/packet.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "utp/seq.hpp"

namespace shoal::utp {
namespace {

std::vector<std::uint8_t> encoded(const PacketHeader& h, std::vector<std::uint8_t> sack = {},
                                  std::vector<std::uint8_t> payload = {}) {
  std::vector<std::uint8_t> out;
  encode_packet(h, sack, payload, out);
  return out;
}

PacketHeader sample_header(PacketType type) {
  PacketHeader h;
  h.type = type;
  h.connection_id = 0xbeef;
  h.timestamp_us = 0x01020304;
  h.timestamp_difference_us = 0xa0b0c0d0;
  h.window = 1 << 20;
  h.seq_nr = 65535;
  h.ack_nr = 7;
  return h;
}

struct Malformed {
  const char* name;
  std::vector<std::uint8_t> bytes;
  PacketError error;
};

std::vector<std::uint8_t> header_bytes(std::uint8_t first, std::uint8_t extension) {
  std::vector<std::uint8_t> b(kHeaderSize, 0);
  b[0] = first;
  b[1] = extension;
  return b;
}

std::vector<std::uint8_t> with(std::vector<std::uint8_t> b, std::vector<std::uint8_t> tail) {
  b.insert(b.end(), tail.begin(), tail.end());
  return b;
}

TEST(UtpPacket, DataWithSackRoundTrips) {
  auto bytes = encoded(sample_header(PacketType::data), {0x05, 0, 0, 0x80}, {'a', 'b', 'c'});
  ASSERT_EQ(bytes.size(), kHeaderSize + 2 + 4 + 3);
  EXPECT_EQ(bytes[0], 0x01);  // type 0, version 1
  auto p = decode_packet(bytes);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->header.type, PacketType::data);
  EXPECT_EQ(p->header.connection_id, 0xbeef);
  EXPECT_EQ(p->header.timestamp_us, 0x01020304u);
  EXPECT_EQ(p->header.timestamp_difference_us, 0xa0b0c0d0u);
  EXPECT_EQ(p->header.window, 1u << 20);
  EXPECT_EQ(p->header.seq_nr, 65535);
  EXPECT_EQ(p->header.ack_nr, 7);
  ASSERT_EQ(p->sack.size(), 4u);
  EXPECT_EQ(p->sack[0], 0x05);
  EXPECT_EQ(p->sack[3], 0x80);
  ASSERT_EQ(p->payload.size(), 3u);
  EXPECT_EQ(p->payload[2], 'c');
}

TEST(UtpPacket, SynIsTwentyBytesWithTypeFour) {
  auto bytes = encoded(sample_header(PacketType::syn));
  ASSERT_EQ(bytes.size(), kHeaderSize);
  EXPECT_EQ(bytes[0], 0x41);
  auto p = decode_packet(bytes);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->header.type, PacketType::syn);
  EXPECT_TRUE(p->sack.empty());
}

TEST(UtpPacket, UnknownExtensionIsSkipped) {
  auto bytes = encoded(sample_header(PacketType::data), {}, {'x'});
  bytes[1] = 7;  // an unknown extension of 3 bytes before the payload, then a SACK
  std::vector<std::uint8_t> ext = {kExtensionSack, 3, 9, 9, 9, kExtensionNone, 4, 1, 0, 0, 0};
  bytes.insert(bytes.begin() + kHeaderSize, ext.begin(), ext.end());
  auto p = decode_packet(bytes);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->sack.size(), 4u);
  ASSERT_EQ(p->payload.size(), 1u);
  EXPECT_EQ(p->payload[0], 'x');
}

TEST(UtpPacket, MaxPacketExtensionRoundTripsBesideASack) {
  auto h = sample_header(PacketType::syn);
  h.max_packet = 65507;
  auto bytes = encoded(h);
  EXPECT_EQ(bytes.size(), kHeaderSize + kMaxPacketExtensionSize);
  EXPECT_EQ(bytes[1], kExtensionBits);  // libutp reads a first extension above 2 as a version-0 packet
  auto p = decode_packet(bytes);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->header.max_packet, 65507);
  auto s = sample_header(PacketType::state);
  s.max_packet = 9000;
  auto with_sack = encoded(s, {1, 2, 3, 4});
  auto q = decode_packet(with_sack);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->header.max_packet, 9000);
  EXPECT_EQ(q->sack.size(), 4u);
  // Of another length it is not ours: skipped like any unknown extension.
  auto odd = header_bytes(0x41, kExtensionMaxPacket);
  odd.insert(odd.end(), {0, 3, 1, 2, 3});
  auto r = decode_packet(odd);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header.max_packet, 0);
}

TEST(UtpPacket, SackOfAnyLengthIsRead) {
  // libtorrent sends SACK masks of any byte length, not only multiples of 4.
  auto three = with(header_bytes(0x21, 1), {0, 3, 1, 2, 3});
  auto p = decode_packet(three);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->sack.size(), 3u);
  auto long_mask = with(header_bytes(0x21, 1), with({0, 100}, std::vector<std::uint8_t>(100, 0xff)));
  p = decode_packet(long_mask);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->sack.size(), 100u);
}

TEST(UtpPacket, RewriteHeaderChangesOnlyTimingWindowAndAck) {
  auto bytes = encoded(sample_header(PacketType::data), {}, {'z'});
  rewrite_header(bytes, 11, 22, 33, 44);
  auto p = decode_packet(bytes);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->header.timestamp_us, 11u);
  EXPECT_EQ(p->header.timestamp_difference_us, 22u);
  EXPECT_EQ(p->header.window, 33u);
  EXPECT_EQ(p->header.ack_nr, 44);
  EXPECT_EQ(p->header.seq_nr, 65535);
  EXPECT_EQ(p->payload[0], 'z');
}

TEST(UtpPacket, MalformedInputsAreNamedErrors) {
  std::vector<Malformed> cases = {
      {"empty", {}, PacketError::too_short},
      {"nineteen_bytes", std::vector<std::uint8_t>(19, 0x01), PacketError::too_short},
      {"version_zero", header_bytes(0x00, 0), PacketError::bad_version},
      {"version_two", header_bytes(0x02, 0), PacketError::bad_version},
      {"type_five", header_bytes(0x51, 0), PacketError::bad_type},
      {"extension_header_missing", header_bytes(0x01, 1), PacketError::truncated_extension},
      {"extension_body_short", with(header_bytes(0x01, 1), {0, 8, 1, 2}), PacketError::truncated_extension},
      {"sack_zero_length", with(header_bytes(0x01, 1), {0, 0}), PacketError::bad_sack_length},
      {"extension_loop", with(header_bytes(0x01, 9), {9, 0, 9, 0, 9, 0, 9, 0, 9, 0, 9, 0, 9, 0, 9, 0, 9, 0}),
       PacketError::too_many_extensions},
      {"state_with_payload", with(header_bytes(0x21, 0), {1}), PacketError::unexpected_payload},
      {"syn_with_payload", with(header_bytes(0x41, 0), {1}), PacketError::unexpected_payload},
      {"reset_with_payload", with(header_bytes(0x31, 0), {1}), PacketError::unexpected_payload},
  };
  for (const auto& c : cases) {
    auto p = decode_packet(c.bytes);
    ASSERT_FALSE(p) << c.name;
    EXPECT_EQ(p.error(), c.error) << c.name << ": " << to_string(p.error());
  }
}

TEST(UtpSeq, ComparesAcrossWrapAround) {
  EXPECT_TRUE(seq_less(65535, 0));
  EXPECT_TRUE(seq_less(65530, 4));
  EXPECT_FALSE(seq_less(4, 65530));
  EXPECT_EQ(seq_distance(65535, 1), 2);
  EXPECT_EQ(seq_distance(1, 65535), -2);
}

}  // namespace
}  // namespace shoal::utp
