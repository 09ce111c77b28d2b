// An in-process swarm of torrent::Torrent cores on virtual time: the second driver of the torrent core,
// beside the Asio session. One event queue, no real clock, no sockets, no files.
//
// The model, and why it is shaped so:
//  - Each node has an access link: an upload and a download capacity (bytes/s) and a one-way latency to the
//    core of the network. A byte from a to b leaves a's uplink (serialised at a's upload rate, shared by all
//    of a's connections), travels latency(a) + latency(b), then passes b's downlink (serialised at b's
//    download rate, shared by all connections into b). The two access links are the only bottlenecks.
//  - Each connection direction is a TCP-like byte stream: in order, with a window of bytes unacknowledged
//    (two bandwidth-delay products, at least 64 KiB); acknowledgements travel back with the latency once the
//    receiver has read the bytes. A receiver that stops reading (Torrent::reading_paused) therefore stops its
//    sender, as a socket would. What the writer handed over (take_output) is on the "socket" and cannot be
//    taken back; the core's send queue before it can.
//  - Congestion control, ideally: all the bytes in flight towards one receiver stay within about 0.3 s of
//    its download rate (its path plus a modest buffer); senders wait their turn for room. Without this, 80
//    senders each keeping a window in flight would bury a slow receiver under seconds of queued data.
//  - Each access link serves its flows fair-queue style, a chunk (at most one block message) at a time, and a
//    flow that was idle goes before the backlogged ones (fq_codel's new-flow list, Linux's default qdisc): a
//    request does not wait behind blocks to other peers, only behind what its own connection carries.
//  - Handshakes are not encoded: a Dial reaches the other side after one latency (which answers
//    accepts_incoming / on_peer_connected with the dialler's address and an ephemeral port), and the dialler
//    is connected one more latency later. Nothing refuses a second connection between the same two nodes,
//    as the session's driver does not (it checks peer ids only against its own).
//  - Disk: one queue per node; VerifyPiece compares the bytes with the real content (what SHA-1 against the
//    piece hash decides) and hashes blocks for smart ban; ReadPiece answers with the content's piece buffer,
//    shared by every node so that read caches cost nothing.
//  - A tracker inside the network answers announces after the node's round trip with other nodes' addresses.
//  - Every node ticks once a second, each at its own phase. The Mediator grants everything.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shoal/digest.hpp"
#include "shoal/endpoint.hpp"
#include "swarm/bitfield.hpp"
#include "torrent/torrent.hpp"

namespace shoal::torrent::sim {

// The file every node shares: deterministic bytes from a seed, one buffer per piece.
class Content {
 public:
  Content(std::int64_t total_size, std::int64_t piece_length, std::uint64_t seed);

  std::int64_t total_size() const { return total_size_; }
  std::int64_t piece_length() const { return piece_length_; }
  std::int32_t num_pieces() const { return static_cast<std::int32_t>(pieces_.size()); }
  const std::shared_ptr<const std::vector<std::uint8_t>>& piece(std::int32_t i) const {
    return pieces_[static_cast<std::size_t>(i)];
  }
  const Sha1Digest& info_hash() const { return info_hash_; }

 private:
  std::int64_t total_size_;
  std::int64_t piece_length_;
  std::vector<std::shared_ptr<const std::vector<std::uint8_t>>> pieces_;
  Sha1Digest info_hash_;
};

struct NodeConfig {
  double upload = 0;                                        // bytes/s, shared by all its connections
  double download = 0;                                      // bytes/s
  Clock::duration latency = std::chrono::milliseconds(20);  // one way, to the core of the network
  bool seed = false;                                        // starts with every piece
  double corrupt_blocks = 0;  // a liar: this share of the blocks it sends has a byte flipped
  int upload_slots = 8;
  int max_connections = 80;
};

// What the driver saw of one node.
struct NodeReport {
  Clock::time_point joined{};
  std::optional<Clock::time_point> completed;  // the Completed action
  std::optional<Clock::time_point> left;
  swarm::Bitfield written;                  // pieces written, each byte-equal to the content
  std::int32_t verified = 0;                // PieceVerified actions
  std::int32_t false_verified = 0;          // PieceVerified for a piece the driver never wrote (a core bug)
  std::int32_t hash_failures = 0;           // VerifyPiece answered with hash_ok false
  std::int32_t bad_reads = 0;               // ReadPiece for a piece the node does not have (a core bug)
  std::vector<Endpoint> banned;             // PeerBanned actions
  std::uint64_t wire_sent = 0;              // bytes through its uplink
  std::uint64_t message_bytes_written = 0;  // small (non-block) messages handed to its connections
  std::uint64_t wire_received = 0;          // bytes through its downlink
};

struct NetworkStats {
  std::uint64_t events = 0;
  std::uint64_t wire_bytes = 0;  // delivered to readers
  std::uint64_t connections = 0;
  std::uint64_t dials_failed = 0;
  std::map<std::string, std::uint64_t> close_reasons;  // Disconnect actions, by reason
};

class SwarmNetwork {
 public:
  SwarmNetwork(const Content& content, std::uint64_t seed, bool log = false);
  ~SwarmNetwork();
  SwarmNetwork(const SwarmNetwork&) = delete;
  SwarmNetwork& operator=(const SwarmNetwork&) = delete;

  // A node joins now: its torrent starts (complete if a seed) and announces to the tracker. Returns its
  // index.
  std::size_t add_node(const NodeConfig& config);
  // Leaves gracefully: Torrent::stop (connections closed, `stopped` announced).
  void leave(std::size_t node);
  // Vanishes: Torrent::halt and every connection dropped; its peers notice one latency later.
  void crash(std::size_t node);

  // Advances virtual time to `until`, running every event due by then.
  void run_until(Clock::time_point until);
  // Runs in steps of `step` until `done()` or `deadline`; true when done.
  bool run_until(const std::function<bool()>& done, Clock::time_point deadline,
                 Clock::duration step = std::chrono::milliseconds(100));

  void run_for(Clock::duration d) { run_until(now() + d); }
  Clock::time_point now() const;
  Clock::time_point start_time() const;
  double seconds_since_start(Clock::time_point t) const {
    return std::chrono::duration<double>(t - start_time()).count();
  }
  std::size_t size() const;
  bool present(std::size_t node) const;  // joined and neither left nor crashed
  const NodeConfig& config(std::size_t node) const;
  const NodeReport& report(std::size_t node) const;
  const Torrent& torrent(std::size_t node) const;
  const Endpoint& endpoint(std::size_t node) const;
  // The node's connected peers (as its torrent names them).
  std::vector<PeerId> peers(std::size_t node) const;
  // One line on the connection from `node` to `peer` and how the other end sees it, for debugging.
  std::string describe(std::size_t node, PeerId peer) const;
  const NetworkStats& stats() const;
  // Every piece is held (written) by some present node other than `except`.
  bool pieces_available_without(std::size_t except) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace shoal::torrent::sim
