// RFC 4648 base32 (upper or lower case; '=' padding optional), as used by btih magnet links.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace shoal::magnet {

std::optional<std::string> base32_decode(std::string_view text);
std::string base32_encode(std::string_view bytes);  // upper case, padded

}  // namespace shoal::magnet
