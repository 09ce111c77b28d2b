#include "utp/connection.hpp"

#include <algorithm>
#include <cstring>

#include "utp/seq.hpp"

namespace shoal::utp {
namespace {

std::uint32_t timestamp(TimeUs now) {
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(now));
}

}  // namespace

const char* to_string(ConnectionError e) {
  switch (e) {
    case ConnectionError::none:
      return "no error";
    case ConnectionError::reset:
      return "uTP connection reset by peer";
    case ConnectionError::timed_out:
      return "uTP connection timed out";
    case ConnectionError::aborted:
      return "uTP connection aborted";
  }
  return "unknown uTP error";
}

Connection::Connection(const ConnectionConfig& config)
    : config_(config),
      ledbat_(config.ledbat),
      mtu_(config.mtu),
      route_max_packet_(config.mtu.max_packet_size),
      rto_us_(config.initial_rto_us) {
  mtu_.set_max(std::min(route_max_packet_, peer_packet_limit_), 0);
}

void Connection::set_max_packet_size(std::size_t size, TimeUs now) {
  route_max_packet_ = size;
  mtu_.set_max(std::min(route_max_packet_, peer_packet_limit_), now);
}

void Connection::learn_peer_limit(std::uint16_t advertised, TimeUs now) {
  if (advertised == 0) return;
  peer_packet_limit_ = advertised;
  mtu_.set_max(std::min(route_max_packet_, peer_packet_limit_), now);
}

Connection Connection::connect(std::uint16_t recv_id, std::uint16_t initial_seq, TimeUs now,
                               const ConnectionConfig& config) {
  Connection c(config);
  c.state_ = State::syn_sent;
  c.recv_id_ = recv_id;
  c.send_id_ = static_cast<std::uint16_t>(recv_id + 1);
  c.seq_nr_ = initial_seq;
  c.acked_seq_ = static_cast<std::uint16_t>(initial_seq - 1);
  c.created_us_ = now;
  c.last_received_us_ = now;
  c.outstanding_.resize(kOutstandingSlots);
  if (config.syn_rto_us > 0) c.rto_us_ = config.syn_rto_us;
  c.send_new(PacketType::syn, {}, now);
  return c;
}

Connection Connection::accept(const PacketHeader& syn, std::uint16_t initial_seq, TimeUs now,
                              const ConnectionConfig& config) {
  Connection c(config);
  c.state_ = State::syn_received;
  c.send_id_ = syn.connection_id;
  c.recv_id_ = static_cast<std::uint16_t>(syn.connection_id + 1);
  c.seq_nr_ = initial_seq;
  c.acked_seq_ = static_cast<std::uint16_t>(initial_seq - 1);
  c.ack_nr_ = syn.seq_nr;
  c.peer_window_ = syn.window;
  c.created_us_ = now;
  c.last_received_us_ = now;
  c.reply_micro_ = timestamp(now) - syn.timestamp_us;
  c.peer_advertised_ = syn.max_packet != 0;
  c.learn_peer_limit(syn.max_packet, now);
  c.emit(PacketType::state, now, false);
  return c;
}

std::size_t Connection::advertised_window() const {
  std::size_t buffered = readable() + reorder_bytes_;
  return buffered >= config_.receive_buffer ? 0 : config_.receive_buffer - buffered;
}

std::size_t Connection::write_room() const {
  // Nothing is queued before the peer proved itself (syn_received) nor after the end.
  if (close_requested_ || state_ == State::closed || state_ == State::syn_received) return 0;
  std::size_t queued = send_buffer_.size() - send_head_;
  return queued >= config_.send_buffer ? 0 : config_.send_buffer - queued;
}

