// One connected peer: its socket, the framing state, and its protocol state.
#pragma once

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "shoal/endpoint.hpp"
#include "swarm/bitfield.hpp"
#include "swarm/peer_protocol.hpp"
#include "swarm/piece_picker.hpp"
#include "swarm/send_queue.hpp"
#include "wire/message.hpp"
#include "wire/message_reader.hpp"

namespace shoal::session {

using Clock = std::chrono::steady_clock;

// The runtime half of a connection: socket, framing, send queues and byte accounting. What the two sides have
// told each other is the pure swarm::PeerProtocol it holds.
struct Peer {
  explicit Peer(boost::asio::ip::tcp::socket s)
      : socket(std::move(s)),
        write_signal(socket.get_executor()),
        read_signal(socket.get_executor()),
        connected_at(Clock::now()),
        protocol(connected_at) {
    write_signal.expires_at(Clock::time_point::max());
    read_signal.expires_at(Clock::time_point::max());
  }

  // The torrent's id for this peer (in peers_ and the picker) once the handshake is done; kNoPeer before.
  swarm::PeerId id() const { return protocol.id(); }

  Endpoint remote;
  bool outgoing = false;
  boost::asio::ip::tcp::socket socket;
  wire::MessageReader reader;
  bool closed = false;
  std::string close_reason;

  // Output: small messages accumulate in `out`; blocks queue in `sends`, each with its own copy of the
  // payload. The writer sleeps on write_signal. What all of it holds is bounded (send_capacity()): past it
  // the peer gets no more blocks and, while it owes us nothing, is not read (the reader sleeps on
  // read_signal).
  std::vector<std::uint8_t> out;
  swarm::SendQueue sends;
  std::size_t writing_bytes = 0;  // taken by the writer, on the socket now
  boost::asio::steady_timer write_signal;
  boost::asio::steady_timer read_signal;
  bool read_paused = false;

  std::size_t queued_bytes() const { return out.size() + sends.bytes() + writing_bytes; }
  std::size_t send_capacity() const { return swarm::send_queue_capacity(up_rate); }
  bool has_send_room() const { return queued_bytes() < send_capacity(); }

  // Accounting.
  std::int64_t downloaded = 0;
  std::int64_t uploaded = 0;
  std::int64_t down_this_tick = 0;
  std::int64_t up_this_tick = 0;
  double down_rate = 0;
  double up_rate = 0;
  Clock::time_point connected_at;

  swarm::PeerProtocol protocol;
};

}  // namespace shoal::session
