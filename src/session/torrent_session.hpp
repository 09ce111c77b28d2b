// One torrent on the network thread: checks existing data, finds peers (trackers and given addresses),
// exchanges pieces with them, verifies every piece before it is written, and seeds.
//
// Everything here runs on one io_context thread; disk reads, writes and hashing run on a WorkerPool and post
// their results back. Swarm policy (which blocks to request) is the pure swarm::PiecePicker.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "metainfo/torrent_info.hpp"
#include "runtime/worker_pool.hpp"
#include "session/peer.hpp"
#include "session/rate_limiter.hpp"
#include "session/torrent_options.hpp"
#include "storage/piece_storage.hpp"
#include "swarm/choker.hpp"
#include "swarm/peer_list.hpp"
#include "swarm/piece_picker.hpp"
#include "swarm/smart_ban.hpp"
#include "tracker/announce.hpp"
#include "tracker/tracker_list.hpp"
#include "tracker/udp_exchange.hpp"
#include "wire/handshake.hpp"

namespace shoal::session {

class TorrentSession {
 public:
  TorrentSession(boost::asio::io_context& io, metainfo::TorrentInfo info, TorrentOptions options);
  ~TorrentSession();
  TorrentSession(const TorrentSession&) = delete;
  TorrentSession& operator=(const TorrentSession&) = delete;

  // Binds the listen socket (throws on failure: a start-up error) and starts checking, then transferring.
  void start();
  // Graceful stop: tells trackers, saves resume data, closes connections; `done` runs when finished.
  void stop(std::function<void()> done = {});

  TorrentStats stats() const;
  std::uint16_t listen_port() const { return listen_port_; }
  const metainfo::TorrentInfo& info() const { return info_; }
  // An address to dial, from `source` (PEX: through connection `via`); each source has a quota (PeerList).
  void add_peer(const Endpoint& endpoint, swarm::PeerSource source = swarm::PeerSource::tracker,
                swarm::PeerId via = swarm::kNoPeer);

  // Called once when every wanted piece is verified on disk (and resume data saved).
  std::function<void()> on_complete;
  // Connection events for --verbose (off the hot path: connects, closes with their reason, bans).
  std::function<void(const std::string&)> on_log;
  // Called when the torrent stops on an error (disk full, permission denied...).
  std::function<void(const std::string&)> on_error;

 private:
  using tcp = boost::asio::ip::tcp;
  using PeerPtr = std::shared_ptr<Peer>;

  // Start-up.
  boost::asio::awaitable<void> check_then_run();
  bool load_resume();
  boost::asio::awaitable<void> recheck();
  void apply_file_selection();

  // Connections.
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> connect_to(Endpoint endpoint);
  boost::asio::awaitable<void> accept_from(tcp::socket socket);
  boost::asio::awaitable<std::optional<swarm::PeerFeatures>> read_handshake(Peer& peer);
  boost::asio::awaitable<void> run_peer(PeerPtr peer, swarm::PeerFeatures features);
  boost::asio::awaitable<void> write_loop(PeerPtr peer);
  void send_handshake(Peer& peer);
  void send_greeting(Peer& peer);
  void connect_more();
  void close_peer(Peer& peer, std::string reason);
  void signal_writer(Peer& peer);
  void wake_reader(Peer& peer);  // its queue drained or its state changed: re-check back-pressure

  // Protocol.
  swarm::TorrentView torrent_view();
  bool handle_message(Peer& peer, const wire::Message& message);
  void on_block(Peer& peer, const swarm::BlockRequest& block, std::span<const std::uint8_t> data);
  void on_extended(Peer& peer, std::uint8_t id, std::span<const std::uint8_t> payload);
  void on_interested(Peer& peer);
  void update_interest(Peer& peer);
  void request_more(Peer& peer);
  void send_message(Peer& peer, const wire::Message& message);
  void flush(Peer& peer);  // sends what the peer's protocol queued
  void choke(Peer& peer);
  void drop_unsent(Peer& peer);
  void unchoke(Peer& peer);
  void rechoke();

