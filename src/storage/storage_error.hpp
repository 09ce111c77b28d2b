// Why a file of a torrent is refused before any byte of it is read or written: whatever stands at its path in
// the download folder is not something Shoal may open (a FIFO would block open() forever, a device or socket
// is not data, a link could lead outside the folder), or the path is longer than the file system allows.
#pragma once

#include <filesystem>
#include <string>
#include <system_error>

namespace shoal::storage {

// PATH_MAX on Linux, counting the terminating NUL: a longer path cannot be passed to any system call.
inline constexpr std::size_t kMaxPathBytes = 4096;

enum class Errc {
  fifo = 1,         // a named pipe stands where the torrent has a file
  device,           // a character or block device
  socket,           // a Unix socket
  directory,        // a directory where the torrent has a file
  symlink,          // a symbolic link below the download folder (never followed: see piece_storage.hpp)
  not_a_directory,  // a file (or anything but a real directory) where the path needs a folder
  path_too_long,    // longer than kMaxPathBytes - 1 bytes once joined below the download folder
  deleted,          // a file this torrent created or found was deleted (or moved away) while in use
};

const std::error_category& error_category() noexcept;
inline std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

// The Errc for a file type that is not a regular file (st_mode & S_IFMT), or a default error_code for a
// regular file.
std::error_code refusal_for_mode(unsigned mode) noexcept;

// A file of the torrent that cannot be used, and why.
struct FileError {
  std::filesystem::path path;
  std::error_code code;
  std::string message() const { return path.string() + ": " + code.message(); }
};

}  // namespace shoal::storage

template <>
struct std::is_error_code_enum<shoal::storage::Errc> : std::true_type {};
