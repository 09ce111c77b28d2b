/// @file
/// The library's version.
#pragma once

#include <string_view>

namespace shoal {

/// "0.1.0" (major.minor.patch of the library); also used in the created-by field and the peer id prefix.
/// A view of a static string. Thread-safe.
std::string_view version() noexcept;

}  // namespace shoal
