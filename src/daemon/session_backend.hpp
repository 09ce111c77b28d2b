// The RPC backend over a real shoal::Session: every change is written to the StateStore (one committed
// transaction) before it is made in the session and acknowledged, so a kill -9 loses nothing a client was
// told had happened. Runs on the daemon's thread; the session's calls cross to its network thread.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "daemon/logger.hpp"
#include "daemon/policy.hpp"
#include "daemon/state_store.hpp"
#include "rpc/backend.hpp"
#include "shoal/session.hpp"
#include "shoal/torrent_file.hpp"

namespace shoal::daemon {

class SessionBackend : public rpc::Backend {
 public:
  // `values`: the session settings in force (defaults, then the store's, then the config file's).
  SessionBackend(Session& session, StateStore& store, Logger& log, rpc::SessionValues values);

  // The clock's reading at start (seconds since 1970), before restore().
  void begin(std::int64_t now) { now_ = started_at_ = now; }
  // Adds every stored torrent to the session, in queue order. @return how many.
  int restore();
  // A session event (taken on the daemon's thread).
  void on_event(const Event& event, std::int64_t now);
  // Writes the resume data that events brought since the last call, in one transaction. Call it after each
  // batch of events.
  void flush_resume_data();
  // Every few seconds: seeding limits, the alternative-speed schedule, activity. `weekday` 0 = Sunday,
  // `minute` after local midnight.
  void tick(std::int64_t now, int weekday, int minute);
  // Prometheus text for GET /metrics.
  std::string metrics_text();
  void count_rpc_request() { ++rpc_requests_; }

  // Called when a torrent finishes downloading (the completion hook) and on session-close.
  std::function<void(rpc::TorrentId id, const std::string& info_hash, const std::string& name,
                     const std::string& dir)>
      on_finished;
  std::function<void()> on_close;

  // rpc::Backend
  std::vector<rpc::TorrentId> ids() override;
  std::optional<rpc::TorrentId> find_hash(const std::string& info_hash) override;
  std::vector<rpc::TorrentId> recently_active() override;
  std::vector<rpc::TorrentId> recently_removed() override;
  std::vector<rpc::TorrentView> torrents(const std::vector<rpc::TorrentId>& ids,
                                         const rpc::TorrentQuery& query) override;
  Expected<rpc::AddResult, std::string> add(const rpc::AddRequest& request) override;
  void start(const std::vector<rpc::TorrentId>& ids, bool now) override;
  void stop(const std::vector<rpc::TorrentId>& ids) override;
  void verify(const std::vector<rpc::TorrentId>& ids) override;
  void reannounce(const std::vector<rpc::TorrentId>& ids) override;
  void remove(const std::vector<rpc::TorrentId>& ids, bool delete_data) override;
  Expected<void, std::string> set(const std::vector<rpc::TorrentId>& ids,
                                  const rpc::TorrentChanges& changes) override;
  Expected<void, std::string> rename_path(rpc::TorrentId id, const std::string& path,
                                          const std::string& name) override;
  Expected<void, std::string> set_location(const std::vector<rpc::TorrentId>& ids,
                                           const std::string& location, bool move) override;
  void queue_move(const std::vector<rpc::TorrentId>& ids, rpc::QueueMove move) override;
  rpc::SessionValues session() override { return values_; }
  Expected<void, std::string> set_session(const rpc::SessionValues& values) override;
  rpc::SessionCounters counters() override;
  Expected<rpc::FreeSpace, std::string> free_space(const std::string& path) override;
  std::uint16_t peer_port() override;
  void close() override;

 private:
  struct Record {
    StoredTorrent stored;
    TorrentHandle handle;
    std::optional<TorrentFileInfo> info;  // absent for a magnet without metadata
    // The last progress seen while the torrent ran: a paused torrent reports no progress of its own.
    std::int64_t have_wanted = 0;
    std::int32_t pieces_have = 0;
    std::int64_t last_active = 0;           // seconds since 1970 of the last transfer or state change
    std::optional<std::string> move_to;     // a move waiting for the torrent to stop
    std::int64_t seeding_since_upload = 0;  // last time it uploaded (idle limit)
  };

  Expected<Record*, std::string> add_to_session(StoredTorrent stored, bool restoring);
  rpc::TorrentView view(Record& r, const TorrentStatus& status, bool with_files);
  // torrents() without the details.
  std::vector<rpc::TorrentView> views(const std::vector<rpc::TorrentId>& ids, const rpc::TorrentQuery& query);
  void apply_session_settings();
  std::int64_t wanted_bytes(const Record& r) const;
  Record* find(rpc::TorrentId id);
  void persist_options(Record& r);

  Session& session_;
  StateStore& store_;
  Logger& log_;
  rpc::SessionValues values_;
  std::optional<SpeedLimits> applied_limits_;  // what the session was last given
  std::map<rpc::TorrentId, Record> records_;
  std::map<std::string, rpc::TorrentId> by_hash_;
  std::deque<std::pair<rpc::TorrentId, std::int64_t>> removed_;  // id, when
  std::map<rpc::TorrentId, std::string> pending_resume_;         // the latest per torrent, not yet stored
  std::int64_t started_at_ = 0;
  std::int64_t files_added_ = 0;
  std::int64_t rpc_requests_ = 0;
  std::int64_t now_ = 0;
};

}  // namespace shoal::daemon
