// Where each byte of a torrent lives on disk: pieces map onto slices of files (pieces span file boundaries).
// Pure arithmetic, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "shoal/strong_index.hpp"

namespace shoal::storage {

struct FileSpec {
  std::string path;  // relative, '/'-separated, already sanitized
  std::int64_t length = 0;
  bool pad = false;  // BEP 47: zeros that are never written
};

struct FileSlice {
  FileIndex file{};
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
  std::int64_t piece_size(PieceIndex piece) const;
  std::int64_t file_offset(FileIndex file) const { return offsets_[static_cast<std::size_t>(file.get())]; }

  // Appends the slices covering [begin, begin + length) of a piece; zero-length files never appear.
  void map_range(PieceIndex piece, std::int64_t begin, std::int64_t length,
                 std::vector<FileSlice>& out) const;
  // First and last piece that touch a file (for file priorities). Precondition: the file is not empty.
  std::pair<PieceIndex, PieceIndex> file_pieces(FileIndex file) const;

 private:
  std::vector<FileSpec> files_;
  std::vector<std::int64_t> offsets_;
  std::int64_t piece_length_;
  std::int64_t total_size_ = 0;
  std::int32_t num_pieces_ = 0;
};

}  // namespace shoal::storage
