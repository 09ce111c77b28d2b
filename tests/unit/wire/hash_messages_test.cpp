// BEP 52 hash request (21), hashes (22) and hash reject (23): round trips, the uncle count, and every shape
// the reader refuses.
#include <gtest/gtest.h>

#include <cstring>

#include "wire/handshake.hpp"
#include "wire/message_reader.hpp"

namespace shoal::wire {
namespace {

HashRequestFields fields(std::uint32_t base, std::uint32_t index, std::uint32_t length, std::uint32_t proof) {
  HashRequestFields f;
  f.pieces_root.bytes.fill(0xab);
  f.base_layer = base;
  f.index = index;
  f.length = length;
  f.proof_layers = proof;
  return f;
}

void feed(MessageReader& reader, const std::vector<std::uint8_t>& bytes) {
  auto space = reader.prepare(bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  reader.commit(bytes.size());
}

// Raw frame: length prefix, id, the 48-byte header and `extra` payload bytes.
std::vector<std::uint8_t> frame(MessageId id, const HashRequestFields& f, std::size_t extra) {
  std::vector<std::uint8_t> out;
  if (id == MessageId::hashes) {
    std::vector<std::uint8_t> hashes(extra, 0x11);
    encode(Hashes{f, hashes}, out);
  } else if (id == MessageId::hash_request) {
    encode(HashRequest{f}, out);
  } else {
    encode(HashReject{f}, out);
  }
  return out;
}

TEST(HashMessages, UncleCountFollowsTheRunsSubtree) {
  // A pair is one layer of its own subtree: proof_layers p carries p uncles; a run of 2^k carries p - k + 1.
  EXPECT_EQ(hash_uncle_count(fields(0, 0, 2, 0)), 0u);
  EXPECT_EQ(hash_uncle_count(fields(0, 0, 2, 3)), 3u);
  EXPECT_EQ(hash_uncle_count(fields(0, 0, 8, 2)), 0u);
  EXPECT_EQ(hash_uncle_count(fields(0, 0, 8, 3)), 1u);
  EXPECT_EQ(hash_uncle_count(fields(2, 0, 512, 10)), 2u);
  EXPECT_EQ(hash_uncle_count(fields(2, 0, 512, 0)), 0u);
}

TEST(HashMessages, RoundTrip) {
  auto f = fields(2, 16, 8, 5);
  std::vector<std::uint8_t> stream;
  encode(HashRequest{f}, stream);
  encode(HashReject{f}, stream);
  std::vector<std::uint8_t> raw((8 + hash_uncle_count(f)) * kHashSize);
  for (std::size_t i = 0; i < raw.size(); ++i)
    raw[i] = static_cast<std::uint8_t>(i);
  encode(Hashes{f, raw}, stream);
  EXPECT_EQ(stream.size(), 3 * (4 + 1 + 48) + raw.size());

  MessageReader reader;
  feed(reader, stream);
  auto a = reader.next();
  ASSERT_TRUE(a && *a) << a.error().message();
  EXPECT_EQ(static_cast<const HashRequestFields&>(std::get<HashRequest>(**a)), f);
  auto b = reader.next();
  ASSERT_TRUE(b && *b);
  EXPECT_EQ(static_cast<const HashRequestFields&>(std::get<HashReject>(**b)), f);
  auto c = reader.next();
  ASSERT_TRUE(c && *c) << c.error().message();
  const auto& got = std::get<Hashes>(**c);
  EXPECT_EQ(static_cast<const HashRequestFields&>(got), f);
  ASSERT_EQ(got.hashes.size(), raw.size());
  EXPECT_TRUE(std::equal(raw.begin(), raw.end(), got.hashes.begin()));
}

TEST(HashMessages, ByteAtATime) {
  auto f = fields(0, 4, 4, 3);
  std::vector<std::uint8_t> raw((4 + hash_uncle_count(f)) * kHashSize, 7);
  std::vector<std::uint8_t> stream;
  encode(Hashes{f, raw}, stream);
  MessageReader reader;
  int messages = 0;
  for (std::uint8_t byte : stream) {
    auto space = reader.prepare(1);
    space[0] = byte;
    reader.commit(1);
    auto m = reader.next();
    ASSERT_TRUE(m);
    if (*m) {
      ++messages;
      EXPECT_EQ(std::get<Hashes>(**m).hashes.size(), raw.size());
    }
  }
  EXPECT_EQ(messages, 1);
}

struct BadHashFrame {
  const char* name;
  std::vector<std::uint8_t> bytes;
  Errc code;
};
void PrintTo(const BadHashFrame& c, std::ostream* os) {
  *os << c.name;
}

std::vector<std::uint8_t> with_length(std::vector<std::uint8_t> bytes, std::uint32_t length) {
  write_u32(bytes.data(), length);
  return bytes;
}

std::vector<BadHashFrame> bad_frames() {
  auto ok = fields(0, 0, 4, 2);
  std::size_t ok_hashes = (4 + hash_uncle_count(ok)) * kHashSize;
  std::vector<BadHashFrame> out = {
      {"RequestLengthZero", frame(MessageId::hash_request, fields(0, 0, 0, 0), 0), Errc::bad_hash_request},
      {"RequestLengthOne", frame(MessageId::hash_request, fields(0, 0, 1, 0), 0), Errc::bad_hash_request},
      {"RequestLengthNotPowerOfTwo", frame(MessageId::hash_request, fields(0, 0, 6, 3), 0),
       Errc::bad_hash_request},
      {"RequestLengthAboveCap", frame(MessageId::hash_request, fields(0, 0, 16384, 14), 0),
       Errc::bad_hash_request},
      {"RequestIndexNotAligned", frame(MessageId::hash_request, fields(0, 6, 4, 2), 0),
       Errc::bad_hash_request},
      {"RequestBaseLayerTooHigh", frame(MessageId::hash_request, fields(41, 0, 2, 0), 0),
       Errc::bad_hash_request},
      {"RequestProofLayersTooHigh", frame(MessageId::hash_request, fields(10, 0, 2, 31), 0),
       Errc::bad_hash_request},
      {"RequestProofLayersOverflow", frame(MessageId::hash_request, fields(1, 0, 2, 0xffffffff), 0),
       Errc::bad_hash_request},
      {"RejectIndexNotAligned", frame(MessageId::hash_reject, fields(0, 3, 2, 0), 0), Errc::bad_hash_request},
      {"HashesLengthNotPowerOfTwo", frame(MessageId::hashes, fields(0, 0, 3, 0), 3 * kHashSize),
       Errc::bad_hash_request},
      {"HashesOneHashShort", frame(MessageId::hashes, ok, ok_hashes - kHashSize), Errc::bad_message_length},
      {"HashesOneHashExtra", frame(MessageId::hashes, ok, ok_hashes + kHashSize), Errc::bad_message_length},
      {"HashesPartialHash", frame(MessageId::hashes, ok, ok_hashes + 5), Errc::bad_message_length},
      {"HashesNoHashes", frame(MessageId::hashes, ok, 0), Errc::bad_message_length},
  };
  // A request or reject one byte short or long; a hashes message shorter than its header.
  auto request = frame(MessageId::hash_request, ok, 0);
  auto longer = request;
  longer.push_back(0);
  out.push_back({"RequestOneByteLong", with_length(longer, 50), Errc::message_too_large});
  auto shorter = request;
  shorter.pop_back();
  out.push_back({"RequestOneByteShort", with_length(shorter, 48), Errc::bad_message_length});
  auto reject = frame(MessageId::hash_reject, ok, 0);
  reject.pop_back();
  out.push_back({"RejectOneByteShort", with_length(reject, 48), Errc::bad_message_length});
  std::vector<std::uint8_t> stub = {0, 0, 0, 11, static_cast<std::uint8_t>(MessageId::hashes)};
  stub.resize(15, 0);
  out.push_back({"HashesShorterThanHeader", stub, Errc::bad_message_length});
  // A length prefix beyond the largest possible hashes message is refused before anything is buffered.
  std::vector<std::uint8_t> huge = {0, 0, 0, 0, static_cast<std::uint8_t>(MessageId::hashes)};
  write_u32(huge.data(), 1 + 48 + 32 * (kMaxHashesPerMessage + kMaxMerkleHeight) + 1);
  out.push_back({"HashesBeyondLargestProof", huge, Errc::message_too_large});
  return out;
}

class RejectsHashFrame : public ::testing::TestWithParam<BadHashFrame> {};

TEST_P(RejectsHashFrame, WithError) {
  MessageReader reader;
  feed(reader, GetParam().bytes);
  auto m = reader.next();
  ASSERT_FALSE(m) << "accepted";
  EXPECT_EQ(m.error().code, GetParam().code) << m.error().message();
}

INSTANTIATE_TEST_SUITE_P(Malformed, RejectsHashFrame, ::testing::ValuesIn(bad_frames()),
                         [](const auto& c) { return std::string(c.param.name); });

TEST(Handshake, V2Bit) {
  Handshake h;
  EXPECT_FALSE(h.supports_v2());
  h.set_v2(true);
  auto bytes = encode_handshake(h);
  EXPECT_EQ(bytes[20 + 7] & 0x10, 0x10);  // BEP 52: bit 0x10 of reserved byte 7
  auto back = decode_handshake(bytes);
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->supports_v2());
  EXPECT_FALSE(back->supports_dht());
  h.set_v2(false);
  EXPECT_FALSE(decode_handshake(encode_handshake(h))->supports_v2());
}

}  // namespace
}  // namespace shoal::wire
