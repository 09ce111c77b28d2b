// BEP 55: a holepunch dial leaves from our listen port, so that the NAT in front of us maps it to the
// external port the relay told the other side to dial (a NAT that keeps source ports, as most do): both SYNs
// cross and TCP's simultaneous open joins them into one connection. uTP, when the session has it, will be the
// better carrier (libtorrent punches over uTP only): connect_to() is where a Dial::holepunch would go to it
// instead.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <cstdint>

#include "shoal/endpoint.hpp"

namespace shoal::session {

// SO_REUSEPORT: the listener sets it too (after its bind: see Listener::open), which lets this socket share
// the port while it connects.
using ReusePort = boost::asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

// Opens `socket` for `remote`'s family and binds it to the wildcard address at `listen_port`.
boost::system::error_code bind_to_listen_port(boost::asio::ip::tcp::socket& socket, const Endpoint& remote,
                                              std::uint16_t listen_port);

}  // namespace shoal::session
