// What the Transmission RPC dispatcher needs from the daemon, and nothing more: a narrow interface so the
// dispatcher is a pure function of (request, backend) and is unit-tested with a fake backend.
//
// Units at this boundary are the engine's: bytes and bytes per second, seconds since 1970. The dispatcher
// converts to Transmission's (KB/s with 1000-byte kB) on the way in and out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shoal/expected.hpp"
#include "shoal/torrent_details.hpp"
#include "shoal/torrent_status.hpp"

namespace shoal::rpc {

using TorrentId = std::int64_t;

struct FileView {
  std::string name;  // '/'-separated, starting with the torrent name for a multi-file torrent
  std::int64_t length = 0;
  std::int64_t bytes_completed = 0;
  bool wanted = true;
  int priority = 0;  // -1 low, 0 normal, 1 high
};

// One torrent as the RPC reports it: the engine's status plus what the daemon keeps about it.
struct TorrentView {
  TorrentId id = 0;
  TorrentStatus status;
  std::string download_dir;
  std::string magnet_link;
  std::string comment;
  std::string creator;
  std::int64_t date_created = 0;
  bool is_private = false;
  std::int64_t piece_size = 0;
  std::int64_t added_date = 0;
  std::int64_t done_date = 0;
  std::int64_t activity_date = 0;
  std::int64_t queue_position = 0;
  std::int64_t download_limit = 0;  // bytes/s; 0: none of its own
  std::int64_t upload_limit = 0;
  std::optional<double> seed_ratio;               // absent: the session's; negative: unlimited
  std::optional<std::int64_t> seed_idle_minutes;  // absent: the session's; negative: unlimited
  int peer_limit = 0;
  bool user_paused = false;
  std::vector<FileView> files;  // filled only when TorrentQuery::files is set
  TorrentDetails details;       // the parts TorrentQuery::details asks for
  std::vector<std::string> web_seeds;
};

struct TorrentQuery {
  bool files = false;    // the file list is a costly part: only for fields that need it
  DetailsQuery details;  // so are peers, the bitfield and availability
};

// How a torrent-add names its torrent: exactly one source is set.
struct AddRequest {
  std::string metainfo;  // .torrent bytes (already base64-decoded)
  std::string magnet;
  std::string file;          // a local .torrent file (already confined to the allowed roots)
  std::string download_dir;  // already confined; empty: the session's
  bool paused = false;
  int peer_limit = 0;
  std::vector<int> files_unwanted;
};

struct AddResult {
  TorrentId id = 0;
  std::string name;
  std::string info_hash;
  bool duplicate = false;
};

// What torrent-set may change; absent fields stay as they are.
struct TorrentChanges {
  std::optional<std::int64_t> download_limit;  // bytes/s, 0 = none of its own
  std::optional<std::int64_t> upload_limit;
  std::optional<std::optional<double>> seed_ratio;               // inner absent: back to the session's
  std::optional<std::optional<std::int64_t>> seed_idle_minutes;  // inner absent: back to the session's
  std::optional<int> peer_limit;
  std::vector<int> files_wanted;
  std::vector<int> files_unwanted;
  std::vector<int> priority_high;
  std::vector<int> priority_low;
  std::vector<int> priority_normal;
  std::optional<std::string> location;  // already confined
  bool empty() const {
    return !download_limit && !upload_limit && !seed_ratio && !seed_idle_minutes && !peer_limit &&
           files_wanted.empty() && files_unwanted.empty() && priority_high.empty() && priority_low.empty() &&
           priority_normal.empty() && !location;
  }
};

enum class QueueMove { top, up, down, bottom };

// The session settings the RPC reads and writes.
struct SessionValues {
  std::string download_dir;
  std::int64_t speed_limit_down = 0;  // bytes/s
  bool speed_limit_down_enabled = false;
  std::int64_t speed_limit_up = 0;
  bool speed_limit_up_enabled = false;
  std::int64_t alt_speed_down = 0;
  std::int64_t alt_speed_up = 0;
  bool alt_speed_enabled = false;
  bool alt_speed_time_enabled = false;
  int alt_speed_time_begin = 540;  // minutes after midnight
  int alt_speed_time_end = 1020;
  int alt_speed_time_day = 127;  // bit 0 Sunday ... bit 6 Saturday
  bool download_queue_enabled = false;
  int download_queue_size = 5;
  bool seed_queue_enabled = false;
  int seed_queue_size = 10;
  double seed_ratio_limit = 2.0;
  bool seed_ratio_limited = false;
  int idle_seeding_limit = 30;  // minutes
  bool idle_seeding_limit_enabled = false;
  int peer_limit_global = 500;
  int peer_limit_per_torrent = 80;
  int peer_port = 0;
  bool dht_enabled = true;
  bool lpd_enabled = true;
  bool port_forwarding_enabled = true;  // UPnP, NAT-PMP and PCP on the home router (read at start)
  bool pex_enabled = true;
  // Peer connection encryption as Transmission names it: "required", "preferred" or "tolerated".
  std::string encryption = "preferred";
  bool utp_enabled = true;  // uTP beside TCP (read at start)
  bool start_added_torrents = true;
  std::string done_script;  // the completion hook's program; empty: none
  bool done_script_enabled = false;
  std::string config_dir;
  bool operator==(const SessionValues&) const = default;
};

struct SessionCounters {
  int torrents = 0;
  int active = 0;
  int paused = 0;
  double download_rate = 0;
  double upload_rate = 0;
  std::int64_t uploaded = 0;    // this run
  std::int64_t downloaded = 0;  // this run
  std::int64_t seconds_active = 0;
  std::int64_t files_added = 0;
};

struct FreeSpace {
  std::int64_t free = 0;
  std::int64_t total = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Every torrent id, in id order.
  virtual std::vector<TorrentId> ids() = 0;
  // The id of the torrent with this info-hash (40 hex digits, any case), if any.
  virtual std::optional<TorrentId> find_hash(const std::string& info_hash) = 0;
  // Torrents active lately (transferring, or changed state, in the last minute) and ids removed lately.
  virtual std::vector<TorrentId> recently_active() = 0;
  virtual std::vector<TorrentId> recently_removed() = 0;
  // Views of the given torrents in the given order; unknown ids are left out.
  virtual std::vector<TorrentView> torrents(const std::vector<TorrentId>& ids, const TorrentQuery& query) = 0;

