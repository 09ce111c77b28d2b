// RC4, the stream cipher of MSE/PE. Shoal's own (a few lines) rather than OpenSSL's: OpenSSL 3 keeps RC4 in
// its "legacy" provider, which has to be loaded into a library context and found on disk at run time (a
// missing ossl-modules/legacy.so would silently turn encryption off), and the default context is process-wide
// state. RC4 is not used for secrecy here, only to look unlike BitTorrent to traffic shapers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace shoal::crypto {

class Rc4 {
 public:
  Rc4() = default;  // an unkeyed state: the identity permutation, never used to encrypt
  // Key schedule over `key` (1..256 bytes), then `discard` bytes of keystream thrown away (MSE: 1024).
  Rc4(std::span<const std::uint8_t> key, std::size_t discard);

  // XORs the keystream into `data`, in place: encryption and decryption are the same operation.
  void apply(std::span<std::uint8_t> data);
  // Writes `in` XOR keystream to `out` (same size; may alias `in`).
  void apply(std::span<const std::uint8_t> in, std::uint8_t* out);

 private:
  std::array<std::uint8_t, 256> s_{};
  std::uint8_t i_ = 0;
  std::uint8_t j_ = 0;
};

}  // namespace shoal::crypto
