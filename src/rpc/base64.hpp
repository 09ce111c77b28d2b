// Base64 (RFC 4648, standard alphabet) for the RPC: torrent-add's `metainfo`, the `pieces` bitfield and HTTP
// Basic credentials. Decoding is strict about the alphabet but accepts missing padding and skips whitespace
// (clients wrap long lines).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace shoal::rpc {

std::string base64_encode(std::string_view bytes);
// nullopt when a character is outside the alphabet or the length cannot be base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace shoal::rpc
