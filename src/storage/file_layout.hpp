// Where each byte of a torrent lives on disk: pieces map onto slices of files (pieces span file boundaries).
// Pure arithmetic, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace shoal::storage {

struct FileSpec {
  std::string path;  // relative, '/'-separated, already sanitized
  std::int64_t length = 0;
  bool pad = false;  // BEP 47: zeros that are never written
};

struct FileSlice {
  std::int32_t file = 0;
  std::int64_t file_offset = 0;
  std::int64_t length = 0;
};

class FileLayout {
 public:
  FileLayout(std::vector<FileSpec> files, std::int64_t piece_length);

  const std::vector<FileSpec>& files() const { return files_; }
  std::int64_t piece_length() const { return piece_length_; }
  std::int64_t total_size() const { return total_size_; }
  std::int32_t num_pieces() const { return num_pieces_; }
  std::int64_t piece_size(std::int32_t piece) const;
  std::int64_t file_offset(std::int32_t file) const { return offsets_[static_cast<std::size_t>(file)]; }

  // Appends the slices covering [begin, begin + length) of a piece; zero-length files never appear.
  void map_range(std::int32_t piece, std::int64_t begin, std::int64_t length,
                 std::vector<FileSlice>& out) const;
  // First and last piece that touch a file (for file priorities). Precondition: the file is not empty.
  std::pair<std::int32_t, std::int32_t> file_pieces(std::int32_t file) const;

 private:
  std::vector<FileSpec> files_;
  std::vector<std::int64_t> offsets_;
  std::int64_t piece_length_;
  std::int64_t total_size_ = 0;
  std::int32_t num_pieces_ = 0;
};

}  // namespace shoal::storage
