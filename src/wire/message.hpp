// Peer wire messages (BEP 3 core, BEP 6 fast extension, BEP 10 extended) and their encoders.
// Decoded messages hold views into the reader's buffer (see message_reader.hpp); nothing here allocates.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>
#include <vector>

#include "shoal/digest.hpp"

namespace shoal::wire {

// The block size: what we request, and the largest block any client requests or sends. The one constant for
// it; the swarm and torrent cores use this one.
inline constexpr std::int32_t kBlockSize = 16 * 1024;

enum class MessageId : std::uint8_t {
  choke = 0,
  unchoke = 1,
  interested = 2,
  not_interested = 3,
  have = 4,
  bitfield = 5,
  request = 6,
  piece = 7,
  cancel = 8,
  port = 9,
  suggest = 0x0d,
  have_all = 0x0e,
  have_none = 0x0f,
  reject = 0x10,
  allowed_fast = 0x11,
  extended = 20,
  hash_request = 21,  // BEP 52
  hashes = 22,
  hash_reject = 23,
};

struct KeepAlive {};
struct Choke {};
struct Unchoke {};
struct Interested {};
struct NotInterested {};
struct Have {
  std::uint32_t piece;
};
struct Bitfield {
  std::span<const std::uint8_t> bits;
};
struct BlockRef {  // request, cancel and reject share this shape
  std::uint32_t piece;
  std::uint32_t begin;
  std::uint32_t length;
  bool operator==(const BlockRef&) const = default;
};
struct Request : BlockRef {};
struct Cancel : BlockRef {};
struct Reject : BlockRef {};
struct Piece {
  std::uint32_t piece;
  std::uint32_t begin;
  std::span<const std::uint8_t> data;
};
struct Port {
  std::uint16_t port;
};
struct Suggest {
  std::uint32_t piece;
};
struct HaveAll {};
struct HaveNone {};
struct AllowedFast {
  std::uint32_t piece;
};
struct Extended {
  std::uint8_t id;  // 0 = the BEP 10 handshake
  std::span<const std::uint8_t> payload;
};
struct Unknown {  // ids we do not speak are skipped, not fatal
  std::uint8_t id;
};

// BEP 52: a run of `length` hashes of one file's merkle tree, `base_layer` levels above its 16 KiB leaves,
// starting at node `index` of that layer, with the uncle hashes that tie the run to the file's root. The
// run's own subtree spans log2(length) of the `proof_layers` layers above the base, so a hashes message
// carries max(0, proof_layers - log2(length) + 1) uncles, bottom first (hash_uncle_count). The reader accepts
// only shapes that make sense for some tree (hash_request_shape_ok); whether they fit a given file is the
// torrent's check.
inline constexpr std::uint32_t kMaxHashesPerMessage = 8192;  // a whole 128 MiB piece's leaves
inline constexpr std::uint32_t kMaxMerkleHeight = 40;        // 2^40 leaves of 16 KiB: 16 EiB, beyond any file
inline constexpr std::size_t kHashSize = 32;
struct HashRequestFields {
  Sha256Digest pieces_root;
  std::uint32_t base_layer = 0;
  std::uint32_t index = 0;
  std::uint32_t length = 0;
  std::uint32_t proof_layers = 0;
  bool operator==(const HashRequestFields&) const = default;
};
struct HashRequest : HashRequestFields {};
struct HashReject : HashRequestFields {};
struct Hashes : HashRequestFields {
  // (length + hash_uncle_count) raw 32-byte hashes: the run, then its uncles bottom first.
  std::span<const std::uint8_t> hashes;
};
// Uncle hashes a hashes message carries for this request (see above).
std::uint32_t hash_uncle_count(const HashRequestFields& fields);
// length a power of two in [2, kMaxHashesPerMessage] (BEP 52: a run of at least a pair), index a multiple
// of it, base_layer + proof_layers within kMaxMerkleHeight.
bool hash_request_shape_ok(const HashRequestFields& fields);

using Message = std::variant<KeepAlive, Choke, Unchoke, Interested, NotInterested, Have, Bitfield, Request,
                             Piece, Cancel, Port, Suggest, HaveAll, HaveNone, Reject, AllowedFast, Extended,
                             HashRequest, Hashes, HashReject, Unknown>;

// Appends the framed message (length prefix included) to out. For Piece, prefer encode_piece_header plus the
// payload as a second buffer, so the payload is never copied into a send buffer.
void encode(const Message& message, std::vector<std::uint8_t>& out);

inline constexpr std::size_t kPieceHeaderSize = 13;
std::array<std::uint8_t, kPieceHeaderSize> encode_piece_header(std::uint32_t piece, std::uint32_t begin,
                                                               std::uint32_t length);

// Big-endian helpers shared by the codecs.
inline std::uint32_t read_u32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
         static_cast<std::uint32_t>(p[2]) << 8 | p[3];
}
inline void write_u32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

}  // namespace shoal::wire
