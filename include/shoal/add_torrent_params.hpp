/// @file
/// What to add to a session: one torrent (from .torrent bytes, a .torrent file or a magnet link), where its
/// data goes, and how it behaves.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace shoal {

/// Everything Session::add_torrent() needs to know about one torrent. A plain value: fill the fields you need
/// (designated initializers work) and pass it by value.
struct AddTorrentParams {
  /// @name Source
  /// Exactly one of these three: the bytes of a .torrent, a path to one, or a magnet URI. Anything else makes
  /// Session::add_torrent() fail with an error message.
  /// @{
  std::string torrent_bytes;           ///< the raw bytes of a .torrent file
  std::filesystem::path torrent_file;  ///< a .torrent file to read
  std::string magnet;                  ///< "magnet:?xt=urn:btih:..." (BEP 9)
  /// @}

  /// Folder the torrent's files are created below, never outside (hostile paths are sanitized).
  std::filesystem::path save_path = ".";

  /// Which files to download: glob patterns matched against the path below the torrent folder or the bare
  /// file name ("*.mkv"). Empty: everything.
  std::vector<std::string> only;
  bool sequential = false;  ///< pieces in order (streaming) instead of rarest first

  /// @name After the download
  /// Keep seeding? Seeding also stops at a ratio (uploaded / size) or after a time, whichever comes first;
  /// the torrent then reports TorrentStopped.
  /// @{
  bool seed_when_complete = true;
  std::optional<double> seed_ratio;               ///< uploaded bytes / torrent size; absent: no limit
  std::optional<std::int64_t> seed_time_seconds;  ///< seconds of seeding; absent: no limit
  /// @}

  /// Peers dialled directly (and re-dialled): "IP:PORT" or "[IPv6]:PORT". Host names are not resolved.
  std::vector<std::string> peers;
  bool use_trackers = true;  ///< ask the torrent's trackers (also needs SessionSettings::use_trackers)
  bool announce_to_all_tiers = false;  ///< BEP 12: by default stop at the first tier that answers
  /// Web seeds (BEP 19, GetRight style: HTTP or HTTPS servers holding the files): the torrent's url-list
  /// unless use_web_seeds is false, and these too.
  bool use_web_seeds = true;
  std::vector<std::string> web_seeds;

  /// @name Per-torrent limits
  /// Within the session's global ones. Rates in bytes per second; 0 = only the global limit applies.
  /// @{
  std::int64_t max_download_rate = 0;
  std::int64_t max_upload_rate = 0;
  int upload_slots = 8;      ///< peers unchoked at once
  int max_connections = 80;  ///< peer connections of this torrent
  /// @}

  bool paused = false;  ///< added but not started; TorrentHandle::resume() starts it
  /// With SessionSettings::resume_data_events: the latest ResumeDataSaved::data the embedder kept for this
  /// torrent (opaque bytes). Trusted only as far as the files on disk still match it (otherwise the data is
  /// rechecked); empty: none, check what is on disk.
  std::string resume_data;
  /// Seconds a magnet looks for peers with the metadata before it fails with ErrorCode::metadata_not_found
  /// (the DHT is searched meanwhile). 0: never fails; it waits for peers (incoming, the DHT, trackers) for as
  /// long as it is in the session, as a daemon's magnets do.
  int metadata_timeout_seconds = 60;
  /// Files renamed earlier (TorrentHandle::rename_path()): file index -> path below save_path, '/'-separated,
  /// as the torrent's file list shows it. Applied once the metainfo is known; a path the torrent's own
  /// sanitizer would not accept, an index out of range or a path another file has is skipped
  /// (SessionWarning).
  std::map<int, std::string> file_paths;
};

}  // namespace shoal
