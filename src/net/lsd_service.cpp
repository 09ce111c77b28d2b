#include "net/lsd_service.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/multicast.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>
#include <random>

#include <netinet/in.h>
#include <sys/socket.h>

namespace shoal::net {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
constexpr auto kToken = asio::as_tuple(asio::use_awaitable);

// Distinguishes our own announces, looped back by the kernel, from another process's on this host.
std::string random_cookie() {
  std::random_device rd;
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (auto& c : out)
    c = kDigits[rd() % 16];
  return out;
}

udp::endpoint group_endpoint(lsd::Group group) {
  return {asio::ip::make_address(group == lsd::Group::v4 ? lsd::kGroupV4 : lsd::kGroupV6), lsd::kGroupPort};
}

// Asks the kernel for each datagram's destination address (IP_PKTINFO / IPV6_PKTINFO), which LsdState needs
// to tell announces to the group from ones sent to us directly.
template <int Level, int Name>
struct BoolOption {
  explicit BoolOption(bool on) : value(on ? 1 : 0) {}
  template <class Protocol>
  int level(const Protocol&) const {
    return Level;
  }
  template <class Protocol>
  int name(const Protocol&) const {
    return Name;
  }
  template <class Protocol>
  const int* data(const Protocol&) const {
    return &value;
  }
  template <class Protocol>
  std::size_t size(const Protocol&) const {
    return sizeof value;
  }
  int value;
};

struct Datagram {
  std::size_t size = 0;
  Endpoint source;
  Endpoint destination;  // unspecified when the kernel did not say
};

// One datagram with its addresses, without blocking; nullopt when none is queued or on an error.
std::optional<Datagram> receive_with_destination(udp::socket& socket, std::vector<char>& buffer) {
  sockaddr_storage from{};
  alignas(cmsghdr) char control[256];
  iovec iov{buffer.data(), buffer.size()};
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = ::recvmsg(socket.native_handle(), &msg, MSG_DONTWAIT);
  if (n < 0) return std::nullopt;
  Datagram d;
  d.size = static_cast<std::size_t>(n);
  if (msg.msg_flags & MSG_TRUNC) d.size = buffer.size();  // oversized: LsdState refuses it by its size
  if (from.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&from);
    std::memcpy(d.source.address.data(), &a->sin_addr, 4);
    d.source.port = ntohs(a->sin_port);
  } else if (from.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&from);
    std::memcpy(d.source.address.data(), &a->sin6_addr, 16);
    d.source.v6 = true;
    d.source.port = ntohs(a->sin6_port);
  }
  d.destination.v6 = d.source.v6;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo info{};
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      std::memcpy(d.destination.address.data(), &info.ipi_addr, 4);  // the header's destination
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo info{};
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      std::memcpy(d.destination.address.data(), &info.ipi6_addr, 16);
    }
  }
  return d;
}

// Runs socket set-up steps in order until one fails; names the failed step.
class SetupSteps {
 public:
  template <class Action>
  void operator()(const char* what, Action&& action) {
    if (ec) return;
    step = what;
    action(ec);
  }
  std::optional<std::string> failure() const {
    if (!ec) return std::nullopt;
    return std::string("cannot ") + step + ": " + ec.message();
  }

 private:
  boost::system::error_code ec;
  const char* step = "";
};

}  // namespace

LsdService::LsdService(asio::io_context& io, LsdServiceOptions options)
    : io_(io),
      options_(std::move(options)),
      state_(random_cookie(), options_.config),
      v4_(io),
      v6_(io),
      timer_(io) {}

LsdService::~LsdService() {
  stop();
}

void LsdService::log(const std::string& line) const {
  if (on_log) on_log(line);
}

