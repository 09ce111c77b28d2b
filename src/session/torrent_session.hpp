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
#include "session/torrent_context.hpp"
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
  TorrentSession(TorrentContext& context, metainfo::TorrentInfo info, TorrentOptions options);
  ~TorrentSession();
  TorrentSession(const TorrentSession&) = delete;
  TorrentSession& operator=(const TorrentSession&) = delete;

  // Starts checking, then transferring. Incoming connections come from the session's listener through
  // adopt_incoming().
  void start();
  // Graceful stop: tells trackers, closes connections, lets every disk job and coroutine it started finish,
  // then saves resume data; `done` runs (posted) once nothing of this torrent is in flight, after which the
  // object may be destroyed.
  void stop(std::function<void()> done = {});
  void force_reannounce();
  // Once a second, from the session's timer.
  void on_tick();
  void save_resume_now() {
    if (!stopping_ && state_ != TorrentState::checking && state_ != TorrentState::error) save_resume(true);
  }
  // Bytes of verified pieces in each file, in the torrent's file order.
  std::vector<std::int64_t> file_progress() const;
  void set_rate_limits(std::int64_t download, std::int64_t upload);

  TorrentStats stats() const;
  std::uint16_t listen_port() const { return listen_port_; }
  const metainfo::TorrentInfo& info() const { return info_; }
  // An address to dial, from `source` (PEX: through connection `via`); each source has a quota (PeerList).
  void add_peer(const Endpoint& endpoint, swarm::PeerSource source = swarm::PeerSource::tracker,
                swarm::PeerId via = swarm::kNoPeer);
  bool stopping() const { return stopping_; }
  // An incoming connection whose handshake named this torrent: the listener read the handshake (and any
  // bytes after it, kept in `reader`); we answer and run the peer.
  void adopt_incoming(boost::asio::ip::tcp::socket socket, Endpoint remote, wire::MessageReader reader,
                      const wire::Handshake& handshake);

  // Called once when every wanted piece is verified on disk (and resume data saved).
  std::function<void()> on_complete;
  // Connection events for --verbose (off the hot path: connects, closes with their reason, bans).
  std::function<void(const std::string&)> on_log;
  // Called when the torrent stops on an error (disk full, permission denied...).
  std::function<void(const std::string&)> on_error;
  // Progress for the session's events (optional).
  std::function<void(std::int32_t)> on_piece_verified;
  std::function<void(std::int32_t)> on_check_finished;  // pieces found on disk
  std::function<void(const std::string& url, std::int64_t peers, const std::string& warning)>
      on_tracker_reply;
  std::function<void(const std::string& url, const std::string& error)> on_tracker_error;
  std::function<void(const std::string& address, const std::string& reason)> on_peer_banned;
  // Seeding reached its ratio or time: the torrent stopped itself.
  std::function<void()> on_seeding_done;

 private:
  using tcp = boost::asio::ip::tcp;
  using PeerPtr = std::shared_ptr<Peer>;

  // Start-up.
  boost::asio::awaitable<void> check_then_run();
  bool load_resume();
  boost::asio::awaitable<void> recheck();
  void apply_file_selection();

  // Every coroutine and disk job of this torrent is counted, so stop() knows when nothing refers to it.
  void spawn(boost::asio::awaitable<void> work, const char* failure = "internal error: ");
  void submit(std::function<void()> job);  // on the pool; its completion must call job_done()
  void job_done();
  void begin_close();
  // Our upload slots: the torrent's own number, within its share of the session's.
  int upload_slots() const;
  boost::asio::awaitable<void> announce_stopped_then_close();
  void maybe_drained();
  void wait_for_check_slot_cancel();

  // Connections.
  boost::asio::awaitable<void> connect_to(Endpoint endpoint);
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
  // Something changed since the resume data was loaded or saved, or there is none yet.
  bool resume_needs_saving() const;
  void fail(const std::string& message);
  void check_complete();
  void on_pex(Peer& peer, std::string_view payload);
  void send_pex(Peer& peer, Clock::time_point now);
  std::optional<Endpoint> listen_endpoint(const Peer& peer) const;

  // Time.
  void tick();
  boost::asio::awaitable<void> announce(tracker::AnnounceEvent event);
  // One tracker, HTTP(S) or UDP by its URL's scheme; the error text is what users see.
  boost::asio::awaitable<Expected<tracker::AnnounceResponse, std::string>> announce_to(
      const std::string& url, const tracker::AnnounceRequest& request);

  TorrentContext& context_;
  boost::asio::io_context& io_;
  metainfo::TorrentInfo info_;
  TorrentOptions options_;
  std::array<std::uint8_t, 20> peer_id_;
  std::unique_ptr<storage::PieceStorage> storage_;
  runtime::WorkerPool& pool_;
  swarm::PiecePicker picker_;
  swarm::Choker choker_;
  std::vector<bool> file_wanted_;
  boost::asio::steady_timer check_slot_;  // cancelled when the session's check queue lets us hash
  std::uint64_t check_ticket_ = 0;
  bool holds_check_slot_ = false;
  std::uint16_t listen_port_ = 0;
  RateLimiter down_limit_;
  RateLimiter up_limit_;

  TorrentState state_ = TorrentState::checking;
  std::string error_;
  FailureKind failure_ = FailureKind::none;
  bool stopping_ = false;
  bool running_ = false;  // checked and started: ticks do their work
  bool closing_ = false;  // trackers told; peers closed; waiting for the last coroutine and disk job
  bool drained_ = false;
  bool was_error_ = false;
  std::vector<std::function<void()>> stop_done_;
  int coroutines_ = 0;
  int jobs_ = 0;
  Clock::time_point seeding_since_ = Clock::time_point::max();
  std::set<std::shared_ptr<Peer>> dialling_;  // outgoing connections before their handshake
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  // Incoming connections that arrived while the torrent was checking, answered once the check is over.
  struct ParkedPeer {
    boost::asio::ip::tcp::socket socket;
    Endpoint remote;
    wire::MessageReader reader;
    wire::Handshake handshake;
  };
  std::vector<ParkedPeer> parked_;
  // Shared with the hashing threads of a start-up check, which may outlive a stop request by a few chunks.
  std::shared_ptr<std::atomic<bool>> check_cancel_ = std::make_shared<std::atomic<bool>>(false);
  bool complete_notified_ = false;
  std::int64_t checked_bytes_ = 0;

  std::map<swarm::PeerId, PeerPtr> peers_;
  swarm::PeerId next_peer_id_ = 1;
  swarm::PeerList peer_list_;      // addresses we may dial
  std::set<Endpoint> connecting_;  // dials in progress
  int dials_this_tick_ = 0;
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
