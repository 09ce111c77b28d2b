// What a session remembers of its torrents across restarts, in the state directory: one bencoded list
// (`session.state`, written atomically) of what each torrent was added with, and each torrent's metainfo as
// a .torrent file under `torrents/` (for a magnet, written once its metadata arrived). Resume data (which
// pieces are verified) is kept per torrent beside them, under `resume/`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "magnet/magnet_link.hpp"
#include "metainfo/torrent_info.hpp"
#include "shoal/expected.hpp"

namespace shoal::session {

struct SavedTorrent {
  std::string info_hash;  // 40 hex digits
  std::string save_path;
  std::string magnet;  // set while the metadata has not arrived
  bool paused = false;
  bool sequential = false;
  bool seed_when_complete = true;
  std::optional<double> seed_ratio;
  std::optional<std::int64_t> seed_time_seconds;
  std::vector<std::string> only;
  std::vector<bool> file_mask;  // empty: every file
  std::int64_t max_download_rate = 0;
  std::int64_t max_upload_rate = 0;
  std::map<int, std::string> file_paths;  // renamed files: index -> path below the save path
};

std::string encode_session_state(const std::vector<SavedTorrent>& torrents);
// A damaged file gives an error, never a partial list.
Expected<std::vector<SavedTorrent>, std::string> decode_session_state(std::string_view bytes);

// A .torrent file for a torrent known by its info dictionary (a magnet's metadata): the info bytes exactly as
// received, so the info-hash stays the same, the trackers, the web seeds (url-list) and, for v2, the piece
// layers known so far (fetched from peers for a magnet).
std::string torrent_file_from_info(const metainfo::TorrentInfo& info);

// What a magnet link adds to the metadata it brought: its trackers (`tr`, a tier each) and its web seeds
// (`ws`, BEP 19), each once.
void add_magnet_sources(metainfo::TorrentInfo& info, const magnet::MagnetLink& link);

}  // namespace shoal::session