  // Disk.
  void piece_complete(std::int32_t piece, swarm::PeerId last_peer);
  void on_piece_written(std::int32_t piece, bool hash_ok, std::error_code ec,
                        std::vector<std::uint8_t> buffer, std::vector<swarm::SmartBan::Block> blocks);
  void ban(const std::vector<swarm::SmartBan::Address>& keys);  // and close their connections
  bool is_banned(const Endpoint& endpoint) const;
  void serve_requests(std::int32_t piece);
  void serve_peer(Peer& peer);
  void read_piece(std::int32_t piece);
  std::vector<std::uint8_t> take_buffer(std::size_t size);
  void save_resume(bool sync);
  void fail(const std::string& message);
  void check_complete();
  void on_pex(Peer& peer, std::string_view payload);
  void send_pex(Peer& peer, Clock::time_point now);
  std::optional<Endpoint> listen_endpoint(const Peer& peer) const;

  // Time.
  boost::asio::awaitable<void> tick_loop();
  void tick();
  boost::asio::awaitable<void> announce(tracker::AnnounceEvent event);
  // One tracker, HTTP(S) or UDP by its URL's scheme; the error text is what users see.
  boost::asio::awaitable<Expected<tracker::AnnounceResponse, std::string>> announce_to(
      const std::string& url, const tracker::AnnounceRequest& request);

  boost::asio::io_context& io_;
  metainfo::TorrentInfo info_;
  TorrentOptions options_;
  std::array<std::uint8_t, 20> peer_id_;
  std::unique_ptr<storage::PieceStorage> storage_;
  runtime::WorkerPool pool_;
  swarm::PiecePicker picker_;
  swarm::Choker choker_;
  std::vector<bool> file_wanted_;
  tcp::acceptor acceptor_;
  boost::asio::steady_timer tick_timer_;
  std::uint16_t listen_port_ = 0;
  RateLimiter down_limit_;
  RateLimiter up_limit_;

  TorrentState state_ = TorrentState::checking;
  std::string error_;
  bool stopping_ = false;
  // Shared with the hashing threads of a start-up check, which may outlive a stop request by a few chunks.
  std::shared_ptr<std::atomic<bool>> check_cancel_ = std::make_shared<std::atomic<bool>>(false);
  bool complete_notified_ = false;
  std::int64_t checked_bytes_ = 0;

  std::map<swarm::PeerId, PeerPtr> peers_;
  swarm::PeerId next_peer_id_ = 1;
  swarm::PeerList peer_list_;      // addresses we may dial
  std::set<Endpoint> connecting_;  // dials in progress
  int dials_this_tick_ = 0;
  int incoming_handshakes_ = 0;
  std::set<Endpoint> banned_self_;  // our own listen address, as seen through trackers
  std::set<Endpoint> known_seeds_;  // dialled peers that turned out to be seeds: not redialled while seeding
  std::set<std::array<std::uint8_t, 16>> banned_;  // IP addresses
  std::set<Endpoint> banned_loopback_;             // loopback peers, by address and port (see ban_key)
  swarm::SmartBan smart_ban_;

  // Pieces being assembled (received blocks land here, the one copy on the receive path).
  std::unordered_map<std::int32_t, std::vector<std::uint8_t>> assembling_;
  std::vector<std::vector<std::uint8_t>> free_buffers_;
  std::int32_t writes_in_flight_ = 0;

  // Read cache for seeding: whole pieces, least recently used evicted beyond the budget.
  std::unordered_map<std::int32_t, std::shared_ptr<const std::vector<std::uint8_t>>> cache_;
  std::list<std::int32_t> cache_lru_;
  std::set<std::int32_t> reads_in_flight_;
  std::unordered_map<std::int32_t, std::vector<std::pair<std::weak_ptr<Peer>, swarm::BlockRequest>>> waiting_;

  // Accounting.
  std::int64_t downloaded_ = 0;
  std::int64_t uploaded_ = 0;
  std::int64_t downloaded_before_ = 0;  // from resume data
  std::int64_t uploaded_before_ = 0;
  double down_rate_ = 0;
  double up_rate_ = 0;
  std::int64_t down_tick_ = 0;
  std::int64_t up_tick_ = 0;
  std::int32_t failed_pieces_ = 0;
  bool resume_dirty_ = false;
  int ticks_ = 0;

  // Trackers.
  Clock::time_point next_announce_ = Clock::time_point::max();
  std::optional<std::string> tracker_id_;
  tracker::TrackerList trackers_;
  std::map<std::string, tracker::udp::ConnectionCache> udp_connections_;  // per udp:// URL
  bool announcing_ = false;
  bool sent_completed_ = false;
  std::uint32_t tracker_key_ = 0;
  std::vector<swarm::BlockRequest> ready_;  // serve_requests scratch
};

}  // namespace shoal::session
