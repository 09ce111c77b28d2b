// The session's one TCP listener (IPv6 and IPv4 on "::", or one address): accepts, reads each incoming
// handshake under a timeout and a cap on handshakes in progress, and hands the connection to the torrent its
// info-hash names. Connections for unknown torrents are closed and counted. When the process runs out of
// file descriptors (EMFILE/ENFILE) accepting pauses briefly instead of spinning. The first 20 bytes tell a
// plain handshake (19, "BitTorrent protocol") from MSE/PE (a Diffie-Hellman key): an encrypted connection is
// answered as the MSE responder, its torrent found by HASH('req2', info-hash), and its cipher handed on.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "crypto/mse_handshake.hpp"
#include "crypto/stream_cipher.hpp"
#include "session/peer_stream.hpp"
#include "shoal/endpoint.hpp"
#include "shoal/settings.hpp"
#include "wire/handshake.hpp"
#include "wire/message_reader.hpp"

namespace shoal::session {

class Listener {
 public:
  // Returns false when no torrent takes the connection (the listener then closes it).
  // `cipher` decrypts what follows in `reader`'s socket and encrypts what we send (pass-through when plain).
  using Route =
      std::function<bool(const wire::Handshake& handshake, PeerStream& socket, const Endpoint& remote,
                         wire::MessageReader& reader, const crypto::StreamCipher& cipher)>;

  static constexpr int kDefaultMaxHandshakes = 64;
  static constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
  static constexpr auto kDescriptorBackoff = std::chrono::milliseconds(250);

  Listener(boost::asio::io_context& io, Route route);
  // Binds and listens; throws std::runtime_error (a start-up error) when it cannot.
  void open(const std::string& address, std::uint16_t port);
  void start();
  void stop();
  // An incoming connection accepted elsewhere (uTP, once the peer confirmed it): its handshake is read and
  // routed like a TCP one's, under the same cap and timeout.
  void adopt(PeerStream stream, const Endpoint& remote);
  std::uint16_t port() const { return port_; }
  void set_max_handshakes(int n) { max_handshakes_ = n; }
  // Which handshakes are accepted (default prefer: both), and how an MSE responder finds a torrent.
  void set_encryption(EncryptionMode mode, crypto::MseHandshake::InfoHashLookup lookup) {
    encryption_ = mode;
    lookup_ = std::move(lookup);
  }

  // false: every TCP connection is closed as soon as it is accepted (Transport::utp); adopted streams are not
  // affected.
  void set_accept_tcp(bool accept) { accept_tcp_ = accept; }

  std::int64_t unknown_torrent() const { return unknown_torrent_; }
  std::int64_t refused_busy() const { return refused_busy_; }
  // Plain handshakes refused under `require`, or MSE ones under `plain`.
  std::int64_t refused_encryption() const { return refused_encryption_; }
  std::int64_t mse_failed() const { return mse_failed_; }

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> handshake(PeerStream socket, Endpoint remote);

  boost::asio::io_context& io_;
  Route route_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer backoff_;
  std::uint16_t port_ = 0;
  int max_handshakes_ = kDefaultMaxHandshakes;
  // Shared with the handshake coroutines, whose frames may be destroyed after the listener at shutdown.
  std::shared_ptr<int> handshakes_ = std::make_shared<int>(0);
  bool stopped_ = false;
  bool accept_tcp_ = true;
  std::int64_t unknown_torrent_ = 0;
  std::int64_t refused_busy_ = 0;
  std::int64_t refused_encryption_ = 0;
  std::int64_t mse_failed_ = 0;
  EncryptionMode encryption_ = EncryptionMode::prefer;
  crypto::MseHandshake::InfoHashLookup lookup_;
};

}  // namespace shoal::session
