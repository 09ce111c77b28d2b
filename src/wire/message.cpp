#include "wire/message.hpp"

#include <bit>

namespace shoal::wire {
namespace {

void append_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  std::uint8_t b[4];
  write_u32(b, v);
  out.insert(out.end(), b, b + 4);
}

void header(std::vector<std::uint8_t>& out, std::size_t payload, MessageId id) {
  append_u32(out, static_cast<std::uint32_t>(payload + 1));
  out.push_back(static_cast<std::uint8_t>(id));
}

void block(std::vector<std::uint8_t>& out, MessageId id, const BlockRef& b) {
  header(out, 12, id);
  append_u32(out, b.piece);
  append_u32(out, b.begin);
  append_u32(out, b.length);
}

// BEP 52: hash request, hashes and hash reject share a 48-byte header.
void hash_fields(std::vector<std::uint8_t>& out, MessageId id, const HashRequestFields& f,
                 std::size_t extra) {
  header(out, 48 + extra, id);
  out.insert(out.end(), f.pieces_root.bytes.begin(), f.pieces_root.bytes.end());
  append_u32(out, f.base_layer);
  append_u32(out, f.index);
  append_u32(out, f.length);
  append_u32(out, f.proof_layers);
}

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

}  // namespace

void encode(const Message& message, std::vector<std::uint8_t>& out) {
  std::visit(Overloaded{
                 [&](const KeepAlive&) { append_u32(out, 0); },
                 [&](const Choke&) { header(out, 0, MessageId::choke); },
                 [&](const Unchoke&) { header(out, 0, MessageId::unchoke); },
                 [&](const Interested&) { header(out, 0, MessageId::interested); },
                 [&](const NotInterested&) { header(out, 0, MessageId::not_interested); },
                 [&](const Have& m) {
                   header(out, 4, MessageId::have);
                   append_u32(out, m.piece);
                 },
                 [&](const Bitfield& m) {
                   header(out, m.bits.size(), MessageId::bitfield);
                   out.insert(out.end(), m.bits.begin(), m.bits.end());
                 },
                 [&](const Request& m) { block(out, MessageId::request, m); },
                 [&](const Piece& m) {
                   auto h = encode_piece_header(m.piece, m.begin, static_cast<std::uint32_t>(m.data.size()));
                   out.insert(out.end(), h.begin(), h.end());
                   out.insert(out.end(), m.data.begin(), m.data.end());
                 },
                 [&](const Cancel& m) { block(out, MessageId::cancel, m); },
                 [&](const Port& m) {
                   header(out, 2, MessageId::port);
                   out.push_back(static_cast<std::uint8_t>(m.port >> 8));
                   out.push_back(static_cast<std::uint8_t>(m.port & 0xff));
                 },
                 [&](const Suggest& m) {
                   header(out, 4, MessageId::suggest);
                   append_u32(out, m.piece);
                 },
                 [&](const HaveAll&) { header(out, 0, MessageId::have_all); },
                 [&](const HaveNone&) { header(out, 0, MessageId::have_none); },
                 [&](const Reject& m) { block(out, MessageId::reject, m); },
                 [&](const AllowedFast& m) {
                   header(out, 4, MessageId::allowed_fast);
                   append_u32(out, m.piece);
                 },
                 [&](const Extended& m) {
                   header(out, m.payload.size() + 1, MessageId::extended);
                   out.push_back(m.id);
                   out.insert(out.end(), m.payload.begin(), m.payload.end());
                 },
                 [&](const HashRequest& m) { hash_fields(out, MessageId::hash_request, m, 0); },
                 [&](const Hashes& m) {
                   hash_fields(out, MessageId::hashes, m, m.hashes.size());
                   out.insert(out.end(), m.hashes.begin(), m.hashes.end());
                 },
                 [&](const HashReject& m) { hash_fields(out, MessageId::hash_reject, m, 0); },
                 [&](const Unknown&) {},
             },
             message);
}

std::uint32_t hash_uncle_count(const HashRequestFields& fields) {
  // The run's subtree root is log2(length) layers above the base; each proof layer beyond that adds one.
  auto run_layers = static_cast<std::uint32_t>(std::bit_width(fields.length)) - 1;
  return fields.proof_layers + 1 > run_layers ? fields.proof_layers + 1 - run_layers : 0;
}

bool hash_request_shape_ok(const HashRequestFields& fields) {
  if (fields.length < 2 || fields.length > kMaxHashesPerMessage || !std::has_single_bit(fields.length))
    return false;
  if (fields.index % fields.length != 0) return false;
  return fields.base_layer <= kMaxMerkleHeight && fields.proof_layers <= kMaxMerkleHeight - fields.base_layer;
}

std::array<std::uint8_t, kPieceHeaderSize> encode_piece_header(std::uint32_t piece, std::uint32_t begin,
                                                               std::uint32_t length) {
  std::array<std::uint8_t, kPieceHeaderSize> h{};
  write_u32(h.data(), length + 9);
  h[4] = static_cast<std::uint8_t>(MessageId::piece);
  write_u32(h.data() + 5, piece);
  write_u32(h.data() + 9, begin);
  return h;
}

}  // namespace shoal::wire
