// What the session shares with each of its torrents: the network thread, the disk and hashing pool, the peer
// id, the listen port, the global rate limits and connection budget, and the queue of rechecks. A torrent
// holds a reference; the session outlives every torrent it owns.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <set>

#include "shoal/endpoint.hpp"
#include "shoal/settings.hpp"

#include "net/udp_tracker_client.hpp"
#include "runtime/worker_pool.hpp"
#include "session/rate_limiter.hpp"
#include "storage/file_pool.hpp"

namespace shoal::net {
class UtpSocketManager;
}

namespace shoal::session {

// Connections of all torrents together: each torrent asks before it dials or accepts, and tells when a
// connection ends. Network thread only.
class ConnectionBudget {
 public:
  struct Limits {
    int max_connections = 500;
    int max_half_open = 32;
    int max_dials_per_second = 20;
  };
  // A torrent never gets less than this share, however many torrents there are.
  static constexpr int kMinFairShare = 8;

  explicit ConnectionBudget(Limits limits) : limits_(limits) {}
  void set_limits(Limits limits) { limits_ = limits; }

  // Fair share of one torrent among `active_torrents`.
  int fair_share(int active_torrents) const {
    int n = active_torrents < 1 ? 1 : active_torrents;
    int share = limits_.max_connections / n;
    return share < kMinFairShare ? kMinFairShare : share;
  }
  bool may_connect() const { return connections_ + half_open_ < limits_.max_connections; }
  bool may_dial() const {
    return may_connect() && half_open_ < limits_.max_half_open &&
           dials_this_second_ < limits_.max_dials_per_second;
  }
  void dial_started() {
    ++half_open_;
    ++dials_this_second_;
  }
  void dial_ended() { --half_open_; }
  // One handshake at a time to an address from this session: several torrents dialling one peer at the same
  // tick would otherwise race, and clients such as Transmission close every incoming handshake from an
  // address while one from it is in progress, so the same torrent could lose that race every time.
  bool handshaking_with(const Endpoint& e) const { return handshaking_.count(e) != 0; }
  void handshake_started(const Endpoint& e) { handshaking_.insert(e); }
  void handshake_ended(const Endpoint& e) { handshaking_.erase(e); }
  void connection_opened() { ++connections_; }
  void connection_closed() { --connections_; }
  void on_second() { dials_this_second_ = 0; }
  int connections() const { return connections_; }

 private:
  Limits limits_;
  int connections_ = 0;
  int half_open_ = 0;
  int dials_this_second_ = 0;
  std::set<Endpoint> handshaking_;
};

// Full rechecks take every core: at most `max_running` at once, the rest wait in order. Network thread only.
class CheckQueue {
 public:
  explicit CheckQueue(int max_running) : max_running_(max_running < 1 ? 1 : max_running) {}

  // `granted` runs (on the network thread) once a slot is free; the returned ticket cancels the wait.
  std::uint64_t acquire(std::function<void()> granted) {
    auto ticket = next_ticket_++;
    if (running_ < max_running_) {
      ++running_;
      granted();
    } else {
      waiting_.push_back({ticket, std::move(granted)});
    }
    return ticket;
  }
  // A waiter that gave up (its torrent stopped); harmless once granted.
  void cancel(std::uint64_t ticket) {
    std::erase_if(waiting_, [&](const Waiter& w) { return w.ticket == ticket; });
  }
  void release() {
    --running_;
    while (running_ < max_running_ && !waiting_.empty()) {
      auto next = std::move(waiting_.front());
      waiting_.pop_front();
      ++running_;
      next.granted();
    }
  }
  std::size_t waiting() const { return waiting_.size(); }

 private:
  struct Waiter {
    std::uint64_t ticket;
    std::function<void()> granted;
  };
  int max_running_;
  int running_ = 0;
  std::uint64_t next_ticket_ = 1;
  std::deque<Waiter> waiting_;
};

struct TorrentContext {
  boost::asio::io_context& io;
  runtime::WorkerPool& pool;
  // Descriptors of every torrent's files and folders, bounded together; null: each torrent has its own.
  storage::FilePool* files = nullptr;
  std::array<std::uint8_t, 20> peer_id{};
  std::uint16_t listen_port = 0;
  std::uint16_t mapped_port = 0;  // the router's external TCP port for listen_port (UPnP, NAT-PMP); 0: none
  // What trackers, the DHT and peers are told to dial.
  std::uint16_t announced_port() const { return mapped_port ? mapped_port : listen_port; }
  RateLimiter* global_download = nullptr;  // may be unlimited, never null in a session
  RateLimiter* global_upload = nullptr;
  ConnectionBudget* connections = nullptr;
  CheckQueue* checks = nullptr;
  // udp:// announces leave from the session's one UDP port; null: each announce opens a socket of its own.
  net::UdpTrackerClient* udp_trackers = nullptr;
  // Torrents currently downloading or seeding, for the fair share of connections.
  std::function<int()> active_torrents = [] { return 1; };
  // This torrent's share of the session's unchoke slots (large when the session sets no global cap).
  std::function<int()> unchoke_share = [] { return 1 << 20; };
  // The read cache of all torrents together: bytes held now, and the budget (0: none).
  std::int64_t* cached_bytes = nullptr;
  std::int64_t cache_budget = 0;
  std::int64_t request_budget_bytes = 64LL * 1024 * 1024;  // SessionSettings::request_budget_bytes
  // MSE/PE for outgoing connections (incoming ones are the listener's).
  EncryptionMode encryption = EncryptionMode::prefer;
  // uTP for outgoing connections (null: none, TCP only) and which transports to try.
  net::UtpSocketManager* utp = nullptr;
  Transport transport = Transport::both;
};

}  // namespace shoal::session
