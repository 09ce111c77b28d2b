#include "storage/resume_data.hpp"

#include <sys/stat.h>

#include <algorithm>

#include "bencode/decoder.hpp"
#include "bencode/value.hpp"
#include "hash/merkle.hpp"
#include "hash/sha.hpp"

namespace shoal::storage {
namespace {
constexpr std::int64_t kResumeVersion = 1;
constexpr std::int64_t kResumeBlockSize = 16 * 1024;  // the wire's block size (BEP 3, BEP 52 leaves)

std::int32_t blocks_in_piece(PieceShape shape, std::int32_t num_pieces, std::int32_t piece) {
  std::int64_t size =
      piece + 1 < num_pieces ? shape.piece_length : shape.total_size - shape.piece_length * (num_pieces - 1);
  return static_cast<std::int32_t>((size + kResumeBlockSize - 1) / kResumeBlockSize);
}

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// One unfinished entry, or why it is left out.
Expected<UnfinishedPiece, std::string> decode_unfinished(bencode::Node entry, const swarm::Bitfield& have,
                                                         PieceShape shape) {
  if (!entry.is_dict()) return unexpected(std::string("not a dictionary"));
  auto piece = entry.find_int("piece");
  auto blocks = entry.find_string("blocks");
  if (!piece || !blocks) return unexpected(std::string("no piece or no blocks"));
  if (*piece < 0 || *piece >= have.size()) return unexpected("unknown piece " + std::to_string(*piece));
  PieceIndex index{static_cast<std::int32_t>(*piece)};
  std::string name = "piece " + std::to_string(*piece) + ": ";
  if (have.test(index)) return unexpected(name + "already verified");
  auto count = blocks_in_piece(shape, have.size(), index.get());
  if (blocks->size() > static_cast<std::size_t>((count + 7) / 8))
    return unexpected(name + "a block index out of range");
  auto mask = swarm::Bitfield::from_wire(bytes_of(*blocks), count);
  if (!mask) {
    return unexpected(name + (blocks->size() < static_cast<std::size_t>((count + 7) / 8)
                                  ? "block bitfield too short"
                                  : "a block index out of range"));
  }
  if (mask->none()) return unexpected(name + "no blocks");
  UnfinishedPiece out;
  out.piece = index;
  out.blocks = std::move(*mask);
  if (auto leaves = entry.find_string("leaves")) {
    if (leaves->size() != static_cast<std::size_t>(count) * 32)
      return unexpected(name + "leaf hashes of the wrong size");
    for (std::size_t i = 0; i < leaves->size(); i += 32) {
      Sha256Digest d;
      std::copy_n(leaves->begin() + static_cast<std::ptrdiff_t>(i), 32, d.bytes.begin());
      out.leaves.push_back(d);
    }
  }
  return out;
}

}  // namespace

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
  if (!data.unfinished.empty()) {
    Value::List unfinished;
    for (const auto& u : data.unfinished) {
      Value::Dict entry;
      entry["piece"] = std::int64_t{u.piece.get()};
      auto blocks = u.blocks.wire();
      entry["blocks"] = std::string(blocks.begin(), blocks.end());
      if (!u.leaves.empty()) {
        std::string leaves;
        for (const auto& l : u.leaves)
          leaves.append(l.raw());
        entry["leaves"] = std::move(leaves);
      }
      unfinished.emplace_back(std::move(entry));
    }
    content["unfinished"] = std::move(unfinished);
  }
  std::string payload = bencode::encode(Value(std::move(content)));
  Value::Dict wrapper;
  wrapper["checksum"] = std::string(hash::sha1(payload).raw());
  wrapper["payload"] = payload;
  return bencode::encode(Value(std::move(wrapper)));
}

Expected<ResumeData, std::string> decode_resume(std::string_view bytes, const Sha1Digest& expected_info_hash,
                                                std::int32_t num_pieces, PieceShape shape) {
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
  auto unfinished = root.find_list("unfinished");
  if (unfinished && shape.piece_length > 0 && num_pieces > 0) {
    swarm::Bitfield listed(num_pieces);
    std::size_t n = 0;
    for (auto entry : unfinished->children()) {
      auto u = decode_unfinished(entry, data.have, shape);
      if (u && listed.test(u->piece))
        u = unexpected("piece " + std::to_string(u->piece.get()) + ": listed twice");
      if (!u) {
        data.ignored.push_back("unfinished entry " + std::to_string(n) + ": " + u.error());
      } else {
        listed.set(u->piece);
        data.unfinished.push_back(std::move(*u));
      }
      ++n;
    }
  } else if (unfinished == std::nullopt && root.find("unfinished")) {
    data.ignored.push_back("unfinished entries: not a list");
  }
  return data;
}

Expected<std::int32_t, std::string> drop_blocks_failing_leaves(UnfinishedPiece& u,
                                                               const metainfo::V2PieceCheck& check,
                                                               std::span<const std::uint8_t> data) {
  if (u.leaves.empty()) return 0;
  auto proven = std::span<const Sha256Digest>(u.leaves).first(
      std::min<std::size_t>(u.leaves.size(), static_cast<std::size_t>(check.leaves)));
  if (check.leaves < 1 || hash::merkle_root(proven, check.leaves, Sha256Digest{}) != check.expected) {
    u.leaves.clear();
    return unexpected("piece " + std::to_string(u.piece.get()) +
                      ": saved leaf hashes do not match the piece layer");
  }
  std::int32_t dropped = 0;
  auto file_blocks = hash::merkle_num_blocks(check.file_bytes);
  for (std::int32_t b = 0; b < u.blocks.size() && b < file_blocks; ++b) {
    if (!u.blocks.test(PieceIndex{b})) continue;
    auto begin = static_cast<std::int64_t>(b) * kResumeBlockSize;
    auto length = std::min(kResumeBlockSize, check.file_bytes - begin);
    if (begin + length > static_cast<std::int64_t>(data.size())) break;
    auto block =
        std::as_bytes(data.subspan(static_cast<std::size_t>(begin), static_cast<std::size_t>(length)));
    if (hash::sha256(block) == u.leaves[static_cast<std::size_t>(b)]) continue;
    u.blocks.reset(PieceIndex{b});
    ++dropped;
  }
  return dropped;
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
