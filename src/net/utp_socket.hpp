// One uTP connection seen as an Asio byte stream (AsyncReadStream and AsyncWriteStream), so the MSE and
// BitTorrent handshakes and the wire loops run over it exactly as over a TCP socket. The connection's state
// machine (utp::Connection) and its packets are the UtpSocketManager's; this object holds the application's
// side: at most one pending read and one pending write, completed (always through a post, never inline) when
// the manager has delivered bytes or freed send room.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "shoal/endpoint.hpp"
#include "utp/connection.hpp"

namespace shoal::net {

class UtpSocketManager;

class UtpSocket : public std::enable_shared_from_this<UtpSocket> {
 public:
  using executor_type = boost::asio::any_io_executor;
  using Handler = boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)>;

  UtpSocket(UtpSocketManager& manager, executor_type executor, Endpoint remote, utp::Connection connection)
      : manager_(&manager),
        executor_(std::move(executor)),
        remote_(remote),
        connection_(std::move(connection)) {}
  UtpSocket(const UtpSocket&) = delete;
  UtpSocket& operator=(const UtpSocket&) = delete;

  executor_type get_executor() const { return executor_; }
  const Endpoint& remote() const { return remote_; }
  bool is_open() const { return !app_closed_ && connection_.state() != utp::State::closed; }

  // Reads into the first non-empty buffer of the sequence (a read_some may read less than asked).
  template <class MutableBufferSequence, class Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    boost::asio::mutable_buffer first;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      boost::asio::mutable_buffer b = *it;
      if (b.size() > 0) {
        first = b;
        break;
      }
    }
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(Initiate{this},
                                                                                            token, first);
  }

  // Copies as much of the sequence as the send buffer takes (waiting while it takes nothing).
  template <class ConstBufferSequence, class Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    std::vector<boost::asio::const_buffer> copy;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      boost::asio::const_buffer b = *it;
      if (b.size() > 0) copy.emplace_back(b);
    }
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        Initiate{this}, token, std::move(copy));
  }

  // Sends FIN after what was written; pending operations complete with operation_aborted. The manager keeps
  // the connection until the FIN is acknowledged.
  void close();

  // The manager's side.
  utp::Connection& connection() { return connection_; }
  const utp::Connection& connection() const { return connection_; }
  bool app_closed() const { return app_closed_; }
  // Completes what waits and can complete now (bytes readable, send room, the end); returns true if a write
  // went into the connection (it needs a flush).
  bool progress();
  // Completes everything that waits with `ec` (the manager is closing, or the connection failed).
  void fail(boost::system::error_code ec);
  void set_connect_handler(Handler h) { connect_handler_.emplace(std::move(h)); }
  bool connecting() const { return connect_handler_.has_value(); }
  void complete_connect(boost::system::error_code ec);
  void detach() { manager_ = nullptr; }
  // A read waits for bytes: what arrives now is handed over (progress) and usually answered at once.
  bool read_waiting() const { return read_handler_.has_value() && read_buffer_.size() > 0; }
  bool handed_to_app = false;
  bool ack_deferred = false;  // a service is posted for after the application's answer (see on_batch_done)
  bool dirty = false;         // heard from in the current receive batch: serviced at its end
  bool counted_half_open = false;
  bool route_mtu_known = false;          // the probing ceiling was read off the route
  std::size_t reported_packet_size = 0;  // the settled path MTU last logged

 private:
  struct Initiate {
    UtpSocket* self;
    template <class H>
    void operator()(H&& handler, boost::asio::mutable_buffer buffer) const {
      self->start_read(buffer, Handler(std::forward<H>(handler)));
    }
    template <class H>
    void operator()(H&& handler, std::vector<boost::asio::const_buffer> buffers) const {
      self->start_write(std::move(buffers), Handler(std::forward<H>(handler)));
    }
  };
  void start_read(boost::asio::mutable_buffer buffer, Handler handler);
  void start_write(std::vector<boost::asio::const_buffer> buffers, Handler handler);
  void post(Handler handler, boost::system::error_code ec, std::size_t n);
  boost::system::error_code closed_error() const;
  std::size_t write_some(const std::vector<boost::asio::const_buffer>& buffers);

  UtpSocketManager* manager_;
  executor_type executor_;
  Endpoint remote_;
  utp::Connection connection_;
  bool app_closed_ = false;
  std::optional<Handler> read_handler_;
  boost::asio::mutable_buffer read_buffer_;
  std::optional<Handler> write_handler_;
  std::vector<boost::asio::const_buffer> write_buffers_;
  std::optional<Handler> connect_handler_;
};

}  // namespace shoal::net
