// Why a .torrent (or an info dictionary fetched from peers) was rejected.
#pragma once

#include <string>
#include <system_error>

namespace shoal::metainfo {

enum class Errc {
  invalid_bencode = 1,    // detail: the bencode error with its byte offset
  not_a_dict,             // the file is not a dictionary
  missing_info,           // no "info" dictionary
  missing_key,            // detail: the key, e.g. "info.piece length"
  wrong_type,             // detail: the key
  invalid_piece_length,   // zero, negative or absurdly large
  invalid_pieces_length,  // "pieces" not a multiple of 20
  piece_count_mismatch,   // number of hashes != ceil(total / piece length)
  invalid_file_length,    // negative length
  total_size_overflow,    // sizes overflow or exceed kMaxTotalSize
  empty_file_list,        // "files" with no entries
  both_length_and_files,  // single- and multi-file keys together
  invalid_path,           // ".." component, or nothing left after sanitizing
  duplicate_path,         // two files on one path, or a file where another needs a directory
  path_too_deep,          // more components than kMaxPathDepth
  too_many_files,         // more files than kMaxFiles
  // BEP 52 (v2 and hybrid torrents)
  unsupported_meta_version,  // "meta version" neither 1 nor 2
  invalid_v2_piece_length,   // not a power of two, or below 16 KiB
  invalid_file_tree,         // detail: where: a node that is not a dictionary, an empty name, a mixed leaf
  missing_pieces_root,       // a non-empty file without "pieces root" (or an all-zero one)
  invalid_pieces_root,       // "pieces root" that is not 32 bytes
  missing_piece_layer,       // a file larger than one piece without its entry in "piece layers"
  invalid_piece_layer_size,  // a piece layer that is not 32 bytes per piece of its file
  piece_layer_mismatch,      // a piece layer that does not hash to its file's pieces root
  hybrid_mismatch,           // the v1 and v2 halves of a hybrid list different files, lengths or order
  hybrid_unaligned,          // a v1 file of a hybrid not on its v2 piece boundary (BEP 47 pad files wrong)
};

const std::error_category& error_category() noexcept;
inline std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

struct MetainfoError {
  Errc code{};
  std::string detail;

  // e.g. "missing key 'info.piece length'", "invalid path 'a/../b': '..' is not allowed"
  std::string message() const;
};

}  // namespace shoal::metainfo

template <>
struct std::is_error_code_enum<shoal::metainfo::Errc> : std::true_type {};