std::optional<std::string> LsdService::open_v4(const asio::ip::address_v4& interface_address) {
  boost::system::error_code ec;
  auto group = group_endpoint(lsd::Group::v4).address().to_v4();
  SetupSteps steps;
  steps("open", [&](auto& e) { v4_.open(udp::v4(), e); });
  // Other BitTorrent clients on this host listen on the same well-known port: share it.
  steps("set SO_REUSEADDR", [&](auto& e) { v4_.set_option(asio::socket_base::reuse_address(true), e); });
  steps("bind udp 0.0.0.0:6771",
        [&](auto& e) { v4_.bind(udp::endpoint(asio::ip::address_v4::any(), lsd::kGroupPort), e); });
  steps("join 239.192.152.143",
        [&](auto& e) { v4_.set_option(asio::ip::multicast::join_group(group, interface_address), e); });
  if (!interface_address.is_unspecified()) {
    steps("send on the LSD interface",
          [&](auto& e) { v4_.set_option(asio::ip::multicast::outbound_interface(interface_address), e); });
  }
  steps("enable multicast loop",
        [&](auto& e) { v4_.set_option(asio::ip::multicast::enable_loopback(true), e); });
  steps("set TTL 1", [&](auto& e) { v4_.set_option(asio::ip::multicast::hops(1), e); });
  steps("set IP_PKTINFO", [&](auto& e) { v4_.set_option(BoolOption<IPPROTO_IP, IP_PKTINFO>(true), e); });
  auto failure = steps.failure();
  if (failure) v4_.close(ec);
  return failure;
}

std::optional<std::string> LsdService::open_v6() {
  auto group = group_endpoint(lsd::Group::v6).address().to_v6();
  SetupSteps steps;
  steps("open", [&](auto& e) { v6_.open(udp::v6(), e); });
  steps("set IPV6_V6ONLY", [&](auto& e) { v6_.set_option(asio::ip::v6_only(true), e); });
  steps("set SO_REUSEADDR", [&](auto& e) { v6_.set_option(asio::socket_base::reuse_address(true), e); });
  steps("bind udp [::]:6771",
        [&](auto& e) { v6_.bind(udp::endpoint(asio::ip::address_v6::any(), lsd::kGroupPort), e); });
  steps("join ff15::efc0:988f", [&](auto& e) { v6_.set_option(asio::ip::multicast::join_group(group), e); });
  steps("enable multicast loop",
        [&](auto& e) { v6_.set_option(asio::ip::multicast::enable_loopback(true), e); });
  steps("set hop limit 1", [&](auto& e) { v6_.set_option(asio::ip::multicast::hops(1), e); });
  steps("set IPV6_RECVPKTINFO",
        [&](auto& e) { v6_.set_option(BoolOption<IPPROTO_IPV6, IPV6_RECVPKTINFO>(true), e); });
  auto failure = steps.failure();
  boost::system::error_code ignored;
  if (failure) v6_.close(ignored);
  return failure;
}

Expected<void, std::string> LsdService::start() {
  if (started_) return {};
  // A wrong interface is the user's mistake, not the network's: say so rather than quietly use IPv6 alone.
  asio::ip::address_v4 interface_address = asio::ip::address_v4::any();
  if (!options_.interface_address.empty()) {
    boost::system::error_code ec;
    interface_address = asio::ip::make_address_v4(options_.interface_address, ec);
    if (ec)
      return unexpected("LSD: invalid interface address " + options_.interface_address + " (IPv4 expected)");
  }
  // Either group is enough. IPv6 is the bonus (containers and v4-only networks often have no route for its
  // group), so the IPv4 failure is the one reported when neither works.
  auto v4_error = open_v4(interface_address);
  auto v6_error = options_.ipv6 ? open_v6() : std::optional<std::string>("not asked for");
  if (v4_error && v6_error) return unexpected("LSD: " + *v4_error);
  if (v4_error) log("lsd: IPv4 group left out: " + *v4_error);
  if (v6_error && options_.ipv6) log("lsd: IPv6 group left out: " + *v6_error);
  started_ = true;
  if (v4_.is_open()) asio::co_spawn(io_, receive_loop(v4_), asio::detached);
  if (v6_.is_open()) asio::co_spawn(io_, receive_loop(v6_), asio::detached);
  asio::co_spawn(io_, announce_loop(), asio::detached);
  return {};
}

