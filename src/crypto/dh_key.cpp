#include "crypto/dh_key.hpp"

#include <openssl/bn.h>

#include <memory>

namespace shoal::crypto {
namespace {

// The MSE/PE prime (768 bits); not the RFC 2409 Oakley group 1 prime, whose low bits differ.
constexpr std::array<std::uint8_t, kDhKeySize> kPrime = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC9, 0x0F, 0xDA, 0xA2, 0x21, 0x68, 0xC2, 0x34,
    0xC4, 0xC6, 0x62, 0x8B, 0x80, 0xDC, 0x1C, 0xD1, 0x29, 0x02, 0x4E, 0x08, 0x8A, 0x67, 0xCC, 0x74,
    0x02, 0x0B, 0xBE, 0xA6, 0x3B, 0x13, 0x9B, 0x22, 0x51, 0x4A, 0x08, 0x79, 0x8E, 0x34, 0x04, 0xDD,
    0xEF, 0x95, 0x19, 0xB3, 0xCD, 0x3A, 0x43, 0x1B, 0x30, 0x2B, 0x0A, 0x6D, 0xF2, 0x5F, 0x14, 0x37,
    0x4F, 0xE1, 0x35, 0x6D, 0x6D, 0x51, 0xC2, 0x45, 0xE4, 0x85, 0xB5, 0x76, 0x62, 0x5E, 0x7E, 0xC6,
    0xF4, 0x4C, 0x42, 0xE9, 0xA6, 0x3A, 0x36, 0x21, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x05, 0x63};

struct BnFree {
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
struct CtxFree {
  void operator()(BN_CTX* c) const { BN_CTX_free(c); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;
using Ctx = std::unique_ptr<BN_CTX, CtxFree>;

Bn from_bytes(std::span<const std::uint8_t> bytes) {
  return Bn(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
}

std::array<std::uint8_t, kDhKeySize> to_bytes(const BIGNUM* n) {
  std::array<std::uint8_t, kDhKeySize> out{};
  BN_bn2binpad(n, out.data(), static_cast<int>(out.size()));
  return out;
}

// base^exponent mod P, constant-time in the exponent (it is our private key).
std::optional<std::array<std::uint8_t, kDhKeySize>> power(const BIGNUM* base, const DhPrivateKey& exponent) {
  Ctx ctx(BN_CTX_new());
  Bn p = from_bytes(kPrime);
  Bn x = from_bytes(exponent);
  Bn r(BN_new());
  if (!ctx || !p || !x || !r || !base) return std::nullopt;
  BN_set_flags(x.get(), BN_FLG_CONSTTIME);
  if (BN_mod_exp(r.get(), base, x.get(), p.get(), ctx.get()) != 1) return std::nullopt;
  return to_bytes(r.get());
}

}  // namespace

DhPublicKey dh_public_key(const DhPrivateKey& private_key) {
  Bn g(BN_new());
  if (g) BN_set_word(g.get(), 2);
  auto y = power(g.get(), private_key);
  return y ? *y : DhPublicKey{};  // only allocation failure gets here; an all-zero key fails the peer's check
}

std::optional<DhSecret> dh_shared_secret(const DhPrivateKey& private_key,
                                         std::span<const std::uint8_t> their_public) {
  if (their_public.size() != kDhKeySize) return std::nullopt;
  Bn y = from_bytes(their_public);
  Bn p_minus_1 = from_bytes(kPrime);
  if (!y || !p_minus_1 || !BN_sub_word(p_minus_1.get(), 1)) return std::nullopt;
  if (BN_is_zero(y.get()) || BN_is_one(y.get()) || BN_cmp(y.get(), p_minus_1.get()) >= 0) return std::nullopt;
  return power(y.get(), private_key);
}

}  // namespace shoal::crypto
