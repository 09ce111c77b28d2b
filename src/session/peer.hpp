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
#include "wire/message.hpp"
#include "wire/message_reader.hpp"

namespace shoal::session {

using Clock = std::chrono::steady_clock;

// A block on its way out: 13-byte header plus a view into a cached piece (no copy of the payload).
struct PieceSend {
  std::array<std::uint8_t, wire::kPieceHeaderSize> header;
  std::shared_ptr<const std::vector<std::uint8_t>> piece;
  std::uint32_t offset;
  std::uint32_t length;
  swarm::BlockRequest request;
};

// The runtime half of a connection: socket, framing, send queues and byte accounting. What the two sides have
// told each other is the pure swarm::PeerProtocol it holds.
struct Peer {
  explicit Peer(boost::asio::ip::tcp::socket s)
      : socket(std::move(s)),
        write_signal(socket.get_executor()),
        connected_at(Clock::now()),
        protocol(connected_at) {
    write_signal.expires_at(Clock::time_point::max());
  }

  // The torrent's id for this peer (in peers_ and the picker) once the handshake is done; kNoPeer before.
  swarm::PeerId id() const { return protocol.id(); }

  Endpoint remote;
  bool outgoing = false;
  boost::asio::ip::tcp::socket socket;
  wire::MessageReader reader;
  bool closed = false;
  std::string close_reason;

  // Output: small messages accumulate in `out`; blocks queue as PieceSends. The writer sleeps on
  // write_signal.
  std::vector<std::uint8_t> out;
  std::deque<PieceSend> sends;
  boost::asio::steady_timer write_signal;

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