std::size_t Connection::write(std::span<const std::uint8_t> data) {
  std::size_t n = std::min(data.size(), write_room());
  if (n == 0) return 0;
  if (send_head_ > 0 && send_head_ >= send_buffer_.size() / 2) {
    send_buffer_.erase(send_buffer_.begin(), send_buffer_.begin() + static_cast<std::ptrdiff_t>(send_head_));
    send_head_ = 0;
  }
  send_buffer_.insert(send_buffer_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
  return n;
}

std::size_t Connection::read(std::span<std::uint8_t> out) {
  std::size_t n = std::min(out.size(), readable());
  if (n == 0) return 0;
  bool was_small = advertised_window() < max_payload();
  std::memcpy(out.data(), receive_buffer_.data() + receive_head_, n);
  receive_head_ += n;
  if (receive_head_ == receive_buffer_.size()) {
    receive_buffer_.clear();
    receive_head_ = 0;
  } else if (receive_head_ >= 256 * 1024 && receive_head_ >= receive_buffer_.size() / 2) {
    receive_buffer_.erase(receive_buffer_.begin(),
                          receive_buffer_.begin() + static_cast<std::ptrdiff_t>(receive_head_));
    receive_head_ = 0;
  }
  // The peer stopped on our closed window: tell it the window opened rather than wait for its probe.
  if (was_small && advertised_window() >= max_payload() && state_ == State::connected) ack_needed_ = true;
  return n;
}

void Connection::close() {
  if (state_ == State::closed || close_requested_) return;
  close_requested_ = true;
  if (state_ != State::connected) {
    state_ = State::closed;  // nothing was ever exchanged with the application
    return;
  }
}

void Connection::push_output(std::size_t at, std::size_t size, bool may_fragment) {
  output_spans_.push_back(Output{at, size, may_fragment});
}

void Connection::on_packet_too_big(std::size_t limit, TimeUs now) {
  if (state_ != State::connected) return;
  mtu_.on_too_big(limit, now);
  // What is in flight above the new size was dropped on the way: resend it now (allowed to fragment), without
  // a window cut (the size was wrong, not the rate).
  std::size_t size = mtu_.packet_size();
  for (std::uint16_t seq = static_cast<std::uint16_t>(acked_seq_ + 1); seq != seq_nr_; ++seq) {
    auto& s = sent_slot(seq);
    if (!s.in_use || s.sacked || s.need_resend || s.packet.size() <= size) continue;
    s.need_resend = true;
    cur_window_ -= s.payload;
    if (s.probe) probe_lost(s, now);
  }
}

void Connection::abort() {
  if (state_ == State::closed) return;
  if (state_ != State::syn_received) {
    PacketHeader h = header(PacketType::reset, 0);
    std::size_t at = output_.size();
    std::size_t n = encode_packet(h, {}, {}, output_);
    push_output(at, n, false);
  }
  state_ = State::closed;
  error_ = ConnectionError::aborted;
}

TimeUs Connection::next_deadline() const {
  switch (state_) {
    case State::closed:
      return kNever;
    case State::syn_received:
      return created_us_ + config_.syn_received_timeout_us;
    default:
      break;
  }
  TimeUs t = kNever;
  if (packets_outstanding() > 0) t = std::min(t, rto_deadline_);
  if (state_ == State::connected) t = std::min(t, last_sent_us_ + config_.keepalive_us);
  bool blocked = send_buffer_.size() > send_head_ && cur_window_ == 0 && peer_window_ == 0;
  if (state_ == State::connected && blocked)
    t = std::min(t, last_received_us_ + config_.zero_window_probe_us);
  return t;
}

void Connection::on_timer(TimeUs now) {
  if (state_ == State::closed) return;
  if (state_ == State::syn_received) {
    if (now >= created_us_ + config_.syn_received_timeout_us) state_ = State::closed;
    return;
  }
  if (packets_outstanding() > 0 && now >= rto_deadline_ && probe_in_flight_ && only_probe_outstanding()) {
    // Everything but the probe arrived: its size was lost, not the rate. No window cut, no backoff; the
    // retransmission may fragment, so a dead peer still times out through the ordinary path below.
    auto& s = sent_slot(probe_seq_);
    s.need_resend = true;
    cur_window_ -= s.payload;
    probe_lost(s, now);
    rto_deadline_ = now + rto_us_;
  } else if (packets_outstanding() > 0 && now >= rto_deadline_) {
    ++timeouts_;
    ++timeout_count_;
    int limit = state_ == State::syn_sent ? config_.max_syn_retries : config_.max_timeouts;
    if (timeouts_ > limit) {
      state_ = State::closed;
      error_ = ConnectionError::timed_out;
      return;
    }
    rto_us_ = std::min(rto_us_ * 2, config_.max_rto_us);
    ledbat_.on_timeout();
    if (probe_in_flight_) {
      sent_slot(probe_seq_).probe = false;  // lost with everything else: it says nothing about its size
      probe_in_flight_ = false;
    }
    // The oldest packet was sent twice at the size the path used to carry and both vanished while the peer
    // is silent: a black hole (a route change to a smaller MTU that sends no ICMP, or one filtered). Drop to
    // the minimum size; the retransmission may fragment.
    auto& oldest = sent_slot(static_cast<std::uint16_t>(acked_seq_ + 1));
    if (state_ == State::connected && timeouts_ >= 2 && oldest.transmissions >= 2 &&
        oldest.packet.size() > config_.mtu.min_packet_size && oldest.packet.size() >= mtu_.packet_size())
      mtu_.on_black_hole(now);
    duplicate_acks_ = 0;
    for (std::uint16_t s = static_cast<std::uint16_t>(acked_seq_ + 1); s != seq_nr_; ++s) {
      auto& slot = sent_slot(s);
      if (slot.sacked || slot.need_resend) continue;
      slot.need_resend = true;
      cur_window_ -= slot.payload;
    }
    loss_recovery_seq_ = static_cast<std::uint16_t>(seq_nr_ - 1);
    rto_deadline_ = now + rto_us_;
  }
  if (state_ == State::connected && now >= last_sent_us_ + config_.keepalive_us) ack_needed_ = true;
  if (state_ == State::connected && peer_window_ == 0 && cur_window_ == 0 &&
      now >= last_received_us_ + config_.zero_window_probe_us)
    probe_allowed_ = true;
}

void Connection::on_packet(const Packet& p, TimeUs now) {
  const auto& h = p.header;
  if (state_ == State::closed) {
    // Closed cleanly, but the peer did not hear our last ACK of its FIN: it repeats the FIN.
    if (error_ == ConnectionError::none && got_fin_ && h.type == PacketType::fin && h.seq_nr == fin_seq_)
      ack_needed_ = true;
    return;
  }
  if (h.type == PacketType::reset) {
    state_ = State::closed;
    error_ = ConnectionError::reset;
    return;
  }
  if (state_ == State::syn_received) {
    if (h.type == PacketType::syn) {
      if (h.seq_nr == ack_nr_) emit(PacketType::state, now, false);  // our answer was lost: once more
      return;
    }
    // The proof: only who received our STATE knows our initial seq_nr.
    if (h.ack_nr != static_cast<std::uint16_t>(seq_nr_ - 1)) return;
    state_ = State::connected;
    outstanding_.resize(kOutstandingSlots);
  } else if (h.type == PacketType::syn) {
    return;  // a SYN on an established connection id: stale, ignore
  }
  if (state_ == State::syn_sent) {
    if (h.type != PacketType::state && h.type != PacketType::data) return;
    if (h.ack_nr != static_cast<std::uint16_t>(acked_seq_ + 1)) return;  // not an answer to our SYN
    ack_nr_ = static_cast<std::uint16_t>(h.seq_nr - 1);
    state_ = State::connected;
    learn_peer_limit(h.max_packet, now);
    // A short SYN timeout, doubled by retransmissions, says nothing about the path: data starts from the
    // ordinary initial timeout, unless the SYN's round trip (sampled in handle_ack below) gives a real one.
    rto_us_ = config_.initial_rto_us;
  }
  last_received_us_ = now;
  reply_micro_ = timestamp(now) - h.timestamp_us;
  handle_ack(p, now);
  if (h.type == PacketType::data || h.type == PacketType::fin) handle_data(p);
  maybe_finish();
}

void Connection::acknowledge(Sent& s, std::size_t& bytes_acked, TimeUs now) {
  if (!s.sacked) {
    bytes_acked += s.payload;
    if (!s.need_resend) cur_window_ -= s.payload;
    if (s.transmissions == 1) rtt_sample(now - s.sent_us);
    on_delivered(s, now);
  }
  s.in_use = false;
  s.sacked = false;
  s.need_resend = false;
}

void Connection::on_delivered(Sent& s, TimeUs now) {
  if (!s.probe) return;
  s.probe = false;
  probe_in_flight_ = false;
  if (s.transmissions == 1) mtu_.on_probe_acked(s.packet.size(), now);
}

void Connection::probe_lost(Sent& s, TimeUs now) {
  s.probe = false;
  probe_in_flight_ = false;
  mtu_.on_probe_lost(s.packet.size(), now);
}

bool Connection::only_probe_outstanding() const {
  for (std::uint16_t seq = static_cast<std::uint16_t>(acked_seq_ + 1); seq != seq_nr_; ++seq) {
    if (seq == probe_seq_) continue;
    const auto& s = outstanding_[seq & (kOutstandingSlots - 1)];
    if (!s.sacked) return false;
  }
  return true;
}

void Connection::rtt_sample(TimeUs sample) {
  sample = std::max<TimeUs>(sample, 1);
  if (srtt_us_ == 0) {
    srtt_us_ = sample;
    rttvar_us_ = sample / 2;
  } else {
    TimeUs delta = srtt_us_ > sample ? srtt_us_ - sample : sample - srtt_us_;
    rttvar_us_ += (delta - rttvar_us_) / 4;
    srtt_us_ += (sample - srtt_us_) / 8;
  }
  rto_us_ = std::clamp(srtt_us_ + 4 * rttvar_us_, config_.min_rto_us, config_.max_rto_us);
}

void Connection::mark_lost(std::uint16_t seq, TimeUs now) {
  auto& s = sent_slot(seq);
  if (!s.in_use || s.sacked || s.need_resend) return;
  s.need_resend = true;
  cur_window_ -= s.payload;
  if (s.probe) {
    probe_lost(s, now);  // too big for the path, most likely: no congestion signal
    return;
  }
  ++fast_retransmissions_;
  if (seq_less(loss_recovery_seq_, seq)) {
    ledbat_.on_loss();
    ++congestion_losses_;
    loss_recovery_seq_ = static_cast<std::uint16_t>(seq_nr_ - 1);
  }
}

void Connection::handle_ack(const Packet& p, TimeUs now) {
  const auto& h = p.header;
  peer_window_ = h.window;
  if (peer_window_ > 0) probe_allowed_ = false;
  // A full receiver drops our probes but answers them: alive, so its silence on data is no timeout.
  if (peer_window_ == 0) timeouts_ = 0;
  std::uint16_t outstanding = packets_outstanding();
  int advanced = seq_distance(acked_seq_, h.ack_nr);
  if (advanced < 0 || advanced > outstanding) return;  // old, or acks what we never sent
  std::size_t in_flight_before = cur_window_;
  std::size_t bytes_acked = 0;
  for (int i = 0; i < advanced; ++i) {
    acked_seq_ = static_cast<std::uint16_t>(acked_seq_ + 1);
    acknowledge(sent_slot(acked_seq_), bytes_acked, now);
  }
  if (fin_sent_ && seq_distance(our_fin_seq_, acked_seq_) >= 0) fin_acked_ = true;
  if (advanced == 0 && outstanding > 0 && p.payload.empty() && h.type == PacketType::state) {
    ++duplicate_acks_;
  } else if (advanced > 0) {
    duplicate_acks_ = 0;
  }
  // SACK: bit i of the mask is seq ack_nr + 2 + i.
  int sacked_after = 0;
  std::uint16_t remaining = packets_outstanding();
  if (!p.sack.empty() && remaining > 1) {
    int bits = static_cast<int>(p.sack.size() * 8);
    int limit = std::min<int>(bits, remaining - 1);
    for (int i = limit - 1; i >= 0; --i) {
      std::uint16_t seq = static_cast<std::uint16_t>(acked_seq_ + 2 + i);
      auto& s = sent_slot(seq);
      bool set = (p.sack[static_cast<std::size_t>(i / 8)] >> (i % 8)) & 1;
      if (set) {
        if (!s.sacked && s.in_use) {
          bytes_acked += s.payload;
          if (!s.need_resend) cur_window_ -= s.payload;
          if (s.transmissions == 1) rtt_sample(now - s.sent_us);
          on_delivered(s, now);
          s.sacked = true;
          s.need_resend = false;
        }
        ++sacked_after;
      } else if (sacked_after >= 3) {
        mark_lost(seq, now);
      }
    }
    if (sacked_after >= 3) mark_lost(static_cast<std::uint16_t>(acked_seq_ + 1), now);
  }
  if (duplicate_acks_ >= 3 && packets_outstanding() > 0) {
    mark_lost(static_cast<std::uint16_t>(acked_seq_ + 1), now);
    duplicate_acks_ = 0;
  }
  if (bytes_acked > 0 || advanced > 0) {
    timeouts_ = 0;
    rto_deadline_ = now + rto_us_;
  }
  ledbat_.on_ack(bytes_acked, h.timestamp_difference_us, in_flight_before, now);
}

void Connection::handle_data(const Packet& p) {
  const auto& h = p.header;
  ack_needed_ = true;
  bool fin = h.type == PacketType::fin;
  if (got_fin_ && seq_less(fin_seq_, h.seq_nr)) return;  // nothing counts after the FIN
  if (fin && !got_fin_) {
    got_fin_ = true;
    fin_seq_ = h.seq_nr;
  }
  int ahead = seq_distance(ack_nr_, h.seq_nr);
  if (ahead <= 0) return;  // a duplicate: the ACK it triggers is all it needs
  if (ahead >= static_cast<int>(kReorderSlots)) return;
  // Beyond what we advertised (one packet, of the sender's size, of slack): a misbehaving sender, drop.
  if (readable() + reorder_bytes_ > config_.receive_buffer) return;
  if (ahead == 1) {
    deliver(p.payload);
    ack_nr_ = h.seq_nr;
    // Drain what waited for this one.
    while (reorder_max_ > 0) {
      std::uint16_t next = static_cast<std::uint16_t>(ack_nr_ + 1);
      auto& slot = received_slot(next);
      --reorder_max_;
      if (!slot.present) break;
      deliver(slot.payload);
      reorder_bytes_ -= slot.payload.size();
      slot.payload.clear();
      slot.present = false;
      ack_nr_ = next;
    }
    if (reorder_max_ > 0) sack_needed_ = true;
    return;
  }
  if (reorder_.empty()) reorder_.resize(kReorderSlots);
  auto& slot = received_slot(h.seq_nr);
  if (slot.present) return;
  slot.present = true;
  slot.payload.assign(p.payload.begin(), p.payload.end());
  reorder_bytes_ += p.payload.size();
  reorder_max_ = std::max(reorder_max_, static_cast<std::uint16_t>(ahead));
  sack_needed_ = true;
}

void Connection::deliver(std::span<const std::uint8_t> payload) {
  receive_buffer_.insert(receive_buffer_.end(), payload.begin(), payload.end());
}

void Connection::maybe_finish() {
  if (state_ == State::connected && fin_acked_ && got_fin_ && ack_nr_ == fin_seq_) state_ = State::closed;
}

PacketHeader Connection::header(PacketType type, TimeUs now) const {
  PacketHeader h;
  h.type = type;
  // BEP 29: the SYN carries the id the peer will send with (our recv_id); every other packet our send_id.
  h.connection_id = type == PacketType::syn ? recv_id_ : send_id_;
  h.timestamp_us = timestamp(now);
  h.timestamp_difference_us = reply_micro_;
  h.window = static_cast<std::uint32_t>(advertised_window());
  h.seq_nr = seq_nr_;
  h.ack_nr = ack_nr_;
  // Our read limit rides on the SYN, and on the answer to a SYN that carried it (no larger than that SYN).
  if (type == PacketType::syn ||
      (type == PacketType::state && state_ == State::syn_received && peer_advertised_))
    h.max_packet = config_.receive_packet_limit;
  return h;
}

std::size_t Connection::build_sack(std::array<std::uint8_t, kMaxSackBytes>& mask) const {
  if (reorder_max_ < 2 || reorder_.empty()) return 0;
  // Bit i is ack_nr_ + 2 + i; the packet at ack_nr_ + 1 is missing by definition.
  std::size_t bits = std::min<std::size_t>(reorder_max_ - 1, kMaxSackBytes * 8);
  std::size_t bytes = (bits + 31) / 32 * 4;
  std::fill(mask.begin(), mask.begin() + static_cast<std::ptrdiff_t>(bytes), 0);
  for (std::size_t i = 0; i < bits; ++i) {
    auto seq = static_cast<std::uint16_t>(ack_nr_ + 2 + i);
    if (reorder_[seq & (kReorderSlots - 1)].present) mask[i / 8] |= static_cast<std::uint8_t>(1u << (i % 8));
  }
  return bytes;
}

void Connection::emit(PacketType type, TimeUs now, bool with_sack) {
  std::array<std::uint8_t, kMaxSackBytes> mask{};
  std::size_t sack = with_sack ? build_sack(mask) : 0;
  std::size_t at = output_.size();
  std::size_t n = encode_packet(header(type, now), std::span(mask.data(), sack), {}, output_);
  push_output(at, n, false);
  ack_needed_ = false;
  sack_needed_ = false;
  last_sent_us_ = now;
  ++packets_sent_;
  if (type == PacketType::state) ++acks_sent_;
}

void Connection::send_new(PacketType type, std::span<const std::uint8_t> payload, TimeUs now) {
  auto& s = sent_slot(seq_nr_);
  s.packet.clear();
  encode_packet(header(type, now), {}, payload, s.packet);
  s.sent_us = now;
  s.transmissions = 1;
  s.payload = static_cast<std::uint16_t>(payload.size());
  s.sacked = false;
  s.need_resend = false;
  s.in_use = true;
  s.probe = false;
  std::size_t at = output_.size();
  output_.insert(output_.end(), s.packet.begin(), s.packet.end());
  push_output(at, s.packet.size(), false);
  if (packets_outstanding() == 0) rto_deadline_ = now + rto_us_;
  seq_nr_ = static_cast<std::uint16_t>(seq_nr_ + 1);
  cur_window_ += payload.size();
  ack_needed_ = false;
  last_sent_us_ = now;
  ++packets_sent_;
}

void Connection::resend(std::uint16_t seq, TimeUs now) {
  auto& s = sent_slot(seq);
  rewrite_header(s.packet, timestamp(now), reply_micro_, static_cast<std::uint32_t>(advertised_window()),
                 ack_nr_);
  s.sent_us = now;
  ++s.transmissions;
  s.need_resend = false;
  s.probe = false;
  cur_window_ += s.payload;
  std::size_t at = output_.size();
  output_.insert(output_.end(), s.packet.begin(), s.packet.end());
  // Larger than what the path is known to carry (a lost probe, a packet from before the size dropped): the
  // bytes must arrive even if the size does not pass, so fragmentation is allowed.
  push_output(at, s.packet.size(), s.packet.size() > mtu_.packet_size());
  ack_needed_ = false;
  last_sent_us_ = now;
  ++packets_sent_;
  ++retransmissions_;
}

std::size_t Connection::send_window() const {
  return std::min<std::size_t>(ledbat_.window(), peer_window_);
}

void Connection::flush(TimeUs now) {
  if (state_ == State::closed) {
    if (ack_needed_ && error_ == ConnectionError::none) emit(PacketType::state, now, false);  // the last ACK
    return;
  }
  if (state_ == State::syn_received) return;
  if (state_ == State::syn_sent) {
    std::uint16_t syn = static_cast<std::uint16_t>(acked_seq_ + 1);
    if (sent_slot(syn).need_resend) resend(syn, now);
    return;
  }
  // Retransmissions first, oldest first, within the window (one packet always, so a timeout makes progress).
  std::uint16_t end = seq_nr_;
  for (std::uint16_t s = static_cast<std::uint16_t>(acked_seq_ + 1); s != end; ++s) {
    auto& slot = sent_slot(s);
    if (!slot.need_resend) continue;
    if (cur_window_ > 0 && cur_window_ + slot.payload > ledbat_.window()) break;
    resend(s, now);
  }
  // New data.
  while (send_buffer_.size() > send_head_ && packets_outstanding() < kOutstandingSlots - 1) {
    std::size_t window = send_window();
    std::size_t queued = send_buffer_.size() - send_head_;
    std::size_t size = std::min(queued, max_payload());
    // One probe at a time, of full data (the search wants the size to pass as one datagram), under the
    // window.
    bool probe = false;
    if (!probe_in_flight_) {
      std::size_t probe_size = mtu_.probe_size(now);
      if (probe_size > kHeaderSize && queued >= probe_size - kHeaderSize &&
          cur_window_ + probe_size - kHeaderSize <= window) {
        size = probe_size - kHeaderSize;
        probe = true;
      }
    }
    if (cur_window_ + size > window) {
      // Always one packet in flight when the window is smaller than a packet (a tiny peer window, a probe).
      if (cur_window_ > 0) break;
      if (peer_window_ == 0 && !probe_allowed_) break;
      probe_allowed_ = false;
      if (window > 0) size = std::min(size, window);
    }
    send_new(PacketType::data, std::span(send_buffer_.data() + send_head_, size), now);
    send_head_ += size;
    if (probe) {
      probe_seq_ = static_cast<std::uint16_t>(seq_nr_ - 1);
      sent_slot(probe_seq_).probe = true;
      probe_in_flight_ = true;
    }
  }
  if (send_head_ == send_buffer_.size()) {
    send_buffer_.clear();
    send_head_ = 0;
  }
  if (close_requested_ && !fin_sent_ && send_buffer_.empty() &&
      packets_outstanding() < kOutstandingSlots - 1) {
    our_fin_seq_ = seq_nr_;
    fin_sent_ = true;
    send_new(PacketType::fin, {}, now);
  }
  // Data packets carried the cumulative ACK; a SACK goes in a STATE of its own (retransmissions reuse the
  // stored packet, which has no room for one).
  if (ack_needed_ || sack_needed_) emit(PacketType::state, now, true);
  maybe_finish();
}

}  // namespace shoal::utp
