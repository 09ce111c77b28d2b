// One connected peer: its socket, the framing state, and what each side has told the other.
#pragma once

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shoal/endpoint.hpp"
#include "swarm/bitfield.hpp"
#include "swarm/pex_state.hpp"
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

struct Peer {
  explicit Peer(boost::asio::ip::tcp::socket s)
      : socket(std::move(s)), write_signal(socket.get_executor()), connected_at(Clock::now()) {
    write_signal.expires_at(Clock::time_point::max());
  }

  swarm::PeerId id = swarm::kNoPeer;
  Endpoint remote;
  bool outgoing = false;
  boost::asio::ip::tcp::socket socket;
  wire::MessageReader reader;
  bool closed = false;
  std::string close_reason;

  // Protocol state.
  bool am_choking = true;
  bool am_interested = false;
  bool peer_choking = true;
  bool peer_interested = false;
  bool fast = false;        // BEP 6 on both sides
  bool extensions = false;  // BEP 10 on both sides
  std::optional<std::uint8_t> ut_metadata_id;
  std::optional<std::uint8_t> ut_pex_id;
  std::optional<swarm::PexState> pex;        // set when both sides speak ut_pex
  std::optional<std::uint16_t> listen_port;  // from its extension handshake ("p")
  std::uint32_t reqq = 250;  // how many requests the peer queues (its extension handshake may say)
  std::string client;
  swarm::Bitfield has;
  bool is_seed = false;
  bool bitfield_seen = false;
  std::vector<swarm::BlockRequest> outstanding;  // our requests to it
  std::deque<swarm::BlockRequest> incoming;      // its requests waiting for disk
  std::uint32_t unrequested_blocks = 0;          // pieces it sent that nobody asked for

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
  Clock::time_point last_receive = Clock::now();
  Clock::time_point last_send = Clock::now();
  Clock::time_point last_block = Clock::now();
  Clock::time_point unchoked_at{};
  std::optional<Clock::time_point> idle_since;  // neither side interested since then
  bool snubbed = false;
};

}  // namespace shoal::session
