#include "wire/message_reader.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include "wire/handshake.hpp"

namespace shoal::wire {
namespace {

std::vector<std::uint8_t> framed(std::initializer_list<std::uint8_t> body) {
  std::vector<std::uint8_t> out(4);
  write_u32(out.data(), static_cast<std::uint32_t>(body.size()));
  out.insert(out.end(), body);
  return out;
}

void feed(MessageReader& r, const std::vector<std::uint8_t>& bytes) {
  auto space = r.prepare(bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  r.commit(bytes.size());
}

TEST(Handshake, RoundTripAndBits) {
  Handshake h;
  h.info_hash.bytes.fill(7);
  h.peer_id.fill(9);
  h.set_extensions(true);
  h.set_fast(true);
  auto bytes = encode_handshake(h);
  auto back = decode_handshake(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->info_hash, h.info_hash);
  EXPECT_EQ(back->peer_id, h.peer_id);
  EXPECT_TRUE(back->supports_extensions());
  EXPECT_TRUE(back->supports_fast());
  EXPECT_FALSE(back->supports_dht());
}

TEST(Handshake, RejectsWrongProtocol) {
  Handshake h;
  auto bytes = encode_handshake(h);
  auto wrong_length = bytes;
  wrong_length[0] = 18;
  EXPECT_EQ(decode_handshake(wrong_length).error().code, Errc::invalid_handshake);
  auto wrong_text = bytes;
  wrong_text[5] = 'X';
  EXPECT_EQ(decode_handshake(wrong_text).error().code, Errc::invalid_handshake);
  EXPECT_EQ(decode_handshake(std::span(bytes).first(40)).error().code, Errc::invalid_handshake);
  EXPECT_TRUE(decode_handshake_prefix(std::span(bytes).first(48)));
}

TEST(MessageReader, EveryMessageRoundTrips) {
  std::vector<std::uint8_t> bits = {0xff, 0x80};
  std::vector<std::uint8_t> payload(kBlockSize, 0x5a);
  std::vector<std::uint8_t> ext = {'d', 'e'};
  std::vector<Message> messages = {KeepAlive{},
                                   Choke{},
                                   Unchoke{},
                                   Interested{},
                                   NotInterested{},
                                   Have{42},
                                   Bitfield{bits},
                                   Request{{1, 16384, 16384}},
                                   Piece{3, 0, payload},
                                   Cancel{{1, 0, 16384}},
                                   Port{6881},
                                   Suggest{5},
                                   HaveAll{},
                                   HaveNone{},
                                   Reject{{2, 32768, 100}},
                                   AllowedFast{8},
                                   Extended{0, ext}};
  std::vector<std::uint8_t> stream;
  for (const auto& m : messages)
    encode(m, stream);
  MessageReader reader;
  feed(reader, stream);
  for (const auto& expected : messages) {
    auto got = reader.next();
    ASSERT_TRUE(got) << got.error().message();
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ(got->value().index(), expected.index());
    std::vector<std::uint8_t> again;
    encode(**got, again);
    std::vector<std::uint8_t> original;
    encode(expected, original);
    EXPECT_EQ(again, original);
  }
  auto end = reader.next();
  ASSERT_TRUE(end);
  EXPECT_FALSE(end->has_value());
}

TEST(MessageReader, ByteAtATimeEqualsWholeBuffer) {
  std::vector<std::uint8_t> stream;
  std::vector<std::uint8_t> payload(1000, 1);
  encode(Have{1}, stream);
  encode(Piece{0, 0, payload}, stream);
  encode(KeepAlive{}, stream);
  encode(Request{{0, 0, 16384}}, stream);
  MessageReader reader;
  std::vector<std::size_t> kinds;
  for (std::uint8_t b : stream) {
    feed(reader, {b});
    for (;;) {
      auto m = reader.next();
      ASSERT_TRUE(m);
      if (!*m) break;
      kinds.push_back((*m)->index());
    }
  }
  EXPECT_EQ(kinds, (std::vector<std::size_t>{Message(Have{}).index(), Message(Piece{}).index(),
                                             Message(KeepAlive{}).index(), Message(Request{}).index()}));
}

TEST(MessageReader, UnknownIdsAreSkippedNotFatal) {
  MessageReader reader;
  feed(reader, framed({99, 1, 2, 3}));
  auto m = reader.next();
  ASSERT_TRUE(m);
  ASSERT_TRUE(*m);
  EXPECT_EQ(std::get<Unknown>(**m).id, 99);
}

struct BadFrame {
  const char* name;
  std::vector<std::uint8_t> bytes;
  Errc code;
};
void PrintTo(const BadFrame& c, std::ostream* os) {
  *os << c.name;
}

class RejectsFrame : public ::testing::TestWithParam<BadFrame> {};

TEST_P(RejectsFrame, WithError) {
  MessageReader reader;
  feed(reader, GetParam().bytes);
  auto m = reader.next();
  ASSERT_FALSE(m) << GetParam().name;
  EXPECT_EQ(m.error().code, GetParam().code) << GetParam().name;
  EXPECT_LE(reader.capacity(), 1u << 16) << "the reader must not allocate what the peer declares";
}

std::vector<std::uint8_t> header(std::uint32_t length, std::uint8_t id) {
  std::vector<std::uint8_t> out(5);
  write_u32(out.data(), length);
  out[4] = id;
  return out;
}

INSTANTIATE_TEST_SUITE_P(
    Wire, RejectsFrame,
    ::testing::Values(
        BadFrame{"length_prefix_4GiB", {0xff, 0xff, 0xff, 0xff}, Errc::message_too_large},
        BadFrame{"piece_one_byte_over_a_block", header(9 + kBlockSize + 1, 7), Errc::message_too_large},
        BadFrame{"bitfield_over_the_limit", header(ReaderLimits::kDefaultMaxBitfieldBytes + 2, 5),
                 Errc::message_too_large},
        BadFrame{"extended_over_the_limit", header(ReaderLimits::kDefaultMaxExtendedSize + 2, 20),
                 Errc::message_too_large},
        BadFrame{"choke_with_payload", framed({0, 1}), Errc::message_too_large},
        BadFrame{"have_too_long", framed({4, 0, 0, 0, 1, 9}), Errc::message_too_large},
        BadFrame{"have_too_short", framed({4, 0, 0}), Errc::bad_message_length},
        BadFrame{"request_12_bytes", framed({6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 64}), Errc::bad_message_length},
        BadFrame{"piece_without_header", framed({7, 0, 0, 0}), Errc::bad_message_length},
        BadFrame{"extended_without_id", framed({20}), Errc::bad_message_length},
        BadFrame{"port_one_byte", framed({9, 1}), Errc::bad_message_length}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(MessageReader, TakeReturnsRawBytesForTheHandshake) {
  MessageReader reader;
  Handshake h;
  auto hs = encode_handshake(h);
  std::vector<std::uint8_t> bytes(hs.begin(), hs.end());
  encode(Interested{}, bytes);
  feed(reader, bytes);
  auto raw = reader.take(kHandshakeSize);
  ASSERT_TRUE(raw);
  EXPECT_TRUE(decode_handshake(*raw));
  auto m = reader.next();
  ASSERT_TRUE(m && *m);
  EXPECT_TRUE(std::holds_alternative<Interested>(**m));
  EXPECT_FALSE(reader.take(1));
}

TEST(PieceHeader, MatchesEncodedPiece) {
  std::vector<std::uint8_t> payload(100, 3);
  std::vector<std::uint8_t> full;
  encode(Piece{5, 16384, payload}, full);
  auto h = encode_piece_header(5, 16384, 100);
  EXPECT_TRUE(std::equal(h.begin(), h.end(), full.begin()));
}

}  // namespace
}  // namespace shoal::wire
