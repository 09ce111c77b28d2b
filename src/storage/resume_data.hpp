// Resume data: which pieces are verified on disk, and the size and modification time of every file when that
// was true. Saved atomically; a checksum over the content catches corruption, and files whose stamps differ
// from the saved ones mean the data must be rechecked: never trusted blindly.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "shoal/digest.hpp"
#include "shoal/expected.hpp"
#include "storage/file_layout.hpp"
#include "swarm/bitfield.hpp"

namespace shoal::storage {

struct FileStamp {
  std::int64_t size = -1;  // -1: the file does not exist
  std::int64_t mtime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

struct ResumeData {
  Sha1Digest info_hash;
  swarm::Bitfield have;  // verified pieces (saved in the BEP 3 wire layout)
  std::vector<FileStamp> files;
  std::int64_t uploaded = 0;
  std::int64_t downloaded = 0;
};

std::string encode_resume(const ResumeData& data);
// Errors are human-readable reasons ("checksum mismatch", "for another torrent", ...). A bitfield of the
// wrong size or with spare bits set is refused.
Expected<ResumeData, std::string> decode_resume(std::string_view bytes, const Sha1Digest& expected_info_hash,
                                                std::int32_t num_pieces);

std::vector<FileStamp> collect_file_stamps(const std::filesystem::path& root, const FileLayout& layout);

}  // namespace shoal::storage
