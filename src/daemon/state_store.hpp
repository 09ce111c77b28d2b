// The daemon's durable state: one SQLite database (WAL mode) under the config dir holding every torrent the
// daemon knows (its stable RPC id, how it was added, where its data goes, its own settings, whether it is
// paused, its queue position) and the session settings changed over RPC.
//
// Durability rule: every mutating call is one transaction, committed (synchronous=FULL) before it returns, so
// what the daemon has acknowledged to a client survives kill -9 or a power cut. Which pieces are verified is
// the engine's resume data (the bitfield with the files' stamps, rechecked when they differ), kept here too
// in a table of its own: the engine hands it over (ResumeDataSaved events) instead of writing files.
//
// Not thread-safe: one StateStore is used from the daemon's thread only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "shoal/expected.hpp"

struct sqlite3;

namespace shoal::daemon {

// What a torrent was given beyond its source; all of it survives restarts.
struct TorrentOptions {
  std::int64_t download_limit = 0;  // bytes/s, 0 = no limit of its own
  std::int64_t upload_limit = 0;
  std::optional<double> seed_ratio;               // absent: the session's default; negative: unlimited
  std::optional<std::int64_t> seed_idle_minutes;  // absent: the session's default; negative: unlimited
  int peer_limit = 0;                             // 0: the engine's default
  std::vector<bool> wanted;                       // per file; empty: every file
  std::vector<int> priorities;                    // per file, -1 low, 0 normal, 1 high; empty: all normal
  std::map<int, std::string> file_paths;          // renamed files (torrent-rename-path): index -> path
  bool operator==(const TorrentOptions&) const = default;
};

struct StoredTorrent {
  std::int64_t id = 0;        // stable, assigned by the store, never reused
  std::string info_hash;      // 40 hex digits
  std::string torrent_bytes;  // the .torrent (also filled in for a magnet once its metadata arrived)
  std::string magnet;         // the link it was added with, if any
  std::string save_path;
  bool paused = false;
  std::int64_t queue_position = 0;  // 0 first
  std::int64_t added_date = 0;      // seconds since 1970
  std::int64_t done_date = 0;       // 0: not finished yet
  TorrentOptions options;
  std::string resume_data;  // the engine's latest (ResumeDataSaved); empty: none yet
};

class StateStore {
 public:
  // Opens (creating if needed) the database; an error names the file and SQLite's reason.
  static Expected<std::unique_ptr<StateStore>, std::string> open(const std::filesystem::path& file);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // Every torrent, by queue position.
  Expected<std::vector<StoredTorrent>, std::string> torrents();
  // Where add() put a torrent: its new id, and its queue position (last in the queue).
  struct Added {
    std::int64_t id = 0;
    std::int64_t queue_position = 0;
  };
  // Inserts `torrent` (its id and queue position are assigned and returned, so the caller need not read the
  // whole table back: adding 10,000 torrents one by one stays linear).
  Expected<Added, std::string> add(StoredTorrent torrent);
  Expected<void, std::string> remove(std::int64_t id);
  // The engine's resume data of several torrents, in one transaction (ids no longer stored are skipped).
  Expected<void, std::string> set_resume_data(const std::vector<std::pair<std::int64_t, std::string>>& data);
  Expected<void, std::string> set_paused(std::int64_t id, bool paused);
  Expected<void, std::string> set_options(std::int64_t id, const TorrentOptions& options);
  Expected<void, std::string> set_save_path(std::int64_t id, const std::string& save_path);
  Expected<void, std::string> set_torrent_bytes(std::int64_t id, const std::string& torrent_bytes);
  Expected<void, std::string> set_done_date(std::int64_t id, std::int64_t done_date);
  // Rewrites every queue position at once: ids in their new order (ids not listed keep theirs after them).
  Expected<void, std::string> set_queue_order(const std::vector<std::int64_t>& ids);

  // Session settings changed over RPC: name -> JSON text of the value.
  Expected<std::map<std::string, std::string>, std::string> settings();
  Expected<void, std::string> set_settings(const std::map<std::string, std::string>& values);

 private:
  explicit StateStore(sqlite3* db) : db_(db) {}
  Expected<void, std::string> exec(const char* sql);
  bool has_column(const char* table, const char* column);
  sqlite3* db_;
};

// The per-file flags as stored ("1101"), and back; a malformed text gives an empty list.
std::string encode_flags(const std::vector<bool>& flags);
std::vector<bool> decode_flags(const std::string& text);
std::string encode_priorities(const std::vector<int>& priorities);
std::vector<int> decode_priorities(const std::string& text);

}  // namespace shoal::daemon
