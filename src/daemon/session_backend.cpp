#include "daemon/session_backend.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "rpc/session_fields.hpp"

namespace shoal::daemon {

namespace {

// Transmission's file priority (-1 low, 0 normal, 1 high) and wanted flag as the engine's (0 skip, 1..7).
int engine_file_priority(bool wanted, int priority) {
  if (!wanted) return kFilePrioritySkip;
  return priority < 0 ? kFilePriorityLow : priority > 0 ? kFilePriorityHigh : kFilePriorityNormal;
}

constexpr std::int64_t kRecentSeconds = 60;
constexpr std::size_t kMaxRemembered = 10'000;    // removed ids kept for recently-active
constexpr std::size_t kBulkStatusThreshold = 32;  // more ids than this: one statuses() call for all

std::string lower_hex(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// A single-file torrent's one file is its name; a multi-file torrent's name is its top folder, and it follows
// a rename of that folder, as Transmission's does.
void rename_listed_file(TorrentFileInfo& info, int index, const std::string& path) {
  if (index < 0 || static_cast<std::size_t>(index) >= info.files.size()) return;
  info.files[static_cast<std::size_t>(index)].path = path;
  const auto& first = info.files.front().path;
  info.name = first.substr(0, first.find('/'));
}

}  // namespace

SessionBackend::SessionBackend(Session& session, StateStore& store, Logger& log, rpc::SessionValues values)
    : session_(session), store_(store), log_(log), values_(std::move(values)) {}

SessionBackend::Record* SessionBackend::find(rpc::TorrentId id) {
  auto it = records_.find(id);
  return it == records_.end() ? nullptr : &it->second;
}

Expected<SessionBackend::Record*, std::string> SessionBackend::add_to_session(StoredTorrent stored,
                                                                              bool restoring) {
  AddTorrentParams p;
  if (!stored.torrent_bytes.empty())
    p.torrent_bytes = stored.torrent_bytes;
  else
    p.magnet = stored.magnet;
  p.save_path = stored.save_path;
  p.resume_data = std::move(stored.resume_data);  // the engine keeps it from here
  stored.resume_data.clear();
  // Started only once the file selection is in place: a change of selection restarts a running torrent.
  p.paused = true;
  p.seed_when_complete = true;  // the daemon applies ratio and idle limits itself (policy.hpp)
  // A magnet waits for peers for as long as it is kept, as Transmission's do: no deadline.
  p.metadata_timeout_seconds = 0;
  p.max_download_rate = stored.options.download_limit;
  p.max_upload_rate = stored.options.upload_limit;
  if (stored.options.peer_limit > 0) p.max_connections = stored.options.peer_limit;
  p.file_paths = stored.options.file_paths;
  auto handle = session_.add_torrent(std::move(p));
  if (!handle) return unexpected(handle.error());
  Record r;
  r.handle = *handle;
  if (!stored.torrent_bytes.empty()) {
    if (auto info = parse_torrent(stored.torrent_bytes)) r.info = std::move(*info);
  }
  if (r.info) {
    // The engine checked and applied the stored names (AddTorrentParams::file_paths); list them the same way.
    for (const auto& [index, path] : stored.options.file_paths)
      rename_listed_file(*r.info, index, path);
  }
  if (r.info) {
    // Only files that differ from the engine's default (wanted, normal): 10,000 torrents restore quickly.
    const auto& o = stored.options;
    for (std::size_t i = 0; i < r.info->files.size(); ++i) {
      bool wanted = i >= o.wanted.size() || o.wanted[i];
      int priority = i < o.priorities.size() ? o.priorities[i] : 0;
      if (!wanted || priority != 0)
        r.handle.set_file_priority(static_cast<int>(i), engine_file_priority(wanted, priority));
    }
  }
  if (!stored.paused) r.handle.resume();
  r.last_active = restoring ? 0 : now_;
  r.stored = std::move(stored);
  auto id = r.stored.id;
  by_hash_[r.stored.info_hash] = id;
  return &(records_[id] = std::move(r));
}

int SessionBackend::restore() {
  auto stored = store_.torrents();
  if (!stored) {
    log_.error("state-read-failed", {{"error", stored.error()}});
    return 0;
  }
  int n = 0;
  for (auto& t : *stored) {
    auto id = t.id;
    auto hash = t.info_hash;
    if (auto r = add_to_session(std::move(t), true); !r) {
      log_.error("restore-failed", {{"id", std::to_string(id)}, {"hash", hash}, {"error", r.error()}});
      continue;
    }
    ++n;
  }
  apply_session_settings();
  return n;
}

void SessionBackend::on_event(const Event& event, std::int64_t now) {
  now_ = now;
  auto record_of = [&](const std::string& hash) -> Record* {
    auto it = by_hash_.find(hash);
    return it == by_hash_.end() ? nullptr : find(it->second);
  };
  if (auto* e = std::get_if<MetadataReceived>(&event)) {
    if (auto* r = record_of(e->info_hash)) {
      auto bytes = r->handle.torrent_file();
      if (!bytes.empty()) {
        // The metadata is kept: a restart needs no peer to know the torrent again.
        if (auto ok = store_.set_torrent_bytes(r->stored.id, bytes); !ok)
          log_.error("state-write-failed", {{"error", ok.error()}});
        r->stored.torrent_bytes = bytes;
        if (auto info = parse_torrent(bytes)) r->info = std::move(*info);
      }
      r->last_active = now;
      log_.info("metadata-received", {{"id", std::to_string(r->stored.id)}, {"name", e->name}});
    }
  } else if (auto* f = std::get_if<TorrentFinished>(&event)) {
    if (auto* r = record_of(f->info_hash)) {
      r->last_active = now;
      r->seeding_since_upload = now;
      if (r->stored.done_date == 0) {
        r->stored.done_date = now;
        if (auto ok = store_.set_done_date(r->stored.id, now); !ok)
          log_.error("state-write-failed", {{"error", ok.error()}});
        std::string name = r->info ? r->info->name : r->stored.info_hash;
        log_.info("torrent-finished", {{"id", std::to_string(r->stored.id)}, {"name", name}});
        if (on_finished) on_finished(r->stored.id, r->stored.info_hash, name, r->stored.save_path);
      }
    }
  } else if (auto* mapped = std::get_if<PortMapped>(&event)) {
    log_.info("port-mapped",
              {{"method", mapped->method},
               {"protocol", mapped->protocol},
               {"port", std::to_string(mapped->internal_port)},
               {"external", mapped->external_address + ":" + std::to_string(mapped->external_port)}});
  } else if (auto* unmapped = std::get_if<PortMappingError>(&event)) {
    log_.warn("port-mapping-failed", {{"method", unmapped->method},
                                      {"protocol", unmapped->protocol},
                                      {"port", std::to_string(unmapped->internal_port)},
                                      {"error", unmapped->message}});
  } else if (auto* err = std::get_if<TorrentError>(&event)) {
    if (auto* r = record_of(err->info_hash)) r->last_active = now;
    log_.warn("torrent-error", {{"hash", err->info_hash}, {"error", err->message}});
  } else if (auto* stopped = std::get_if<TorrentStopped>(&event)) {
    if (auto* r = record_of(stopped->info_hash)) {
      r->last_active = now;
      if (r->move_to) {
        auto to = *r->move_to;
        r->move_to.reset();
        if (auto moved = r->handle.move_storage(to); !moved) {
          log_.error("move-failed", {{"id", std::to_string(r->stored.id)}, {"error", moved.error()}});
        } else {
          r->stored.save_path = to;
          if (auto ok = store_.set_save_path(r->stored.id, to); !ok)
            log_.error("state-write-failed", {{"error", ok.error()}});
          log_.info("torrent-moved", {{"id", std::to_string(r->stored.id)}, {"to", to}});
        }
        if (!r->stored.paused) r->handle.resume();
      }
    }
  } else if (auto* fe = std::get_if<FileError>(&event)) {
    log_.warn("file-error", {{"hash", fe->info_hash}, {"path", fe->path}, {"error", fe->message}});
  } else if (auto* w = std::get_if<SessionWarning>(&event)) {
    log_.warn("session-warning", {{"text", w->text}});
  } else if (auto* c = std::get_if<CheckFinished>(&event)) {
    if (auto* r = record_of(c->info_hash)) r->last_active = now;
  } else if (auto* saved = std::get_if<ResumeDataSaved>(&event)) {
    if (auto* r = record_of(saved->info_hash)) pending_resume_[r->stored.id] = saved->data;
  }
}

void SessionBackend::flush_resume_data() {
  if (pending_resume_.empty()) return;
  std::vector<std::pair<std::int64_t, std::string>> batch(std::make_move_iterator(pending_resume_.begin()),
                                                          std::make_move_iterator(pending_resume_.end()));
  pending_resume_.clear();
  if (auto ok = store_.set_resume_data(batch); !ok) log_.error("state-write-failed", {{"error", ok.error()}});
}

void SessionBackend::tick(std::int64_t now, int weekday, int minute) {
  now_ = now;
  auto limits = speed_limits(values_, weekday, minute);
  if (applied_limits_ != limits) apply_session_settings();
  auto handles = session_.torrents();
  auto statuses = session_.statuses();
  for (std::size_t i = 0; i < statuses.size() && i < handles.size(); ++i) {
    auto it = by_hash_.find(statuses[i].info_hash);
    if (it == by_hash_.end()) continue;
    auto* r = find(it->second);
    const auto& s = statuses[i];
    if (s.total_wanted > 0) {
      r->have_wanted = s.have_wanted;
      r->pieces_have = s.pieces_have;
    }
    if (s.download_rate > 0 || s.upload_rate > 0) r->last_active = now;
    if (s.upload_rate > 0 || r->seeding_since_upload == 0) r->seeding_since_upload = now;
    if (s.state != TorrentState::seeding || r->stored.paused) continue;
    SeedingFacts facts;
    auto size = std::max<std::int64_t>(1, s.total_wanted);
    facts.ratio = static_cast<double>(s.uploaded) / static_cast<double>(size);
    facts.idle_seconds = now - r->seeding_since_upload;
    facts.own_ratio = r->stored.options.seed_ratio;
    facts.own_idle_minutes = r->stored.options.seed_idle_minutes;
    if (seeding_done(values_, facts)) {
      log_.info("seeding-done",
                {{"id", std::to_string(r->stored.id)}, {"ratio", std::to_string(facts.ratio)}});
      stop({r->stored.id});
    }
  }
  while (!removed_.empty() && removed_.front().second < now - kRecentSeconds)
    removed_.pop_front();
}

std::int64_t SessionBackend::wanted_bytes(const Record& r) const {
  if (!r.info) return 0;
  std::int64_t total = 0;
  const auto& wanted = r.stored.options.wanted;
  for (std::size_t i = 0; i < r.info->files.size(); ++i) {
    if (r.info->files[i].pad) continue;
    if (i < wanted.size() && !wanted[i]) continue;
    total += r.info->files[i].size;
  }
  return total;
}

rpc::TorrentView SessionBackend::view(Record& r, const TorrentStatus& status, bool with_files) {
  rpc::TorrentView v;
  v.id = r.stored.id;
  v.status = status;
  v.status.info_hash = r.stored.info_hash;
  if (v.status.name.empty() && !r.stored.magnet.empty()) {
    // A magnet before its metadata: the name its link gives (dn), as the add answered.
    if (auto link = parse_magnet(r.stored.magnet); link && !link->name.empty()) v.status.name = link->name;
  }
  if (status.total_wanted > 0) {
    r.have_wanted = status.have_wanted;
    r.pieces_have = status.pieces_have;
  } else if (r.info) {
    // Not running (paused, queued): its size and the progress last seen.
    v.status.total_wanted = wanted_bytes(r);
    v.status.have_wanted = std::min(r.have_wanted, v.status.total_wanted);
    v.status.pieces_have = r.pieces_have;
    if (v.status.state != TorrentState::checking && v.status.total_wanted > 0)
      v.status.progress =
          static_cast<double>(v.status.have_wanted) / static_cast<double>(v.status.total_wanted);
  }
  v.download_dir = r.stored.save_path;
  v.added_date = r.stored.added_date;
  v.done_date = r.stored.done_date;
  v.activity_date = r.last_active;
  v.queue_position = r.stored.queue_position;
  v.download_limit = r.stored.options.download_limit;
  v.upload_limit = r.stored.options.upload_limit;
  v.seed_ratio = r.stored.options.seed_ratio;
  v.seed_idle_minutes = r.stored.options.seed_idle_minutes;
  v.peer_limit =
      r.stored.options.peer_limit > 0 ? r.stored.options.peer_limit : values_.peer_limit_per_torrent;
  v.user_paused = r.stored.paused;
  if (r.info) {
    v.magnet_link = r.info->magnet;
    v.comment = r.info->comment;
    v.creator = r.info->created_by;
    v.date_created = r.info->creation_date.value_or(0);
    v.is_private = r.info->is_private;
    v.piece_size = r.info->piece_length;
    v.web_seeds = r.info->web_seeds;
    if (v.status.trackers.empty()) {
      for (std::size_t tier = 0; tier < r.info->trackers.size(); ++tier) {
        for (const auto& url : r.info->trackers[tier]) {
          TrackerStatus ts;
          ts.url = url;
          ts.tier = static_cast<int>(tier);
          v.status.trackers.push_back(std::move(ts));
        }
      }
    }
  } else {
    v.magnet_link = r.stored.magnet;
  }
  if (with_files && r.info) {
    auto progress = r.handle.file_progress();
    const auto& wanted = r.stored.options.wanted;
    const auto& prio = r.stored.options.priorities;
    for (std::size_t i = 0; i < r.info->files.size(); ++i) {
      const auto& f = r.info->files[i];
      rpc::FileView fv;
      fv.name = f.path;
      fv.length = f.size;
      fv.bytes_completed = i < progress.size() ? progress[i] : 0;
      fv.wanted = i >= wanted.size() || wanted[i];
      fv.priority = i < prio.size() ? prio[i] : 0;
      v.files.push_back(std::move(fv));
    }
  }
  return v;
}

std::vector<rpc::TorrentId> SessionBackend::ids() {
  std::vector<rpc::TorrentId> out;
  out.reserve(records_.size());
  for (const auto& [id, r] : records_)
    out.push_back(id);
  return out;
}

std::optional<rpc::TorrentId> SessionBackend::find_hash(const std::string& info_hash) {
  auto it = by_hash_.find(lower_hex(info_hash));
  if (it == by_hash_.end()) return std::nullopt;
  return it->second;
}

std::vector<rpc::TorrentId> SessionBackend::recently_active() {
  std::vector<rpc::TorrentId> out;
  for (const auto& [id, r] : records_) {
    if (r.last_active >= now_ - kRecentSeconds) out.push_back(id);
  }
  return out;
}

std::vector<rpc::TorrentId> SessionBackend::recently_removed() {
  std::vector<rpc::TorrentId> out;
  for (const auto& [id, when] : removed_)
    out.push_back(id);
  return out;
}

std::vector<rpc::TorrentView> SessionBackend::torrents(const std::vector<rpc::TorrentId>& ids,
                                                       const rpc::TorrentQuery& query) {
  auto out = views(ids, query);
  const auto& want = query.details;
  if (!want.peers && !want.pieces && !want.availability) return out;
  // Peers, bitfields and availability of all of them in one trip to the network thread.
  std::vector<std::string> hashes;
  hashes.reserve(out.size());
  for (const auto& v : out)
    hashes.push_back(v.status.info_hash);
  auto details = session_.details(hashes, want);
  for (std::size_t i = 0; i < out.size() && i < details.size(); ++i)
    out[i].details = std::move(details[i]);
  return out;
}

std::vector<rpc::TorrentView> SessionBackend::views(const std::vector<rpc::TorrentId>& ids,
                                                    const rpc::TorrentQuery& query) {
  std::vector<rpc::TorrentView> out;
  out.reserve(ids.size());
  if (ids.size() > kBulkStatusThreshold) {
    // Hashed, not ordered, and no status copied into it: with 10,000 torrents the ordered map of statuses
    // was a third of a torrent-get.
    auto statuses = session_.statuses();
    std::unordered_map<std::string_view, const TorrentStatus*> by_hash;
    by_hash.reserve(statuses.size());
    for (const auto& s : statuses)
      by_hash.emplace(s.info_hash, &s);
    const TorrentStatus none;
    for (auto id : ids) {
      auto* r = find(id);
      if (!r) continue;
      auto it = by_hash.find(r->stored.info_hash);
      out.push_back(view(*r, it == by_hash.end() ? none : *it->second, query.files));
    }
    return out;
  }
  for (auto id : ids) {
    if (auto* r = find(id)) out.push_back(view(*r, r->handle.status(), query.files));
  }
  return out;
}

Expected<rpc::AddResult, std::string> SessionBackend::add(const rpc::AddRequest& req) {
  StoredTorrent t;
  std::string name;
  if (!req.metainfo.empty() || !req.file.empty()) {
    std::string bytes = req.metainfo;
    if (bytes.empty()) {
      std::ifstream in(req.file, std::ios::binary);
      if (!in) return unexpected("cannot read " + req.file);
      std::ostringstream s;
      s << in.rdbuf();
      bytes = s.str();
    }
    auto info = parse_torrent(bytes);
    if (!info) return unexpected("invalid or corrupt torrent file: " + info.error());
    t.info_hash = info->info_hash;
    t.torrent_bytes = std::move(bytes);
    name = info->name;
  } else {
    auto magnet = parse_magnet(req.magnet);
    if (!magnet) return unexpected("invalid magnet link: " + magnet.error());
    if (magnet->info_hash.empty() && magnet->info_hash_v2.empty())
      return unexpected(std::string("the magnet link names no torrent (no btih or btmh)"));
    // A v2-only link (btmh alone): the session, peers and trackers know it by its SHA-256 truncated (BEP 52).
    t.info_hash = magnet->info_hash.empty() ? magnet->info_hash_v2.substr(0, 40) : magnet->info_hash;
    t.magnet = req.magnet;
    name = magnet->name.empty() ? t.info_hash : magnet->name;
  }
  if (auto it = by_hash_.find(t.info_hash); it != by_hash_.end()) {
    auto* r = find(it->second);
    return rpc::AddResult{it->second, r && r->info ? r->info->name : name, t.info_hash, true};
  }
  t.save_path = req.download_dir.empty() ? values_.download_dir : req.download_dir;
  t.paused = req.paused;
  t.added_date = now_;
  t.options.peer_limit = req.peer_limit;
  if (!req.files_unwanted.empty() && !t.torrent_bytes.empty()) {
    auto info = parse_torrent(t.torrent_bytes);
    t.options.wanted.assign(info->files.size(), true);
    for (int i : req.files_unwanted) {
      if (i >= 0 && static_cast<std::size_t>(i) < t.options.wanted.size()) t.options.wanted[i] = false;
    }
  }
  // Durable first: once the store has it, a crash cannot lose a torrent the client was told was added.
  auto placed = store_.add(t);
  if (!placed) return unexpected("cannot save the torrent: " + placed.error());
  t.id = placed->id;
  t.queue_position = placed->queue_position;
  auto added = add_to_session(t, false);
  if (!added) {
    (void)store_.remove(t.id);
    return unexpected(added.error());
  }
  ++files_added_;
  log_.info("torrent-added", {{"id", std::to_string(t.id)}, {"hash", t.info_hash}, {"name", name}});
  return rpc::AddResult{t.id, name, t.info_hash, false};
}

void SessionBackend::start(const std::vector<rpc::TorrentId>& ids, bool now) {
  for (auto id : ids) {
    auto* r = find(id);
    if (!r) continue;
    if (r->stored.paused) {
      if (auto ok = store_.set_paused(id, false); !ok)
        log_.error("state-write-failed", {{"error", ok.error()}});
      r->stored.paused = false;
    }
    r->last_active = now_;
    r->seeding_since_upload = now_;
    if (now) {
      r->handle.force_start();  // torrent-start-now: past the queue
    } else {
      r->handle.resume();
    }
  }
}

void SessionBackend::stop(const std::vector<rpc::TorrentId>& ids) {
  for (auto id : ids) {
    auto* r = find(id);
    if (!r) continue;
    if (!r->stored.paused) {
      if (auto ok = store_.set_paused(id, true); !ok)
        log_.error("state-write-failed", {{"error", ok.error()}});
      r->stored.paused = true;
    }
    r->last_active = now_;
    r->handle.pause();
  }
}

void SessionBackend::verify(const std::vector<rpc::TorrentId>& ids) {
  for (auto id : ids) {
    if (auto* r = find(id)) {
      r->last_active = now_;
      r->handle.force_recheck();
    }
  }
}

void SessionBackend::reannounce(const std::vector<rpc::TorrentId>& ids) {
  for (auto id : ids) {
    if (auto* r = find(id)) r->handle.force_reannounce();
  }
}

void SessionBackend::remove(const std::vector<rpc::TorrentId>& ids, bool delete_data) {
  for (auto id : ids) {
    auto* r = find(id);
    if (!r) continue;
    if (auto ok = store_.remove(id); !ok) {
      log_.error("state-write-failed", {{"error", ok.error()}});
      continue;
    }
    session_.remove_torrent(r->handle, delete_data ? RemoveMode::delete_data : RemoveMode::keep_data);
    log_.info("torrent-removed", {{"id", std::to_string(id)}, {"delete-data", delete_data ? "yes" : "no"}});
    by_hash_.erase(r->stored.info_hash);
    records_.erase(id);
    removed_.emplace_back(id, now_);
    if (removed_.size() > kMaxRemembered) removed_.pop_front();
  }
}

void SessionBackend::persist_options(Record& r) {
  if (auto ok = store_.set_options(r.stored.id, r.stored.options); !ok)
    log_.error("state-write-failed", {{"error", ok.error()}});
}

Expected<void, std::string> SessionBackend::set(const std::vector<rpc::TorrentId>& ids,
                                                const rpc::TorrentChanges& c) {
  for (auto id : ids) {
    auto* r = find(id);
    if (!r) continue;
    auto& o = r->stored.options;
    if (c.download_limit) o.download_limit = *c.download_limit;
    if (c.upload_limit) o.upload_limit = *c.upload_limit;
    if (c.seed_ratio) o.seed_ratio = *c.seed_ratio;
    if (c.seed_idle_minutes) o.seed_idle_minutes = *c.seed_idle_minutes;
    if (c.peer_limit) o.peer_limit = *c.peer_limit;
    std::size_t files = r->info ? r->info->files.size() : 0;
    std::vector<bool> wanted = o.wanted.empty() ? std::vector<bool>(files, true) : o.wanted;
    auto each = [&](const std::vector<int>& list, auto fn) {
      for (int i : list) {
        if (i == -1) {
          for (std::size_t k = 0; k < files; ++k)
            fn(k);
        } else if (i >= 0 && static_cast<std::size_t>(i) < files) {
          fn(static_cast<std::size_t>(i));
        }
      }
    };
    each(c.files_wanted, [&](std::size_t k) { wanted[k] = true; });
    each(c.files_unwanted, [&](std::size_t k) { wanted[k] = false; });
    std::vector<int> prio = o.priorities.empty() ? std::vector<int>(files, 0) : o.priorities;
    each(c.priority_high, [&](std::size_t k) { prio[k] = 1; });
    each(c.priority_low, [&](std::size_t k) { prio[k] = -1; });
    each(c.priority_normal, [&](std::size_t k) { prio[k] = 0; });
    auto old_wanted = o.wanted.empty() ? std::vector<bool>(files, true) : o.wanted;
    auto old_prio = o.priorities.empty() ? std::vector<int>(files, 0) : o.priorities;
    o.wanted = wanted;
    o.priorities = prio;
    persist_options(*r);
    if (c.download_limit || c.upload_limit) r->handle.set_rate_limits(o.download_limit, o.upload_limit);
    if (c.peer_limit && *c.peer_limit > 0) r->handle.set_max_connections(*c.peer_limit);
    for (std::size_t k = 0; k < files; ++k) {
      if (wanted[k] != old_wanted[k] || prio[k] != old_prio[k])
        r->handle.set_file_priority(static_cast<int>(k), engine_file_priority(wanted[k], prio[k]));
    }
    if (c.location) {
      if (auto moved = set_location({id}, *c.location, true); !moved) return moved;
    }
  }
  return {};
}

Expected<void, std::string> SessionBackend::rename_path(rpc::TorrentId id, const std::string& path,
                                                        const std::string& name) {
  auto* r = find(id);
  if (!r) return unexpected(std::string("no such torrent"));
  if (!r->info)
    return unexpected(std::string("a magnet's files cannot be renamed before its metadata arrives"));
  auto done = r->handle.rename_path(path, name);
  if (!done) return unexpected(done.error());
  // The engine checked the rename (the path is one of the torrent's, the name a plain one): apply it to the
  // listing and keep the new per-file paths.
  std::string from = path;
  while (!from.empty() && from.back() == '/')
    from.pop_back();
  auto slash = from.rfind('/');
  std::string to = (slash == std::string::npos ? std::string() : from.substr(0, slash + 1)) + name;
  for (std::size_t i = 0; i < r->info->files.size(); ++i) {
    const auto& p = r->info->files[i].path;
    if (p == from ||
        (p.size() > from.size() && p.compare(0, from.size(), from) == 0 && p[from.size()] == '/')) {
      auto new_path = to + p.substr(from.size());
      r->stored.options.file_paths[static_cast<int>(i)] = new_path;
      rename_listed_file(*r->info, static_cast<int>(i), new_path);
    }
  }
  persist_options(*r);
  log_.info("torrent-renamed", {{"id", std::to_string(id)}, {"path", from}, {"to", to}});
  return {};
}

Expected<void, std::string> SessionBackend::set_location(const std::vector<rpc::TorrentId>& ids,
                                                         const std::string& location, bool move) {
  if (!move)
    return unexpected(
        std::string("Shoal moves the data to the new location (move: true); finding data "
                    "already there is not supported"));
  for (auto id : ids) {
    auto* r = find(id);
    if (!r) continue;
    if (!r->info) return unexpected(std::string("a magnet's data cannot move before its metadata arrives"));
    // The engine moves data only while the torrent is stopped: stop it, move on TorrentStopped, restart.
    r->move_to = location;
    auto status = r->handle.status();
    if (status.state == TorrentState::paused || status.state == TorrentState::stopped ||
        status.state == TorrentState::error) {
      on_event(TorrentStopped{r->stored.info_hash}, now_);
    } else {
      r->handle.pause();
    }
  }
  return {};
}

void SessionBackend::queue_move(const std::vector<rpc::TorrentId>& ids, rpc::QueueMove move) {
  std::vector<rpc::TorrentId> order;
  for (const auto& [id, r] : records_)
    order.push_back(id);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) {
    return records_[a].stored.queue_position < records_[b].stored.queue_position;
  });
  std::set<rpc::TorrentId> moving(ids.begin(), ids.end());
  if (move == rpc::QueueMove::top || move == rpc::QueueMove::bottom) {
    std::vector<rpc::TorrentId> picked, rest;
    for (auto id : order)
      (moving.count(id) ? picked : rest).push_back(id);
    order = move == rpc::QueueMove::top ? picked : rest;
    auto& tail = move == rpc::QueueMove::top ? rest : picked;
    order.insert(order.end(), tail.begin(), tail.end());
  } else if (move == rpc::QueueMove::up) {
    for (std::size_t i = 1; i < order.size(); ++i) {
      if (moving.count(order[i]) && !moving.count(order[i - 1])) std::swap(order[i], order[i - 1]);
    }
  } else {
    for (std::size_t i = order.size() - 1; i-- > 0;) {
      if (moving.count(order[i]) && !moving.count(order[i + 1])) std::swap(order[i], order[i + 1]);
    }
  }
  if (auto ok = store_.set_queue_order(order); !ok) {
    log_.error("state-write-failed", {{"error", ok.error()}});
    return;
  }
  std::vector<std::string> hashes;
  std::int64_t position = 0;
  for (auto id : order) {
    records_[id].stored.queue_position = position++;
    hashes.push_back(records_[id].stored.info_hash);
  }
  session_.set_queue_order(hashes);
}

