// 16-bit uTP sequence numbers wrap; these compare them the way BEP 29 does, within half the number space.
#pragma once

#include <cstdint>

namespace shoal::utp {

// How far b is ahead of a (negative: behind), modulo 2^16.
inline int seq_distance(std::uint16_t a, std::uint16_t b) {
  return static_cast<std::int16_t>(static_cast<std::uint16_t>(b - a));
}
inline bool seq_less(std::uint16_t a, std::uint16_t b) {
  return seq_distance(a, b) > 0;
}

}  // namespace shoal::utp
