// Drives the peer wire reader with arbitrary bytes in arbitrary chunk sizes, decoding every extended payload
// with each extension codec. Nothing may crash, hang or allocate beyond the reader's limits.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "wire/extension_handshake.hpp"
#include "wire/message_reader.hpp"
#include "wire/ut_metadata.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::size_t chunk = 1 + data[0] % 64;
  data++;
  size--;
  shoal::wire::MessageReader reader;
  for (std::size_t off = 0; off < size; off += chunk) {
    std::size_t n = std::min(chunk, size - off);
    auto space = reader.prepare(n);
    std::memcpy(space.data(), data + off, n);
    reader.commit(n);
    for (;;) {
      auto m = reader.next();
      if (!m) return 0;  // the connection would be closed
      if (!*m) break;
      if (auto* ext = std::get_if<shoal::wire::Extended>(&**m)) {
        std::string_view text(reinterpret_cast<const char*>(ext->payload.data()), ext->payload.size());
        (void)shoal::wire::decode_extension_handshake(text);
        (void)shoal::wire::decode_metadata_message(ext->payload);
      }
    }
    if (reader.capacity() > (2u << 20) + 4096) __builtin_trap();
  }
  return 0;
}
