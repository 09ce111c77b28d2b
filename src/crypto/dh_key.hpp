// The Diffie-Hellman exchange of MSE/PE: the spec's 768-bit prime P, generator 2, keys as 96-byte big-endian
// numbers (left-padded with zeros). Pure arithmetic through OpenSSL BIGNUM; the private key is an input, so
// that the caller chooses where randomness comes from (the driver: RAND_bytes; tests: fixed bytes).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace shoal::crypto {

inline constexpr std::size_t kDhKeySize = 96;       // bytes of P, of a public key and of the shared secret
inline constexpr std::size_t kPrivateKeySize = 20;  // 160 bits, as the spec recommends

using DhPublicKey = std::array<std::uint8_t, kDhKeySize>;
using DhSecret = std::array<std::uint8_t, kDhKeySize>;
using DhPrivateKey = std::array<std::uint8_t, kPrivateKeySize>;

// 2^private mod P.
DhPublicKey dh_public_key(const DhPrivateKey& private_key);

// their_public^private mod P; nullopt when their key is degenerate (0, 1, P-1 or not below P), which would
// make the secret guessable.
std::optional<DhSecret> dh_shared_secret(const DhPrivateKey& private_key,
                                         std::span<const std::uint8_t> their_public);

}  // namespace shoal::crypto
