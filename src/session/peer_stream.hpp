// A peer connection's byte stream: a TCP socket or a uTP connection (net::UtpSocket). It is an Asio
// AsyncReadStream and AsyncWriteStream, so the MSE handshake, the BitTorrent handshake and the wire loops are
// written once for both. TCP calls go straight to the socket (one branch on the hot path, no allocation);
// uTP ones to the UtpSocket.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <utility>

#include "net/utp_socket.hpp"

namespace shoal::session {

class PeerStream {
 public:
  using executor_type = boost::asio::any_io_executor;

  PeerStream(boost::asio::ip::tcp::socket socket) : tcp_(std::move(socket)) {}  // NOLINT: implicit by design
  explicit PeerStream(std::shared_ptr<net::UtpSocket> utp)
      : tcp_(utp->get_executor()), utp_(std::move(utp)) {}
  PeerStream(PeerStream&&) = default;
  PeerStream& operator=(PeerStream&& other) {
    close_quietly();
    tcp_ = std::move(other.tcp_);
    utp_ = std::move(other.utp_);
    return *this;
  }
  PeerStream& operator=(boost::asio::ip::tcp::socket socket) { return *this = PeerStream(std::move(socket)); }
  ~PeerStream() { close_quietly(); }

  executor_type get_executor() { return tcp_.get_executor(); }
  bool is_utp() const { return utp_ != nullptr; }
  // The TCP socket (connect, options); unused and closed when this is uTP.
  boost::asio::ip::tcp::socket& tcp() { return tcp_; }

  template <class MutableBufferSequence, class Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    if (utp_) return utp_->async_read_some(buffers, std::forward<Token>(token));
    return tcp_.async_read_some(buffers, std::forward<Token>(token));
  }
  template <class ConstBufferSequence, class Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    if (utp_) return utp_->async_write_some(buffers, std::forward<Token>(token));
    return tcp_.async_write_some(buffers, std::forward<Token>(token));
  }

  template <class Option>
  void set_option(const Option& option, boost::system::error_code& ec) {
    if (!utp_) tcp_.set_option(option, ec);
  }
  void shutdown(boost::asio::socket_base::shutdown_type what, boost::system::error_code& ec) {
    if (!utp_) tcp_.shutdown(what, ec);
  }
  void close(boost::system::error_code& ec) {
    if (utp_) utp_->close();
    tcp_.close(ec);
  }
  void close() {
    boost::system::error_code ignored;
    close(ignored);
  }

 private:
  void close_quietly() {
    if (utp_) utp_->close();  // a uTP connection has no owner but us: end it (FIN) rather than leak it
  }
  boost::asio::ip::tcp::socket tcp_;
  std::shared_ptr<net::UtpSocket> utp_;
};

}  // namespace shoal::session
