// One torrent on the network thread: checks existing data, finds peers (trackers and given addresses),
// exchanges pieces with them, verifies every piece before it is written, and seeds.
//
// The Asio driver of one torrent::Torrent (the pure core that decides everything said to peers and trackers):
// sockets, the disk and hash pool, tracker requests, the start-up check and resume data. Everything here runs
// on one io_context thread; disk reads, writes and hashing run on a WorkerPool and post their results back.
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
#include "net/http_range_client.hpp"
#include "runtime/worker_pool.hpp"
#include "session/peer.hpp"
#include "session/piece_buffer_pool.hpp"
#include "session/rate_limiter.hpp"
#include "session/torrent_context.hpp"
#include "session/torrent_options.hpp"
#include "storage/piece_storage.hpp"
#include "swarm/peer_list.hpp"
#include "torrent/torrent.hpp"
#include "tracker/announce.hpp"
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
  // A port mapping was granted (or changed): announce the router's external port from now on, at once.
  void set_announce_port(std::uint16_t port);
  // Once a second, from the session's timer.
  void on_tick();
  void save_resume_now() {
    if (!stopping_ && running_ && state_ != TorrentState::error) save_resume(true);
  }
  // Bytes of verified pieces in each file, in the torrent's file order.
  std::vector<std::int64_t> file_progress() const;
  void set_rate_limits(std::int64_t download, std::int64_t upload);
  // The order among wanted files (TorrentOptions::file_priorities), at once; which files are wanted stays.
  void set_file_priorities(std::vector<std::uint8_t> priorities);
  void set_max_connections(int max_connections);

  TorrentStats stats() const;
  const metainfo::TorrentInfo& info() const { return info_; }
  // The torrent core, read-only (peer list, bitfield, availability for TorrentDetails).
  const torrent::Torrent& core() const { return *core_; }
  // An address to dial, from `source` (PEX: through connection `via`); each source has a quota (PeerList).
  void add_peer(const Endpoint& endpoint, swarm::PeerSource source = swarm::PeerSource::tracker,
                swarm::PeerId via = swarm::kNoPeer);
  bool stopping() const { return stopping_; }
  // An incoming connection whose handshake named this torrent: the listener read the handshake (and any
  // bytes after it, kept in `reader`); we answer and run the peer.
  // `cipher` is what an MSE/PE handshake left (pass-through for a plain connection).
  void adopt_incoming(PeerStream socket, Endpoint remote, wire::MessageReader reader,
                      const wire::Handshake& handshake, crypto::StreamCipher cipher = {});

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
  // TorrentOptions::fetch_metadata: the info dictionary, verified against the info-hash.
  std::function<void(const std::string& info_bytes)> on_metadata;
  // BEP 52: the last missing piece layer came from peers (each proven against its pieces root), or, for a
  // hybrid, was computed from the verified data; `layers` is every piece layer the torrent now has, for the
  // saved metainfo.
  std::function<void(const std::map<Sha256Digest, std::string>& layers)> on_piece_layers;

 private:
  using tcp = boost::asio::ip::tcp;
  using PeerPtr = std::shared_ptr<Peer>;
  class Budget;  // the session's budgets, as the core's Mediator

  // Start-up.
  boost::asio::awaitable<void> check_then_run();
  bool load_resume();
  // The unfinished pieces load_resume() found: their kept blocks read back on the pool (v2 ones judged by
  // their saved leaf hashes) and handed to the core.
  boost::asio::awaitable<void> restore_unfinished();
  boost::asio::awaitable<void> recheck();
  void apply_file_selection();
  void apply_piece_priorities();  // each wanted piece: the highest priority of the wanted files it touches

  // Every coroutine and disk job of this torrent is counted, so stop() knows when nothing refers to it.
  void spawn(boost::asio::awaitable<void> work, const char* failure = "internal error: ");
  void submit(std::function<void()> job);  // on the pool; its completion must call job_done()
  void job_done();
  void stop_core();
  void begin_close();
  void maybe_drained();

  // The core's actions, performed.
  void perform_actions();
  void verify_piece(torrent::VerifyPiece action);
  void read_piece(PieceIndex piece);
  // A hybrid from a magnet has no piece layers, and its peers are not asked for them (libtorrent closes a
  // connection made with the v1 info-hash that sends a hash request): once its pieces are verified by SHA-1,
  // they are computed from the data on the pool, each kept only if it hashes to its file's pieces root.
  void compute_piece_layers();
  bool layers_computed_ = false;
  boost::asio::awaitable<void> announce(torrent::Announce action);
  // One tracker, HTTP(S) or UDP by its URL's scheme; the error text is what users see.
  boost::asio::awaitable<Expected<tracker::AnnounceResponse, std::string>> announce_to(
      const std::string& url, const tracker::AnnounceRequest& request);

  // Connections.
  // holepunch: a BEP 55 `connect` (plain handshake, from our listen port; see holepunch_socket.hpp).
  boost::asio::awaitable<void> connect_to(Endpoint endpoint, bool holepunch = false);
  boost::asio::awaitable<void> answer_incoming(PeerPtr peer, swarm::PeerFeatures features);
  boost::asio::awaitable<std::optional<swarm::PeerFeatures>> read_handshake(Peer& peer);
  boost::asio::awaitable<bool> write_handshake(Peer& peer);
  wire::Handshake our_handshake() const;
  // MSE/PE as the initiator, our BitTorrent handshake sent inside it; the peer's answer lands in its reader.
  boost::asio::awaitable<bool> encrypt_outgoing(Peer& peer);
  // Connects (under the connect timeout; `connected` set when TCP got through) and sends our handshake, plain
  // or inside MSE.
  // Connects over uTP while `use_utp` (clearing it when Transport::both falls back to TCP), else TCP; a
  // holepunch dial is TCP from our listen port under its own timeout.
  boost::asio::awaitable<bool> dial(Peer& peer, bool mse, bool& connected, bool& use_utp, bool holepunch);
  // Hands the connection to the core; false (and closed) when the core refuses it.
  bool join(const PeerPtr& peer, swarm::PeerFeatures features);
  boost::asio::awaitable<void> read_loop(PeerPtr peer);
  boost::asio::awaitable<void> write_loop(PeerPtr peer);
  // The connection ends from our side of the socket (EOF, error): the core is told.
  void drop(Peer& peer, const std::string& reason);
  // The socket closes and the connection is forgotten (the core already forgot it, or is told by drop()).
  void close_socket(Peer& peer);
  void wake_reader(Peer& peer);

  // Disk and time.
  void save_resume(bool sync);
  std::vector<storage::UnfinishedPiece> write_unfinished_blocks();
  void hash_leaves(const torrent::HashLeaves& action);
  // Something changed since the resume data was loaded or saved, or there is none yet.
  bool resume_needs_saving() const;
  // Resume data is kept, in a file or by the sink (TorrentOptions).
  bool keeps_resume() const {
    return !options_.resume_file.empty() || static_cast<bool>(options_.resume_sink);
  }
  // A file of the torrent was deleted under it: stops it with file_deleted, naming the file.
  bool fail_if_deleted();
  void fail(const std::string& message);
  void tick();

  TorrentContext& context_;
  boost::asio::io_context& io_;
  metainfo::TorrentInfo info_;
  TorrentOptions options_;
  std::array<std::uint8_t, 20> peer_id_;
  std::unique_ptr<storage::PieceStorage> storage_;
  // Read buffers come back here when the core's read cache drops them (a few are kept for the next reads).
  std::shared_ptr<PieceBufferPool> read_buffers_ = std::make_shared<PieceBufferPool>(4);
  runtime::WorkerPool& pool_;
  std::unique_ptr<Budget> budget_;
  std::unique_ptr<torrent::Torrent> core_;
  std::vector<bool> file_wanted_;
  boost::asio::steady_timer check_slot_;  // cancelled when the session's check queue lets us hash
  std::uint64_t check_ticket_ = 0;
  bool holds_check_slot_ = false;
  std::uint16_t listen_port_ = 0;
  RateLimiter down_limit_;
  RateLimiter up_limit_;

  TorrentState state_ = TorrentState::checking;  // checking, then the core's phase, or stopped / error
  std::string error_;
  FailureKind failure_ = FailureKind::none;
  bool stopping_ = false;
  bool running_ = false;  // checked and started: ticks do their work
  bool closing_ = false;  // trackers told; peers closed; waiting for the last coroutine and disk job
  bool drained_ = false;
  bool was_error_ = false;
  bool rechecked_ = false;                            // the check's result is not in any resume data yet
  std::vector<storage::UnfinishedPiece> unfinished_;  // from load_resume(), for restore_unfinished()
  bool resume_handed_ = false;  // TorrentOptions::resume_sink was given resume data by this object
  bool performing_ = false;
  std::vector<std::function<void()>> stop_done_;
  int coroutines_ = 0;
  int jobs_ = 0;
  int ticks_ = 0;
  std::set<std::shared_ptr<Peer>> dialling_;  // outgoing connections before their handshake
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  // Incoming connections that arrived while the torrent was checking, answered once the check is over.
  struct ParkedPeer {
    PeerStream socket;
    Endpoint remote;
    wire::MessageReader reader;
    wire::Handshake handshake;
    crypto::StreamCipher cipher;
  };
  std::vector<ParkedPeer> parked_;
  // Shared with the hashing threads of a start-up check, which may outlive a stop request by a few chunks.
  std::shared_ptr<std::atomic<bool>> check_cancel_ = std::make_shared<std::atomic<bool>>(false);
  std::int64_t checked_bytes_ = 0;

  std::map<swarm::PeerId, PeerPtr> peers_;                                // connections the core knows
  std::map<std::string, tracker::udp::ConnectionCache> udp_connections_;  // per udp:// URL

  // Web seeds (BEP 19; torrent_web_seeds.cpp): one HTTP(S) connection and one coroutine each, driven by the
  // core (which picks the pieces and judges every answer).
  struct WebSeedRunner {
    explicit WebSeedRunner(boost::asio::io_context& io) : client(io.get_executor()), idle(io) {}
    net::HttpRangeClient client;
    boost::asio::steady_timer idle;  // waits for work (the next tick) or the end of a backoff
    bool ban_told = false;
    bool wake_on_write = false;  // idle right after a fetch: held back by the disk, woken by the next write
  };
  void add_web_seeds();    // TorrentOptions::web_seeds into the core
  void start_web_seeds();  // once the torrent runs
  void close_web_seeds();  // stopping: every fetch ends
  void wake_web_seeds();   // a piece was written: seeds the disk held back ask again
  boost::asio::awaitable<void> run_web_seed(std::size_t seed);
  boost::asio::awaitable<void> throttle_download(std::int64_t bytes);  // the torrent's and session's limits
  std::vector<std::unique_ptr<WebSeedRunner>> web_seed_runners_;
};

}  // namespace shoal::session
