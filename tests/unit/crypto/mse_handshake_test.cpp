#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "crypto/dh_key.hpp"
#include "crypto/mse_handshake.hpp"
#include "crypto/rc4.hpp"
#include "hash/sha.hpp"

namespace shoal::crypto {
namespace {

using Bytes = std::vector<std::uint8_t>;
using Status = MseHandshake::Status;

Bytes from_hex(std::string_view hex) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}
std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (auto b : bytes) {
    s += kDigits[b >> 4];
    s += kDigits[b & 15];
  }
  return s;
}
Bytes text(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

// Known answers computed independently (Python: pow(), hashlib, a separate RC4).
const DhPrivateKey kKeyA = [] {
  DhPrivateKey k{};
  std::iota(k.begin(), k.end(), std::uint8_t{0x01});
  return k;
}();
const DhPrivateKey kKeyB = [] {
  DhPrivateKey k{};
  std::iota(k.begin(), k.end(), std::uint8_t{0x21});
  return k;
}();
const Sha1Digest kInfoHash = hash::sha1("shoal");
constexpr std::string_view kYa =
    "96e112dab29e8c5272accb9b17b26887ce54a144a4e3b697c7d159b7a817e556b0918db2b4c658e02a87f7e5fb14b18a553e084c"
    "bf"
    "3dad2d30f16596ccb982d406258c61b30c5c1dae2ddc60bdbd48d79896312aad63238c39e1a633821eb693";
constexpr std::string_view kYb =
    "8f9c9f400fe9b3258f3e48598a95c7805cc90c995cd770283322679d132ebdae09b75eeadc01de698ef86945cf38314a95fad08c"
    "2a"
    "d5641802bd5f658eb3ea0db2712c04aa5efed03deecc5104f75d869d2d197e4336c61f0d71d763bee99416";
constexpr std::string_view kSecret =
    "cd8536d5f2c98f01f8f5a648f69f6f2d6a6aafd044666b01fc8beb81f63ddbea0a862b2b6306431f7a308b063f795d181ca711b2"
    "2a"
    "b0602a9c4b5d1c53269837773ff53a4de47d9aace6b6a1b789ea37077507842742eb7581ea180b16748826";

MseSecrets secrets(const DhPrivateKey& key, std::size_t pad_length = 0) {
  MseSecrets s;
  s.private_key = key;
  s.pad.assign(pad_length, 0xAB);
  return s;
}

MseHandshake::InfoHashLookup lookup_of(std::vector<Sha1Digest> hashes) {
  return [hashes](const Sha1Digest& req2) -> std::optional<Sha1Digest> {
    for (const auto& h : hashes)
      if (mse_req2_hash(h) == req2) return h;
    return std::nullopt;
  };
}

void feed(MseHandshake& to, const Bytes& bytes, std::size_t chunk) {
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    auto n = std::min(chunk, bytes.size() - at);
    to.on_bytes(std::span<const std::uint8_t>(bytes.data() + at, n));
  }
}

// Shuttles bytes both ways until neither side has anything to say; `chunk` bytes per delivery.
void pump(MseHandshake& a, MseHandshake& b, std::size_t chunk = 1 << 20) {
  for (int round = 0; round < 10; ++round) {
    auto ab = a.take_output();
    feed(b, ab, chunk);
    auto ba = b.take_output();
    feed(a, ba, chunk);
    if (ab.empty() && ba.empty()) return;
  }
}

TEST(Rc4, KnownAnswers) {
  Rc4 plain(text("Key"), 0);
  auto data = text("Plaintext");
  plain.apply(data);
  EXPECT_EQ(to_hex(data), "bbf316e8d940af0ad3");
  // RFC 6229, 40-bit key 0x0102030405, keystream at offset 1024: what MSE's discard skips to.
  Rc4 discarded(from_hex("0102030405"), 1024);
  Bytes zeros(16, 0);
  discarded.apply(zeros);
  EXPECT_EQ(to_hex(zeros), "30abbcc7c20b01609f23ee2d5f6bb7df");
}

TEST(Rc4, SplitApplicationMatchesOneShot) {
  Rc4 one(text("secret"), 1024);
  Rc4 split = one;
  Bytes a(1000, 7);
  Bytes b = a;
  one.apply(a);
  split.apply(std::span<std::uint8_t>(b.data(), 333));
  split.apply(std::span<std::uint8_t>(b.data() + 333, 667));
  EXPECT_EQ(a, b);
}