void SessionBackend::apply_session_settings() {
  auto s = session_.settings();
  std::time_t t = static_cast<std::time_t>(now_);
  std::tm tm{};
  localtime_r(&t, &tm);
  auto limits = speed_limits(values_, tm.tm_wday, tm.tm_hour * 60 + tm.tm_min);
  s.max_download_rate = limits.download;
  s.max_upload_rate = limits.upload;
  s.max_active_downloads = values_.download_queue_enabled ? std::max(1, values_.download_queue_size) : 0;
  s.max_active_seeds = values_.seed_queue_enabled ? std::max(1, values_.seed_queue_size) : 0;
  s.max_connections = std::max(1, values_.peer_limit_global);
  // Transmission's "tolerated" (plaintext preferred, encrypted peers welcome) is what Shoal's prefer does
  // for a peer that offers both; Shoal's plain would refuse encrypted peers.
  s.encryption = values_.encryption == "required" ? EncryptionMode::require : EncryptionMode::prefer;
  session_.apply_settings(s);
  if (applied_limits_ && applied_limits_->alt != limits.alt)
    log_.info("alt-speed", {{"enabled", limits.alt ? "yes" : "no"}});
  applied_limits_ = limits;
}

Expected<void, std::string> SessionBackend::set_session(const rpc::SessionValues& v) {
  std::map<std::string, std::string> stored;
  auto arguments = rpc::mutable_session_arguments(v);
  for (const auto& [key, value] : arguments.items())
    stored[key] = value.dump();
  if (auto ok = store_.set_settings(stored); !ok)
    return unexpected("cannot save the settings: " + ok.error());
  values_ = v;
  apply_session_settings();
  return {};
}

