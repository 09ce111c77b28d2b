#include "net/udp_mux.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <vector>

#include "net/asio_endpoint.hpp"

namespace shoal::net {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
constexpr auto kToken = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxDatagram = 64 * 1024;
// Bursts of DHT queries must not overflow the default ~200 KiB receive buffer.
constexpr int kReceiveBuffer = 4 * 1024 * 1024;

}  // namespace

std::optional<UdpMux::Kind> UdpMux::classify(std::span<const std::uint8_t> packet) {
  if (packet.empty()) return std::nullopt;
  std::uint8_t first = packet[0];
  if (first == 'd') return Kind::krpc;
  if (first == 0) return Kind::tracker;
  // uTP: types 0-4 in the high nibble, version 1 in the low one.
  if ((first & 0x0f) == 1 && (first >> 4) <= 4) return Kind::utp;
  return std::nullopt;
}

UdpMux::UdpMux(asio::io_context& io) : io_(io), v4_(io), v6_(io) {}

UdpMux::~UdpMux() {
  close();
}

Expected<std::uint16_t, std::string> UdpMux::open(const std::string& bind_address,
                                                  const std::string& bind_address6, std::uint16_t port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(bind_address, ec);
  if (ec) return unexpected("invalid UDP bind address " + bind_address);
  std::string v4 = address.is_v4() ? bind_address : "";
  std::string v6 = address.is_v6() ? bind_address : bind_address6;
  std::uint16_t bound = port;
  if (!v4.empty()) {
    if (auto error = open_one(v4_, v4, port)) return unexpected(*error);
    bound = v4_.local_endpoint().port();
  }
  if (!v6.empty()) {
    boost::system::error_code ignored;
    auto error = open_one(v6_, v6, bound);
    if (error && port == 0 && bound != 0) {
      v6_.close(ignored);  // the IPv4 socket's port is taken for IPv6: any other will do
      error = open_one(v6_, v6, 0);
    }
    if (error) {
      v6_.close(ignored);
      if (!v4_.is_open()) return unexpected(*error);
    }
  }
  port_ = v4_.is_open() ? v4_.local_endpoint().port() : v6_.local_endpoint().port();
  if (v4_.is_open()) asio::co_spawn(io_, receive_loop(v4_), asio::detached);
  if (v6_.is_open()) asio::co_spawn(io_, receive_loop(v6_), asio::detached);
  return port_;
}

std::optional<std::string> UdpMux::open_one(udp::socket& socket, const std::string& address_text,
                                            std::uint16_t port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(address_text, ec);
  if (ec) return "invalid UDP bind address " + address_text;
  udp::endpoint bind(address, port);
  socket.open(bind.protocol(), ec);
  if (!ec) {
    boost::system::error_code ignored;
    if (address.is_v6()) socket.set_option(asio::ip::v6_only(true), ignored);  // IPv4 has its own socket
    socket.set_option(asio::socket_base::receive_buffer_size(kReceiveBuffer), ignored);
    socket.bind(bind, ec);
  }
  if (ec) return "cannot listen on udp " + address_text + ":" + std::to_string(port) + ": " + ec.message();
  return std::nullopt;
}

void UdpMux::send_to(const Endpoint& to, std::span<const std::uint8_t> packet) {
  auto& socket = to.v6 ? v6_ : v4_;
  if (!socket.is_open()) return;
  boost::system::error_code ignored;
  socket.send_to(asio::buffer(packet.data(), packet.size()), to_asio<udp>(to), 0, ignored);
}

void UdpMux::close() {
  closed_ = true;
  boost::system::error_code ignored;
  v4_.close(ignored);
  v6_.close(ignored);
}

asio::awaitable<void> UdpMux::receive_loop(udp::socket& socket) {
  std::vector<std::uint8_t> buffer(kMaxDatagram);
  udp::endpoint from;
  while (!closed_) {
    auto [ec, n] = co_await socket.async_receive_from(asio::buffer(buffer), from, kToken);
    if (closed_) co_return;
    if (ec) continue;
    std::span<const std::uint8_t> packet(buffer.data(), n);
    auto kind = classify(packet);
    if (!kind) continue;
    const auto& handler = handlers_[static_cast<std::size_t>(*kind)];
    if (handler) handler(packet, to_endpoint(from));
  }
}

}  // namespace shoal::net