TEST(DiffieHellman, KnownAnswers) {
  EXPECT_EQ(to_hex(dh_public_key(kKeyA)), kYa);
  EXPECT_EQ(to_hex(dh_public_key(kKeyB)), kYb);
  auto s_a = dh_shared_secret(kKeyA, from_hex(kYb));
  auto s_b = dh_shared_secret(kKeyB, from_hex(kYa));
  ASSERT_TRUE(s_a && s_b);
  EXPECT_EQ(to_hex(*s_a), kSecret);
  EXPECT_EQ(*s_a, *s_b);
}

TEST(DiffieHellman, DegenerateKeysRefused) {
  Bytes zero(kDhKeySize, 0);
  Bytes one(kDhKeySize, 0);
  one.back() = 1;
  Bytes all_ones(kDhKeySize, 0xFF);  // above P
  Bytes p_minus_1 = from_hex(
      "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519"
      "B3CD3"
      "A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090562");
  for (const auto& k : {zero, one, all_ones, p_minus_1})
    EXPECT_FALSE(dh_shared_secret(kKeyA, k));
  EXPECT_FALSE(dh_shared_secret(kKeyA, Bytes(95, 1)));
}

TEST(MseHandshake, KeyDerivationAndDiscardKnownAnswer) {
  auto a = MseHandshake::initiator(kInfoHash, kCryptoRc4, text("IA"), secrets(kKeyA));
  auto ya = a.take_output();
  EXPECT_EQ(to_hex(ya), kYa);
  a.on_bytes(from_hex(kYb));
  auto step3 = a.take_output();
  ASSERT_EQ(step3.size(), 20u + 20u + 8u + 4u + 2u + 2u + 2u);
  auto secret = from_hex(kSecret);
  auto req1 = hash::sha1(std::string("req1") + std::string(secret.begin(), secret.end()));
  EXPECT_EQ(to_hex(std::span(step3).first(20)), to_hex(req1.bytes));
  // ENCRYPT(VC) is the keystream of HASH('keyA', S, SKEY) after 1024 discarded bytes: 717a24be654752a5...
  EXPECT_EQ(to_hex(std::span(step3).subspan(40, 8)), "717a24be654752a5");

  auto b = MseHandshake::responder(lookup_of({kInfoHash}), kCryptoRc4, secrets(kKeyB));
  b.on_bytes(ya);
  EXPECT_EQ(to_hex(b.take_output()), kYb);
  EXPECT_EQ(b.on_bytes(step3), Status::done);
  auto step4 = b.take_output();
  ASSERT_EQ(step4.size(), 8u + 4u + 2u);
  EXPECT_EQ(to_hex(std::span(step4).first(8)), "e8722ad175da67fe");  // HASH('keyB', S, SKEY) keystream
}

struct RoundTrip {
  std::size_t pad_a, pad_b, chunk;
};

class MseRoundTrip : public ::testing::TestWithParam<RoundTrip> {};

TEST_P(MseRoundTrip, BothRolesAgreeAndTheStreamFlows) {
  auto p = GetParam();
  Sha1Digest other = hash::sha1("other");
  auto handshake = text(std::string(68, 'H'));
  auto a =
      MseHandshake::initiator(kInfoHash, kCryptoRc4 | kCryptoPlaintext, handshake, secrets(kKeyA, p.pad_a));
  auto b = MseHandshake::responder(lookup_of({other, kInfoHash}), kCryptoRc4 | kCryptoPlaintext,
                                   secrets(kKeyB, p.pad_b));
  pump(a, b, p.chunk);
  ASSERT_TRUE(a.done()) << (a.error() ? to_string(*a.error()) : "in progress");
  ASSERT_TRUE(b.done()) << (b.error() ? to_string(*b.error()) : "in progress");
  EXPECT_EQ(a.selected(), kCryptoRc4);
  EXPECT_EQ(b.selected(), kCryptoRc4);
  EXPECT_EQ(b.info_hash(), kInfoHash);
  EXPECT_EQ(b.take_payload(), handshake);
  EXPECT_TRUE(a.take_payload().empty());

  auto ca = a.take_cipher();
  auto cb = b.take_cipher();
  auto message = text("piece data, both ways");
  auto wire = message;
  ca.encrypt(wire);
  EXPECT_NE(wire, message);
  cb.decrypt(wire);
  EXPECT_EQ(wire, message);
  cb.encrypt(wire);
  ca.decrypt(wire);
  EXPECT_EQ(wire, message);
}

