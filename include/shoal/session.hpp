// shoal::Session — one BitTorrent node for many torrents: the only object an embedder needs.
//
// A session owns a network thread of its own and everything torrents share: one TCP listener (IPv4 and IPv6)
// that routes incoming handshakes to their torrent by info-hash, one DHT node, one LSD service, one disk and
// hashing pool, global rate limits and connection caps, queueing and a state directory. Torrents are added
// with add_torrent() and driven entirely by the session; the embedder reads their status and takes events.
//
// Thread-safety: every member function may be called from any thread (each runs on the network thread and
// waits for its result), except from inside the wake-up callback, which may only call pop_events().
//
// Example:
//   shoal::Session session(settings);
//   auto handle = session.add_torrent({.magnet = "magnet:?xt=urn:btih:...", .save_path = "dl"});
//   for (;;) { session.wait_for_events(1s); for (auto& e : session.pop_events()) ... }
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

enum class RemoveMode { keep_data, delete_data };

struct SessionStats {
  std::uint16_t listen_port = 0;
  std::uint16_t dht_port = 0;  // 0: no DHT
  int torrents = 0;
  int peers = 0;
  double download_rate = 0;  // bytes/s, all torrents
  double upload_rate = 0;
  std::int64_t unknown_handshakes = 0;  // incoming connections for a torrent we do not have (closed)
  std::int64_t dht_nodes = 0;
};

class Session {
 public:
  // Binds the listen socket and starts the network thread. Throws std::runtime_error when the session cannot
  // start (listen address in use, state directory not writable): a start-up error, not a protocol one.
  explicit Session(SessionSettings settings = {});
  // Stops every torrent (trackers told, resume data saved) and joins the network thread.
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Adds a torrent; the error says why not (unreadable file, invalid torrent or magnet, duplicate).
  // A torrent starts checking/downloading at once unless params.paused or the queue holds it back.
  Expected<TorrentHandle, std::string> add_torrent(AddTorrentParams params);
  // Stops the torrent; everything it started finishes or is cancelled, then TorrentRemoved is queued.
  void remove_torrent(const TorrentHandle& handle, RemoveMode mode = RemoveMode::keep_data);
  std::vector<TorrentHandle> torrents() const;
  TorrentHandle find_torrent(const std::string& info_hash) const;

  // Rate limits and queue sizes take effect at once; listen and DHT settings only at the next start.
  void apply_settings(const SessionSettings& settings);
  SessionSettings settings() const;
  void pause();  // every torrent
  void resume();
  // Saves every torrent's resume data now (it is also saved periodically and on stop).
  void save_state();
  SessionStats stats() const;

  // Events since the last call, oldest first.
  std::vector<Event> pop_events();
  // Blocks until an event is queued or the timeout passes; true if events are waiting.
  bool wait_for_events(std::chrono::milliseconds timeout);
  // Called on the network thread when the event queue goes from empty to non-empty. Keep it short.
  void set_wakeup(std::function<void()> wakeup);

  // Stops all torrents gracefully (trackers told "stopped", resume data saved); `timeout` bounds the wait
  // for trackers. Called by the destructor if not called before.
  void shutdown(std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  std::shared_ptr<detail::SessionCore> core_;
};

}  // namespace shoal
