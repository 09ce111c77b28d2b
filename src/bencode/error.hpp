// Bencode decoding errors: every error names its kind and the byte offset where it was found.
#pragma once

#include <cstddef>
#include <string>
#include <system_error>

namespace shoal::bencode {

enum class Errc {
  unexpected_end = 1,     // input ended inside a value
  unexpected_character,   // a byte that cannot start or continue a value here
  invalid_integer,        // "ie", "i-e", non-digit inside i...e
  leading_zero,           // "i03e" or "03:abc"
  negative_zero,          // "i-0e"
  integer_overflow,       // does not fit in int64
  invalid_string_length,  // malformed length prefix
  string_too_long,        // length prefix points past the end of input
  non_string_key,         // dictionary key is not a byte string
  unsorted_keys,          // dictionary keys not in ascending raw byte order
  duplicate_key,          // the same key twice in one dictionary
  depth_exceeded,         // nesting deeper than Limits::max_depth
  too_many_items,         // more values than Limits::max_items
  input_too_large,        // input longer than Limits::max_input_size
  trailing_data,          // bytes after the top-level value
};

const std::error_category& error_category() noexcept;
inline std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

struct DecodeError {
  Errc code{};
  std::size_t offset = 0;  // byte offset in the input where the problem was detected

  // e.g. "unsorted dictionary keys at byte 42"
  std::string message() const;
  bool operator==(const DecodeError&) const = default;
};

}  // namespace shoal::bencode

template <>
struct std::is_error_code_enum<shoal::bencode::Errc> : std::true_type {};