INSTANTIATE_TEST_SUITE_P(Pads, MseRoundTrip,
                         ::testing::Values(RoundTrip{0, 0, 1 << 20}, RoundTrip{1, 0, 1}, RoundTrip{0, 1, 1},
                                           RoundTrip{512, 512, 1 << 20}, RoundTrip{512, 512, 7},
                                           RoundTrip{137, 300, 1}));

TEST(MseHandshake, BytesAfterTheHandshakeArriveDecryptedInTheSameRead) {
  auto a = MseHandshake::initiator(kInfoHash, kCryptoRc4, text("hs"), secrets(kKeyA, 5));
  auto b = MseHandshake::responder(lookup_of({kInfoHash}), kCryptoRc4, secrets(kKeyB, 9));
  b.on_bytes(a.take_output());
  a.on_bytes(b.take_output());
  auto step3 = a.take_output();
  // A copy of the responder finishes the initiator first, so that its cipher (continuing after step 3)
  // exists.
  auto b_copy = b;
  b_copy.on_bytes(step3);
  ASSERT_EQ(a.on_bytes(b_copy.take_output()), Status::done);
  auto ca = a.take_cipher();
  auto tail = text("bitfield");
  ca.encrypt(tail);
  step3.insert(step3.end(), tail.begin(), tail.end());
  ASSERT_EQ(b.on_bytes(step3), Status::done);
  EXPECT_EQ(b.take_payload(), text("hsbitfield"));
  // And the responder's first stream bytes, glued to step 4, reach a fresh initiator decrypted.
  auto a2 = MseHandshake::initiator(kInfoHash, kCryptoRc4, text("hs"), secrets(kKeyA, 5));
  a2.take_output();
  auto b2 = MseHandshake::responder(lookup_of({kInfoHash}), kCryptoRc4, secrets(kKeyB, 9));
  b2.on_bytes(dh_public_key(kKeyA));
  a2.on_bytes(b2.take_output());
  b2.on_bytes(a2.take_output());
  ASSERT_TRUE(b2.done());
  auto step4 = b2.take_output();
  auto cb = b2.take_cipher();
  auto reply = text("their handshake");
  cb.encrypt(reply);
  step4.insert(step4.end(), reply.begin(), reply.end());
  ASSERT_EQ(a2.on_bytes(step4), Status::done);
  EXPECT_EQ(a2.take_payload(), text("their handshake"));
}

TEST(MseHandshake, PlaintextSelectedWhenOnlyPlaintextOffered) {
  auto a = MseHandshake::initiator(kInfoHash, kCryptoPlaintext, text("hs"), secrets(kKeyA));
  auto b = MseHandshake::responder(lookup_of({kInfoHash}), kCryptoRc4 | kCryptoPlaintext, secrets(kKeyB));
  pump(a, b);
  ASSERT_TRUE(a.done() && b.done());
  EXPECT_EQ(a.selected(), kCryptoPlaintext);
  EXPECT_EQ(b.take_payload(), text("hs"));  // IA is RC4 even so
  auto c = a.take_cipher();
  EXPECT_FALSE(c.encrypts());
  auto data = text("clear");
  c.encrypt(data);
  EXPECT_EQ(data, text("clear"));
}

// A responder that prefers plaintext (Shoal's `prefer`, libtorrent's default) selects it when both are
// offered, and RC4 when only RC4 is; by default RC4 wins.
TEST(MseHandshake, TheResponderSelectsItsPreferredMethodWhenBothAreOffered) {
  const std::uint32_t both = kCryptoRc4 | kCryptoPlaintext;
  auto a = MseHandshake::initiator(kInfoHash, both, text("hs"), secrets(kKeyA));
  auto b = MseHandshake::responder(lookup_of({kInfoHash}), both, secrets(kKeyB), kCryptoPlaintext);
  pump(a, b);
  ASSERT_TRUE(a.done() && b.done());
  EXPECT_EQ(a.selected(), kCryptoPlaintext);
  EXPECT_EQ(b.selected(), kCryptoPlaintext);

  auto a2 = MseHandshake::initiator(kInfoHash, kCryptoRc4, text("hs"), secrets(kKeyA));
  auto b2 = MseHandshake::responder(lookup_of({kInfoHash}), both, secrets(kKeyB), kCryptoPlaintext);
  pump(a2, b2);
  ASSERT_TRUE(a2.done() && b2.done());
  EXPECT_EQ(a2.selected(), kCryptoRc4);

  auto a3 = MseHandshake::initiator(kInfoHash, both, text("hs"), secrets(kKeyA));
  auto b3 = MseHandshake::responder(lookup_of({kInfoHash}), both, secrets(kKeyB));
  pump(a3, b3);
  ASSERT_TRUE(a3.done() && b3.done());
  EXPECT_EQ(a3.selected(), kCryptoRc4);
}

