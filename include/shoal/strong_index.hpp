/// @file
/// Strong integer types for indexes so a piece index can never be passed where a file index is meant.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace shoal {

/// An integer of kind Tag: converts to and from Rep only explicitly. A plain value.
template <class Tag, class Rep = std::int32_t>
struct StrongIndex {
  using rep_type = Rep;  ///< the underlying integer type
  Rep value{};           ///< the index, zero-based

  constexpr StrongIndex() = default;
  /// Index `v` (explicit, so a plain integer never passes for an index by accident).
  constexpr explicit StrongIndex(Rep v) : value(v) {}
  /// The plain integer.
  constexpr Rep get() const { return value; }
  constexpr auto operator<=>(const StrongIndex&) const = default;
  /// Next index (pre-increment).
  constexpr StrongIndex& operator++() {
    ++value;
    return *this;
  }
  /// Next index (post-increment).
  constexpr StrongIndex operator++(int) {
    StrongIndex old = *this;
    ++value;
    return old;
  }
};

using PieceIndex = StrongIndex<struct PieceIndexTag>;  ///< a piece of a torrent, zero-based
using FileIndex = StrongIndex<struct FileIndexTag>;    ///< a file of a torrent, in its file order

}  // namespace shoal

/// Hashes an index like its integer.
template <class Tag, class Rep>
struct std::hash<shoal::StrongIndex<Tag, Rep>> {
  std::size_t operator()(const shoal::StrongIndex<Tag, Rep>& i) const noexcept {
    return std::hash<Rep>{}(i.value);
  }
};
