#include "metainfo/metainfo_error.hpp"

namespace shoal::metainfo {
namespace {

const char* describe(Errc e) {
  switch (e) {
    case Errc::invalid_bencode:
      return "not valid bencode";
    case Errc::not_a_dict:
      return "not a torrent: the file is not a dictionary";
    case Errc::missing_info:
      return "not a torrent: no info dictionary";
    case Errc::missing_key:
      return "missing key";
    case Errc::wrong_type:
      return "wrong type for key";
    case Errc::invalid_piece_length:
      return "invalid piece length";
    case Errc::invalid_pieces_length:
      return "length of 'pieces' is not a multiple of 20";
    case Errc::piece_count_mismatch:
      return "number of piece hashes does not match the total size";
    case Errc::invalid_file_length:
      return "invalid file length";
    case Errc::total_size_overflow:
      return "total size is too large";
    case Errc::empty_file_list:
      return "empty file list";
    case Errc::both_length_and_files:
      return "info has both 'length' and 'files'";
    case Errc::invalid_path:
      return "invalid path";
    case Errc::duplicate_path:
      return "duplicate path";
    case Errc::path_too_deep:
      return "path too deep";
    case Errc::too_many_files:
      return "too many files";
    case Errc::unsupported_meta_version:
      return "unsupported meta version";
    case Errc::invalid_v2_piece_length:
      return "v2 piece length must be a power of two of at least 16 KiB";
    case Errc::invalid_file_tree:
      return "invalid file tree";
    case Errc::missing_pieces_root:
      return "missing pieces root";
    case Errc::invalid_pieces_root:
      return "pieces root is not 32 bytes";
    case Errc::missing_piece_layer:
      return "missing piece layer";
    case Errc::invalid_piece_layer_size:
      return "piece layer has the wrong size";
    case Errc::piece_layer_mismatch:
      return "piece layer does not hash to the pieces root";
    case Errc::hybrid_mismatch:
      return "the v1 and v2 halves of the hybrid torrent disagree";
    case Errc::hybrid_unaligned:
      return "hybrid torrent's v1 file is not aligned to a piece boundary";
  }
  return "invalid torrent";
}

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "shoal.metainfo"; }
  std::string message(int ev) const override { return describe(static_cast<Errc>(ev)); }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

std::string MetainfoError::message() const {
  if (code == Errc::invalid_bencode) return "not a valid torrent: " + detail;
  if (detail.empty()) return describe(code);
  return std::string(describe(code)) + ": " + detail;
}

}  // namespace shoal::metainfo
