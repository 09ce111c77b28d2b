// BEP 9 ut_metadata: exchanging the info dictionary in 16 KiB pieces, and assembling it safely.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "shoal/digest.hpp"
#include "shoal/expected.hpp"
#include "wire/wire_error.hpp"

namespace shoal::wire {

inline constexpr std::int64_t kMetadataPieceSize = 16 * 1024;
inline constexpr std::int64_t kMaxMetadataSize = 8 * 1024 * 1024;

struct MetadataMessage {
  enum class Type : std::uint8_t { request = 0, data = 1, reject = 2 };
  Type type = Type::request;
  std::uint32_t piece = 0;
  std::optional<std::int64_t> total_size;  // data messages only
  std::span<const std::uint8_t> data;      // data messages only: the bytes after the dictionary
};

std::int64_t metadata_piece_count(std::int64_t size);
std::string encode_metadata_message(const MetadataMessage& m);
Expected<MetadataMessage, WireError> decode_metadata_message(std::span<const std::uint8_t> payload);

// The fetching side. Refuses a declared size above the cap before allocating anything, accepts each piece
// once at its exact size, and checks the SHA-1 of the whole against the info-hash (or, for a v2-only torrent,
// its SHA-256 truncated to 20 bytes).
class MetadataAssembler {
 public:
  static Expected<MetadataAssembler, WireError> create(std::int64_t declared_size,
                                                       const Sha1Digest& info_hash);

  // The next piece to ask for, or nullopt when every piece is here or asked for.
  std::optional<std::uint32_t> next_request();
  // A rejected or timed-out request can be asked again (of another peer).
  void release(std::uint32_t piece);
  // Returns true once every piece is here and verified; an error means the data is unusable (the assembler
  // resets so another peer can be asked).
  Expected<bool, WireError> on_data(std::uint32_t piece, std::span<const std::uint8_t> data);
  const std::string& metadata() const { return buffer_; }

 private:
  MetadataAssembler(std::int64_t size, const Sha1Digest& info_hash);
  std::string buffer_;
  Sha1Digest info_hash_;
  std::vector<std::uint8_t> state_;  // 0 = missing, 1 = requested, 2 = received
};

}  // namespace shoal::wire
