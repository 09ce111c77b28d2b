// Percent-encoding (RFC 3986) for magnet and tracker URIs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace shoal::magnet {

// Decodes %XX escapes. '+' is kept as '+': magnet links are URIs, not HTML form data.
std::optional<std::string> percent_decode(std::string_view text);
// Escapes every byte except RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~).
std::string percent_encode(std::string_view bytes);

}  // namespace shoal::magnet
