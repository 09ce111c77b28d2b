#include "wire/ut_metadata.hpp"

#include <algorithm>
#include <cstring>

#include "bencode/decoder.hpp"
#include "bencode/value.hpp"
#include "hash/sha.hpp"

namespace shoal::wire {

std::int64_t metadata_piece_count(std::int64_t size) {
  return (size + kMetadataPieceSize - 1) / kMetadataPieceSize;
}

std::string encode_metadata_message(const MetadataMessage& m) {
  bencode::Value::Dict d;
  d["msg_type"] = static_cast<std::int64_t>(m.type);
  d["piece"] = static_cast<std::int64_t>(m.piece);
  if (m.type == MetadataMessage::Type::data && m.total_size) d["total_size"] = *m.total_size;
  std::string out = bencode::encode(bencode::Value(std::move(d)));
  out.append(reinterpret_cast<const char*>(m.data.data()), m.data.size());
  return out;
}

Expected<MetadataMessage, WireError> decode_metadata_message(std::span<const std::uint8_t> payload) {
  std::string_view text(reinterpret_cast<const char*>(payload.data()), payload.size());
  bencode::Limits limits;
  limits.max_depth = 4;
  limits.max_items = 64;
  auto doc = bencode::decode_prefix(text, limits);
  if (!doc || !doc->first.root().is_dict())
    return unexpected(WireError{Errc::bad_extension_payload, "ut_metadata"});
  auto root = doc->first.root();
  auto type = root.find_int("msg_type");
  auto piece = root.find_int("piece");
  if (!type || *type < 0 || *type > 2 || !piece || *piece < 0 ||
      *piece >= kMaxMetadataSize / kMetadataPieceSize) {
    return unexpected(WireError{Errc::bad_extension_payload, "ut_metadata fields"});
  }
  MetadataMessage m;
  m.type = static_cast<MetadataMessage::Type>(*type);
  m.piece = static_cast<std::uint32_t>(*piece);
  if (m.type == MetadataMessage::Type::data) {
    m.total_size = root.find_int("total_size");
    m.data = payload.subspan(doc->second);
    if (static_cast<std::int64_t>(m.data.size()) > kMetadataPieceSize) {
      return unexpected(WireError{Errc::bad_extension_payload, "ut_metadata piece too large"});
    }
  } else if (doc->second != payload.size()) {
    return unexpected(WireError{Errc::bad_extension_payload, "ut_metadata trailing data"});
  }
  return m;
}

MetadataAssembler::MetadataAssembler(std::int64_t size, const Sha1Digest& info_hash)
    : buffer_(static_cast<std::size_t>(size), '\0'),
      info_hash_(info_hash),
      state_(static_cast<std::size_t>(metadata_piece_count(size)), 0) {}

Expected<MetadataAssembler, WireError> MetadataAssembler::create(std::int64_t declared_size,
                                                                 const Sha1Digest& info_hash) {
  if (declared_size <= 0 || declared_size > kMaxMetadataSize) {
    return unexpected(WireError{Errc::metadata_too_large, "declared metadata_size"});
  }
  return MetadataAssembler(declared_size, info_hash);
}

std::optional<std::uint32_t> MetadataAssembler::next_request() {
  auto it = std::find(state_.begin(), state_.end(), std::uint8_t{0});
  if (it == state_.end()) return std::nullopt;
  *it = 1;
  return static_cast<std::uint32_t>(it - state_.begin());
}

void MetadataAssembler::release(std::uint32_t piece) {
  if (piece < state_.size() && state_[piece] == 1) state_[piece] = 0;
}

Expected<bool, WireError> MetadataAssembler::on_data(std::uint32_t piece,
                                                     std::span<const std::uint8_t> data) {
  if (piece >= state_.size())
    return unexpected(WireError{Errc::bad_extension_payload, "metadata piece index"});
  auto offset = static_cast<std::int64_t>(piece) * kMetadataPieceSize;
  auto expected_size =
      std::min<std::int64_t>(kMetadataPieceSize, static_cast<std::int64_t>(buffer_.size()) - offset);
  if (static_cast<std::int64_t>(data.size()) != expected_size) {
    return unexpected(WireError{Errc::bad_extension_payload, "metadata piece size"});
  }
  if (state_[piece] == 2) return false;  // duplicate: ignore
  std::memcpy(buffer_.data() + offset, data.data(), data.size());
  state_[piece] = 2;
  if (std::any_of(state_.begin(), state_.end(), [](std::uint8_t s) { return s != 2; })) return false;
  // A v1 or hybrid torrent is known by the SHA-1 of its info dictionary; a v2-only one by the SHA-256
  // truncated to 20 bytes (BEP 52). Either matches only the torrent it names.
  auto v2 = hash::sha256(buffer_);
  bool v2_match = std::equal(info_hash_.bytes.begin(), info_hash_.bytes.end(), v2.bytes.begin());
  if (hash::sha1(buffer_) != info_hash_ && !v2_match) {
    std::fill(state_.begin(), state_.end(), std::uint8_t{0});
    return unexpected(WireError{Errc::metadata_mismatch, "ut_metadata"});
  }
  return true;
}

}  // namespace shoal::wire
