// Fuzzes the uTP (BEP 29) packet decoder: any datagram decodes to a packet or a named error, never a crash;
// what decodes re-encodes (with a SACK cut to whole 4-byte words) to a packet that decodes the same.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "utp/packet.hpp"

namespace {
void check(bool ok) {
  if (!ok) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shoal::utp;
  std::span<const std::uint8_t> input(data, size);
  auto p = decode_packet(input);
  if (!p) {
    check(to_string(p.error()) != nullptr);
    return 0;
  }
  check(size >= kHeaderSize);
  check(p->payload.size() <= size - kHeaderSize);
  check(p->payload.data() + p->payload.size() == data + size);
  std::size_t sack = std::min(p->sack.size() / 4 * 4, kMaxSackBytes);
  std::vector<std::uint8_t> out;
  encode_packet(p->header, p->sack.first(sack), p->payload, out);
  auto again = decode_packet(out);
  check(again.has_value());
  check(again->header.type == p->header.type && again->header.connection_id == p->header.connection_id &&
        again->header.seq_nr == p->header.seq_nr && again->header.ack_nr == p->header.ack_nr &&
        again->header.window == p->header.window && again->header.timestamp_us == p->header.timestamp_us &&
        again->header.timestamp_difference_us == p->header.timestamp_difference_us);
  check(std::equal(again->payload.begin(), again->payload.end(), p->payload.begin(), p->payload.end()));
  check(std::equal(again->sack.begin(), again->sack.end(), p->sack.begin(), p->sack.begin() + sack));
  return 0;
}
