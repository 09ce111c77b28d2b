// The files `shoal create` shares: one regular file, or every regular file below a directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "create/create_error.hpp"
#include "shoal/expected.hpp"

namespace shoal::create {

struct InputFile {
  std::filesystem::path absolute;
  std::string relative;  // '/'-separated below the root directory (the file name for a single file)
  std::int64_t size = 0;
};

struct InputSet {
  std::string name;  // the root's file name: the torrent's name
  bool single_file = true;
  std::vector<InputFile> files;  // sorted by relative path as raw bytes, so output is deterministic
  std::int64_t total_size = 0;
};

// Symbolic links are not followed: a link could point outside the shared folder (or loop), and sharing what
// it points to is rarely what the user meant. Hidden files are included; empty directories are ignored.
Expected<InputSet, CreateError> collect_input(const std::filesystem::path& root);

// Reorders the files as a BEP 52 file tree lists them: component by component, each level in raw byte order
// ("a/x" before "a.txt", where the whole-path order puts "a.txt" first). v2 and hybrid torrents need it.
void sort_for_file_tree(InputSet& input);

}  // namespace shoal::create
