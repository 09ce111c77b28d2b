// Drives a whole peer conversation through the sans-I/O parts with arbitrary bytes in arbitrary chunk sizes:
// the handshake, then framed messages; bitfields are checked against a torrent's piece count, extension
// handshakes may start a metadata assembly (capped), ut_metadata data feeds it, ut_pex goes through the rate
// limiter and decoder, ut_holepunch through its decoder (and back). Every decoded message also goes through
// swarm::PeerProtocol (with a real PiecePicker), and our side of the conversation (unchoke, choke, requests,
// ticks) is driven between messages; BEP 52 hash messages must come out of the reader in a sane shape; the
// conversation ends where the protocol says close. Nothing may crash, hang or allocate beyond the named
// limits.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "swarm/bitfield.hpp"
#include "swarm/peer_protocol.hpp"
#include "swarm/pex_state.hpp"
#include "swarm/piece_picker.hpp"
#include "wire/extension_handshake.hpp"
#include "wire/handshake.hpp"
#include "wire/message_reader.hpp"
#include "wire/ut_holepunch.hpp"
#include "wire/ut_metadata.hpp"
#include "wire/ut_pex.hpp"

namespace {
constexpr std::int32_t kPieces = 1000;  // the torrent this conversation is about
constexpr std::int64_t kPieceLength = 2 * shoal::wire::kBlockSize;
constexpr shoal::swarm::PeerId kPeerId = 1;
// What one step may queue at most: a choke with every queued request rejected, or a full top-up of requests.
constexpr std::size_t kMaxOutboxPerStep = 1 + shoal::swarm::PeerProtocol::kMaxQueuedRequests;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shoal;
  if (size < 1) return 0;
  std::size_t chunk = 1 + data[0] % 64;
  bool with_handshake = (data[0] & 0x80) != 0;
  bool fast = (data[0] & 0x40) != 0;
  data++;
  size--;
  if (with_handshake) {
    if (size < wire::kHandshakeSize) return 0;
    if (!wire::decode_handshake(std::span(data, wire::kHandshakeSize))) return 0;
    data += wire::kHandshakeSize;
    size -= wire::kHandshakeSize;
  }
  wire::MessageReader reader;
  std::optional<wire::MetadataAssembler> metadata;
  swarm::PexState pex(swarm::PexState::Clock::time_point{});
  auto now = swarm::PexState::Clock::time_point{};
  Sha1Digest info_hash{};

  // We have every third piece and download the rest (the last piece is short).
  swarm::PiecePicker picker(kPieces, kPieceLength, (kPieces - 1) * kPieceLength + 1234, 1);
  for (std::int32_t p = 0; p < kPieces; p += 3)
    picker.mark_have(PieceIndex{p});
  swarm::PeerProtocol peer(now);
  peer.start({kPeerId, kPieces, {fast, true}, true});
  swarm::TorrentView view{picker, true, false};
  std::vector<swarm::BlockRequest> ready;
  std::size_t steps = 0;
  auto check_step = [&] {
    if (peer.outbox().size() > kMaxOutboxPerStep) __builtin_trap();
    if (peer.queued_requests().size() > swarm::PeerProtocol::kMaxQueuedRequests) __builtin_trap();
    if (peer.outstanding().size() > swarm::PeerProtocol::kMaxQueueDepth) __builtin_trap();
    if (peer.queued_requests().size() > 0 && peer.am_choking()) __builtin_trap();
    peer.clear_outbox();
  };
  for (std::size_t off = 0; off < size; off += chunk) {
    std::size_t n = std::min(chunk, size - off);
    auto space = reader.prepare(n);
    std::memcpy(space.data(), data + off, n);
    reader.commit(n);
    now += std::chrono::seconds(7);
    if (peer.on_tick(now, picker)) return 0;  // inactive or useless: closed
    check_step();
    for (;;) {
      auto m = reader.next();
      if (!m) return 0;  // the connection would be closed
      if (!*m) break;
      auto event = peer.on_message(**m, now, view);
      if (std::holds_alternative<swarm::PeerProtocol::Close>(event)) return 0;
      if (auto* block = std::get_if<swarm::PeerProtocol::BlockReceived>(&event)) {
        auto result = picker.on_block_received(kPeerId, block->block);
        if (result.piece_complete) {
          // Alternate verified and failed pieces so both paths run.
          if (block->block.piece.get() % 2 == 0) {
            picker.on_piece_verified(block->block.piece);
          } else {
            picker.on_piece_failed(block->block.piece);
          }
        }
      } else if (auto* serve = std::get_if<swarm::PeerProtocol::ServeRequest>(&event)) {
        // Some pieces are "in cache" and served at once; the rest wait, so the queue can reach its cap.
        if (serve->block.piece.get() % 4 == 0) {
          ready.clear();
          peer.take_queued_requests(serve->block.piece, ready);
        }
      }
      check_step();
      // Our side: rotate the upload slot every few messages, top up our requests after each.
      if (++steps % 5 == 0) {
        if (peer.am_choking()) {
          peer.unchoke(now);
        } else {
          peer.choke();
        }
      }
      peer.request_blocks(view, static_cast<double>(steps % 7) * 1e6, now);
      check_step();
      if (auto* hashes = std::get_if<wire::Hashes>(&**m)) {
        // BEP 52: the reader let through only a run and exactly its uncles, each a whole hash.
        if (!wire::hash_request_shape_ok(*hashes) ||
            hashes->hashes.size() != (hashes->length + wire::hash_uncle_count(*hashes)) * wire::kHashSize)
          __builtin_trap();
      }
      if (auto* bits = std::get_if<wire::Bitfield>(&**m)) {
        (void)swarm::Bitfield::from_wire(bits->bits, kPieces);
      } else if (auto* ext = std::get_if<wire::Extended>(&**m)) {
        std::string_view text(reinterpret_cast<const char*>(ext->payload.data()), ext->payload.size());
        if (ext->id == 0) {
          auto h = wire::decode_extension_handshake(text);
          if (h && h->metadata_size && !metadata) {
            auto a = wire::MetadataAssembler::create(*h->metadata_size, info_hash);
            if (a) metadata.emplace(std::move(*a));
          }
        } else if (ext->id == 1) {
          if (pex.accept_incoming(now)) (void)wire::decode_pex(text);
        } else if (ext->id == swarm::kOurUtHolepunchId) {
          // BEP 55: what decodes must encode back to the same bytes (the format has one spelling).
          if (auto hp = wire::decode_holepunch(text); hp && wire::encode_holepunch(*hp) != text)
            __builtin_trap();
        } else {
          auto mm = wire::decode_metadata_message(ext->payload);
          if (mm && metadata && mm->type == wire::MetadataMessage::Type::data) {
            (void)metadata->next_request();
            (void)metadata->on_data(mm->piece, mm->data);
          }
        }
      }
    }
    if (reader.capacity() > (2u << 20) + 4096) __builtin_trap();
  }
  return 0;
}