void LsdService::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ignored;
  v4_.close(ignored);
  v6_.close(ignored);
  timer_.cancel();
}

void LsdService::add_torrent(const Sha1Digest& info_hash, std::uint16_t port) {
  state_.add_torrent(info_hash, port, lsd::TimePoint::clock::now());
  timer_.cancel();  // the announce loop looks at the schedule again
}

void LsdService::remove_torrent(const Sha1Digest& info_hash) {
  state_.remove_torrent(info_hash);
}

void LsdService::announce_soon(const Sha1Digest& info_hash) {
  state_.announce_soon(info_hash, lsd::TimePoint::clock::now());
  timer_.cancel();
}

void LsdService::send(udp::socket& socket, const lsd::Announce& announce, const udp::endpoint& group,
                      bool& warned) {
  auto packet = lsd::encode(announce);
  boost::system::error_code ec;
  socket.send_to(asio::buffer(packet), group, 0, ec);  // UDP: best effort, never blocks long
  if (!ec) {
    log("lsd: announced " + std::to_string(announce.info_hashes.size()) + " torrent(s) on port " +
        std::to_string(announce.port) + " to " + group.address().to_string());
    return;
  }
  if (warned) return;
  warned = true;
  std::string text = "cannot multicast to " + group.address().to_string() + ": " + ec.message();
  if (announce.group == lsd::Group::v6) {
    log("lsd: " + text);  // IPv6 is optional: not worth a warning
  } else if (on_warning) {
    on_warning("LSD: " + text + " (local peers will not hear of us; we still hear their announces)");
  }
}

void LsdService::send_due() {
  for (auto announce : state_.due(lsd::TimePoint::clock::now())) {
    if (v4_.is_open()) send(v4_, announce, group_endpoint(lsd::Group::v4), v4_warned_);
    if (v6_.is_open()) {
      announce.group = lsd::Group::v6;
      send(v6_, announce, group_endpoint(lsd::Group::v6), v6_warned_);
    }
  }
}

asio::awaitable<void> LsdService::announce_loop() {
  while (!stopped_) {
    send_due();
    timer_.expires_at(state_.next_due().value_or(lsd::TimePoint::max()));
    co_await timer_.async_wait(kToken);  // cancelled when a torrent is added: the schedule changed
  }
}

asio::awaitable<void> LsdService::receive_loop(udp::socket& socket) {
  // One byte more than the largest packet we accept, so an oversized datagram shows as one.
  std::vector<char> buffer(lsd::kMaxPacketSize + 1);
  while (!stopped_) {
    // Asio's receive_from does not carry ancillary data: wait for readability, then recvmsg.
    auto [ec] = co_await socket.async_wait(udp::socket::wait_read, kToken);
    if (stopped_ || ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) co_return;
    if (ec) continue;
    auto datagram = receive_with_destination(socket, buffer);
    if (!datagram) continue;  // e.g. an ICMP error reported on the socket: the next datagram is fine
    const Endpoint& source = datagram->source;
    auto peers = state_.on_packet(std::string_view(buffer.data(), datagram->size), source,
                                  datagram->destination, lsd::TimePoint::clock::now());
    if (!peers) {
      if (peers.error().reason != lsd::Ignored::own_announce)
        log("lsd: ignored a packet from " + source.to_string() + ": " + peers.error().message());
      continue;
    }
    for (const auto& peer : *peers) {
      log("lsd: peer " + peer.endpoint.to_string() + " for " + peer.info_hash.to_hex());
      if (on_peer) on_peer(peer);
    }
  }
}

}  // namespace shoal::net
