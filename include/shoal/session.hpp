/// @file
/// shoal::Session — one BitTorrent node for many torrents: the only object an embedder needs.
///
/// A session owns a network thread of its own and everything torrents share: one TCP listener (IPv4 and IPv6)
/// that routes incoming handshakes to their torrent by info-hash, one DHT node, one LSD service, one disk and
/// hashing pool, global rate limits and connection caps, queueing and a state directory. Torrents are added
/// with add_torrent() and driven entirely by the session; the embedder reads their status and takes events.
///
/// Thread-safety: every member function may be called from any thread (each runs on the network thread and
/// waits for its result), except from inside the wake-up callback, which may only call pop_events().
///
/// Example:
/// @code
///   shoal::Session session(settings);
///   auto handle = session.add_torrent({.magnet = "magnet:?xt=urn:btih:...", .save_path = "dl"});
///   for (;;) { session.wait_for_events(1s); for (auto& e : session.pop_events()) ... }
/// @endcode
/// See examples/magnet_download.cpp for a whole program.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "shoal/add_torrent_params.hpp"
#include "shoal/events.hpp"
#include "shoal/expected.hpp"
#include "shoal/settings.hpp"
#include "shoal/torrent_handle.hpp"

namespace shoal {

/// What Session::remove_torrent() does with the torrent's files.
enum class RemoveMode {
  keep_data,   ///< leave the downloaded files where they are
  delete_data  ///< delete the torrent's files (and folders it created, once empty)
};

/// Session-wide counters, copied out by Session::stats().
struct SessionStats {
  std::uint16_t listen_port = 0;        ///< the TCP port peers reach us on
  std::uint16_t dht_port = 0;           ///< UDP port of the DHT node; 0: no DHT
  int torrents = 0;                     ///< torrents in the session
  int peers = 0;                        ///< peer connections of all torrents
  double download_rate = 0;             ///< payload bytes/s, all torrents
  double upload_rate = 0;               ///< payload bytes/s, all torrents
  std::int64_t unknown_handshakes = 0;  ///< incoming connections for a torrent we do not have (closed)
  std::int64_t dht_nodes = 0;           ///< nodes in the DHT routing table
};

/// One BitTorrent node holding many torrents. Not copyable; destroy it to stop everything.
class Session {
 public:
  /// Binds the listen socket and starts the network thread.
  /// @throws std::runtime_error when the session cannot start (listen address in use, state directory not
  ///         writable): a start-up error, not a protocol one.
  explicit Session(SessionSettings settings = {});
  /// Stops every torrent (trackers told, resume data saved) and joins the network thread.
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Adds a torrent. It starts checking/downloading at once unless params.paused or the queue holds it back.
  /// @return a handle to it, or why not (unreadable file, invalid torrent or magnet, duplicate info-hash).
  Expected<TorrentHandle, std::string> add_torrent(AddTorrentParams params);
  /// Stops the torrent; everything it started finishes or is cancelled, then TorrentRemoved is queued.
  /// Does nothing for a handle that is no longer valid.
  void remove_torrent(const TorrentHandle& handle, RemoveMode mode = RemoveMode::keep_data);
  /// Handles to every torrent in the session, in queue order: the order they were added unless
  /// set_queue_order() changed it.
  std::vector<TorrentHandle> torrents() const;
  /// The torrent with this info-hash (40 hex digits), or an invalid handle (valid() == false) if none.
  TorrentHandle find_torrent(const std::string& info_hash) const;
  /// The status of every torrent, in the order of torrents(): one trip to the network thread for all of them
  /// (a remote UI listing 10,000 torrents would otherwise make 10,000).
  std::vector<TorrentStatus> statuses() const;
  /// Peers, bitfield and availability (as `query` asks) of the torrents with these info-hashes, in the same
  /// order: one trip to the network thread for all of them. An unknown hash gives an empty TorrentDetails.
  std::vector<TorrentDetails> details(const std::vector<std::string>& info_hashes,
                                      const DetailsQuery& query) const;
  /// Reorders the queue (which queued torrents start first when SessionSettings::max_active_* hold them
  /// back): these info-hashes first, in this order; torrents not listed follow in their previous order.
  /// Unknown hashes are ignored.
  void set_queue_order(const std::vector<std::string>& info_hashes);

  /// Rate limits and queue sizes take effect at once; listen and DHT settings only at the next start.
  void apply_settings(const SessionSettings& settings);
  /// The settings in force.
  SessionSettings settings() const;
  /// Pauses every torrent (each reports TorrentStopped).
  void pause();
  /// Resumes every torrent paused by pause() or TorrentHandle::pause().
  void resume();
  /// Saves every torrent's resume data now (it is also saved periodically and on stop). Needs
  /// SessionSettings::state_dir; does nothing without one.
  void save_state();
  /// Session-wide counters, a snapshot.
  SessionStats stats() const;

  /// BEP 44: looks the mutable item under `public_key` (64 hex digits) and `salt` (raw, at most 64 bytes) up
  /// in the DHT (started if it was not yet); a DhtMutableItemReceived event with the returned id answers.
  /// @return the request id, or why not (DHT disabled, malformed key, salt too long).
  Expected<std::uint64_t, std::string> dht_get_mutable_item(const std::string& public_key,
                                                            const std::string& salt);
  /// BEP 44: signs `value` (one bencoded value, at most 1000 bytes) with the Ed25519 seed `key_seed` (32 raw
  /// bytes) under `salt` and sequence number `seq`, and stores it on the closest DHT nodes; a DhtItemStored
  /// event with the returned id answers. The caller chooses `seq` (above what the DHT holds, or nodes keep
  /// theirs).
  /// @return the request id, or why not (DHT disabled, a value or salt that does not fit, a bad seed).
  Expected<std::uint64_t, std::string> dht_put_mutable_item(const std::string& key_seed,
                                                            const std::string& salt, const std::string& value,
                                                            std::int64_t seq);

  /// Takes the events queued since the last call, oldest first; empty if none.
  std::vector<Event> pop_events();
  /// Blocks until an event is queued or the timeout passes.
  /// @return true if events are waiting (pop_events() will return some).
  bool wait_for_events(std::chrono::milliseconds timeout);
  /// Sets the callback called on the network thread when the event queue goes from empty to non-empty.
  /// Keep it short; it may call pop_events() and nothing else of the session. Empty: no callback.
  void set_wakeup(std::function<void()> wakeup);

  /// Stops all torrents gracefully (trackers told "stopped", resume data saved); `timeout` bounds the wait
  /// for trackers. Called by the destructor if not called before; the session does nothing afterwards.
  void shutdown(std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  std::shared_ptr<detail::SessionCore> core_;
};

}  // namespace shoal
