// Drives a whole peer conversation through the sans-I/O parts with arbitrary bytes in arbitrary chunk sizes:
// the handshake, then framed messages; bitfields are checked against a torrent's piece count, extension
// handshakes may start a metadata assembly (capped), ut_metadata data feeds it, ut_pex goes through the rate
// limiter and decoder. Nothing may crash, hang or allocate beyond the named limits.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

#include "swarm/bitfield.hpp"
#include "swarm/pex_state.hpp"
#include "wire/extension_handshake.hpp"
#include "wire/handshake.hpp"
#include "wire/message_reader.hpp"
#include "wire/ut_metadata.hpp"
#include "wire/ut_pex.hpp"

namespace {
constexpr std::int32_t kPieces = 1000;  // the torrent this conversation is about
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shoal;
  if (size < 1) return 0;
  std::size_t chunk = 1 + data[0] % 64;
  bool with_handshake = (data[0] & 0x80) != 0;
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
  for (std::size_t off = 0; off < size; off += chunk) {
    std::size_t n = std::min(chunk, size - off);
    auto space = reader.prepare(n);
    std::memcpy(space.data(), data + off, n);
    reader.commit(n);
    now += std::chrono::seconds(7);
    for (;;) {
      auto m = reader.next();
      if (!m) return 0;  // the connection would be closed
      if (!*m) break;
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
