// The node's shared UDP port: datagrams reach the protocol their first byte names, and concurrent UDP tracker
// requests through the one port each get their own reply.
#include "net/udp_mux.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <ctime>
#include <map>
#include <set>

#include "net/asio_endpoint.hpp"
#include "net/udp_tracker_client.hpp"
#include "tracker/udp_protocol.hpp"

namespace shoal::net {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;

std::vector<std::uint8_t> bytes(std::initializer_list<int> b) {
  std::vector<std::uint8_t> out;
  for (int x : b)
    out.push_back(static_cast<std::uint8_t>(x));
  return out;
}

TEST(UdpMux, ClassifiesByFirstByte) {
  EXPECT_EQ(UdpMux::classify(bytes({'d', '1', ':'})), UdpMux::Kind::krpc);
  EXPECT_EQ(UdpMux::classify(bytes({0, 0, 0, 1})), UdpMux::Kind::tracker);
  EXPECT_EQ(UdpMux::classify(bytes({0x41, 0})), UdpMux::Kind::utp);  // ST_SYN, version 1
  EXPECT_EQ(UdpMux::classify(bytes({0x01})), UdpMux::Kind::utp);     // ST_DATA
  EXPECT_FALSE(UdpMux::classify(bytes({0x51})));                     // type 5 does not exist
  EXPECT_FALSE(UdpMux::classify(bytes({0x42})));                     // version 2
  EXPECT_FALSE(UdpMux::classify(bytes({'x'})));
  EXPECT_FALSE(UdpMux::classify({}));
}

// A UDP address on 127.0.0.1 where nobody listens (bound, then closed): datagrams to it get ICMP port
// unreachable.
Endpoint closed_udp_endpoint(asio::io_context& io) {
  udp::socket probe(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  Endpoint closed = to_endpoint(probe.local_endpoint());
  probe.close();
  return closed;
}

// A fake BEP 15 tracker on loopback that answers connects and announces, the announce reply saying how many
// leechers: the info-hash's first byte, so each request can tell its own reply.
class FakeTracker {
 public:
  explicit FakeTracker(asio::io_context& io)
      : socket_(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io, serve(), asio::detached);
  }
  std::uint16_t port() const { return socket_.local_endpoint().port(); }
  std::set<std::uint16_t> client_ports;

 private:
  asio::awaitable<void> serve() {
    std::vector<std::uint8_t> in(2048), out(2048);
    udp::endpoint from;
    for (;;) {
      auto n = co_await socket_.async_receive_from(asio::buffer(in), from, asio::use_awaitable);
      client_ports.insert(from.port());
      auto parsed = tracker::udp::parse_request(std::span(in.data(), n));
      if (!parsed.request) continue;
      std::size_t len = 0;
      if (std::holds_alternative<tracker::udp::ConnectRequest>(*parsed.request)) {
        len = tracker::udp::write_connect_response(out, parsed.transaction_id, 0x1122334455667788ULL);
      } else if (auto* a = std::get_if<tracker::udp::AnnounceRequest>(&*parsed.request)) {
        tracker::udp::AnnounceReplyHeader h;
        h.transaction_id = parsed.transaction_id;
        h.leechers = a->info_hash.bytes[0];
        len = tracker::udp::write_announce_header(out, h);
      }
      if (len) co_await socket_.async_send_to(asio::buffer(out.data(), len), from, asio::use_awaitable);
    }
  }
  udp::socket socket_;
};

TEST(UdpTrackerClient, ConcurrentRequestsThroughOnePortGetTheirOwnReplies) {
  asio::io_context io;
  UdpMux mux(io);
  ASSERT_TRUE(mux.open("127.0.0.1", "", 0));
  UdpTrackerClient client(mux);
  std::vector<std::uint8_t> krpc_seen;
  mux.set_handler(UdpMux::Kind::krpc, [&](std::span<const std::uint8_t> p, const Endpoint&) {
    krpc_seen.assign(p.begin(), p.end());
  });
  FakeTracker tracker(io);
  std::string url = "udp://127.0.0.1:" + std::to_string(tracker.port()) + "/announce";
  std::map<int, std::int64_t> leechers;
  int done = 0;
  std::vector<tracker::udp::ConnectionCache> caches(3);
  for (int i = 1; i <= 3; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          tracker::udp::AnnounceRequest r;
          r.info_hash.bytes[0] = static_cast<std::uint8_t>(10 * i);
          r.port = 6881;
          auto reply = co_await client.request(url, r, caches[static_cast<std::size_t>(i - 1)], {});
          if (reply) {
            if (auto* a = std::get_if<tracker::udp::AnnounceResponse>(&*reply)) leechers[i] = a->leechers;
          }
          if (++done == 3) io.stop();
        },
        asio::detached);
  }
  // A KRPC datagram to the same port goes to the DHT's handler, not to a tracker request.
  udp::socket other(io, udp::endpoint(udp::v4(), 0));
  std::string krpc = "d1:y1:qe";
  other.send_to(asio::buffer(krpc), udp::endpoint(asio::ip::make_address("127.0.0.1"), mux.port()));
  io.run_for(std::chrono::seconds(10));
  ASSERT_EQ(done, 3);
  EXPECT_EQ(leechers[1], 10);
  EXPECT_EQ(leechers[2], 20);
  EXPECT_EQ(leechers[3], 30);
  EXPECT_EQ(tracker.client_ports, std::set<std::uint16_t>{mux.port()});  // every request from the one port
  EXPECT_EQ(std::string(krpc_seen.begin(), krpc_seen.end()), krpc);
  EXPECT_EQ(client.pending(), 0u);
  EXPECT_EQ(caches[0].local_port, mux.port());
}

