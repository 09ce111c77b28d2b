// BEP 10 extension handshake: which extension messages a peer speaks (and under which ids), plus its client
// name, listen port, request queue depth, our address as it sees it, and the metadata size (BEP 9).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shoal/expected.hpp"
#include "wire/wire_error.hpp"

namespace shoal::wire {

inline constexpr std::size_t kMaxExtensionNames = 64;
inline constexpr std::size_t kMaxClientNameLength = 256;

struct ExtensionHandshake {
  std::vector<std::pair<std::string, std::uint8_t>> m;  // name -> message id; 0 = disabled
  std::optional<std::string> client;                    // "v"
  std::optional<std::uint16_t> listen_port;             // "p"
  std::optional<std::uint32_t> reqq;                    // how many requests the peer queues
  std::optional<std::string> yourip;                    // 4 or 16 raw bytes
  std::optional<std::int64_t> metadata_size;            // BEP 9
  bool upload_only = false;                             // BEP 21

  // The id the peer wants for `name`, when it speaks that extension.
  std::optional<std::uint8_t> id_of(std::string_view name) const;
};

std::string encode_extension_handshake(const ExtensionHandshake& h);
// Unknown keys and wrongly typed optional fields are ignored (clients add their own keys); an "m" that is not
// a dictionary, more than kMaxExtensionNames names, ids above 255 or a negative metadata_size are errors.
Expected<ExtensionHandshake, WireError> decode_extension_handshake(std::string_view payload);

}  // namespace shoal::wire