// ----- malformed input: each case names what is wrong -----

TEST(MseMalformed, ResponderFindsNoReq1MarkerWithin532Bytes) {
  auto b = MseHandshake::responder(lookup_of({kInfoHash}), kCryptoRc4, secrets(kKeyB));
  auto bytes = from_hex(kYa);
  Bytes garbage(kMaxPad + 20 - 1, 0x5A);
  bytes.insert(bytes.end(), garbage.begin(), garbage.end());
  EXPECT_EQ(b.on_bytes(bytes), Status::in_progress);  // 531 bytes: the marker could still come
  EXPECT_EQ(b.on_bytes(Bytes{0x5A}), Status::failed);
  EXPECT_EQ(b.error(), MseError::no_sync_marker);
  EXPECT_EQ(b.on_bytes(Bytes(100, 1)), Status::failed);  // stays failed, ignores more
}

TEST(MseMalformed, InitiatorFindsNoVcWithin520Bytes) {
  auto a = MseHandshake::initiator(kInfoHash, kCryptoRc4, text("hs"), secrets(kKeyA));
  a.take_output();
  auto bytes = from_hex(kYb);
  Bytes garbage(kMaxPad + kVcSize, 0x5A);
  bytes.insert(bytes.end(), garbage.begin(), garbage.end());
  EXPECT_EQ(a.on_bytes(bytes), Status::failed);
  EXPECT_EQ(a.error(), MseError::no_sync_marker);
}

TEST(MseMalformed, DegeneratePublicKey) {
  auto b = MseHandshake::responder(lookup_of({kInfoHash}), kCryptoRc4, secrets(kKeyB));
  EXPECT_EQ(b.on_bytes(Bytes(kDhKeySize, 0)), Status::failed);
  EXPECT_EQ(b.error(), MseError::bad_public_key);
  EXPECT_TRUE(b.take_output().empty());
}

// Runs steps 1-3 with `tamper` applied to step 3 (offset 40 = start of the encrypted part), and returns the
// responder's status.
struct Step3 {
  MseHandshake a;
  MseHandshake b;
  Bytes bytes;
};
Step3 up_to_step3(std::uint32_t provide, std::uint32_t allowed, std::vector<Sha1Digest> known,
                  std::size_t ia_size = 68) {
  Step3 s{MseHandshake::initiator(kInfoHash, provide, Bytes(ia_size, 'H'), secrets(kKeyA, 3)),
          MseHandshake::responder(lookup_of(std::move(known)), allowed, secrets(kKeyB, 4)),
          {}};
  s.b.on_bytes(s.a.take_output());
  s.a.on_bytes(s.b.take_output());
  s.bytes = s.a.take_output();
  return s;
}

// In a stream cipher a flipped ciphertext bit flips the same plaintext bit: these edit step 3's fields.
constexpr std::size_t kEnc = 40;  // VC at +0, crypto_provide +8, len(PadC) +12, len(IA) +14, IA +16

TEST(MseMalformed, BadVerificationConstant) {
  auto s = up_to_step3(kCryptoRc4, kCryptoRc4, {kInfoHash});
  s.bytes[kEnc + 3] ^= 0x01;
  EXPECT_EQ(s.b.on_bytes(s.bytes), Status::failed);
  EXPECT_EQ(s.b.error(), MseError::bad_vc);
}

TEST(MseMalformed, PadCTooLong) {
  auto s = up_to_step3(kCryptoRc4, kCryptoRc4, {kInfoHash});
  s.bytes[kEnc + 12] ^= 0x02;  // len(PadC) = 512 + 1: 0x0201
  s.bytes[kEnc + 13] ^= 0x01;
  EXPECT_EQ(s.b.on_bytes(s.bytes), Status::failed);
  EXPECT_EQ(s.b.error(), MseError::pad_too_long);
}

TEST(MseMalformed, PadCOfExactly512IsAccepted) {
  auto s = up_to_step3(kCryptoRc4, kCryptoRc4, {kInfoHash});
  s.bytes[kEnc + 12] ^= 0x02;  // len(PadC) = 512: the IA length and IA now read as pad, more bytes wanted
  EXPECT_EQ(s.b.on_bytes(s.bytes), Status::in_progress);
}

