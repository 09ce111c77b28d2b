/// @file
/// A handle to one torrent of a session.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "shoal/expected.hpp"
#include "shoal/torrent_details.hpp"
#include "shoal/torrent_status.hpp"

namespace shoal {

namespace detail {
class SessionCore;
}

/// @name File priorities for TorrentHandle::set_file_priority()
/// @{
inline constexpr int kFilePrioritySkip = 0;
inline constexpr int kFilePriorityLow = 1;
inline constexpr int kFilePriorityNormal = 4;
inline constexpr int kFilePriorityHigh = 7;
/// @}

/// A handle to one torrent of a session, from Session::add_torrent(), torrents() or find_torrent().
///
/// Cheap to copy; it stays valid (and harmless) after the torrent is removed or the session is gone: calls
/// then do nothing and status() reports an empty status with valid() == false.
///
/// Thread-safety: every call is thread-safe: it runs on the session's network thread and, where it returns
/// something, waits for it. Do not call it from inside the session's wake-up callback.
class TorrentHandle {
 public:
  /// An invalid handle (valid() == false), e.g. what find_torrent() returns when nothing matches.
  TorrentHandle() = default;
  /// Made by the session; embedders get handles from it rather than build them.
  TorrentHandle(std::weak_ptr<detail::SessionCore> core, std::string info_hash)
      : core_(std::move(core)), info_hash_(std::move(info_hash)) {}

  /// 40 hex digits; the torrent's key in the session. Empty for a default-constructed handle.
  const std::string& info_hash() const { return info_hash_; }
  /// True while the torrent is in a live session.
  bool valid() const;

  /// A snapshot of the torrent's state, progress, rates, peers and trackers.
  TorrentStatus status() const;
  /// Its connected peers, verified-piece bitfield and availability, as much as `query` asks for (see
  /// Session::details() for many torrents at once).
  TorrentDetails details(const DetailsQuery& query) const;
  /// Stops transferring (connections closed, state `paused`); TorrentStopped is queued.
  void pause();
  /// Undoes pause() (the queue may still hold the torrent back).
  void resume();
  /// Hashes the data again (queued behind other checks).
  void force_recheck();
  /// Asks every tracker and the DHT for peers now.
  void force_reannounce();
  /// Dials a peer: "IP:PORT" or "[IPv6]:PORT". @return false if it does not parse.
  bool add_peer(const std::string& endpoint);
  /// 0 = skip the file; 1..7 = download it, pieces of higher-priority files first (kFilePriorityLow,
  /// kFilePriorityNormal, kFilePriorityHigh; larger values count as 7). Files never set are normal. Index as
  /// in the torrent's file list. Skipping or un-skipping a file restarts a running torrent (what is verified
  /// stays verified); a change between 1..7 takes effect at once.
  void set_file_priority(int file_index, int priority);
  /// Peer connections this torrent may hold (AddTorrentParams::max_connections); takes effect at once: past
  /// it, the connections that gave us least are closed.
  void set_max_connections(int max_connections);
  /// Like resume(), but the torrent runs at once whatever SessionSettings::max_active_* say, and is not
  /// counted against them (Transmission's "start now"). pause() ends it.
  void force_start();
  /// Per-torrent rate limits in bytes per second (0 = none of its own; the session's global ones still
  /// apply). Takes effect at once and is kept across restarts of the torrent.
  void set_rate_limits(std::int64_t download, std::int64_t upload);
  /// The torrent's metainfo as the bytes of a .torrent file (its info dictionary exactly as received, so the
  /// info-hash is the same, and its trackers); empty for a magnet until its metadata arrives.
  std::string torrent_file() const;
  /// Bytes verified on disk per file, in the torrent's file order (pad files included, as 0).
  std::vector<std::int64_t> file_progress() const;
  /// Moves the data to a new save path (the torrent pauses while the files move).
  /// @return nothing on success, or the error text.
  Expected<void, std::string> move_storage(const std::filesystem::path& new_save_path);
  /// Renames a file or folder of the torrent (Transmission's torrent-rename-path): `path` is a file's path or
  /// a folder below the save path as the file list shows it (the torrent's name for its top folder or single
  /// file), `new_name` the new last component. The data on disk moves with it; the info-hash does not change;
  /// the new names survive restarts (AddTorrentParams::file_paths). A running torrent stops briefly and
  /// restarts (a failure on disk by then arrives as a FileError event).
  /// @return nothing once checked (done, for a stopped torrent), or why not: no such path, a name that is not
  /// a plain file name, a path the torrent or the disk already has, no metadata yet.
  Expected<void, std::string> rename_path(const std::string& path, const std::string& new_name);

  /// Handles are equal when they name the same info-hash.
  bool operator==(const TorrentHandle& other) const { return info_hash_ == other.info_hash_; }

 private:
  std::weak_ptr<detail::SessionCore> core_;
  std::string info_hash_;
};

}  // namespace shoal
