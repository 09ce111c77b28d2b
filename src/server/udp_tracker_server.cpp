#include "server/udp_tracker_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>

#include "server/udp_request.hpp"
#include "tracker/udp_protocol.hpp"

namespace shoal::server {
namespace {

namespace udp = tracker::udp;

constexpr unsigned kBatch = 32;
// Room for a scrape of a few hundred hashes (we answer the first 74); anything longer is not a request.
constexpr std::size_t kReceiveSize = 8192;
constexpr int kSocketBuffer = 4 * 1024 * 1024;  // absorbs bursts: the default ~200 KiB drops under load

Endpoint from_sockaddr(const sockaddr_storage& ss) {
  Endpoint e;
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    std::memcpy(e.address.data(), &a->sin_addr, 4);
    e.port = ntohs(a->sin_port);
    return e;
  }
  const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
  const std::uint8_t* b = a->sin6_addr.s6_addr;
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, kMapped, 12) == 0) {
    std::memcpy(e.address.data(), b + 12, 4);
  } else {
    std::memcpy(e.address.data(), b, 16);
    e.v6 = true;
  }
  e.port = ntohs(a->sin6_port);
  return e;
}

socklen_t to_sockaddr(const Endpoint& e, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (e.v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    std::memcpy(&a->sin6_addr, e.address.data(), 16);
    a->sin6_port = htons(e.port);
    return sizeof(sockaddr_in6);
  }
  auto* a = reinterpret_cast<sockaddr_in*>(&ss);
  a->sin_family = AF_INET;
  std::memcpy(&a->sin_addr, e.address.data(), 4);
  a->sin_port = htons(e.port);
  return sizeof(sockaddr_in);
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

UdpTrackerServer::UdpTrackerServer(TrackerState& state, UdpServerOptions options)
    : state_(state), options_(options) {
  std::random_device rd;
  secret_ = {(std::uint64_t{rd()} << 32) | rd(), (std::uint64_t{rd()} << 32) | rd()};
}

UdpTrackerServer::~UdpTrackerServer() {
  stop();
}

Expected<std::uint16_t, std::string> UdpTrackerServer::start() {
  std::uint16_t port = options_.bind.port;
  unsigned threads = std::max(1u, options_.threads);
  for (unsigned i = 0; i < threads; ++i) {
    Endpoint at = options_.bind;
    at.port = port;
    sockaddr_storage ss{};
    socklen_t len = to_sockaddr(at, ss);
    int fd = ::socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return unexpected(std::string("udp socket: ") + std::strerror(errno));
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kSocketBuffer, sizeof kSocketBuffer);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSocketBuffer, sizeof kSocketBuffer);
    timeval tv{0, 200'000};  // wake up to notice stop()
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      std::string why = std::strerror(errno);
      ::close(fd);
      return unexpected("cannot listen on udp " + at.to_string() + ": " + why);
    }
    if (port == 0) {
      sockaddr_storage bound{};
      socklen_t blen = sizeof bound;
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen);
      port = from_sockaddr(bound).port;
    }
    fds_.push_back(fd);
  }
  for (int fd : fds_)
    threads_.emplace_back([this, fd] { run(fd); });
  return port;
}

void UdpTrackerServer::stop() {
  stopping_.store(true);
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  for (int fd : fds_)
    ::close(fd);
  fds_.clear();
}

void UdpTrackerServer::run(int fd) {
  tracker::ConnectionIds ids(secret_);
  tracker::IpRateLimiter limiter(options_.max_requests_per_ip, TrackerState::random_key());
  UdpRequestContext context{state_, ids, limiter, options_.log_drops};
  // Buffers live for the thread: nothing is allocated per packet.
  std::vector<std::array<std::uint8_t, kReceiveSize>> in_bufs(kBatch);
  std::vector<std::array<std::uint8_t, udp::kMaxPacketSize>> out_bufs(kBatch);
  std::array<sockaddr_storage, kBatch> addrs{};
  std::array<iovec, kBatch> in_iov{}, out_iov{};
  std::array<mmsghdr, kBatch> in_msgs{}, out_msgs{};
  while (!stopping_.load(std::memory_order_relaxed)) {
    for (unsigned i = 0; i < kBatch; ++i) {
      in_iov[i] = {in_bufs[i].data(), in_bufs[i].size()};
      in_msgs[i].msg_hdr = {};
      in_msgs[i].msg_hdr.msg_name = &addrs[i];
      in_msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      in_msgs[i].msg_hdr.msg_iov = &in_iov[i];
      in_msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = ::recvmmsg(fd, in_msgs.data(), kBatch, MSG_WAITFORONE, nullptr);
    if (n <= 0) continue;  // timeout (to check stop), EINTR, or a transient error
    unsigned replies = 0;
    for (int i = 0; i < n; ++i) {
      if (in_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {  // larger than any request: not ours to answer
        state_.counters.dropped.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      Endpoint source = from_sockaddr(addrs[i]);
      std::size_t len = answer_udp_request(context, std::span(in_bufs[i].data(), in_msgs[i].msg_len), source,
                                           now_ms(), out_bufs[replies]);
      if (len == 0) continue;
      out_iov[replies] = {out_bufs[replies].data(), len};
      out_msgs[replies].msg_hdr = {};
      out_msgs[replies].msg_hdr.msg_name = &addrs[i];
      out_msgs[replies].msg_hdr.msg_namelen = in_msgs[i].msg_hdr.msg_namelen;
      out_msgs[replies].msg_hdr.msg_iov = &out_iov[replies];
      out_msgs[replies].msg_hdr.msg_iovlen = 1;
      ++replies;
    }
    unsigned sent = 0;
    while (sent < replies) {
      int m = ::sendmmsg(fd, out_msgs.data() + sent, replies - sent, 0);
      if (m < 0) {
        if (errno == EINTR) continue;
        break;  // a full send buffer or an unreachable client: UDP replies are best effort
      }
      sent += static_cast<unsigned>(m);
    }
  }
}

}  // namespace shoal::server
