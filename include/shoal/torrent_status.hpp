/// @file
/// What a torrent reports: its state, progress, rates, peers and trackers. A plain value, copied out of the
/// session on request (TorrentHandle::status), safe to keep and read from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shoal/error_code.hpp"

namespace shoal {

/// Where a torrent is in its life.
enum class TorrentState {
  fetching_metadata,  ///< a magnet link: looking for peers and the info dictionary
  queued,             ///< waiting for an active slot (SessionSettings::max_active_*)
  checking,           ///< hashing data found on disk
  downloading,        ///< transferring wanted pieces
  seeding,            ///< every wanted piece verified; uploading
  paused,             ///< TorrentHandle::pause() or Session::pause()
  stopped,            ///< finished its job (seed ratio reached) or removed
  error,              ///< see TorrentStatus::error
};

/// The state's name ("downloading", "seeding", ...), a static string. Thread-safe.
const char* to_string(TorrentState state) noexcept;

/// One tracker of a torrent, as last heard from.
struct TrackerStatus {
  std::string url;             ///< announce URL
  int tier = 0;                ///< BEP 12 tier, 0 first
  std::string last_error;      ///< empty after a success
  std::string warning;         ///< the tracker's last "warning message"
  std::int64_t peers = 0;      ///< peers in the last reply
  std::int64_t seeders = -1;   ///< -1: not said
  std::int64_t leechers = -1;  ///< -1: not said
  int failures = 0;            ///< failed announces in a row
};

/// A snapshot of one torrent. Sizes in bytes, rates in bytes per second.
struct TorrentStatus {
  std::string info_hash;  ///< 40 hex digits; empty when the handle is not valid
  std::string name;       ///< empty until a magnet's metadata arrives
  TorrentState state = TorrentState::checking;
  ErrorCode error_code = ErrorCode::none;  ///< why state == error
  std::string error;                       ///< human text, empty unless state == error

  std::int64_t total_size = 0;    ///< bytes of the whole torrent
  std::int64_t total_wanted = 0;  ///< bytes of wanted pieces
  std::int64_t have_wanted = 0;   ///< bytes of wanted pieces verified
  std::int64_t checked = 0;       ///< bytes hashed so far while checking
  double progress = 0;            ///< 0..1 of what is wanted (of the check, while checking)

  std::int64_t downloaded = 0;  ///< payload bytes received since added
  std::int64_t uploaded = 0;    ///< payload bytes sent since added
  double download_rate = 0;     ///< payload bytes/s
  double upload_rate = 0;       ///< payload bytes/s

  int peers = 0;                        ///< connected peers
  int seeds = 0;                        ///< connected peers that have every piece
  std::int32_t pieces_have = 0;         ///< pieces verified
  std::int32_t num_pieces = 0;          ///< pieces of the torrent; 0 until a magnet's metadata arrives
  std::int32_t failed_pieces = 0;       ///< pieces that failed the hash check
  std::int32_t banned_peers = 0;        ///< peers banned (e.g. for sending bad data)
  int web_seeds = 0;                    ///< web seeds in use (BEP 19), not counting banned ones
  int web_seeds_fetching = 0;           ///< of those, fetching now
  int web_seeds_banned = 0;             ///< web seeds banned (pieces from them failed the hash check)
  std::uint16_t listen_port = 0;        ///< the session's TCP listen port
  std::vector<TrackerStatus> trackers;  ///< in tier order
};

}  // namespace shoal
