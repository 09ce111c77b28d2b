// One peer connection's runtime half: its socket, framing, and the signals its reader and writer sleep on.
// What the two sides have told each other, and what waits to be sent, is the torrent core's
// (torrent::Torrent), which knows the connection by its id.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "crypto/stream_cipher.hpp"
#include "session/peer_stream.hpp"
#include "shoal/endpoint.hpp"
#include "swarm/piece_picker.hpp"
#include "wire/message_reader.hpp"

namespace shoal::session {

using Clock = std::chrono::steady_clock;

struct Peer {
  explicit Peer(PeerStream s)
      : socket(std::move(s)), write_signal(socket.get_executor()), read_signal(socket.get_executor()) {
    write_signal.expires_at(Clock::time_point::max());
    read_signal.expires_at(Clock::time_point::max());
  }

  swarm::PeerId id = swarm::kNoPeer;  // the core's id once both handshakes are done
  Endpoint remote;
  bool outgoing = false;
  PeerStream socket;  // TCP or uTP
  wire::MessageReader reader;
  bool closed = false;
  // The writer sleeps on write_signal until the core has output (a Writable action); the reader sleeps on
  // read_signal while the core says not to read (back-pressure).
  boost::asio::steady_timer write_signal;
  boost::asio::steady_timer read_signal;
  bool read_paused = false;
  // MSE/PE: RC4 applied to every byte read (in place, before the reader sees it) and written; pass-through
  // for plain connections. Outgoing bytes are encrypted into `encrypted`, never in the shared send queue.
  crypto::StreamCipher cipher;
  std::vector<std::uint8_t> encrypted;
};

}  // namespace shoal::session