TEST(MseMalformed, InitialPayloadTooLong) {
  auto s = up_to_step3(kCryptoRc4, kCryptoRc4, {kInfoHash});
  s.bytes[kEnc + 14] ^= 0x50;  // len(IA) = 0x5044
  EXPECT_EQ(s.b.on_bytes(s.bytes), Status::failed);
  EXPECT_EQ(s.b.error(), MseError::payload_too_long);
}

TEST(MseMalformed, UnknownInfoHash) {
  auto s = up_to_step3(kCryptoRc4, kCryptoRc4, {hash::sha1("a"), hash::sha1("b")});
  EXPECT_EQ(s.b.on_bytes(s.bytes), Status::failed);
  EXPECT_EQ(s.b.error(), MseError::unknown_info_hash);
  EXPECT_TRUE(s.b.take_output().empty());
}

TEST(MseMalformed, NoCommonMethod) {
  auto s = up_to_step3(kCryptoPlaintext, kCryptoRc4, {kInfoHash});
  EXPECT_EQ(s.b.on_bytes(s.bytes), Status::failed);
  EXPECT_EQ(s.b.error(), MseError::no_common_method);
}

// Step 4's encrypted part: VC +0, crypto_select +8, len(PadD) +12.
Bytes step4_of(Step3& s) {
  EXPECT_EQ(s.b.on_bytes(s.bytes), Status::done);
  return s.b.take_output();
}

TEST(MseMalformed, CryptoSelectOfAMethodNotOffered) {
  auto s = up_to_step3(kCryptoRc4, kCryptoRc4 | kCryptoPlaintext, {kInfoHash});
  auto step4 = step4_of(s);
  step4[11] ^= 0x03;  // 0x02 -> 0x01: plaintext, which the initiator did not offer
  EXPECT_EQ(s.a.on_bytes(step4), Status::failed);
  EXPECT_EQ(s.a.error(), MseError::bad_crypto_select);
}

TEST(MseMalformed, CryptoSelectOfTwoMethods) {
  auto s = up_to_step3(kCryptoRc4 | kCryptoPlaintext, kCryptoRc4, {kInfoHash});
  auto step4 = step4_of(s);
  step4[11] ^= 0x01;  // 0x03: not exactly one method
  EXPECT_EQ(s.a.on_bytes(step4), Status::failed);
  EXPECT_EQ(s.a.error(), MseError::bad_crypto_select);
}

TEST(MseMalformed, PadDTooLong) {
  auto s = up_to_step3(kCryptoRc4, kCryptoRc4, {kInfoHash});
  auto step4 = step4_of(s);
  step4[12] ^= 0x03;  // len(PadD) = 768
  EXPECT_EQ(s.a.on_bytes(step4), Status::failed);
  EXPECT_EQ(s.a.error(), MseError::pad_too_long);
}

TEST(MseMalformed, TruncatedAtEveryByteStaysInProgress) {
  auto s = up_to_step3(kCryptoRc4, kCryptoRc4, {kInfoHash});
  // Every prefix of step 3 leaves the responder waiting, never failed or done early.
  for (std::size_t n = 0; n < s.bytes.size(); ++n) {
    auto b = MseHandshake::responder(lookup_of({kInfoHash}), kCryptoRc4, secrets(kKeyB, 4));
    b.on_bytes(from_hex(kYa));
    EXPECT_EQ(b.on_bytes(std::span<const std::uint8_t>(s.bytes.data(), n)), Status::in_progress) << n;
  }
  auto a = MseHandshake::initiator(kInfoHash, kCryptoRc4, text("hs"), secrets(kKeyA));
  EXPECT_EQ(a.on_bytes(Bytes(kDhKeySize - 1, 7)), Status::in_progress);
}

TEST(MseMalformed, RandomBytesNeverCrashAndAreBounded) {
  std::uint32_t state = 12345;
  for (int trial = 0; trial < 200; ++trial) {
    auto b = MseHandshake::responder(lookup_of({kInfoHash}), kCryptoRc4 | kCryptoPlaintext, secrets(kKeyB));
    Bytes noise(kMaxHandshakeBytes + 100);
    for (auto& x : noise) {
      state = state * 1664525u + 1013904223u;
      x = static_cast<std::uint8_t>(state >> 24);
    }
    feed(b, noise, 1 + trial % 97);
    EXPECT_NE(b.status(), Status::in_progress);
  }
}

}  // namespace
}  // namespace shoal::crypto
