// What a torrent reports: its state, progress, rates, peers and trackers. A plain value, copied out of the
// session on request (TorrentHandle::status), safe to keep and read from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shoal/error_code.hpp"

namespace shoal {

enum class TorrentState {
  fetching_metadata,  // a magnet link: looking for peers and the info dictionary
  queued,             // waiting for an active slot (SessionSettings::max_active_*)
  checking,           // hashing data found on disk
  downloading,
  seeding,
  paused,
  stopped,  // finished its job (seed ratio reached) or removed
  error,    // see TorrentStatus::error
};

// "downloading", "seeding", ...
const char* to_string(TorrentState state) noexcept;

struct TrackerStatus {
  std::string url;
  int tier = 0;
  std::string last_error;  // empty after a success
  std::string warning;
  std::int64_t peers = 0;     // in the last reply
  std::int64_t seeders = -1;  // -1: not said
  std::int64_t leechers = -1;
  int failures = 0;  // in a row
};

struct TorrentStatus {
  std::string info_hash;  // 40 hex digits
  std::string name;       // empty until a magnet's metadata arrives
  TorrentState state = TorrentState::checking;
  ErrorCode error_code = ErrorCode::none;
  std::string error;  // human text, empty unless state == error

  std::int64_t total_size = 0;    // bytes of the whole torrent
  std::int64_t total_wanted = 0;  // bytes of wanted pieces
  std::int64_t have_wanted = 0;   // bytes of wanted pieces verified
  std::int64_t checked = 0;       // bytes hashed so far while checking
  double progress = 0;            // 0..1 of what is wanted (of the check, while checking)

  std::int64_t downloaded = 0;  // payload bytes received since added
  std::int64_t uploaded = 0;    // payload bytes sent since added
  double download_rate = 0;     // bytes/s
  double upload_rate = 0;

  int peers = 0;
  int seeds = 0;
  std::int32_t pieces_have = 0;
  std::int32_t num_pieces = 0;
  std::int32_t failed_pieces = 0;
  std::int32_t banned_peers = 0;
  std::uint16_t listen_port = 0;
  std::vector<TrackerStatus> trackers;
};

}  // namespace shoal
