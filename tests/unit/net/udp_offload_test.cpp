// The shared UDP socket's batching: runs of equal-size datagrams leave as one UDP GSO send, and a GRO buffer
// that holds several datagrams is cut back into them, so every handler (DHT, trackers, uTP) still sees single
// datagrams. Both on loopback, with offload and without (the fallback of an old kernel).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <vector>

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include "net/asio_endpoint.hpp"
#include "net/udp_mux.hpp"

namespace shoal::net {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;

// KRPC-looking datagrams (first byte 'd'), each with its index and size in it, so order and cuts show.
std::vector<std::vector<std::uint8_t>> datagrams(std::vector<std::size_t> sizes) {
  std::vector<std::vector<std::uint8_t>> out;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    std::vector<std::uint8_t> d(sizes[i], static_cast<std::uint8_t>(0x30 + i));
    d[0] = 'd';
    out.push_back(std::move(d));
  }
  return out;
}

struct Received {
  std::vector<std::vector<std::uint8_t>> datagrams;
};

void run_until(asio::io_context& io, const std::function<bool()>& done) {
  for (int i = 0; i < 200 && !done(); ++i)
    io.run_for(std::chrono::milliseconds(5));
}

// A GSO send from a plain socket to the mux: the kernel delivers it to a GRO socket as one buffer.
bool send_gso(int fd, const udp::endpoint& to, const std::vector<std::vector<std::uint8_t>>& segments) {
  std::vector<std::uint8_t> all;
  for (const auto& s : segments)
    all.insert(all.end(), s.begin(), s.end());
  iovec iov{all.data(), all.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(std::uint16_t))] = {};
  msghdr msg{};
  msg.msg_name = const_cast<sockaddr*>(to.data());
  msg.msg_namelen = static_cast<socklen_t>(to.size());
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  auto* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_UDP;
  c->cmsg_type = UDP_SEGMENT;
  c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
  auto size = static_cast<std::uint16_t>(segments.front().size());
  std::memcpy(CMSG_DATA(c), &size, sizeof size);
  return ::sendmsg(fd, &msg, 0) == static_cast<ssize_t>(all.size());
}

void coalesced_read_is_cut_into_datagrams(bool gro) {
  asio::io_context io;
  UdpMux mux(io);
  ASSERT_TRUE(mux.open("127.0.0.1", "", 0));
  if (!gro) mux.set_offload(mux.gso(), false);
  Received got;
  mux.set_handler(UdpMux::Kind::krpc, [&](std::span<const std::uint8_t> p, const Endpoint&) {
    got.datagrams.emplace_back(p.begin(), p.end());
  });
  udp::socket sender(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  udp::endpoint to(asio::ip::make_address("127.0.0.1"), mux.port());
  auto sent = datagrams({1000, 1000, 1000, 500});
  if (!send_gso(sender.native_handle(), to, sent)) GTEST_SKIP() << "this kernel has no UDP GSO";
  // And one ordinary datagram after it: still its own.
  auto single = datagrams({77});
  sender.send_to(asio::buffer(single[0]), to);
  run_until(io, [&] { return got.datagrams.size() >= 5; });
  sent.push_back(single[0]);
  EXPECT_EQ(got.datagrams, sent);
  if (gro && mux.gro()) {
    EXPECT_EQ(mux.stats().gro_reads, 1u);  // one buffer held the four
    EXPECT_EQ(mux.stats().gro_datagrams, 4u);
  } else {
    EXPECT_EQ(mux.stats().gro_reads, 0u);  // the kernel cut them itself
  }
}

TEST(UdpOffload, GroCoalescedReadIsCutIntoItsDatagrams) {
  coalesced_read_is_cut_into_datagrams(true);
}

TEST(UdpOffload, WithoutGroTheKernelDeliversSingleDatagrams) {
  coalesced_read_is_cut_into_datagrams(false);
}

void send_many_arrives_as_single_datagrams(bool gso) {
  asio::io_context io;
  UdpMux mux(io);
  ASSERT_TRUE(mux.open("127.0.0.1", "", 0));
  mux.set_offload(gso, mux.gro());
  udp::socket receiver(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  // Runs of equal sizes, a shorter one ending a run, a larger one starting the next, one that may fragment.
  auto packets = datagrams({1200, 1200, 1200, 800, 1400, 1400, 1400, 1400, 60, 1300});
  std::vector<UdpMux::Datagram> out;
  for (std::size_t i = 0; i < packets.size(); ++i)
    out.push_back({packets[i], i == 9});
  auto result = mux.send_many(to_endpoint(receiver.local_endpoint()), out);
  EXPECT_EQ(result.sent, packets.size());
  EXPECT_FALSE(result.too_big);
  std::vector<std::vector<std::uint8_t>> got;
  std::vector<std::uint8_t> buffer(65536);
  while (got.size() < packets.size()) {
    boost::system::error_code ec;
    receiver.non_blocking(false);
    auto n = receiver.receive(asio::buffer(buffer), 0, ec);
    ASSERT_FALSE(ec);
    got.emplace_back(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
  }
  EXPECT_EQ(got, packets);
  if (gso && mux.gso()) {
    // {1200 x3, 800}, {1400 x4, 60} as two GSO sends; the last alone, without DF.
    EXPECT_EQ(mux.stats().gso_sends, 2u);
    EXPECT_EQ(mux.stats().gso_datagrams, 9u);
  } else {
    EXPECT_EQ(mux.stats().gso_sends, 0u);
  }
}

TEST(UdpOffload, GsoSendArrivesAsSingleDatagramsInOrder) {
  send_many_arrives_as_single_datagrams(true);
}

TEST(UdpOffload, WithoutGsoEveryDatagramGoesAlone) {
  send_many_arrives_as_single_datagrams(false);
}

TEST(UdpOffload, RouteMtuIsReadAndADatagramThatFitsIsSent) {
  asio::io_context io;
  UdpMux mux(io);
  ASSERT_TRUE(mux.open("127.0.0.1", "", 0));
  udp::socket receiver(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  // Loopback's MTU is 65536: a datagram of 65507 bytes fits; the route MTU says so.
  auto mtu = UdpMux::route_mtu(to_endpoint(receiver.local_endpoint()));
  ASSERT_TRUE(mtu);
  EXPECT_GE(*mtu, 1280u);
  std::vector<std::uint8_t> fits(std::min<std::size_t>(*mtu - 28, 65507), 'd');
  std::vector<UdpMux::Datagram> out{{fits, false}};
  auto result = mux.send_many(to_endpoint(receiver.local_endpoint()), out);
  EXPECT_EQ(result.sent, 1u);
  EXPECT_FALSE(result.too_big);
}

}  // namespace
}  // namespace shoal::net
