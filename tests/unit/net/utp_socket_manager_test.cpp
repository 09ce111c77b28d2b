// uTP through the session's UDP plumbing: two UdpMux + UtpSocketManager pairs on loopback, a connection from
// one to the other used as an Asio stream (async_write / async_read_some), bytes compared, then closed; and
// the incoming side's defences: a refused SYN is answered by a RESET no larger than it.
#include "net/utp_socket_manager.hpp"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <random>

#include "net/asio_endpoint.hpp"

namespace shoal::net {
namespace {

namespace asio = boost::asio;
constexpr auto kToken = asio::as_tuple(asio::use_awaitable);

Endpoint loopback(std::uint16_t port) {
  return *Endpoint::parse("127.0.0.1:" + std::to_string(port));
}

struct Node {
  explicit Node(asio::io_context& io) : mux(io) {
    auto port = mux.open("127.0.0.1", "", 0);
    EXPECT_TRUE(port);
    manager = std::make_unique<UtpSocketManager>(io, mux);
  }
  UdpMux mux;
  std::unique_ptr<UtpSocketManager> manager;
};

asio::awaitable<void> send_all(UtpSocketManager& manager, Endpoint to, std::vector<std::uint8_t> data,
                               bool& ok, std::size_t* packet_size = nullptr) {
  auto [ec, socket] = co_await manager.connect(to);
  if (ec) co_return;
  auto [wec, n] = co_await asio::async_write(*socket, asio::buffer(data), kToken);
  ok = !wec && n == data.size();
  if (packet_size) *packet_size = socket->connection().packet_size();
  socket->close();
}

asio::awaitable<void> receive_all(std::shared_ptr<UtpSocket> socket, std::vector<std::uint8_t>& out,
                                  boost::system::error_code& end) {
  std::vector<std::uint8_t> buffer(100'000);
  for (;;) {
    auto [ec, n] = co_await socket->async_read_some(asio::buffer(buffer), kToken);
    out.insert(out.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
    if (ec) {
      end = ec;
      co_return;
    }
  }
}

TEST(UtpSocketManager, TransfersOverLoopbackAndEndsWithEof) {
  asio::io_context io;
  Node a(io), b(io);
  std::vector<std::uint8_t> data(3 * 1024 * 1024 + 17);
  std::mt19937 rng(3);
  for (auto& x : data)
    x = static_cast<std::uint8_t>(rng());
  std::vector<std::uint8_t> received;
  boost::system::error_code end;
  bool accepted = false;
  b.manager->set_accept_handler([&](std::shared_ptr<UtpSocket> s) {
    accepted = true;
    asio::co_spawn(io, receive_all(std::move(s), received, end), asio::detached);
  });
  bool sent = false;
  asio::co_spawn(io, send_all(*a.manager, loopback(b.mux.port()), data, sent), asio::detached);
  // Runs until the reader saw the end of the stream (or a generous bound on a stuck test).
  for (int i = 0; i < 2000 && !end; ++i)
    io.run_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(accepted);
  EXPECT_TRUE(sent);
  EXPECT_EQ(end, asio::error::eof);
  EXPECT_TRUE(received == data);
  const auto& stats = b.manager->stats();
  EXPECT_EQ(stats.accepted, 1u);
  EXPECT_LE(stats.unconfirmed_reply_bytes, stats.unconfirmed_syn_bytes);
  a.manager->close();
  b.manager->close();
}

// A request-answer conversation (as a downloading peer's requests and the blocks that answer them): the ACK
// of each message rides on the answer's DATA packet instead of going in a STATE packet of its own first.
asio::awaitable<void> ask(UtpSocketManager& manager, Endpoint to, int rounds, int& answered,
                          std::uint64_t& acks) {
  auto [ec, socket] = co_await manager.connect(to);
  if (ec) co_return;
  std::vector<std::uint8_t> request(17, 1);
  std::vector<std::uint8_t> answer(16 * 1024);
  for (int i = 0; i < rounds; ++i) {
    auto [wec, w] = co_await asio::async_write(*socket, asio::buffer(request), kToken);
    auto [rec, r] = co_await asio::async_read(*socket, asio::buffer(answer), kToken);
    if (wec || rec) break;
    ++answered;
  }
  acks = socket->connection().acks_sent();
  socket->close();
}

asio::awaitable<void> answer_all(std::shared_ptr<UtpSocket> socket, std::uint64_t& acks, bool& done) {
  std::vector<std::uint8_t> request(17);
  std::vector<std::uint8_t> answer(16 * 1024, 2);
  for (;;) {
    auto [rec, r] = co_await asio::async_read(*socket, asio::buffer(request), kToken);
    acks = socket->connection().acks_sent();
    if (rec) break;
    auto [wec, w] = co_await asio::async_write(*socket, asio::buffer(answer), kToken);
    if (wec) break;
  }
  done = true;
}

TEST(UtpSocketManager, AnswersCarryTheAcks) {
  asio::io_context io;
  Node a(io), b(io);
  constexpr int kRounds = 200;
  std::uint64_t answer_acks = 0, ask_acks = 0;
  bool done = false;
  b.manager->set_accept_handler([&](std::shared_ptr<UtpSocket> s) {
    asio::co_spawn(io, answer_all(std::move(s), answer_acks, done), asio::detached);
  });
  int answered = 0;
  asio::co_spawn(io, ask(*a.manager, loopback(b.mux.port()), kRounds, answered, ask_acks), asio::detached);
  for (int i = 0; i < 2000 && !done; ++i)
    io.run_for(std::chrono::milliseconds(10));
  EXPECT_EQ(answered, kRounds);
  // Before: one STATE per request received (and per answer received), then the DATA of the answer.
  EXPECT_LT(answer_acks, static_cast<std::uint64_t>(kRounds / 4));
  (void)ask_acks;  // an answer split over two batches still has its first part ACKed alone
  a.manager->close();
  b.manager->close();
}

TEST(UtpSocketManager, ConnectToAClosedPortFailsFast) {
  asio::io_context io;
  Node a(io);
  std::uint16_t closed_port;
  {
    asio::ip::udp::socket s(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed_port = s.local_endpoint().port();
  }
  boost::system::error_code result;
  bool done = false;
  asio::co_spawn(
      io,
      [](UtpSocketManager& m, Endpoint to, boost::system::error_code& r, bool& d) -> asio::awaitable<void> {
        auto [ec, socket] = co_await m.connect(to);
        r = ec;
        d = true;
      }(*a.manager, loopback(closed_port), result, done),
      asio::detached);
  for (int i = 0; i < 100 && !done; ++i)
    io.run_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(done);  // within a second: the ICMP port unreachable, not the SYN timeout
  EXPECT_EQ(result, asio::error::connection_refused);
}

TEST(UtpSocketManager, RefusedSynGetsAResetNoLargerThanIt) {
  asio::io_context io;
  Node b(io);  // no accept handler: every SYN is refused
  asio::ip::udp::socket probe(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::vector<std::uint8_t> syn;
  utp::PacketHeader h;
  h.type = utp::PacketType::syn;
  h.connection_id = 42;
  h.seq_nr = 1;
  utp::encode_packet(h, {}, {}, syn);
  probe.send_to(asio::buffer(syn), to_asio<asio::ip::udp>(loopback(b.mux.port())));
  std::vector<std::uint8_t> reply(2048);
  std::size_t got = 0;
  probe.async_receive(asio::buffer(reply), [&](boost::system::error_code ec, std::size_t n) {
    if (!ec) got = n;
  });
  for (int i = 0; i < 100 && got == 0; ++i)
    io.run_for(std::chrono::milliseconds(10));
  ASSERT_GT(got, 0u);
  EXPECT_LE(got, syn.size());
  auto p = utp::decode_packet(std::span(reply.data(), got));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->header.type, utp::PacketType::reset);
  EXPECT_EQ(b.manager->stats().refused, 1u);
  EXPECT_EQ(b.manager->connections(), 0u);
}

// Path MTU over loopback: its 64 KiB MTU is capped by Limits::max_packet_size, the connection probes up to
// that and says so in the log; the data arrives intact through GSO sends and GRO reads.
TEST(UtpSocketManager, ProbesUpToTheCappedRouteMtuAndLogsIt) {
  asio::io_context io;
  Node a(io), b(io);
  std::vector<std::string> log;
  a.manager->set_log_handler([&](const std::string& line) { log.push_back(line); });
  std::vector<std::uint8_t> data(8 * 1024 * 1024);
  std::mt19937 rng(5);
  for (auto& x : data)
    x = static_cast<std::uint8_t>(rng());
  std::vector<std::uint8_t> received;
  boost::system::error_code end;
  b.manager->set_accept_handler([&](std::shared_ptr<UtpSocket> s) {
    asio::co_spawn(io, receive_all(std::move(s), received, end), asio::detached);
  });
  bool sent = false;
  std::size_t packet_size = 0;
  asio::co_spawn(io, send_all(*a.manager, loopback(b.mux.port()), data, sent, &packet_size), asio::detached);
  for (int i = 0; i < 2000 && !end; ++i)
    io.run_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(sent);
  EXPECT_TRUE(received == data);
  EXPECT_EQ(packet_size, UtpLimits{}.max_packet_size);
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log.back().find("packets of " + std::to_string(UtpLimits{}.max_packet_size) + " bytes"),
            std::string::npos)
      << log.back();
  a.manager->close();
  b.manager->close();
}

}  // namespace
}  // namespace shoal::net
