// What a finished MSE/PE handshake leaves behind for the rest of the connection: RC4 both ways, or nothing
// (plaintext was selected). Applied by the driver to every byte read from and written to the socket.
#pragma once

#include <cstdint>
#include <span>

#include "crypto/rc4.hpp"

namespace shoal::crypto {

class StreamCipher {
 public:
  StreamCipher() = default;  // plaintext: both directions pass through
  StreamCipher(Rc4 encrypt, Rc4 decrypt) : rc4_(true), encrypt_(encrypt), decrypt_(decrypt) {}

  bool encrypts() const { return rc4_; }
  // Bytes to send, in the order they go on the wire.
  void encrypt(std::span<std::uint8_t> data) {
    if (rc4_) encrypt_.apply(data);
  }
  void encrypt(std::span<const std::uint8_t> in, std::uint8_t* out) {
    if (rc4_) encrypt_.apply(in, out);
  }
  // Bytes received, in the order they came off the wire.
  void decrypt(std::span<std::uint8_t> data) {
    if (rc4_) decrypt_.apply(data);
  }

 private:
  bool rc4_ = false;
  Rc4 encrypt_;
  Rc4 decrypt_;
};

}  // namespace shoal::crypto
