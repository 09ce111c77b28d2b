#include "net/utp_socket.hpp"

#include "net/utp_socket_manager.hpp"

namespace shoal::net {

namespace asio = boost::asio;

void UtpSocket::post(Handler handler, boost::system::error_code ec, std::size_t n) {
  asio::post(executor_, [h = std::move(handler), ec, n]() mutable { std::move(h)(ec, n); });
}

boost::system::error_code UtpSocket::closed_error() const {
  if (app_closed_) return asio::error::operation_aborted;
  switch (connection_.error()) {
    case utp::ConnectionError::reset:
      return asio::error::connection_reset;
    case utp::ConnectionError::timed_out:
      return asio::error::timed_out;
    case utp::ConnectionError::aborted:
      return asio::error::operation_aborted;
    case utp::ConnectionError::none:
      break;
  }
  return asio::error::eof;
}

void UtpSocket::start_read(asio::mutable_buffer buffer, Handler handler) {
  if (read_handler_) return post(std::move(handler), asio::error::in_progress, 0);
  read_handler_.emplace(std::move(handler));
  read_buffer_ = buffer;
  if (progress() && manager_) manager_->flush(*this);
}

void UtpSocket::start_write(std::vector<asio::const_buffer> buffers, Handler handler) {
  if (write_handler_) return post(std::move(handler), asio::error::in_progress, 0);
  write_handler_.emplace(std::move(handler));
  write_buffers_ = std::move(buffers);
  if (progress() && manager_) manager_->flush(*this);
}

std::size_t UtpSocket::write_some(const std::vector<asio::const_buffer>& buffers) {
  std::size_t total = 0;
  for (const auto& b : buffers) {
    std::size_t n = connection_.write(std::span(static_cast<const std::uint8_t*>(b.data()), b.size()));
    total += n;
    if (n < b.size()) break;
  }
  return total;
}

bool UtpSocket::progress() {
  bool wrote = false;
  bool open = connection_.state() == utp::State::connected && !app_closed_;
  if (read_handler_) {
    if (read_buffer_.size() == 0) {
      auto h = std::move(*read_handler_);
      read_handler_.reset();
      post(std::move(h), {}, 0);
    } else if (connection_.readable() > 0) {
      std::size_t n =
          connection_.read(std::span(static_cast<std::uint8_t*>(read_buffer_.data()), read_buffer_.size()));
      auto h = std::move(*read_handler_);
      read_handler_.reset();
      post(std::move(h), {}, n);
      wrote = true;  // reading may open the receive window: flush to say so
    } else if (connection_.eof() || connection_.state() == utp::State::closed || app_closed_) {
      auto h = std::move(*read_handler_);
      read_handler_.reset();
      post(std::move(h), connection_.eof() ? asio::error::eof : closed_error(), 0);
    }
  }
  if (write_handler_) {
    if (!open) {
      auto h = std::move(*write_handler_);
      write_handler_.reset();
      post(std::move(h), app_closed_ ? asio::error::operation_aborted : closed_error(), 0);
    } else if (connection_.write_room() > 0 || write_buffers_.empty()) {
      std::size_t n = write_some(write_buffers_);
      auto h = std::move(*write_handler_);
      write_handler_.reset();
      write_buffers_.clear();
      post(std::move(h), {}, n);
      wrote = wrote || n > 0;
    }
  }
  return wrote;
}

void UtpSocket::fail(boost::system::error_code ec) {
  if (read_handler_) {
    auto h = std::move(*read_handler_);
    read_handler_.reset();
    post(std::move(h), ec, 0);
  }
  if (write_handler_) {
    auto h = std::move(*write_handler_);
    write_handler_.reset();
    write_buffers_.clear();
    post(std::move(h), ec, 0);
  }
  complete_connect(ec);
}

void UtpSocket::complete_connect(boost::system::error_code ec) {
  if (!connect_handler_) return;
  auto h = std::move(*connect_handler_);
  connect_handler_.reset();
  post(std::move(h), ec, 0);
}

void UtpSocket::close() {
  if (app_closed_) return;
  app_closed_ = true;
  fail(asio::error::operation_aborted);
  connection_.close();
  if (manager_) manager_->on_app_closed(*this);
}

}  // namespace shoal::net
