#include "net/utp_socket_manager.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

namespace shoal::net {
namespace {
namespace asio = boost::asio;
constexpr auto kToken = asio::as_tuple(asio::use_awaitable);

// IP and UDP headers: what an IP MTU holds beyond the uTP packet.
std::size_t ip_udp_headers(const Endpoint& e) {
  return e.v6 ? 40 + 8 : 20 + 8;
}

struct ConnectInitiation {
  UtpSocket* socket;
  template <class Handler>
  void operator()(Handler&& handler) const {
    socket->set_connect_handler(UtpSocket::Handler(std::forward<Handler>(handler)));
  }
};
}  // namespace

UtpSocketManager::UtpSocketManager(asio::io_context& io, UdpMux& mux, utp::ConnectionConfig config,
                                   Limits limits)
    : io_(io), mux_(mux), config_(config), limits_(limits), timer_(io), rng_(std::random_device{}()) {
  mux_.set_handler(UdpMux::Kind::utp, [this](std::span<const std::uint8_t> bytes, const Endpoint& from) {
    on_datagram(bytes, from);
  });
  mux_.set_batch_end_handler(UdpMux::Kind::utp, [this] { on_batch_done(); });
  mux_.set_unreachable_handler(
      UdpMux::Kind::utp, [this](const Endpoint& to, std::error_code error) { on_unreachable(to, error); });
  mux_.set_too_big_handler(UdpMux::Kind::utp,
                           [this](const Endpoint& to, std::size_t mtu) { on_too_big(to, mtu); });
}

UtpSocketManager::~UtpSocketManager() {
  close();
  mux_.set_handler(UdpMux::Kind::utp, nullptr);
  mux_.set_batch_end_handler(UdpMux::Kind::utp, nullptr);
  mux_.set_unreachable_handler(UdpMux::Kind::utp, nullptr);
  mux_.set_too_big_handler(UdpMux::Kind::utp, nullptr);
}

utp::TimeUs UtpSocketManager::now() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void UtpSocketManager::close() {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  auto sockets = std::move(sockets_);
  sockets_.clear();
  for (auto& [key, s] : sockets) {
    s->connection().abort();
    send_output(*s);
    s->fail(asio::error::operation_aborted);
    s->detach();
  }
  per_ip_.clear();
  half_open_ = 0;
  dirty_.clear();
}

asio::awaitable<std::pair<boost::system::error_code, std::shared_ptr<UtpSocket>>> UtpSocketManager::connect(
    Endpoint to) {
  if (closed_) co_return std::pair{boost::system::error_code(asio::error::operation_aborted), nullptr};
  auto& count = per_ip_[address_of(to)];
  if (count >= limits_.max_per_ip)
    co_return std::pair{boost::system::error_code(asio::error::no_buffer_space), nullptr};
  // A receive id not in use with this endpoint (the peer sends with it; we send with id + 1).
  std::uint16_t id = 0;
  for (int tries = 0; tries < 64; ++tries) {
    id = static_cast<std::uint16_t>(rng_());
    if (!sockets_.count({to, id})) break;
  }
  auto socket = std::make_shared<UtpSocket>(
      *this, io_.get_executor(), to,
      utp::Connection::connect(id, static_cast<std::uint16_t>(rng_()), now(), config_));
  ++count;
  socket->handed_to_app = true;  // ours from the start: never offered to the accept handler
  sockets_[{to, id}] = socket;
  service(socket);
  // The initiation holds a raw pointer, never a shared_ptr: g++ 12 may destroy a temporary in a co_await
  // operand twice, which would release a captured shared_ptr twice. `socket` outlives the wait.
  ConnectInitiation initiation{socket.get()};
  auto [ec, n] =
      co_await asio::async_initiate<decltype(kToken), void(boost::system::error_code, std::size_t)>(
          initiation, kToken);
  (void)n;
  if (ec) co_return std::pair{ec, nullptr};
  co_return std::pair{ec, socket};
}

void UtpSocketManager::on_datagram(std::span<const std::uint8_t> bytes, const Endpoint& from) {
  if (closed_) return;
  auto packet = utp::decode_packet(bytes);
  if (!packet) {
    ++stats_.malformed;
    return;
  }
  const auto& h = packet->header;
  if (h.type == utp::PacketType::syn) {
    on_syn(*packet, bytes.size(), from);
    return;
  }
  auto it = sockets_.find({from, h.connection_id});
  if (it == sockets_.end()) {
    if (h.type != utp::PacketType::reset) send_reset(h, from);
    return;
  }
  auto& socket = it->second;
  socket->connection().on_packet(*packet, now());
  // ACKs and new data wait for the end of the batch the mux read: one round of output for many datagrams.
  if (!socket->dirty) {
    socket->dirty = true;
    dirty_.push_back(socket);
  }
}

void UtpSocketManager::on_syn(const utp::Packet& syn, std::size_t size, const Endpoint& from) {
  std::uint16_t recv_id = static_cast<std::uint16_t>(syn.header.connection_id + 1);
  if (auto it = sockets_.find({from, recv_id}); it != sockets_.end()) {
    // A repeated SYN (our answer was lost): the connection answers it again, if still unconfirmed.
    auto socket = it->second;
    auto state = socket->connection().state();
    socket->connection().on_packet(syn, now());
    if (state == utp::State::syn_received) {
      stats_.unconfirmed_syn_bytes += size;
      for (std::size_t i = 0; i < socket->connection().output_count(); ++i) {
        stats_.unconfirmed_reply_bytes += socket->connection().output(i).size();
      }
    }
    service(socket);
    return;
  }
  auto& count = per_ip_[address_of(from)];
  if (!accept_ || count >= limits_.max_per_ip || half_open_ >= limits_.max_half_open) {
    ++stats_.refused;
    if (count == 0) per_ip_.erase(address_of(from));
    send_reset(syn.header, from);
    return;
  }
  auto socket = std::make_shared<UtpSocket>(
      *this, io_.get_executor(), from,
      utp::Connection::accept(syn.header, static_cast<std::uint16_t>(rng_()), now(), config_));
  ++count;
  ++half_open_;
  socket->counted_half_open = true;
  stats_.unconfirmed_syn_bytes += size;
  for (std::size_t i = 0; i < socket->connection().output_count(); ++i) {
    auto n = socket->connection().output(i).size();
    stats_.unconfirmed_reply_bytes += n;
    stats_.largest_unconfirmed_reply = std::max<std::uint64_t>(stats_.largest_unconfirmed_reply, n);
  }
  sockets_[{from, recv_id}] = socket;
  service(socket);
}

void UtpSocketManager::send_reset(const utp::PacketHeader& to_what, const Endpoint& to) {
  utp::PacketHeader h;
  h.type = utp::PacketType::reset;
  h.connection_id = to_what.connection_id;
  h.timestamp_us = static_cast<std::uint32_t>(now());
  h.seq_nr = static_cast<std::uint16_t>(rng_());
  h.ack_nr = to_what.seq_nr;
  std::vector<std::uint8_t> bytes;
  utp::encode_packet(h, {}, {}, bytes);  // 20 bytes: never more than what it answers
  mux_.send_to(to, bytes);
  ++stats_.resets_sent;
}

void UtpSocketManager::on_batch_done() {
  std::swap(dirty_, servicing_);
  for (auto& s : servicing_) {
    s->dirty = false;
    if (closed_) continue;
    if (defer_ack(s)) continue;
    service(s);
  }
  servicing_.clear();
}

// Bytes for a reader that waits: the application gets them now and usually answers at once (requests for
// blocks, blocks for requests), and its answer's DATA packet carries the cumulative ACK. So the service
// (ACK, and new data the ACKs made room for) runs two turns of the event loop later: after the read's
// completion (posted by progress) and the write it leads to (posted in turn). Without an answer it is an
// ACK of its own, as before, a few microseconds late. Over loopback this halved the datagrams a downloading
// peer sends (one per received batch instead of two).
bool UtpSocketManager::defer_ack(const std::shared_ptr<UtpSocket>& socket) {
  auto& c = socket->connection();
  if (socket->ack_deferred) return true;  // one is posted already: it serves this batch too
  if (c.state() != utp::State::connected || !socket->handed_to_app || socket->app_closed() ||
      !socket->read_waiting() || c.readable() == 0)
    return false;
  socket->progress();
  socket->ack_deferred = true;
  auto later = [this, socket, alive = std::weak_ptr<bool>(alive_)]() {
    asio::post(io_, [this, socket, alive]() {
      if (alive.expired()) return;
      socket->ack_deferred = false;
      flush(*socket);
    });
  };
  asio::post(io_, std::move(later));
  return true;
}

void UtpSocketManager::on_unreachable(const Endpoint& to, std::error_code) {
  // Only connections still dialling give up at once: an ICMP error on an established one may be transient.
  std::vector<std::shared_ptr<UtpSocket>> failed;
  for (auto it = sockets_.lower_bound({to, 0}); it != sockets_.end() && it->first.first == to; ++it) {
    if (it->second->connection().state() == utp::State::syn_sent) failed.push_back(it->second);
  }
  for (auto& s : failed) {
    s->complete_connect(asio::error::connection_refused);
    s->connection().abort();
    s->connection().clear_output();
    erase(s);
  }
}

void UtpSocketManager::on_too_big(const Endpoint& to, std::size_t mtu) {
  std::vector<std::shared_ptr<UtpSocket>> hit;
  for (auto it = sockets_.lower_bound({to, 0}); it != sockets_.end() && it->first.first == to; ++it)
    hit.push_back(it->second);
  for (auto& s : hit) {
    packet_too_big(*s, mtu);
    service(s);
  }
}

void UtpSocketManager::packet_too_big(UtpSocket& socket, std::size_t mtu) {
  std::size_t headers = ip_udp_headers(socket.remote());
  socket.connection().on_packet_too_big(mtu > headers ? mtu - headers : 0, now());
}

void UtpSocketManager::update_path_mtu(UtpSocket& socket) {
  auto& c = socket.connection();
  if (c.state() != utp::State::connected) return;
  if (!socket.route_mtu_known) {
    // Read once the peer is confirmed (not per SYN: a flood of them costs no system calls).
    socket.route_mtu_known = true;
    auto mtu = UdpMux::route_mtu(socket.remote());
    std::size_t headers = ip_udp_headers(socket.remote());
    std::size_t ceiling = limits_.max_packet_size;
    if (mtu && *mtu > headers) ceiling = std::min(ceiling, *mtu - headers);
    c.set_max_packet_size(ceiling, now());
  }
  if (log_ && !c.path_mtu().searching() && c.packet_size() != socket.reported_packet_size) {
    socket.reported_packet_size = c.packet_size();
    log_("utp: path MTU to " + socket.remote().to_string() + ": packets of " +
         std::to_string(c.packet_size()) + " bytes (ceiling " + std::to_string(c.path_mtu().ceiling()) +
         ", " + std::to_string(c.path_mtu().probes_acked()) + " probes passed, " +
         std::to_string(c.path_mtu().probes_lost()) + " lost)");
  }
}

void UtpSocketManager::flush(UtpSocket& socket) {
  if (closed_) return;
  auto it = sockets_.find({socket.remote(), socket.connection().recv_id()});
  if (it == sockets_.end() || it->second.get() != &socket) return;
  service(it->second);
}

void UtpSocketManager::on_app_closed(UtpSocket& socket) {
  flush(socket);
}

void UtpSocketManager::send_output(UtpSocket& socket) {
  auto& c = socket.connection();
  if (c.output_count() == 0) return;
  packets_.clear();
  for (std::size_t i = 0; i < c.output_count(); ++i)
    packets_.push_back({c.output(i), c.output_may_fragment(i)});
  // GSO runs in one sendmmsg: one system call for the whole flush.
  auto result = mux_.send_many(socket.remote(), packets_);
  c.clear_output();
  if (result.too_big) {
    // Larger than the route's MTU now (a route change): the kernel knows the new one.
    auto mtu = UdpMux::route_mtu(socket.remote());
    packet_too_big(socket, mtu.value_or(0));
  }
}

void UtpSocketManager::service(std::shared_ptr<UtpSocket> socket) {
  auto& c = socket->connection();
  auto t = now();
  auto before = c.state();
  // Bytes read free receive window; bytes written need sending: both are settled by one flush.
  for (int round = 0; round < 2; ++round) {
    c.flush(t);
    if (before == utp::State::syn_received && c.state() == utp::State::syn_received) {
      for (std::size_t i = 0; i < c.output_count(); ++i) {
        stats_.largest_unconfirmed_reply =
            std::max<std::uint64_t>(stats_.largest_unconfirmed_reply, c.output(i).size());
      }
    }
    send_output(*socket);
    if (!socket->progress()) break;
  }
  auto state = c.state();
  update_path_mtu(*socket);
  if (socket->counted_half_open && state != utp::State::syn_received) {
    socket->counted_half_open = false;
    --half_open_;
  }
  if (state == utp::State::connected && socket->connecting()) socket->complete_connect({});
  if (state == utp::State::connected && !socket->handed_to_app) {
    socket->handed_to_app = true;  // confirmed: now, and only now, the application sees it
    ++stats_.accepted;
    if (accept_) accept_(socket);
  }
  if (state == utp::State::closed) {
    socket->fail(
        c.error() == utp::ConnectionError::reset ? boost::system::error_code(asio::error::connection_reset)
        : c.error() == utp::ConnectionError::timed_out ? boost::system::error_code(asio::error::timed_out)
                                                       : boost::system::error_code(asio::error::eof));
  }
  bool done = state == utp::State::closed || (socket->app_closed() && c.fin_acked());
  if (done) {
    // A read still waiting sees the end (progress posted it above); the connection goes.
    erase(socket);
    return;
  }
  schedule(c.next_deadline());
}

void UtpSocketManager::erase(std::shared_ptr<UtpSocket> socket) {
  auto key = Key{socket->remote(), socket->connection().recv_id()};
  auto it = sockets_.find(key);
  if (it == sockets_.end() || it->second != socket) return;
  if (socket->counted_half_open) {
    socket->counted_half_open = false;
    --half_open_;
  }
  auto ip = per_ip_.find(address_of(socket->remote()));
  if (ip != per_ip_.end() && --ip->second <= 0) per_ip_.erase(ip);
  sockets_.erase(it);
  socket->detach();
}

void UtpSocketManager::schedule(utp::TimeUs deadline) {
  if (deadline == utp::kNever || deadline >= timer_at_) return;
  timer_at_ = deadline;
  timer_.expires_at(std::chrono::steady_clock::time_point(std::chrono::microseconds(deadline)));
  timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec) {
    if (ec || alive.expired()) return;
    on_timer();
  });
}

void UtpSocketManager::on_timer() {
  timer_at_ = utp::kNever;
  if (closed_) return;
  auto t = now();
  std::vector<std::shared_ptr<UtpSocket>> all;
  all.reserve(sockets_.size());
  for (auto& [key, s] : sockets_)
    all.push_back(s);
  for (auto& s : all) {
    if (s->connection().next_deadline() <= t) s->connection().on_timer(t);
    service(s);
  }
}

}  // namespace shoal::net
