#pragma once

#include <string_view>

namespace shoal {

// "0.1.0"; also used in the created-by field and the peer id prefix.
std::string_view version() noexcept;

}  // namespace shoal
