// The engine behind shoal::Session: one network thread (an io_context run by a thread of its own) and what
// every torrent shares: the listener, the DHT node, the LSD service, the disk pool, global limits, the check
// queue and the state directory. Public calls arrive through call(), which runs them on the network thread.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "metainfo/file_rename.hpp"
#include "metainfo/torrent_info.hpp"
#include "net/dht_service.hpp"
#include "net/lsd_service.hpp"
#include "net/port_mapper.hpp"
#include "net/utp_socket_manager.hpp"
#include "runtime/worker_pool.hpp"
#include "session/listener.hpp"
#include "session/torrent_context.hpp"
#include "session/torrent_session.hpp"
#include "shoal/session.hpp"
#include "shoal/torrent_details.hpp"
#include "storage/file_pool.hpp"

namespace shoal::detail {

class SessionCore {
 public:
  explicit SessionCore(SessionSettings settings);
  ~SessionCore();
  SessionCore(const SessionCore&) = delete;
  SessionCore& operator=(const SessionCore&) = delete;

  // Runs `fn` on the network thread and returns its result (at once when already on it).
  template <class F>
  auto call(F&& fn) -> decltype(fn()) {
    using R = decltype(fn());
    // On the network thread, or after it has ended (nothing else touches the state then): run here.
    if (io_.get_executor().running_in_this_thread() || thread_done_.load()) return fn();
    std::packaged_task<R()> task(std::forward<F>(fn));
    auto result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return result.get();
  }

  // Network thread only.
  // file_mask: the files chosen earlier (a remembered torrent); empty: as params.only says.
  Expected<std::string, std::string> add(AddTorrentParams params, std::vector<bool> file_mask = {});
  void remove(const std::string& info_hash, RemoveMode mode);
  std::vector<std::string> list() const;
  bool has(const std::string& info_hash) const { return torrents_.count(info_hash) != 0; }
  TorrentStatus status(const std::string& info_hash) const;
  TorrentDetails details(const std::string& info_hash, const DetailsQuery& query) const;
  void pause(const std::string& info_hash);
  void resume(const std::string& info_hash);
  void force_recheck(const std::string& info_hash);
  void force_reannounce(const std::string& info_hash);
  bool add_peer(const std::string& info_hash, const std::string& endpoint);
  void set_file_priority(const std::string& info_hash, int file, int priority);
  void set_max_connections(const std::string& info_hash, int max_connections);
  void force_start(const std::string& info_hash);
  std::vector<std::int64_t> file_progress(const std::string& info_hash) const;
  Expected<void, std::string> move_storage(const std::string& info_hash, const std::filesystem::path& to);
  // TorrentHandle::rename_path: checked at once; a running torrent stops, its data is renamed, it restarts.
  Expected<void, std::string> rename_path(const std::string& info_hash, const std::string& path,
                                          const std::string& new_name);
  void set_rate_limits(const std::string& info_hash, std::int64_t download, std::int64_t upload);
  std::string torrent_file(const std::string& info_hash) const;
  void set_queue_order(const std::vector<std::string>& info_hashes);
  void apply_settings(const SessionSettings& settings);
  const SessionSettings& settings() const { return settings_; }
  void pause_all();
  void resume_all();
  void save_state();
  SessionStats stats() const;
  // BEP 44 for the embedder (session_items.cpp).
  Expected<std::uint64_t, std::string> dht_get_mutable(const std::string& public_key,
                                                       const std::string& salt);
  Expected<std::uint64_t, std::string> dht_put_mutable(const std::string& key_seed, const std::string& salt,
                                                       const std::string& value, std::int64_t seq);

  // Any thread.
  std::vector<Event> pop_events();
  bool wait_for_events(std::chrono::milliseconds timeout);
  void set_wakeup(std::function<void()> wakeup);
  void shutdown(std::chrono::milliseconds timeout);

 private:
  struct Entry {
    std::string hex;
    std::uint64_t order = 0;  // when it was added: the queue goes by this
    AddTorrentParams params;
    std::vector<Endpoint> peers;
    std::optional<metainfo::TorrentInfo> info;
    std::unique_ptr<session::TorrentSession> torrent;
    // A magnet link's metadata fetch: a torrent object that only fetches the info dictionary from its peers.
    std::unique_ptr<session::TorrentSession> fetcher;
    std::chrono::steady_clock::time_point metadata_deadline{};
    TorrentState state = TorrentState::queued;  // when no torrent object runs
    ErrorCode error_code = ErrorCode::none;
    std::string error;
    std::vector<bool> file_mask;
    std::vector<std::uint8_t>
        file_priority;          // 1..7 per file (TorrentHandle::set_file_priority); empty: all 4
    bool bypass_queue = false;  // TorrentHandle::force_start(): not held back nor counted
    bool user_paused = false;
    bool removed = false;
    bool finished_told = false;
    bool restart_after_stop = false;
    std::vector<std::function<void()>> after_stop;  // run once the torrent object is gone
    std::chrono::steady_clock::time_point next_dht{};
    bool dht_searching = false;
    std::int64_t downloaded_before = 0;  // of torrent objects that ran before (restarts)
    std::int64_t uploaded_before = 0;
    std::string last_pieces;  // the bitfield when the torrent object last stopped (TorrentDetails::pieces)
  };
  using EntryPtr = std::shared_ptr<Entry>;