rpc::SessionCounters SessionBackend::counters() {
  rpc::SessionCounters c;
  auto stats = session_.stats();
  c.torrents = static_cast<int>(records_.size());
  for (const auto& [id, r] : records_)
    (r.stored.paused ? c.paused : c.active) += 1;
  c.download_rate = stats.download_rate;
  c.upload_rate = stats.upload_rate;
  for (const auto& s : session_.statuses()) {
    c.downloaded += s.downloaded;
    c.uploaded += s.uploaded;
  }
  c.seconds_active = now_ - started_at_;
  c.files_added = files_added_;
  return c;
}

Expected<rpc::FreeSpace, std::string> SessionBackend::free_space(const std::string& path) {
  std::error_code ec;
  auto space = std::filesystem::space(path, ec);
  if (ec) return unexpected(path + ": " + ec.message());
  return rpc::FreeSpace{static_cast<std::int64_t>(space.available),
                        static_cast<std::int64_t>(space.capacity)};
}

std::uint16_t SessionBackend::peer_port() {
  return session_.stats().listen_port;
}

void SessionBackend::close() {
  if (on_close) on_close();
}

std::string SessionBackend::metrics_text() {
  auto stats = session_.stats();
  std::map<std::string, int> by_state;
  for (auto st : {TorrentState::fetching_metadata, TorrentState::queued, TorrentState::checking,
                  TorrentState::downloading, TorrentState::seeding, TorrentState::paused,
                  TorrentState::stopped, TorrentState::error})
    by_state[to_string(st)] = 0;
  std::int64_t failed_pieces = 0, banned = 0;
  for (const auto& s : session_.statuses()) {
    ++by_state[to_string(s.state)];
    failed_pieces += s.failed_pieces;
    banned += s.banned_peers;
  }
  std::ostringstream m;
  m << "# HELP shoal_download_rate_bytes Payload download rate of all torrents, bytes per second.\n"
    << "# TYPE shoal_download_rate_bytes gauge\nshoal_download_rate_bytes " << stats.download_rate << "\n"
    << "# HELP shoal_upload_rate_bytes Payload upload rate of all torrents, bytes per second.\n"
    << "# TYPE shoal_upload_rate_bytes gauge\nshoal_upload_rate_bytes " << stats.upload_rate << "\n"
    << "# HELP shoal_peers Peer connections of all torrents.\n"
    << "# TYPE shoal_peers gauge\nshoal_peers " << stats.peers << "\n"
    << "# HELP shoal_torrents Torrents by state.\n# TYPE shoal_torrents gauge\n";
  for (const auto& [state, n] : by_state)
    m << "shoal_torrents{state=\"" << state << "\"} " << n << "\n";
  m << "# HELP shoal_dht_nodes Nodes in the DHT routing table.\n"
    << "# TYPE shoal_dht_nodes gauge\nshoal_dht_nodes " << stats.dht_nodes << "\n"
    << "# HELP shoal_torrent_errors Torrents stopped on an error.\n"
    << "# TYPE shoal_torrent_errors gauge\nshoal_torrent_errors " << by_state["error"] << "\n"
    << "# HELP shoal_failed_pieces Pieces that failed the hash check, all torrents.\n"
    << "# TYPE shoal_failed_pieces gauge\nshoal_failed_pieces " << failed_pieces << "\n"
    << "# HELP shoal_banned_peers Peers banned, all torrents.\n"
    << "# TYPE shoal_banned_peers gauge\nshoal_banned_peers " << banned << "\n"
    << "# HELP shoal_unknown_handshakes_total Incoming connections for torrents not in the session.\n"
    << "# TYPE shoal_unknown_handshakes_total counter\nshoal_unknown_handshakes_total "
    << stats.unknown_handshakes << "\n"
    << "# HELP shoal_rpc_requests_total RPC requests answered.\n"
    << "# TYPE shoal_rpc_requests_total counter\nshoal_rpc_requests_total " << rpc_requests_ << "\n";
  return m.str();
}

}  // namespace shoal::daemon
