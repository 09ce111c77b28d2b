// A set of piece indexes stored in the BEP 3 wire layout (first piece in the high bit of the first byte). The
// one piece-set type: our pieces, a peer's pieces, the pieces a recheck or resume data found verified.
#pragma once

#include <bit>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "shoal/strong_index.hpp"

namespace shoal::swarm {

class Bitfield {
 public:
  Bitfield() = default;
  explicit Bitfield(std::int32_t size, bool value = false)
      : bytes_(static_cast<std::size_t>((size + 7) / 8), value ? 0xff : 0),
        size_(size),
        count_(value ? size : 0) {
    clear_spare_bits();
  }

  // nullopt when the byte count is wrong or spare bits past `size` are set (BEP 3 says drop the peer).
  static std::optional<Bitfield> from_wire(std::span<const std::uint8_t> bytes, std::int32_t size) {
    if (bytes.size() != static_cast<std::size_t>((size + 7) / 8)) return std::nullopt;
    Bitfield b;
    b.bytes_.assign(bytes.begin(), bytes.end());
    b.size_ = size;
    if (size % 8 != 0 && !b.bytes_.empty() && (b.bytes_.back() & (0xff >> (size % 8))) != 0)
      return std::nullopt;
    for (auto byte : b.bytes_)
      b.count_ += std::popcount(byte);
    return b;
  }

  std::int32_t size() const { return size_; }
  std::int32_t count() const { return count_; }
  bool all() const { return count_ == size_; }
  bool none() const { return count_ == 0; }
  // Precondition for test, set and reset: 0 <= piece < size().
  bool test(PieceIndex piece) const {
    auto i = piece.get();
    return (bytes_[static_cast<std::size_t>(i) / 8] & (0x80 >> (i % 8))) != 0;
  }
  void set(PieceIndex piece) {
    auto i = piece.get();
    auto& byte = bytes_[static_cast<std::size_t>(i) / 8];
    auto mask = static_cast<std::uint8_t>(0x80 >> (i % 8));
    if ((byte & mask) == 0) {
      byte |= mask;
      ++count_;
    }
  }
  void reset(PieceIndex piece) {
    auto i = piece.get();
    auto& byte = bytes_[static_cast<std::size_t>(i) / 8];
    auto mask = static_cast<std::uint8_t>(0x80 >> (i % 8));
    if ((byte & mask) != 0) {
      byte = static_cast<std::uint8_t>(byte & ~mask);
      --count_;
    }
  }
  void set_all() {
    std::fill(bytes_.begin(), bytes_.end(), 0xff);
    clear_spare_bits();
    count_ = size_;
  }
  std::span<const std::uint8_t> wire() const { return bytes_; }
  bool operator==(const Bitfield& o) const { return size_ == o.size_ && bytes_ == o.bytes_; }

 private:
  void clear_spare_bits() {
    if (size_ % 8 != 0 && !bytes_.empty())
      bytes_.back() &= static_cast<std::uint8_t>(0xff << (8 - size_ % 8));
  }
  std::vector<std::uint8_t> bytes_;
  std::int32_t size_ = 0;
  std::int32_t count_ = 0;
};

}  // namespace shoal::swarm
