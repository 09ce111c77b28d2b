// One uTP connection (BEP 29) as a pure state machine: packets in with the time, application bytes in, and
// out come datagrams to send, bytes delivered in order, and the next time it wants to be woken. No socket, no
// clock: the driver (session/utp_socket_manager) routes datagrams to it by (endpoint, connection id) and
// sends what it queues.
//
// Sending: bytes written wait in the send buffer until flush() cuts them into DATA packets, as many as the
// window allows: min(LEDBAT's congestion window, the peer's advertised receive window), never a burst larger.
// Each packet stays in the outstanding ring until acknowledged, cumulatively (ack_nr) or selectively (SACK).
// Loss: three duplicate ACKs, or three packets SACKed after an unacknowledged one, resend it at once and
// halve the window (once per window of data); the retransmission timer (RFC 6298: srtt + 4 rttvar, at least
// min_rto, doubling per timeout, Karn's rule for samples) resends and drops the window to one packet.
//
// Path MTU (utp/path_mtu.hpp): ordinary DATA packets have the size the path is known to carry; while the
// search runs, one DATA packet at a time is a probe of a larger size. A probe lost (SACKed around, or timed
// out alone) lowers the ceiling but is no congestion signal: the window stays. Its retransmission, and that
// of any packet larger than the size now known to pass, is flagged may_fragment: the driver sends it without
// DF, so the bytes get through even where the size does not. Two timeouts in a row with packets above the
// minimum size mean a black hole (a route change to a smaller MTU): the size drops to the minimum and the
// search starts again below the old size.
//
// Receiving: in-order payload is appended to the receive buffer; packets ahead of it (up to kReorderSlots)
// wait in the reorder ring and are SACKed. The advertised window is the receive buffer's free room.
//
// Security (reflection, Adamsky et al. 2015): an incoming connection starts in syn_received, answers the SYN
// (and repeats of it) with one bare 20-byte STATE, never more nor larger than the SYN, and sends nothing on
// its own (no timer retransmissions) until the peer proves it received that STATE: a packet whose ack_nr is
// our random initial seq_nr - 1. Until then the driver must not hand it to the application.
//
// Invariants: outstanding packets are exactly the seq numbers in (acked_seq_, seq_nr_); cur_window_ is the
// sum of the payload sizes of those neither SACKed nor marked for resend; buffered bytes (delivered +
// reorder) never exceed the receive buffer by more than one packet.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "utp/ledbat.hpp"
#include "utp/packet.hpp"
#include "utp/path_mtu.hpp"

namespace shoal::utp {

using TimeUs = std::int64_t;
inline constexpr TimeUs kNever = std::numeric_limits<TimeUs>::max();
// A peer that did not say how large a datagram it reads (kExtensionMaxPacket) gets none larger than an
// Ethernet frame carries over IPv4.
inline constexpr std::size_t kUnadvertisedPacketLimit = 1472;

struct ConnectionConfig {
  PathMtuConfig mtu;  // sizes of DATA packets (header + payload); a SACK goes alone
  // The largest datagram we read, told to the peer in the SYN or its answer (0: not told).
  std::uint16_t receive_packet_limit = static_cast<std::uint16_t>(kMaxPacketSize);
  std::size_t receive_buffer = 1024 * 1024;  // bytes we advertise at most
  std::size_t send_buffer = 1024 * 1024;     // bytes write() takes beyond what is in flight
  TimeUs initial_rto_us = 1'000'000;
  // The SYN's first retransmission timeout (0: initial_rto_us). A dial that can fall back to TCP gives up on
  // a silent peer sooner with a short one; the data's timeout starts from initial_rto_us (or the SYN's round
  // trip) either way.
  TimeUs syn_rto_us = 0;
  TimeUs min_rto_us = 500'000;  // BEP 29's floor
  TimeUs max_rto_us = 30'000'000;
  int max_syn_retries = 2;                      // a dead address fails after 1 + 2 + 4 s
  int max_timeouts = 6;                         // consecutive, on an established connection
  TimeUs keepalive_us = 29'000'000;             // an idle connection still refreshes NAT mappings
  TimeUs syn_received_timeout_us = 10'000'000;  // an unconfirmed incoming SYN is forgotten after this
  TimeUs zero_window_probe_us = 1'000'000;
  LedbatConfig ledbat;
};

enum class State : std::uint8_t {
  syn_sent,      // outgoing, SYN sent, waiting for its STATE
  syn_received,  // incoming, STATE sent, waiting for the peer to prove it received it
  connected,
  closed,  // FIN exchanged, reset, timed out or aborted; error() says which
};

enum class ConnectionError : std::uint8_t {
  none,
  reset,      // the peer sent RESET
  timed_out,  // retransmissions exhausted (or a SYN never answered)
  aborted,    // we reset it
};

const char* to_string(ConnectionError e);

class Connection {
 public:
  static constexpr std::size_t kOutstandingSlots = 2048;  // packets in flight at most (power of two)
  static constexpr std::size_t kReorderSlots = 2048;      // packets ahead of ack_nr kept (power of two)

