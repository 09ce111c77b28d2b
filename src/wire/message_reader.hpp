// Incremental, zero-copy framing of the peer wire stream.
//
// The runtime reads the socket straight into prepare(), commits what arrived, then calls next() until it says
// "need more". A length prefix is checked against the limit for its message id before a single byte of that
// message is buffered, so a peer cannot make us allocate more than the largest legal message. Views inside a
// returned Message stay valid until the next prepare(), take() or next() call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "shoal/expected.hpp"
#include "wire/message.hpp"
#include "wire/wire_error.hpp"

namespace shoal::wire {

struct ReaderLimits {
  static constexpr std::uint32_t kDefaultMaxBitfieldBytes = 1 << 20;  // 8 million pieces
  static constexpr std::uint32_t kDefaultMaxExtendedSize = 1 << 20;   // BEP 10 payloads incl. metadata pieces

  std::uint32_t max_bitfield_bytes = kDefaultMaxBitfieldBytes;
  std::uint32_t max_extended_size = kDefaultMaxExtendedSize;
};

class MessageReader {
 public:
  explicit MessageReader(ReaderLimits limits = {});

  // Space for at least `at_least` more bytes at the end of the buffer.
  std::span<std::uint8_t> prepare(std::size_t at_least);
  void commit(std::size_t n);

  // n raw bytes (e.g. the handshake) when that many are buffered; they are consumed.
  std::optional<std::span<const std::uint8_t>> take(std::size_t n);
  // Peeks at buffered bytes without consuming them.
  std::span<const std::uint8_t> buffered() const { return {buffer_.data() + read_, write_ - read_}; }

  // The next complete message; nullopt when more bytes are needed; an error closes the connection.
  Expected<std::optional<Message>, WireError> next();

  std::size_t capacity() const { return buffer_.size(); }
  // Part of a message is buffered (after next() said it needs more): a message has started and not finished.
  bool partial() const { return write_ > read_; }

 private:
  std::uint32_t max_length_for(std::uint8_t id) const;

  ReaderLimits limits_;
  std::vector<std::uint8_t> buffer_;
  std::size_t read_ = 0;
  std::size_t write_ = 0;
};

}  // namespace shoal::wire