  virtual Expected<AddResult, std::string> add(const AddRequest& request) = 0;
  virtual void start(const std::vector<TorrentId>& ids, bool now) = 0;
  virtual void stop(const std::vector<TorrentId>& ids) = 0;
  virtual void verify(const std::vector<TorrentId>& ids) = 0;
  virtual void reannounce(const std::vector<TorrentId>& ids) = 0;
  virtual void remove(const std::vector<TorrentId>& ids, bool delete_data) = 0;
  virtual Expected<void, std::string> set(const std::vector<TorrentId>& ids,
                                          const TorrentChanges& changes) = 0;
  // move = false: the data is already at `location` (or will be fetched there).
  virtual Expected<void, std::string> set_location(const std::vector<TorrentId>& ids,
                                                   const std::string& location, bool move) = 0;
  // torrent-rename-path: `path` (a file or folder as torrent-get's files list it) gets `name` as its last
  // component, on disk too.
  virtual Expected<void, std::string> rename_path(TorrentId id, const std::string& path,
                                                  const std::string& name) = 0;
  virtual void queue_move(const std::vector<TorrentId>& ids, QueueMove move) = 0;

  virtual SessionValues session() = 0;
  virtual Expected<void, std::string> set_session(const SessionValues& values) = 0;
  virtual SessionCounters counters() = 0;
  virtual Expected<FreeSpace, std::string> free_space(const std::string& path) = 0;
  virtual std::uint16_t peer_port() = 0;
  // Asks the daemon to stop once this answer is sent.
  virtual void close() = 0;
};

}  // namespace shoal::rpc