  // Outgoing: queues the SYN. `recv_id` is ours (the peer sends with it), `initial_seq` should be random.
  static Connection connect(std::uint16_t recv_id, std::uint16_t initial_seq, TimeUs now,
                            const ConnectionConfig& config = {});
  // Incoming, from a decoded SYN: queues the 20-byte STATE answer. `initial_seq` must be random: it is what
  // the peer proves it received.
  static Connection accept(const PacketHeader& syn, std::uint16_t initial_seq, TimeUs now,
                           const ConnectionConfig& config = {});

  // A packet whose connection_id is recv_id() (the driver checks that and the endpoint).
  void on_packet(const Packet& packet, TimeUs now);
  // Time passes: retransmission timeouts, keep-alives, probes, expiry. Call at next_deadline() or later.
  void on_timer(TimeUs now);
  // Turns what is queued (data, FIN, ACKs) into datagrams under the window; call after on_packet/on_timer/
  // write/read batches. Datagrams accumulate until clear_output().
  void flush(TimeUs now);

  std::size_t output_count() const { return output_spans_.size(); }
  std::span<const std::uint8_t> output(std::size_t i) const {
    const auto& o = output_spans_[i];
    return {output_.data() + o.at, o.size};
  }
  // The datagram is larger than the size the path is known to carry (a lost probe, or a packet sent before
  // the size dropped): send it with fragmentation allowed.
  bool output_may_fragment(std::size_t i) const { return output_spans_[i].may_fragment; }
  void clear_output() {
    output_.clear();
    output_spans_.clear();
  }

  // Copies up to data.size() bytes into the send buffer; returns how many it took (0: full, or closing).
  std::size_t write(std::span<const std::uint8_t> data);
  std::size_t write_room() const;
  // In-order bytes received and not read yet.
  std::size_t readable() const { return receive_buffer_.size() - receive_head_; }
  std::size_t read(std::span<std::uint8_t> out);
  // The peer's FIN arrived and every byte before it has been read.
  bool eof() const { return got_fin_ && ack_nr_ == fin_seq_ && readable() == 0; }

  // Sends FIN once everything written is sent; the connection closes when the FIN is acknowledged and the
  // peer's FIN received (or by timeout).
  void close();
  // Queues a RESET and closes at once.
  void abort();
  // The network says datagrams above `limit` bytes (UDP payload; 0: unknown) do not pass to this peer
  // (ICMP fragmentation needed / packet too big, EMSGSIZE): packets in flight above it are resent at once.
  void on_packet_too_big(std::size_t limit, TimeUs now);
  // The driver learned the route's ceiling (its MTU less IP and UDP headers).
  void set_max_packet_size(std::size_t size, TimeUs now);
  // The largest datagram the peer reads (what it advertised, or kUnadvertisedPacketLimit).
  std::size_t peer_packet_limit() const { return peer_packet_limit_; }

  State state() const { return state_; }
  ConnectionError error() const { return error_; }
  bool closing() const { return close_requested_; }
  bool fin_acked() const { return fin_acked_; }
  std::uint16_t recv_id() const { return recv_id_; }
  std::uint16_t send_id() const { return send_id_; }
  TimeUs next_deadline() const;

  // For tests and statistics.
  std::size_t congestion_window() const { return ledbat_.window(); }
  std::size_t bytes_in_flight() const { return cur_window_; }
  std::uint32_t peer_window() const { return peer_window_; }
  std::size_t advertised_window() const;
  TimeUs rto_us() const { return rto_us_; }
  TimeUs srtt_us() const { return srtt_us_; }
  std::uint32_t queuing_delay_us() const { return ledbat_.queuing_delay_us(); }
  std::uint64_t retransmissions() const { return retransmissions_; }
  std::uint64_t packets_sent() const { return packets_sent_; }
  std::uint64_t acks_sent() const { return acks_sent_; }  // STATE packets: ACKs that rode on no data
  std::uint64_t fast_retransmissions() const { return fast_retransmissions_; }
  std::uint64_t timeouts() const { return timeout_count_; }
  std::uint64_t congestion_losses() const { return congestion_losses_; }  // window cuts for loss
  std::size_t packet_size() const { return mtu_.packet_size(); }
  const PathMtu& path_mtu() const { return mtu_; }

 private:
  struct Sent {
    std::vector<std::uint8_t> packet;  // encoded, header without extensions
    TimeUs sent_us = 0;
    std::uint16_t transmissions = 0;
    std::uint16_t payload = 0;
    bool sacked = false;
    bool need_resend = false;
    bool in_use = false;
    bool probe = false;  // a path MTU probe, sent once so far
  };
  struct Received {
    std::vector<std::uint8_t> payload;
    bool present = false;
  };

