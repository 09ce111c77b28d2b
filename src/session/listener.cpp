#include "session/listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>

#include "net/asio_endpoint.hpp"
#include "session/holepunch_socket.hpp"
#include "session/mse_stream.hpp"

namespace shoal::session {
namespace {
namespace asio = boost::asio;
using asio::ip::tcp;
constexpr auto kToken = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadChunk = 16 * 1024;
}  // namespace

Listener::Listener(asio::io_context& io, Route route)
    : io_(io), route_(std::move(route)), acceptor_(io), backoff_(io) {}

void Listener::open(const std::string& address_text, std::uint16_t port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(address_text, ec);
  if (ec) throw std::runtime_error("invalid listen address '" + address_text + "'");
  tcp::endpoint endpoint(address, port);
  if (address.is_v6() && address.is_unspecified()) {
    // "::" listens on IPv6 and IPv4 together (IPv4 peers appear as v4-mapped addresses, unmapped on accept).
    // A host without IPv6 gets the IPv4 wildcard instead.
    acceptor_.open(tcp::v6(), ec);
    if (!ec) acceptor_.set_option(asio::ip::v6_only(false), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (ec) {
      acceptor_.close(ec);
      endpoint = tcp::endpoint(tcp::v4(), port);
    }
  }
  try {
    if (!acceptor_.is_open()) {
      acceptor_.open(endpoint.protocol());
      acceptor_.set_option(tcp::acceptor::reuse_address(true));
      acceptor_.bind(endpoint);
    }
    acceptor_.listen();
    // BEP 55 holepunch dials leave from this port (session/holepunch_socket.hpp) and bind it with
    // SO_REUSEPORT, which Linux allows beside a listener that has the flag as well. Set after the bind, so
    // that another listener on the same port (a second Shoal, another program) is refused as before.
    boost::system::error_code ignored;
    acceptor_.set_option(session::ReusePort(true), ignored);
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("cannot listen on " + address_text + " port " + std::to_string(port) + ": " +
                             e.code().message());
  }
  port_ = acceptor_.local_endpoint().port();
}

void Listener::start() {
  asio::co_spawn(io_, accept_loop(), asio::detached);
}

void Listener::stop() {
  stopped_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  backoff_.cancel();
}

asio::awaitable<void> Listener::accept_loop() {
  while (!stopped_) {
    auto [ec, socket] = co_await acceptor_.async_accept(kToken);
    if (stopped_ || ec == asio::error::operation_aborted) co_return;
    if (ec == asio::error::no_descriptors || ec.value() == ENFILE || ec == asio::error::no_buffer_space ||
        ec == asio::error::no_memory) {
      // Out of descriptors: accepting again at once would fail again at once. Pause, let connections close.
      backoff_.expires_after(kDescriptorBackoff);
      co_await backoff_.async_wait(kToken);
      continue;
    }
    if (ec || !accept_tcp_) continue;  // the socket closes as it goes out of scope
    if (*handshakes_ >= max_handshakes_) {
      ++refused_busy_;
      continue;  // the socket closes as it goes out of scope
    }
    boost::system::error_code endpoint_ec;
    auto remote_endpoint = socket.remote_endpoint(endpoint_ec);
    if (endpoint_ec) continue;
    asio::co_spawn(io_, handshake(PeerStream(std::move(socket)), net::to_endpoint(remote_endpoint)),
                   asio::detached);
  }
}

void Listener::adopt(PeerStream stream, const Endpoint& remote) {
  if (stopped_ || *handshakes_ >= max_handshakes_) {
    ++refused_busy_;
    return;  // the stream closes as it goes out of scope
  }
  asio::co_spawn(io_, handshake(std::move(stream), remote), asio::detached);
}

asio::awaitable<void> Listener::handshake(PeerStream socket, Endpoint remote) {
  boost::system::error_code ec;
  ++*handshakes_;
  struct Count {
    std::shared_ptr<int> n;
    ~Count() { --*n; }
  } count{handshakes_};
  asio::steady_timer timeout(io_);
  timeout.expires_after(kHandshakeTimeout);
  auto* s = &socket;
  timeout.async_wait([s](boost::system::error_code e) {
    if (!e) {
      boost::system::error_code ignored;
      s->close(ignored);
    }
  });
  wire::MessageReader reader;
  while (reader.buffered().size() < kPlainHandshakeProbe) {
    auto room = reader.prepare(kReadChunk);
    auto [read_ec, n] = co_await socket.async_read_some(asio::buffer(room.data(), room.size()), kToken);
    if (read_ec || stopped_) co_return;
    reader.commit(n);
  }
  crypto::StreamCipher cipher;
  bool plain = looks_like_plain_handshake(reader.buffered());
  if (plain ? encryption_ == EncryptionMode::require : encryption_ == EncryptionMode::plain) {
    ++refused_encryption_;
    co_return;
  }
  if (!plain) {
    auto mse = crypto::MseHandshake::responder(lookup_, mse_crypto_allowed(encryption_), random_mse_secrets(),
                                               mse_crypto_preferred(encryption_));
    auto received = reader.take(reader.buffered().size());  // copied by the handshake before `reader` changes
    wire::MessageReader decrypted;
    auto result = co_await run_mse(socket, mse, *received, decrypted);
    if (!result || stopped_) {
      ++mse_failed_;
      co_return;
    }
    cipher = *result;
    reader = std::move(decrypted);
  }
  std::optional<std::span<const std::uint8_t>> bytes;
  while (!(bytes = reader.take(wire::kHandshakeSize))) {
    auto room = reader.prepare(kReadChunk);
    auto [read_ec, n] = co_await socket.async_read_some(asio::buffer(room.data(), room.size()), kToken);
    if (read_ec || stopped_) co_return;
    cipher.decrypt(room.first(n));
    reader.commit(n);
  }
  timeout.cancel();
  auto h = wire::decode_handshake(*bytes);
  if (!h) co_return;
  if (!route_(*h, socket, remote, reader, cipher)) {
    ++unknown_torrent_;
    socket.close(ec);
  }
}

}  // namespace shoal::session
