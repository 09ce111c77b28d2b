#include "storage/file_layout.hpp"

#include <algorithm>

namespace shoal::storage {

FileLayout::FileLayout(std::vector<FileSpec> files, std::int64_t piece_length)
    : files_(std::move(files)), piece_length_(piece_length) {
  offsets_.reserve(files_.size());
  for (const auto& f : files_) {
    offsets_.push_back(total_size_);
    total_size_ += f.length;
  }
  num_pieces_ = static_cast<std::int32_t>((total_size_ + piece_length_ - 1) / piece_length_);
}

std::int64_t FileLayout::piece_size(PieceIndex piece) const {
  if (piece.get() + 1 < num_pieces_) return piece_length_;
  return total_size_ - piece_length_ * (num_pieces_ - 1);
}

void FileLayout::map_range(PieceIndex piece, std::int64_t begin, std::int64_t length,
                           std::vector<FileSlice>& out) const {
  std::int64_t pos = piece.get() * piece_length_ + begin;
  std::int64_t end = pos + length;
  auto it = std::upper_bound(offsets_.begin(), offsets_.end(), pos);
  auto file = static_cast<std::size_t>(it - offsets_.begin()) - 1;
  while (pos < end && file < files_.size()) {
    std::int64_t file_end = offsets_[file] + files_[file].length;
    if (file_end > pos) {
      std::int64_t n = std::min(end, file_end) - pos;
      out.push_back(FileSlice{FileIndex{static_cast<std::int32_t>(file)}, pos - offsets_[file], n});
      pos += n;
    }
    ++file;
  }
}

std::pair<PieceIndex, PieceIndex> FileLayout::file_pieces(FileIndex file) const {
  std::int64_t begin = offsets_[static_cast<std::size_t>(file.get())];
  std::int64_t last = begin + files_[static_cast<std::size_t>(file.get())].length - 1;
  return {PieceIndex{static_cast<std::int32_t>(begin / piece_length_)},
          PieceIndex{static_cast<std::int32_t>(last / piece_length_)}};
}

}  // namespace shoal::storage
