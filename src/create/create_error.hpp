// Why `shoal create` could not read or hash its input.
#pragma once

#include <string>
#include <system_error>

namespace shoal::create {

enum class Errc {
  not_found = 1,  // the path does not exist
  not_regular,    // neither a regular file nor a directory
  empty,          // no files, or only empty files
  io_error,       // a read or directory walk failed (detail carries the system message)
  file_changed,   // a file shrank or vanished while it was hashed
  cancelled,      // the caller asked to stop
};

const std::error_category& error_category() noexcept;
inline std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

struct CreateError {
  Errc code{};
  std::string detail;  // usually the path involved
  std::string message() const;
};

}  // namespace shoal::create

template <>
struct std::is_error_code_enum<shoal::create::Errc> : std::true_type {};
