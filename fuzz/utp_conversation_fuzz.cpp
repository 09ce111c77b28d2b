// Fuzzes a whole uTP conversation from one side: a utp::Connection (initiator or responder, the first byte
// says) hears packets the input builds, interleaved with time passing, application writes, reads and
// closes. Sequence and ack numbers are built relative to what the connection last said, so the input reaches
// the established state, loss recovery, SACK, reordering, FIN and RESET rather than only the stale-packet
// paths. Whatever the input: no crash, every datagram sent decodes, and an unconfirmed responder never sends
// anything larger than the SYN nor anything on its own (no amplification).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "utp/connection.hpp"

namespace {
using namespace shoal::utp;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

struct Input {
  const std::uint8_t* data;
  std::size_t size;
  std::uint8_t next() {
    if (size == 0) return 0;
    --size;
    return *data++;
  }
  std::uint16_t next16() { return static_cast<std::uint16_t>(next() << 8 | next()); }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  Input in{data, size};
  const bool responder = in.next() & 1;
  ConnectionConfig config;
  config.receive_buffer = 64 * 1024;
  config.send_buffer = 64 * 1024;
  TimeUs now = 1'000'000;
  PacketHeader syn;
  syn.type = PacketType::syn;
  syn.connection_id = 100;
  syn.seq_nr = 5000;
  syn.window = 1 << 20;
  auto c =
      responder ? Connection::accept(syn, 60000, now, config) : Connection::connect(100, 65530, now, config);
  // What the connection last told us: the seq it sends next and the ack it expects.
  std::uint16_t their_next = responder ? 60000 : 65530;  // our model of the connection's seq_nr
  std::uint16_t our_seq = responder ? 5001 : 777;        // the peer's (our) next seq number
  std::uint16_t peer_recv_id = responder ? 101 : 100;
  std::vector<std::uint8_t> payload;
  std::vector<std::uint8_t> sink(4096);

  auto drain = [&] {
    for (std::size_t i = 0; i < c.output_count(); ++i) {
      auto out = c.output(i);
      auto p = decode_packet(out);
      check(p.has_value());
      if (c.state() == State::syn_received) check(out.size() <= kHeaderSize);
      their_next = static_cast<std::uint16_t>(p->header.seq_nr + (p->header.type == PacketType::data ||
                                                                          p->header.type == PacketType::fin ||
                                                                          p->header.type == PacketType::syn
                                                                      ? 1
                                                                      : 0));
    }
    c.clear_output();
  };
  drain();
  for (int steps = 0; steps < 2000 && in.size > 0; ++steps) {
    std::uint8_t op = in.next();
    switch (op % 6) {
      case 0:
      case 1: {  // a packet from the peer
        std::uint8_t kind = in.next();
        PacketHeader h;
        h.type = static_cast<PacketType>(kind % 5);
        h.connection_id = (kind & 0x80) ? in.next16() : peer_recv_id;
        h.seq_nr = static_cast<std::uint16_t>(our_seq + static_cast<std::int8_t>(in.next()));
        h.ack_nr = static_cast<std::uint16_t>(their_next - 1 - (in.next() % 8));
        h.window = (kind & 0x40) ? in.next() * 1024u : 1u << 20;
        h.timestamp_us = static_cast<std::uint32_t>(now) - in.next() * 1000u;
        h.timestamp_difference_us = in.next() * 1000u;
        std::size_t length = (h.type == PacketType::data) ? in.next() * 6u : 0;
        payload.assign(length, static_cast<std::uint8_t>(steps));
        std::vector<std::uint8_t> sack;
        if (kind & 0x20) sack.assign(4, in.next());
        std::vector<std::uint8_t> bytes;
        encode_packet(h, sack, payload, bytes);
        auto p = decode_packet(bytes);
        check(p.has_value());
        c.on_packet(*p, now);
        if (h.type == PacketType::data && h.seq_nr == our_seq)
          our_seq = static_cast<std::uint16_t>(our_seq + 1);
        break;
      }
      case 2:
        now += in.next() * 10'000 + 1;
        if (c.next_deadline() <= now) c.on_timer(now);
        break;
      case 3:
        payload.assign(in.next() * 64u, 0x5a);
        c.write(payload);
        break;
      case 4:
        c.read(sink);
        break;
      case 5:
        if (in.next() % 8 == 0) {
          c.close();
        } else if (in.next() % 32 == 0) {
          c.abort();
        }
        break;
    }
    bool unconfirmed = c.state() == State::syn_received;
    c.flush(now);
    if (unconfirmed && op % 6 == 2) check(c.output_count() == 0);  // time alone never makes it send
    drain();
    check(c.advertised_window() <= config.receive_buffer);
    check(c.readable() <= config.receive_buffer + kMaxPacketSize);  // one datagram of slack
  }
  return 0;
}