  void push_event(Event event);
  // remember_torrents: the torrent list and each torrent's metainfo in the state directory.
  void persist();
  void save_metainfo(const Entry& entry, const std::string& torrent_bytes);
  void restore();
  void log(const std::string& info_hash, const std::string& text);
  EntryPtr find(const std::string& info_hash) const;

  boost::asio::awaitable<void> fetch_metadata(EntryPtr entry);
  void start_fetcher(const EntryPtr& entry);
  void on_metadata(const EntryPtr& entry, const std::string& info_bytes);
  // Stops the fetcher; `then` runs once it is drained and destroyed.
  void stop_fetcher(const EntryPtr& entry, std::function<void()> then);
  void schedule();  // starts queued torrents as far as the active limits allow
  void activate(const EntryPtr& entry);
  // Stops the running torrent object; `then` runs on the network thread once it is drained and destroyed.
  void deactivate(const EntryPtr& entry, std::function<void()> then);
  void fail_entry(const EntryPtr& entry, ErrorCode code, std::string message);
  // Applies AddTorrentParams::file_paths to the entry's metainfo (after it is parsed or fetched).
  void apply_file_paths(Entry& entry);
  // Renames on disk and in the entry's metainfo; the entry runs no torrent object.
  Expected<void, std::string> rename_stopped(Entry& entry, const std::string& path,
                                             const std::string& new_name);
  bool route_incoming(const wire::Handshake& h, session::PeerStream& socket, const Endpoint& remote,
                      wire::MessageReader& reader, const crypto::StreamCipher& cipher);
  // MSE/PE: the info-hash of ours whose HASH('req2', info-hash) is `req2`.
  std::optional<Sha1Digest> find_by_req2(const Sha1Digest& req2) const;
  std::filesystem::path resume_path(const Entry& entry) const;
  std::filesystem::path parts_path(const Entry& entry) const;
  void start_dht();
  void start_lsd();
  // SessionSettings::upnp / natpmp: map the listen port and the UDP port on the router (session_nat.cpp).
  void start_port_mapping(std::uint16_t udp_port);
  void on_port_mapping(const net::PortMapper::Report& report);
  boost::asio::awaitable<void> tick_loop();
  boost::asio::awaitable<void> dht_search(EntryPtr entry);
  boost::asio::awaitable<void> item_get(std::uint64_t request, dht::PublicKey key, std::string salt);
  boost::asio::awaitable<void> item_put(std::uint64_t request, dht::Item item);
  int active_count() const;
  static bool is_active(const Entry& e);

  // Declared first: destroyed last, after every object that owns sockets or timers on it.
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  SessionSettings settings_;
  runtime::WorkerPool pool_;
  storage::FilePool files_;  // before the torrents (context_) whose storage leases from it
  session::RateLimiter global_down_;
  session::RateLimiter global_up_;
  session::ConnectionBudget budget_;
  session::CheckQueue checks_;
  std::int64_t cached_bytes_ = 0;  // the read caches of all torrents (TorrentContext::cached_bytes)
  session::TorrentContext context_;
  // One UDP socket per family for the DHT, the UDP tracker client (and later uTP); before their users, so
  // destroyed after them.
  std::unique_ptr<net::UdpMux> udp_;
  std::unique_ptr<net::UdpTrackerClient> udp_trackers_;
  std::unique_ptr<net::UtpSocketManager> utp_;  // after udp_: destroyed before the mux it listens to
  std::unique_ptr<session::Listener> listener_;
  std::unique_ptr<net::DhtService> dht_;
  std::unique_ptr<net::LsdService> lsd_;
  std::unique_ptr<net::PortMapper> port_mapper_;
  std::uint16_t dht_port_ = 0;
  int active_cached_ = 1;  // torrents running, refreshed each second and on every queue change
  bool dht_tried_ = false;
  std::uint64_t next_item_request_ = 1;
  bool lsd_tried_ = false;
  std::map<std::string, EntryPtr> torrents_;
  // Metadata fetchers stopped and not yet drained.
  std::map<session::TorrentSession*, std::unique_ptr<session::TorrentSession>> draining_;
  std::uint64_t next_order_ = 0;
  boost::asio::steady_timer tick_timer_;
  bool shut_down_ = false;

  mutable std::mutex events_mutex_;
  std::condition_variable events_cv_;
  std::deque<Event> events_;
  std::function<void()> wakeup_;
  static constexpr std::size_t kMaxQueuedEvents = 100'000;  // an embedder that never pops loses the oldest

  std::thread thread_;
  std::atomic<bool> thread_done_{false};
};

}  // namespace shoal::detail
