#include "utp/connection.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <numeric>
#include <vector>

#include "link.hpp"

namespace shoal::utp {
namespace {

using test::Link;
using test::LinkConfig;

std::vector<std::uint8_t> pattern(std::size_t n, std::uint32_t seed) {
  std::vector<std::uint8_t> v(n);
  std::mt19937 rng(seed);
  for (auto& b : v)
    b = static_cast<std::uint8_t>(rng());
  return v;
}

struct Transfer {
  std::vector<std::uint8_t> received;
  bool sender_closed = false;
  bool receiver_closed = false;
  ConnectionError sender_error = ConnectionError::none;
  TimeUs elapsed_us = 0;
  std::uint64_t retransmissions = 0;
  std::uint64_t fast_retransmissions = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t congestion_losses = 0;
  std::size_t largest_reply_before_confirmed = 0;
  std::size_t packet_size = 0;
  std::uint32_t probes = 0;
  bool searching = false;
  std::size_t smallest_window_while_connected = SIZE_MAX;
};

struct Options {
  std::uint16_t seq_a = 1000;
  std::uint16_t seq_b = 40000;
  std::uint16_t id = 0x1234;
  ConnectionConfig config;
  bool receiver_reads = true;
  TimeUs give_up_after_us = 600'000'000;
  std::function<void(Link&, std::size_t received)> each_step;  // to change the path mid-run
};

// Sends `data` from side 0 to side 1 over `link_config`, then both close; runs until both are closed.
Transfer run_transfer(const std::vector<std::uint8_t>& data, LinkConfig link_config, Options o = {}) {
  Link link(std::move(link_config));
  Transfer t;
  TimeUs start = link.now;
  link.side[0] = Connection::connect(o.id, o.seq_a, link.now, o.config);
  link.on_unbound = [&](int to, const Packet& p) {
    if (to == 1 && p.header.type == PacketType::syn)
      link.side[1] = Connection::accept(p.header, o.seq_b, link.now, o.config);
  };
  std::size_t written = 0;
  std::vector<std::uint8_t> buffer(64 * 1024);
  while (link.now - start < o.give_up_after_us) {
    auto& a = *link.side[0];
    if (a.state() == State::connected && written < data.size()) {
      written += a.write(std::span(data).subspan(written));
      if (written == data.size()) a.close();
    }
    if (link.side[1]) {
      auto& b = *link.side[1];
      if (b.state() == State::syn_received) {
        for (std::size_t k = 0; k < b.output_count(); ++k)
          t.largest_reply_before_confirmed = std::max(t.largest_reply_before_confirmed, b.output(k).size());
      }
      if (o.receiver_reads) {
        while (std::size_t n = b.read(buffer))
          t.received.insert(t.received.end(), buffer.begin(),
                            buffer.begin() + static_cast<std::ptrdiff_t>(n));
      }
      if (b.eof()) b.close();
    }
    if (o.each_step) o.each_step(link, t.received.size());
    if (a.state() == State::connected)
      t.smallest_window_while_connected = std::min(t.smallest_window_while_connected, a.congestion_window());
    link.flush_all();
    bool a_closed = a.state() == State::closed;
    bool b_closed = link.side[1] && link.side[1]->state() == State::closed;
    if (a_closed && (b_closed || a.error() != ConnectionError::none)) break;
    if (!link.step()) break;
  }
  auto& a = *link.side[0];
  t.sender_closed = a.state() == State::closed;
  t.sender_error = a.error();
  t.receiver_closed = link.side[1] && link.side[1]->state() == State::closed;
  t.elapsed_us = link.now - start;
  t.retransmissions = a.retransmissions();
  t.fast_retransmissions = a.fast_retransmissions();
  t.timeouts = a.timeouts();
  t.congestion_losses = a.congestion_losses();
  t.packet_size = a.packet_size();
  t.probes = a.path_mtu().probes_acked() + a.path_mtu().probes_lost();
  t.searching = a.path_mtu().searching();
  return t;
}

TEST(UtpConnection, TransfersAndClosesOnACleanLink) {
  auto data = pattern(1 << 20, 1);
  auto t = run_transfer(data, {});
  EXPECT_EQ(t.received, data);
  EXPECT_TRUE(t.sender_closed);
  EXPECT_TRUE(t.receiver_closed);
  EXPECT_EQ(t.sender_error, ConnectionError::none);
  EXPECT_EQ(t.retransmissions, 0u);
  // 1 MiB over a 20 ms RTT: slow start reaches the window within a few RTTs.
  EXPECT_LT(t.elapsed_us, 2'000'000);
}

TEST(UtpConnection, SurvivesLossWithFastRetransmit) {
  auto data = pattern(2 << 20, 2);
  LinkConfig link;
  link.loss = 0.02;
  link.seed = 7;
  auto t = run_transfer(data, link);
  EXPECT_EQ(t.received, data);
  EXPECT_TRUE(t.sender_closed);
  EXPECT_GT(t.fast_retransmissions, 0u);
}

TEST(UtpConnection, SurvivesHeavyLossByTimeouts) {
  auto data = pattern(200 * 1024, 3);
  LinkConfig link;
  link.loss = 0.15;
  link.seed = 11;
  Options o;
  o.config.max_timeouts = 20;
  auto t = run_transfer(data, link, o);
  EXPECT_EQ(t.received, data);
  EXPECT_GT(t.retransmissions, 0u);
}

TEST(UtpConnection, ReorderingAndDuplicatesDeliverInOrderOnce) {
  auto data = pattern(1 << 20, 4);
  LinkConfig link;
  link.jitter_us = 15'000;
  link.duplicate = 0.05;
  link.seed = 5;
  auto t = run_transfer(data, link);
  EXPECT_EQ(t.received, data);
  EXPECT_TRUE(t.sender_closed);
}

TEST(UtpConnection, SequenceNumbersWrapAround) {
  auto data = pattern(300 * 1024, 6);  // ~220 packets, across 65535 -> 0 on both sides
  Options o;
  o.seq_a = 65500;
  o.seq_b = 65530;
  o.id = 65535;  // the connection id wraps too: recv 65535, send 0
  LinkConfig link;
  link.loss = 0.01;
  link.jitter_us = 5000;
  auto t = run_transfer(data, link, o);
  EXPECT_EQ(t.received, data);
  EXPECT_TRUE(t.sender_closed);
}

TEST(UtpConnection, SynToNobodyTimesOutAfterRetries) {
  ConnectionConfig config;
  auto c = Connection::connect(1, 1, 0, config);
  EXPECT_EQ(c.output_count(), 1u);
  c.clear_output();
  TimeUs now = 0;
  int syns = 1;
  while (c.state() != State::closed) {
    now = c.next_deadline();
    ASSERT_NE(now, kNever);
    c.on_timer(now);
    c.flush(now);
    syns += static_cast<int>(c.output_count());
    c.clear_output();
  }
  EXPECT_EQ(c.error(), ConnectionError::timed_out);
  EXPECT_EQ(syns, 1 + config.max_syn_retries);
  EXPECT_EQ(now, 1'000'000 + 2'000'000 + 4'000'000);  // 1 s, doubling
}

TEST(UtpConnection, ShortSynTimeoutGivesUpSooner) {
  ConnectionConfig config;
  config.syn_rto_us = 250'000;
  config.max_syn_retries = 1;
  auto c = Connection::connect(1, 1, 0, config);
  c.clear_output();
  TimeUs now = 0;
  int syns = 1;
  while (c.state() != State::closed) {
    now = c.next_deadline();
    ASSERT_NE(now, kNever);
    c.on_timer(now);
    c.flush(now);
    syns += static_cast<int>(c.output_count());
    c.clear_output();
  }
  EXPECT_EQ(c.error(), ConnectionError::timed_out);
  EXPECT_EQ(syns, 2);
  EXPECT_EQ(now, 250'000 + 500'000);
}

TEST(UtpConnection, DataTimeoutDoesNotInheritTheShortSynTimeout) {
  ConnectionConfig config;
  config.syn_rto_us = 250'000;
  auto c = Connection::connect(1, 1, 0, config);
  auto syn = decode_packet(c.output(0));
  ASSERT_TRUE(syn);
  c.clear_output();
  // The SYN is lost once: its repeat at 250 ms (no round-trip sample from it, Karn) is answered.
  c.on_timer(250'000);
  c.flush(250'000);
  ASSERT_EQ(c.output_count(), 1u);
  c.clear_output();
  auto d = Connection::accept(syn->header, 77, 300'000);
  auto answer = decode_packet(d.output(0));
  ASSERT_TRUE(answer);
  c.on_packet(*answer, 300'000);
  ASSERT_EQ(c.state(), State::connected);
  EXPECT_EQ(c.rto_us(), config.initial_rto_us);
}

TEST(UtpConnection, SilentPeerTimesOutAnEstablishedConnection) {
  auto data = pattern(100 * 1024, 8);
  LinkConfig link;
  // After the handshake everything side 1 sends is lost.
  link.drop = [](int from, const Packet& p) { return from == 1 && p.header.type != PacketType::state; };
  Link l(link);
  l.side[0] = Connection::connect(9, 100, l.now);
  bool accepted = false;
  l.on_unbound = [&](int, const Packet& p) {
    if (!accepted && p.header.type == PacketType::syn) l.side[1] = Connection::accept(p.header, 200, l.now);
    accepted = true;
  };
  // Handshake (the STATE passes), then side 1 goes silent for good.
  while (!(l.side[1] && l.side[0]->state() == State::connected))
    ASSERT_TRUE(l.step());
  l.side[1].reset();
  l.side[0]->write(data);
  TimeUs start = l.now;
  while (l.side[0]->state() != State::closed) {
    l.flush_all();
    ASSERT_TRUE(l.step());
  }
  EXPECT_EQ(l.side[0]->error(), ConnectionError::timed_out);
  // 6 doubling timeouts from 1 s, capped at 30 s: minutes, not hours.
  EXPECT_LT(l.now - start, 120'000'000);
}

TEST(UtpConnection, ConnectionIdsFollowBep29) {
  auto c = Connection::connect(7000, 1, 0);
  ASSERT_EQ(c.output_count(), 1u);
  auto syn = decode_packet(c.output(0));
  ASSERT_TRUE(syn);
  EXPECT_EQ(syn->header.type, PacketType::syn);
  EXPECT_EQ(syn->header.connection_id, 7000);  // the initiator's recv_id
  EXPECT_EQ(c.send_id(), 7001);
  auto d = Connection::accept(syn->header, 5, 0);
  EXPECT_EQ(d.recv_id(), 7001);
  EXPECT_EQ(d.send_id(), 7000);
  auto state = decode_packet(d.output(0));
  ASSERT_TRUE(state);
  EXPECT_EQ(state->header.connection_id, 7000);
}

TEST(UtpConnection, ResetClosesWithReason) {
  auto c = Connection::connect(1, 1, 0);
  c.clear_output();
  PacketHeader state;
  state.type = PacketType::state;
  state.connection_id = 1;
  state.seq_nr = 77;
  state.ack_nr = 1;
  state.window = 1 << 20;
  c.on_packet(Packet{state, {}, {}}, 1000);
  ASSERT_EQ(c.state(), State::connected);
  PacketHeader reset = state;
  reset.type = PacketType::reset;
  c.on_packet(Packet{reset, {}, {}}, 2000);
  EXPECT_EQ(c.state(), State::closed);
  EXPECT_EQ(c.error(), ConnectionError::reset);
}

TEST(UtpConnection, AbortSendsReset) {
  auto c = Connection::connect(1, 1, 0);
  c.clear_output();
  c.abort();
  ASSERT_EQ(c.output_count(), 1u);
  auto p = decode_packet(c.output(0));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->header.type, PacketType::reset);
  EXPECT_EQ(c.error(), ConnectionError::aborted);
}

TEST(UtpConnection, ReceiverThatDoesNotReadStopsTheSenderAtItsWindow) {
  auto data = pattern(1 << 20, 9);
  Options o;
  o.config.receive_buffer = 64 * 1024;
  o.receiver_reads = false;
  o.give_up_after_us = 5'000'000;
  Link link(LinkConfig{});
  link.side[0] = Connection::connect(o.id, o.seq_a, link.now, o.config);
  link.on_unbound = [&](int, const Packet& p) {
    link.side[1] = Connection::accept(p.header, o.seq_b, link.now, o.config);
  };
  std::size_t written = 0;
  for (int i = 0; i < 2000 && link.step(); ++i) {
    if (link.side[0]->state() == State::connected)
      written += link.side[0]->write(std::span(data).subspan(written));
    link.flush_all();
  }
  ASSERT_TRUE(link.side[1]);
  auto& b = *link.side[1];
  EXPECT_LE(b.readable(), o.config.receive_buffer + 1400);
  EXPECT_GE(b.readable(), o.config.receive_buffer - 1400);
  EXPECT_EQ(b.advertised_window(),
            b.readable() >= o.config.receive_buffer ? 0u : o.config.receive_buffer - b.readable());
  // Reading opens the window again and the transfer resumes.
  std::vector<std::uint8_t> got(b.readable());
  b.read(got);
  std::size_t before = got.size();
  for (int i = 0; i < 200; ++i) {
    link.flush_all();
    if (!link.step()) break;
  }
  EXPECT_GT(link.side[1]->readable(), 0u);
  EXPECT_TRUE(std::equal(got.begin(), got.end(), data.begin()));
  (void)before;
}

// An incoming SYN: one STATE no larger than the SYN, no retransmissions of our own, and no connection until
// the peer proves it received that STATE.
TEST(UtpConnection, UnconfirmedIncomingSendsNothingLargerThanTheSyn) {
  PacketHeader syn;
  syn.type = PacketType::syn;
  syn.connection_id = 500;
  syn.seq_nr = 1;
  syn.window = 1 << 20;
  auto c = Connection::accept(syn, 31337, 0);
  ASSERT_EQ(c.output_count(), 1u);
  EXPECT_LE(c.output(0).size(), kHeaderSize);
  auto reply = decode_packet(c.output(0));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->header.type, PacketType::state);
  EXPECT_EQ(reply->header.connection_id, 500);
  EXPECT_EQ(reply->header.ack_nr, 1);
  c.clear_output();
  // The app cannot make it send (it has no app yet), and timers send nothing.
  EXPECT_EQ(c.write(std::vector<std::uint8_t>(5000, 1)), 0u);
  TimeUs now = 0;
  for (int i = 0; i < 5 && c.state() != State::closed; ++i) {
    now = c.next_deadline();
    c.on_timer(now);
    c.flush(now);
    EXPECT_EQ(c.output_count(), 0u);
  }
  EXPECT_EQ(c.state(), State::closed);  // forgotten after syn_received_timeout_us
  // A repeated SYN gets one more bare STATE; a data packet with a guessed ack_nr does not confirm.
  auto d = Connection::accept(syn, 31337, 0);
  d.clear_output();
  d.on_packet(Packet{syn, {}, {}}, 10);
  ASSERT_EQ(d.output_count(), 1u);
  EXPECT_LE(d.output(0).size(), kHeaderSize);
  d.clear_output();
  PacketHeader guess;
  guess.type = PacketType::data;
  guess.connection_id = 501;
  guess.seq_nr = 2;
  guess.ack_nr = 1234;
  std::vector<std::uint8_t> payload(1000, 7);
  d.on_packet(Packet{guess, {}, payload}, 20);
  d.flush(20);
  EXPECT_EQ(d.state(), State::syn_received);
  EXPECT_EQ(d.output_count(), 0u);
  EXPECT_EQ(d.readable(), 0u);
  guess.ack_nr = 31336;  // our initial seq - 1: proof
  d.on_packet(Packet{guess, {}, payload}, 30);
  EXPECT_EQ(d.state(), State::connected);
  EXPECT_EQ(d.readable(), 1000u);
}

TEST(UtpConnection, HandshakeReplyIsNeverLargerThanTheSynInATransfer) {
  auto data = pattern(64 * 1024, 12);
  auto t = run_transfer(data, {});
  EXPECT_EQ(t.received, data);
  // The SYN carries our read limit; the answer carries the acceptor's, no larger.
  EXPECT_LE(t.largest_reply_before_confirmed, kHeaderSize + kMaxPacketExtensionSize);
}

TEST(UtpConnection, LedbatKeepsTheBottleneckQueueNearTheTarget) {
  // 1 MB/s bottleneck, 10 ms propagation each way, 1 MiB receive window: a window-limited sender would keep
  // a second of queue; LEDBAT must hold it near its 100 ms target and still fill the link.
  auto data = pattern(8 << 20, 13);
  LinkConfig config;
  config.rate_bytes_per_s = 1e6;
  Link link(config);
  link.side[0] = Connection::connect(1, 1, link.now);
  link.on_unbound = [&](int, const Packet& p) { link.side[1] = Connection::accept(p.header, 9, link.now); };
  std::size_t written = 0;
  std::size_t received = 0;
  std::vector<std::uint8_t> sink(1 << 20);
  std::uint32_t late_max_delay = 0;
  TimeUs start = link.now;
  while (received < data.size() && link.now - start < 60'000'000) {
    auto& a = *link.side[0];
    if (a.state() == State::connected && written < data.size())
      written += a.write(std::span(data).subspan(written));
    if (link.side[1]) received += link.side[1]->read(sink);
    link.flush_all();
    if (link.now - start > 3'000'000) late_max_delay = std::max(late_max_delay, a.queuing_delay_us());
    ASSERT_TRUE(link.step());
  }
  ASSERT_EQ(received, data.size());
  double seconds = static_cast<double>(link.now - start) / 1e6;
  EXPECT_GT(static_cast<double>(data.size()) / seconds, 0.85e6);  // the link stays busy
  EXPECT_LT(late_max_delay, 160'000u);                            // the queue stays near 100 ms
  EXPECT_LT(link.side[0]->congestion_window(), 200'000u);         // far below the 1 MiB receive window
}

// Path MTU discovery: a path that drops every datagram above 1300 bytes (a tunnel, with ICMP filtered).
TEST(UtpConnection, PathMtuSettlesAtTheLargestSizeThePathCarries) {
  auto data = pattern(8 << 20, 21);
  LinkConfig link;
  link.mtu[0] = 1300;
  Options o;
  o.config.mtu.max_packet_size = 1472;
  auto t = run_transfer(data, link, o);
  EXPECT_EQ(t.received, data);
  EXPECT_EQ(t.sender_error, ConnectionError::none);
  EXPECT_FALSE(t.searching);
  EXPECT_EQ(t.packet_size, 1300u);
  EXPECT_LE(t.probes, 16u);
  // Lost probes are no congestion: no window cut, no timeout backoff.
  EXPECT_EQ(t.congestion_losses, 0u);
  EXPECT_EQ(t.timeouts, 0u);
  EXPECT_GE(t.smallest_window_while_connected, LedbatConfig{}.initial_window);
}

TEST(UtpConnection, PathMtuFindsJumboFramesAndTheCleanLinkKeepsTheCeiling) {
  auto data = pattern(4 << 20, 22);
  Options o;
  o.config.mtu.max_packet_size = 8972;
  auto t = run_transfer(data, {}, o);
  EXPECT_EQ(t.received, data);
  EXPECT_EQ(t.packet_size, 8972u);
  EXPECT_LE(t.probes, 13u);
  EXPECT_EQ(t.retransmissions, 0u);
}

// A route change mid-transfer to a path of 1280 bytes of MTU (1252 of UDP payload) that sends no ICMP: the
// full-size packets vanish, the connection finds the black hole, drops its size and the data still arrives.
TEST(UtpConnection, BlackHoleAfterARouteChangeLowersThePacketSize) {
  auto data = pattern(4 << 20, 23);
  Options o;
  o.config.mtu.max_packet_size = 1472;
  std::size_t size_before = 0;
  o.each_step = [&](Link& link, std::size_t received) {
    if (received > (1 << 20) && link.config.mtu[0] == 0 && !link.side[0]->path_mtu().searching()) {
      size_before = link.side[0]->packet_size();
      link.config.mtu[0] = 1252;
    }
  };
  auto t = run_transfer(data, {}, o);
  EXPECT_EQ(t.received, data);
  EXPECT_EQ(t.sender_error, ConnectionError::none);
  EXPECT_EQ(size_before, 1472u);
  EXPECT_LE(t.packet_size, 1252u);
  EXPECT_GE(t.packet_size, 1232u);
}

// The network says so (ICMP fragmentation needed, or EMSGSIZE): the size drops at once and what was in flight
// above it is resent without a window cut.
TEST(UtpConnection, PacketTooBigLowersTheSizeAtOnce) {
  auto data = pattern(4 << 20, 24);
  Options o;
  o.config.mtu.max_packet_size = 1472;
  bool told = false;
  o.each_step = [&](Link& link, std::size_t received) {
    if (received > (1 << 20) && !told) {
      told = true;
      link.config.mtu[0] = 1252;
      link.side[0]->on_packet_too_big(1252, link.now);
    }
  };
  auto t = run_transfer(data, {}, o);
  EXPECT_EQ(t.received, data);
  EXPECT_EQ(t.packet_size, 1252u);
  EXPECT_EQ(t.congestion_losses, 0u);
  EXPECT_EQ(t.timeouts, 0u);
}

// A peer that does not say how large a datagram it reads (another client) is never sent more than an Ethernet
// frame carries, whatever the route allows: it may read into a 1500-byte buffer and take the rest as lost.
TEST(UtpConnection, APeerThatAdvertisesNoLimitGetsEthernetSizedPacketsAtMost) {
  auto data = pattern(6 << 20, 25);
  Options o;
  o.config.mtu.max_packet_size = 8972;
  Link link(LinkConfig{});
  ConnectionConfig quiet = o.config;
  quiet.receive_packet_limit = 0;
  link.side[0] = Connection::connect(1, 1, link.now, o.config);
  link.on_unbound = [&](int, const Packet& p) {
    link.side[1] = Connection::accept(p.header, 9, link.now, quiet);
  };
  std::size_t written = 0;
  std::vector<std::uint8_t> sink(1 << 20);
  std::size_t received = 0;
  for (int i = 0; i < 200000 && received < data.size(); ++i) {
    auto& a = *link.side[0];
    if (a.state() == State::connected && written < data.size())
      written += a.write(std::span(data).subspan(written));
    if (link.side[1]) received += link.side[1]->read(sink);
    link.flush_all();
    if (!link.step()) break;
  }
  EXPECT_EQ(received, data.size());
  EXPECT_EQ(link.side[0]->peer_packet_limit(), kUnadvertisedPacketLimit);
  EXPECT_EQ(link.side[0]->packet_size(), kUnadvertisedPacketLimit);
  EXPECT_LE(link.largest[0], kUnadvertisedPacketLimit);
  EXPECT_LE(link.largest[1], kHeaderSize + 2 + kMaxSackBytes);  // the quiet side's answers carry no limit
}

}  // namespace
}  // namespace shoal::utp
