// What a user asks of one torrent, and what it reports back.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "shoal/endpoint.hpp"
#include "tracker/tracker_list.hpp"

namespace shoal::session {

struct TorrentOptions {
  std::filesystem::path save_dir = ".";
  std::filesystem::path resume_file;  // empty: no resume data kept in a file
  // Instead of resume_file: resume data is handed to this sink when it would be saved (on the network
  // thread), and read from resume_data at start (empty: none, check the data).
  std::function<void(std::string)> resume_sink;
  std::string resume_data;
  std::filesystem::path parts_file;  // edge pieces of skipped files; empty: <save_dir>/.<info-hash>.parts
  std::vector<Endpoint> peers;       // dialled directly, and re-dialled while we are not connected
  bool use_trackers = true;
  bool announce_to_all_tiers = false;  // BEP 12: by default stop at the first tier that answers
  bool seed_when_complete = false;     // keep running after completion
  std::optional<double> seed_ratio;    // stop seeding once uploaded >= ratio * size
  bool sequential = false;
  std::vector<std::string> only;  // glob patterns of files to download; empty: all
  std::vector<bool> file_mask;    // when not empty: exactly these files (in torrent order), after `only`
  std::vector<std::uint8_t> file_priorities;  // per file, 1..7, higher first; empty: all equal
  std::int64_t max_download_rate = 0;         // bytes/s, 0 = unlimited
  std::int64_t max_upload_rate = 0;
  int upload_slots = 8;
  int max_connections = 80;
  std::optional<std::int64_t> seed_time_seconds;  // stop seeding after this long
  // A magnet link: `info` names only the info-hash and trackers. The torrent connects as usual and fetches
  // the info dictionary from its peers (on_metadata); it transfers nothing else and keeps no resume data.
  bool fetch_metadata = false;
  std::vector<std::string> web_seeds;  // BEP 19 http(s) URLs to download from, alongside peers
};

enum class TorrentState { checking, downloading, seeding, stopped, error };

// Why a torrent failed, for the public ErrorCode.
enum class FailureKind { none, file_error, file_deleted };

struct TorrentStats {
  TorrentState state = TorrentState::checking;
  std::int64_t total_wanted = 0;  // bytes of wanted pieces
  std::int64_t have_wanted = 0;   // bytes of wanted pieces verified
  std::int64_t checked = 0;       // bytes rechecked so far (state checking)
  std::int64_t downloaded = 0;    // payload bytes received this session
  std::int64_t uploaded = 0;      // payload bytes sent this session
  double download_rate = 0;       // bytes/s
  double upload_rate = 0;
  int peers = 0;
  int seeds = 0;
  std::int32_t pieces_have = 0;
  std::int32_t num_pieces = 0;
  std::int32_t failed_pieces = 0;
  std::int32_t banned_peers = 0;
  int web_seeds = 0;  // not banned
  int web_seeds_fetching = 0;
  int web_seeds_banned = 0;
  std::string error;
  FailureKind failure = FailureKind::none;
  std::vector<tracker::TrackerStatus> trackers;
};

}  // namespace shoal::session