// Nothing listens on the port: the ICMP port-unreachable ends the request at once, not after 15 s and its
// retransmissions.
TEST(UdpTrackerClient, AClosedPortFailsAtOnceWithAClearError) {
  asio::io_context io;
  UdpMux mux(io);
  ASSERT_TRUE(mux.open("127.0.0.1", "", 0));
  UdpTrackerClient client(mux);
  std::string url = "udp://127.0.0.1:" + std::to_string(closed_udp_endpoint(io).port) + "/announce";
  std::optional<Expected<tracker::udp::Response, std::string>> result;
  tracker::udp::ConnectionCache cache;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        tracker::udp::AnnounceRequest r;
        r.port = 6881;
        result = co_await client.request(url, r, cache,
                                         {.max_attempts = 8, .base_timeout = std::chrono::seconds(15)});
        io.stop();
      },
      asio::detached);
  auto started = std::chrono::steady_clock::now();
  io.run_for(std::chrono::seconds(10));
  ASSERT_TRUE(result.has_value()) << "still waiting after 10 s";
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  ASSERT_FALSE(*result);
  EXPECT_NE(result->error().find("unreachable"), std::string::npos) << result->error();
  EXPECT_EQ(client.pending(), 0u);
}

// The mux hands every ICMP error to each protocol that asked, with the address the datagram went to.
TEST(UdpMux, ReportsTheAddressAnIcmpErrorIsAbout) {
  asio::io_context io;
  UdpMux mux(io);
  ASSERT_TRUE(mux.open("127.0.0.1", "", 0));
  const Endpoint target = closed_udp_endpoint(io);
  std::optional<std::pair<Endpoint, std::error_code>> seen;
  mux.set_unreachable_handler(UdpMux::Kind::krpc, [&](const Endpoint& to, std::error_code error) {
    seen = {to, error};
    io.stop();
  });
  mux.send_to(target, bytes({'d', 'e'}));
  io.run_for(std::chrono::seconds(5));
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->first, target);
  EXPECT_EQ(seen->second, std::errc::connection_refused);
}

// CPU time of the calling thread (the one running the io_context).
std::chrono::nanoseconds thread_cpu_time() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec);
}

// Many dead addresses answer at once (a DHT lookup, peers gone): more ICMP errors queue than one wake-up
// reads. Each is reported, and the socket is not left polling ready with errors nobody reads (which once
// made the network thread spin at full speed for as long as the session lived).
TEST(UdpMux, AFloodOfIcmpErrorsIsAllReadAndLeavesTheThreadIdle) {
  asio::io_context io;
  UdpMux mux(io);
  ASSERT_TRUE(mux.open("127.0.0.1", "", 0));
  const Endpoint target = closed_udp_endpoint(io);
  // More than one wake-up drains (64), fewer than the socket buffer holds (each error keeps ~1.3 KB of it).
  constexpr int kSent = 100;
  int reported = 0;
  mux.set_unreachable_handler(UdpMux::Kind::krpc, [&](const Endpoint&, std::error_code) {
    if (++reported == kSent) io.stop();
  });
  // The io_context is not running: every error waits in the socket's queue when the receive loop first looks.
  for (int i = 0; i < kSent; ++i)
    mux.send_to(target, bytes({'d', 'e'}));
  io.run_for(std::chrono::seconds(10));
  EXPECT_EQ(reported, kSent);
  io.restart();
  const auto before = thread_cpu_time();
  const auto wall = std::chrono::milliseconds(500);
  io.run_for(wall);
  EXPECT_LT(thread_cpu_time() - before, wall / 5) << "the receive loop spins";
}

// An ICMP error pending from a dead address must not cost the next datagram to a live one (the send that
// reports the error sends nothing).
TEST(UdpMux, ADeadAddressDoesNotLoseTheNextDatagramToALiveOne) {
  asio::io_context io;
  UdpMux mux(io);
  ASSERT_TRUE(mux.open("127.0.0.1", "", 0));
  const Endpoint dead = closed_udp_endpoint(io);
  udp::socket live(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  Endpoint alive = to_endpoint(live.local_endpoint());
  constexpr int kRounds = 40;
  for (int i = 0; i < kRounds; ++i) {
    mux.send_to(dead, bytes({'d', 'e'}));
    mux.send_to(alive, bytes({'d', 'e'}));
  }
  const std::vector<std::uint8_t> packet = {'d', 'e'};
  std::vector<UdpMux::Datagram> batch(3, UdpMux::Datagram{std::span<const std::uint8_t>(packet)});
  mux.send_to(dead, bytes({'d', 'e'}));
  mux.send_many(alive, batch);
  int received = 0;
  live.non_blocking(true);
  std::array<std::uint8_t, 16> in{};
  boost::system::error_code ec;
  while (live.receive(asio::buffer(in), 0, ec) > 0 || !ec)
    ++received;
  EXPECT_EQ(received, kRounds + 3);
}

}  // namespace
}  // namespace shoal::net
