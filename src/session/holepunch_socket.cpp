#include "session/holepunch_socket.hpp"

namespace shoal::session {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

boost::system::error_code bind_to_listen_port(tcp::socket& socket, const Endpoint& remote,
                                              std::uint16_t listen_port) {
  boost::system::error_code ec;
  const auto protocol = remote.v6 ? tcp::v6() : tcp::v4();
  socket.open(protocol, ec);
  if (!ec) socket.set_option(tcp::socket::reuse_address(true), ec);
  if (!ec) socket.set_option(ReusePort(true), ec);
  if (!ec) socket.bind(tcp::endpoint(protocol, listen_port), ec);
  if (ec) {
    boost::system::error_code ignored;
    socket.close(ignored);
  }
  return ec;
}

}  // namespace shoal::session
