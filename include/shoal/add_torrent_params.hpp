// What to add to a session: one torrent (from .torrent bytes, a .torrent file or a magnet link), where its
// data goes, and how it behaves.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace shoal {

struct AddTorrentParams {
  // Exactly one source: the bytes of a .torrent, a path to one, or a magnet URI.
  std::string torrent_bytes;
  std::filesystem::path torrent_file;
  std::string magnet;

  std::filesystem::path save_path = ".";  // files are created below it, never outside

  // Which files to download: glob patterns matched against the path below the torrent folder or the bare
  // file name ("*.mkv"). Empty: everything.
  std::vector<std::string> only;
  bool sequential = false;  // pieces in order (streaming)

  // After the download: keep seeding? Seeding also stops at a ratio (uploaded / size) or after a time.
  bool seed_when_complete = true;
  std::optional<double> seed_ratio;
  std::optional<std::int64_t> seed_time_seconds;

  std::vector<std::string> peers;  // "IP:PORT" / "[IPv6]:PORT", dialled directly (and re-dialled)
  bool use_trackers = true;
  bool announce_to_all_tiers = false;  // BEP 12: by default stop at the first tier that answers

  // Per-torrent limits within the session's global ones. Rates in bytes per second; 0 = only the global.
  std::int64_t max_download_rate = 0;
  std::int64_t max_upload_rate = 0;
  int upload_slots = 8;
  int max_connections = 80;

  bool paused = false;  // added but not started
  // Seconds a magnet looks for peers with the metadata before it fails (DHT searched meanwhile).
  int metadata_timeout_seconds = 60;
};

}  // namespace shoal
