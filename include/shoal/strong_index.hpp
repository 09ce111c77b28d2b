// Strong integer types for indexes so a piece index can never be passed where a file index is meant.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace shoal {

template <class Tag, class Rep = std::int32_t>
struct StrongIndex {
  using rep_type = Rep;
  Rep value{};

  constexpr StrongIndex() = default;
  constexpr explicit StrongIndex(Rep v) : value(v) {}
  constexpr Rep get() const { return value; }
  constexpr auto operator<=>(const StrongIndex&) const = default;
  constexpr StrongIndex& operator++() {
    ++value;
    return *this;
  }
  constexpr StrongIndex operator++(int) {
    StrongIndex old = *this;
    ++value;
    return old;
  }
};

using PieceIndex = StrongIndex<struct PieceIndexTag>;
using FileIndex = StrongIndex<struct FileIndexTag>;

}  // namespace shoal

template <class Tag, class Rep>
struct std::hash<shoal::StrongIndex<Tag, Rep>> {
  std::size_t operator()(const shoal::StrongIndex<Tag, Rep>& i) const noexcept {
    return std::hash<Rep>{}(i.value);
  }
};
