#include "storage/resume_data.hpp"

#include <sys/stat.h>

#include "bencode/decoder.hpp"
#include "bencode/value.hpp"
#include "hash/sha.hpp"

namespace shoal::storage {
namespace {
constexpr std::int64_t kResumeVersion = 1;
}

std::string encode_resume(const ResumeData& data) {
  using bencode::Value;
  Value::Dict content;
  content["version"] = kResumeVersion;
  content["info-hash"] = std::string(data.info_hash.raw());
  auto pieces = data.have.wire();
  content["pieces"] = std::string(pieces.begin(), pieces.end());
  Value::List files;
  for (const auto& f : data.files)
    files.emplace_back(Value::List{f.size, f.mtime_ns});
  content["files"] = std::move(files);
  content["uploaded"] = data.uploaded;
  content["downloaded"] = data.downloaded;
  std::string payload = bencode::encode(Value(std::move(content)));
  Value::Dict wrapper;
  wrapper["checksum"] = std::string(hash::sha1(payload).raw());
  wrapper["payload"] = payload;
  return bencode::encode(Value(std::move(wrapper)));
}

Expected<ResumeData, std::string> decode_resume(std::string_view bytes, const Sha1Digest& expected_info_hash,
                                                std::int32_t num_pieces) {
  auto outer = bencode::decode(bytes);
  if (!outer || !outer->root().is_dict()) return unexpected(std::string("not a resume file"));
  auto checksum = outer->root().find_string("checksum");
  auto payload = outer->root().find_string("payload");
  if (!checksum || !payload) return unexpected(std::string("not a resume file"));
  if (hash::sha1(*payload).raw() != *checksum) return unexpected(std::string("checksum mismatch"));
  auto doc = bencode::decode(*payload);
  if (!doc || !doc->root().is_dict()) return unexpected(std::string("corrupt content"));
  auto root = doc->root();
  if (root.find_int("version") != kResumeVersion) return unexpected(std::string("unknown version"));
  auto info_hash = root.find_string("info-hash");
  if (!info_hash || *info_hash != expected_info_hash.raw())
    return unexpected(std::string("for another torrent"));
  auto pieces = root.find_string("pieces");
  if (!pieces || pieces->size() != static_cast<std::size_t>((num_pieces + 7) / 8)) {
    return unexpected(std::string("wrong piece count"));
  }
  auto have = swarm::Bitfield::from_wire(
      std::span(reinterpret_cast<const std::uint8_t*>(pieces->data()), pieces->size()), num_pieces);
  if (!have) return unexpected(std::string("spare bits set in the piece bitfield"));
  ResumeData data;
  data.info_hash = expected_info_hash;
  data.have = std::move(*have);
  auto files = root.find_list("files");
  if (!files) return unexpected(std::string("no file list"));
  for (auto entry : files->children()) {
    if (!entry.is_list() || entry.size() != 2 || !entry.at(0).is_int() || !entry.at(1).is_int()) {
      return unexpected(std::string("corrupt file list"));
    }
    data.files.push_back(FileStamp{entry.at(0).as_int(), entry.at(1).as_int()});
  }
  data.uploaded = root.find_int("uploaded").value_or(0);
  data.downloaded = root.find_int("downloaded").value_or(0);
  return data;
}

std::vector<FileStamp> collect_file_stamps(const std::filesystem::path& root, const FileLayout& layout) {
  std::vector<FileStamp> stamps;
  stamps.reserve(layout.files().size());
  for (const auto& f : layout.files()) {
    struct stat st {};
    if (f.pad || ::lstat((root / f.path).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      stamps.push_back(FileStamp{});
      continue;
    }
    stamps.push_back(FileStamp{st.st_size, st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec});
  }
  return stamps;
}

}  // namespace shoal::storage
