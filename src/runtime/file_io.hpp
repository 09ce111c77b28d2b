// Whole-file helpers for small files (torrents, resume data): bounded reads and crash-safe writes.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "shoal/expected.hpp"

namespace shoal::runtime {

// Reads a whole regular file; fails with errc::file_too_large when it exceeds max_size (hostile or wrong
// input must not make us allocate gigabytes), errc::is_a_directory for a directory and errc::invalid_argument
// for anything else that is not a regular file (a FIFO, a device: never blocks on them).
Expected<std::string, std::error_code> read_file(const std::filesystem::path& path, std::size_t max_size);

// Writes data to path so that a crash leaves either the old or the new content, never a torn file:
// write a temporary beside it, fsync, rename over, fsync the directory.
std::error_code write_file_atomically(const std::filesystem::path& path, std::string_view data);

}  // namespace shoal::runtime