  explicit Connection(const ConnectionConfig& config);
  Sent& sent_slot(std::uint16_t seq) { return outstanding_[seq & (kOutstandingSlots - 1)]; }
  Received& received_slot(std::uint16_t seq) { return reorder_[seq & (kReorderSlots - 1)]; }
  std::uint16_t packets_outstanding() const { return static_cast<std::uint16_t>(seq_nr_ - 1 - acked_seq_); }
  std::size_t max_payload() const { return mtu_.packet_size() - kHeaderSize; }

  void handle_ack(const Packet& p, TimeUs now);
  void acknowledge(Sent& s, std::size_t& bytes_acked, TimeUs now);
  void mark_lost(std::uint16_t seq, TimeUs now);
  void on_delivered(Sent& s, TimeUs now);
  void probe_lost(Sent& s, TimeUs now);
  bool only_probe_outstanding() const;
  void push_output(std::size_t at, std::size_t size, bool may_fragment);
  void learn_peer_limit(std::uint16_t advertised, TimeUs now);
  void handle_data(const Packet& p);
  void deliver(std::span<const std::uint8_t> payload);
  void rtt_sample(TimeUs sample);
  void maybe_finish();

  PacketHeader header(PacketType type, TimeUs now) const;
  void emit(PacketType type, TimeUs now, bool with_sack);
  void send_new(PacketType type, std::span<const std::uint8_t> payload, TimeUs now);
  void resend(std::uint16_t seq, TimeUs now);
  std::size_t build_sack(std::array<std::uint8_t, kMaxSackBytes>& mask) const;
  std::size_t send_window() const;

  ConnectionConfig config_;
  Ledbat ledbat_;
  PathMtu mtu_;
  bool probe_in_flight_ = false;
  std::size_t route_max_packet_ = 0;
  std::size_t peer_packet_limit_ = kUnadvertisedPacketLimit;
  bool peer_advertised_ = false;  // its SYN carried kExtensionMaxPacket: our answer does too
  std::uint16_t probe_seq_ = 0;
  State state_ = State::syn_sent;
  ConnectionError error_ = ConnectionError::none;
  std::uint16_t recv_id_ = 0;
  std::uint16_t send_id_ = 0;

  // Sending.
  std::uint16_t seq_nr_ = 0;     // the next seq number a DATA, SYN or FIN takes
  std::uint16_t acked_seq_ = 0;  // the peer has everything up to here
  std::vector<Sent> outstanding_;
  std::vector<std::uint8_t> send_buffer_;
  std::size_t send_head_ = 0;
  std::size_t cur_window_ = 0;
  std::uint32_t peer_window_ = 0;
  int duplicate_acks_ = 0;
  std::uint16_t loss_recovery_seq_ = 0;  // no second window cut for losses up to here
  bool close_requested_ = false;
  bool fin_sent_ = false;
  bool fin_acked_ = false;
  std::uint16_t our_fin_seq_ = 0;
  bool probe_allowed_ = false;

  // Timing.
  TimeUs srtt_us_ = 0;
  TimeUs rttvar_us_ = 0;
  TimeUs rto_us_ = 0;
  TimeUs rto_deadline_ = kNever;
  int timeouts_ = 0;
  TimeUs created_us_ = 0;
  TimeUs last_sent_us_ = 0;
  TimeUs last_received_us_ = 0;
  std::uint32_t reply_micro_ = 0;  // our clock minus the peer's timestamp, on its last packet

  // Receiving.
  std::uint16_t ack_nr_ = 0;  // everything up to here has arrived in order
  std::vector<Received> reorder_;
  std::size_t reorder_bytes_ = 0;
  std::uint16_t reorder_max_ = 0;  // how far past ack_nr_ the furthest waiting packet is (0: none)
  std::vector<std::uint8_t> receive_buffer_;
  std::size_t receive_head_ = 0;
  bool got_fin_ = false;
  std::uint16_t fin_seq_ = 0;
  bool ack_needed_ = false;
  bool sack_needed_ = false;  // packets wait past a gap: the next STATE carries a SACK

  // Output.
  std::vector<std::uint8_t> output_;
  struct Output {
    std::size_t at = 0;
    std::size_t size = 0;
    bool may_fragment = false;
  };
  std::vector<Output> output_spans_;

  std::uint64_t retransmissions_ = 0;
  std::uint64_t fast_retransmissions_ = 0;
  std::uint64_t packets_sent_ = 0;
  std::uint64_t acks_sent_ = 0;
  std::uint64_t timeout_count_ = 0;
  std::uint64_t congestion_losses_ = 0;
};

}  // namespace shoal::utp
