// Why a peer connection is closed for what the peer sent.
#pragma once

#include <string>
#include <system_error>

namespace shoal::wire {

enum class Errc {
  invalid_handshake = 1,  // wrong protocol string length or text
  message_too_large,      // length prefix above the limit for its message id (refused before buffering)
  bad_message_length,     // a fixed-size message with the wrong size
  bad_extension_payload,  // a BEP 10 / 9 / 11 payload that does not decode
  too_many_entries,       // a list above its named cap
  metadata_too_large,     // ut_metadata size above kMaxMetadataSize
  metadata_mismatch,      // assembled metadata does not hash to the info-hash
  bad_hash_request,       // BEP 52 hash request/hashes/reject whose run or proof fits no merkle tree
};

const std::error_category& error_category() noexcept;
inline std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

struct WireError {
  Errc code{};
  const char* detail = "";  // static text naming the message or field
  std::string message() const;
};

}  // namespace shoal::wire

template <>
struct std::is_error_code_enum<shoal::wire::Errc> : std::true_type {};
