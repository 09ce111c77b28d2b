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

#include "tracker/connection_id.hpp"
#include "tracker/ip_rate_limiter.hpp"
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

// Answers one packet into `out`; returns the reply size, 0 for no reply.
std::size_t handle(TrackerState& state, const tracker::ConnectionIds& ids, tracker::IpRateLimiter& limiter,
                   std::span<const std::uint8_t> packet, const Endpoint& source, std::span<std::uint8_t> out,
                   bool log_drops) {
  auto& counters = state.counters;
  auto drop = [&](const char* why) -> std::size_t {
    counters.dropped.fetch_add(1, std::memory_order_relaxed);
    if (log_drops) std::fprintf(stderr, "udp %s: dropped (%s)\n", source.to_string().c_str(), why);
    return 0;
  };
  if (limiter.enabled() && !limiter.allow(source, now_ms())) {
    counters.rate_limited.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  auto parsed = udp::parse_request(packet);
  if (!parsed.request) {
    if (*parsed.error == udp::ParseError::too_short) return drop("too short");
    if (*parsed.error == udp::ParseError::bad_magic) return drop("connect without the protocol id");
    counters.errors_sent.fetch_add(1, std::memory_order_relaxed);
    return udp::write_error(out, parsed.transaction_id,
                            *parsed.error == udp::ParseError::bad_event ? "invalid event" : "invalid action");
  }
  std::int64_t now = state.now();
  if (const auto* c = std::get_if<udp::ConnectRequest>(&*parsed.request)) {
    counters.connects.fetch_add(1, std::memory_order_relaxed);
    return udp::write_connect_response(out, c->transaction_id, ids.issue(source, now));
  }
  if (const auto* a = std::get_if<udp::AnnounceRequest>(&*parsed.request)) {
    // An id that is not ours for this address: a spoofed or stale source. Silence, so we amplify nothing.
    if (!ids.verify(source, a->connection_id, now))
      return drop("announce with an unknown or expired connection id");
    if (a->port == 0) {
      counters.errors_sent.fetch_add(1, std::memory_order_relaxed);
      return udp::write_error(out, a->transaction_id, "invalid port");
    }
    if (!state.allowed(a->info_hash)) {
      counters.not_whitelisted.fetch_add(1, std::memory_order_relaxed);
      return udp::write_error(out, a->transaction_id, "torrent not on this tracker's whitelist");
    }
    counters.announces.fetch_add(1, std::memory_order_relaxed);
    tracker::SwarmAnnounce sa;
    sa.info_hash = a->info_hash;
    sa.peer = source;
    sa.peer.port = a->port;  // the source address, never a client-supplied IP; the port it listens on
    sa.seed = a->left == 0;
    sa.numwant = a->num_want;
    switch (a->event) {
      case udp::Event::started:
        sa.kind = tracker::AnnounceKind::started;
        break;
      case udp::Event::completed:
        sa.kind = tracker::AnnounceKind::completed;
        break;
      case udp::Event::stopped:
        sa.kind = tracker::AnnounceKind::stopped;
        break;
      case udp::Event::none:
        break;
    }
    auto body = out.subspan(udp::kAnnounceHeaderSize);
    std::size_t max_peers = std::min<std::size_t>(udp::kMaxPeersPerReply, body.size() / (source.v6 ? 18 : 6));
    auto room = body.first(max_peers * (source.v6 ? 18 : 6));
    auto reply = source.v6 ? state.announce(sa, {}, room) : state.announce(sa, room, {});
    std::size_t n = udp::write_announce_header(
        out, {a->transaction_id, static_cast<std::uint32_t>(state.limits().interval), reply.counts.leechers,
              reply.counts.seeders});
    return n + reply.v4_bytes + reply.v6_bytes;
  }
  const auto& s = std::get<udp::ScrapeRequest>(*parsed.request);
  if (!ids.verify(source, s.connection_id, now))
    return drop("scrape with an unknown or expired connection id");
  counters.scrapes.fetch_add(1, std::memory_order_relaxed);
  std::size_t n = udp::write_scrape_header(out, s.transaction_id);
  for (std::size_t i = 0; i < s.count() && n + 12 <= out.size(); ++i) {
    auto hash = Sha1Digest::from_bytes(std::span<const std::uint8_t, 20>(s.hashes.data() + 20 * i, 20));
    auto c = state.scrape(hash);
    n += udp::write_scrape_entry(out.subspan(n), c.seeders, c.completed, c.leechers);
  }
  return n;
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
  tracker::IpRateLimiter limiter(options_.max_requests_per_ip);
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
      std::size_t len = handle(state_, ids, limiter, std::span(in_bufs[i].data(), in_msgs[i].msg_len), source,
                               out_bufs[replies], options_.log_drops);
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
