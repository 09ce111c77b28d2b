// Fuzzes both sides of the MSE/PE handshake. A genuine conversation between two fixed keys is recorded, then
// the side under test hears the other side's bytes XORed with the input (a flipped ciphertext bit is a
// flipped plaintext bit in RC4, so every field is reached: lengths, VC, crypto_provide/select, hashes), with
// any input beyond the transcript appended raw, delivered in chunks the input chooses. Whatever happens must
// be a handshake that completes sanely, fails with a reason, or waits within the bounds.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <tuple>
#include <vector>

#include "crypto/mse_handshake.hpp"
#include "hash/sha.hpp"

namespace {
using namespace shoal;
using namespace shoal::crypto;

MseSecrets fixed(std::uint8_t seed, std::size_t pad) {
  MseSecrets s;
  for (std::size_t i = 0; i < s.private_key.size(); ++i)
    s.private_key[i] = static_cast<std::uint8_t>(seed + i);
  s.pad.assign(pad, seed);
  return s;
}

void check(bool ok) {
  if (!ok) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  static const Sha1Digest ours = hash::sha1("fuzz");
  const bool test_responder = (data[0] & 1) != 0;
  const std::uint32_t provide = (data[0] & 2) ? kCryptoRc4 : (kCryptoRc4 | kCryptoPlaintext);
  const std::uint32_t allowed = (data[0] & 4) ? kCryptoRc4 : (kCryptoRc4 | kCryptoPlaintext);
  const std::size_t chunk = 1 + data[1] % 97;
  const std::size_t pad = data[2] % 5 * 128;  // 0..512
  data += 3;
  size -= 3;
  auto lookup = [](const Sha1Digest& req2) -> std::optional<Sha1Digest> {
    if (mse_req2_hash(ours) == req2) return ours;
    return std::nullopt;
  };
  std::vector<std::uint8_t> ia(68, 'H');

  // The genuine conversation, recorded once per (provide, allowed, pad): Diffie-Hellman is the slow part.
  struct Transcript {
    std::vector<std::uint8_t> to_a, to_b;
  };
  static std::map<std::tuple<std::uint32_t, std::uint32_t, std::size_t>, Transcript> recorded;
  auto& t = recorded[{provide, allowed, pad}];
  if (t.to_b.empty()) {
    auto a = MseHandshake::initiator(ours, provide, ia, fixed(1, pad));
    auto b = MseHandshake::responder(lookup, allowed, fixed(101, pad));
    t.to_b = a.take_output();
    b.on_bytes(t.to_b);
    t.to_a = b.take_output();
    a.on_bytes(t.to_a);
    auto step3 = a.take_output();
    t.to_b.insert(t.to_b.end(), step3.begin(), step3.end());
    b.on_bytes(step3);
    auto step4 = b.take_output();
    t.to_a.insert(t.to_a.end(), step4.begin(), step4.end());
    check(a.on_bytes(step4) == MseHandshake::Status::done && b.done());
  }
  const auto& to_a = t.to_a;
  const auto& to_b = t.to_b;

  // The side under test hears a mutated copy.
  auto heard = test_responder ? to_b : to_a;
  for (std::size_t i = 0; i < size; ++i) {
    if (i < heard.size())
      heard[i] ^= data[i];
    else
      heard.push_back(data[i]);
  }
  auto under_test = test_responder ? MseHandshake::responder(lookup, allowed, fixed(101, pad))
                                   : MseHandshake::initiator(ours, provide, ia, fixed(1, pad));
  std::size_t sent = under_test.take_output().size();
  std::size_t fed = 0;
  for (; fed < heard.size() && under_test.status() == MseHandshake::Status::in_progress; fed += chunk) {
    auto n = std::min(chunk, heard.size() - fed);
    under_test.on_bytes(std::span<const std::uint8_t>(heard.data() + fed, n));
    sent += under_test.take_output().size();
  }
  check(sent <= kDhKeySize + kMaxPad + 40 + kVcSize + 8 + ia.size());
  switch (under_test.status()) {
    case MseHandshake::Status::in_progress:
      check(fed <= kMaxHandshakeBytes + chunk);
      break;
    case MseHandshake::Status::failed:
      check(under_test.error().has_value());
      check(under_test.on_bytes(heard) == MseHandshake::Status::failed);
      check(under_test.take_output().empty());
      break;
    case MseHandshake::Status::done: {
      auto selected = under_test.selected();
      check(selected == kCryptoRc4 || selected == kCryptoPlaintext);
      check((selected & (test_responder ? allowed : provide)) != 0);
      if (test_responder) check(under_test.info_hash() == ours);
      check(under_test.take_payload().size() <= heard.size());
      break;
    }
  }
  return 0;
}
