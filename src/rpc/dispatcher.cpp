#include "rpc/dispatcher.hpp"

#include <algorithm>
#include <set>

#include "rpc/base64.hpp"
#include "rpc/session_fields.hpp"
#include "rpc/torrent_fields.hpp"

namespace shoal::rpc {

namespace {

using nlohmann::json;

bool is_hash(const std::string& s) {
  return s.size() == 40 &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

// A list of file indexes (torrent-set, torrent-add); an empty list means "all files" to the caller.
Expected<std::vector<int>, std::string> index_list(const json& args, const char* key) {
  std::vector<int> out;
  auto it = args.find(key);
  if (it == args.end()) return out;
  if (!it->is_array()) return unexpected(std::string(key) + " must be an array of file indexes");
  for (const auto& v : *it) {
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > 1'000'000)
      return unexpected(std::string(key) + " must hold file indexes");
    out.push_back(static_cast<int>(v.get<std::int64_t>()));
  }
  return out;
}

bool present(const json& args, const char* key) {
  return args.contains(key);
}

}  // namespace

std::string Dispatcher::handle_text(std::string_view body, std::int64_t now, const std::string& session_id) {
  auto request = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded() || !request.is_object())
    return json{{"result", "request is not a JSON object"}, {"arguments", json::object()}}.dump();
  // torrent-get of 10,000 torrents is what remotes poll: its answer is written as text straight away. Any
  // request it cannot take as it is goes the general way (which also words the failure).
  if (auto method = request.find("method"); method != request.end() && *method == "torrent-get") {
    auto args = request.find("arguments");
    if (args != request.end() && args->is_object()) {
      if (auto get = read_get(*args); get && !get->table) return torrent_get_text(request, *get, now);
    }
  }
  // Torrent names are untrusted bytes: invalid UTF-8 is replaced rather than failing the whole answer.
  return handle(request, now, session_id).dump(-1, ' ', false, json::error_handler_t::replace);
}

json Dispatcher::handle(const json& request, std::int64_t now, const std::string& session_id) {
  json response{{"arguments", json::object()}};
  if (request.contains("tag")) response["tag"] = request["tag"];
  auto method_it = request.find("method");
  if (method_it == request.end() || !method_it->is_string()) {
    response["result"] = "no method name";
    return response;
  }
  const std::string method = method_it->get<std::string>();
  json args = json::object();
  if (auto it = request.find("arguments"); it != request.end()) {
    if (!it->is_object()) {
      response["result"] = "arguments must be an object";
      return response;
    }
    args = *it;
  }

  Expected<json, std::string> result = json::object();
  if (method == "torrent-get") {
    result = torrent_get(args, now);
  } else if (method == "torrent-add") {
    result = torrent_add(args);
  } else if (method == "torrent-set") {
    result = torrent_set(args);
  } else if (method == "torrent-remove") {
    result = torrent_remove(args);
  } else if (method == "torrent-start" || method == "torrent-start-now" || method == "torrent-stop" ||
             method == "torrent-verify" || method == "torrent-reannounce") {
    result = torrent_action(method, args);
  } else if (method == "torrent-set-location") {
    result = torrent_set_location(args);
  } else if (method == "torrent-rename-path") {
    result = torrent_rename_path(args);
  } else if (method.rfind("queue-move-", 0) == 0) {
    result = queue_move(method, args);
  } else if (method == "session-get") {
    json all = session_arguments(backend_.session(), backend_.peer_port(), session_id);
    if (auto f = args.find("fields"); f != args.end() && f->is_array() && !f->empty()) {
      json some = json::object();
      for (const auto& name : *f) {
        if (name.is_string() && all.contains(name.get<std::string>()))
          some[name.get<std::string>()] = all[name.get<std::string>()];
      }
      all = std::move(some);
    }
    result = std::move(all);
  } else if (method == "session-set") {
    result = session_set(args);
  } else if (method == "session-stats") {
    result = session_stats();
  } else if (method == "session-close") {
    backend_.close();
  } else if (method == "free-space") {
    result = free_space(args);
  } else if (method == "port-test") {
    // Answered locally: Shoal asks no outside service about this machine. Open means listening.
    result = json{{"port-is-open", backend_.peer_port() != 0}, {"ipProtocol", "ipv4"}};
  } else if (method == "blocklist-update") {
    result = unexpected(std::string("blocklists are not supported by Shoal"));
  } else {
    result = unexpected("method name not recognized: " + method);
  }
  if (result) {
    response["result"] = "success";
    response["arguments"] = std::move(*result);
  } else {
    response["result"] = result.error();
  }
  return response;
}

Expected<std::vector<TorrentId>, std::string> Dispatcher::resolve_ids(const json& args) {
  auto it = args.find("ids");
  if (it == args.end()) return backend_.ids();
  const json& ids = *it;
  if (ids.is_string()) {
    auto s = ids.get<std::string>();
    if (s == "recently-active" || s == "recently_active") return backend_.recently_active();
    if (is_hash(s)) {
      auto id = backend_.find_hash(s);
      return id ? std::vector<TorrentId>{*id} : std::vector<TorrentId>{};
    }
    return unexpected("invalid ids: " + s);
  }
  if (ids.is_number_integer()) return std::vector<TorrentId>{ids.get<TorrentId>()};
  if (!ids.is_array()) return unexpected(std::string("invalid ids"));
  std::vector<TorrentId> out;
  std::set<TorrentId> seen;
  for (const auto& v : ids) {
    std::optional<TorrentId> id;
    if (v.is_number_integer())
      id = v.get<TorrentId>();
    else if (v.is_string() && is_hash(v.get<std::string>()))
      id = backend_.find_hash(v.get<std::string>());
    else
      return unexpected(std::string("invalid ids: each must be a torrent id or a 40-digit info-hash"));
    if (id && seen.insert(*id).second) out.push_back(*id);
  }
  return out;
}

Expected<Dispatcher::GetRequest, std::string> Dispatcher::read_get(const json& args) {
  auto fields_it = args.find("fields");
  if (fields_it == args.end() || !fields_it->is_array())
    return unexpected(std::string("no fields specified"));
  GetRequest get;
  auto& fields = get.fields;
  auto& query = get.query;
  for (const auto& f : *fields_it) {
    if (!f.is_string()) return unexpected(std::string("fields must be strings"));
    fields.push_back(f.get<std::string>());
    if (field_needs_files(fields.back())) query.files = true;
    add_details_needed(fields.back(), query.details);
  }
  get.recent = args.contains("ids") && args["ids"].is_string() &&
               (args["ids"] == "recently-active" || args["ids"] == "recently_active");
  auto ids = resolve_ids(args);
  if (!ids) return unexpected(ids.error());
  get.ids = std::move(*ids);
  get.table = args.contains("format") && args["format"] == "table";
  return get;
}

Expected<json, std::string> Dispatcher::torrent_get(const json& args, std::int64_t now) {
  auto get = read_get(args);
  if (!get) return unexpected(get.error());
  const auto& fields = get->fields;
  bool recent = get->recent;
  auto views = backend_.torrents(get->ids, get->query);
  bool table = get->table;
  json torrents = json::array();
  if (table) {
    json header = json::array();
    // Unknown fields are left out of every row, so the header lists only known ones.
    std::vector<std::string> known;
    TorrentView probe;
    for (const auto& f : fields) {
      if (torrent_field(probe, f, now)) known.push_back(f);
    }
    for (const auto& f : known)
      header.push_back(f);
    torrents.push_back(std::move(header));
    for (const auto& t : views) {
      json row = json::array();
      for (const auto& f : known)
        row.push_back(*torrent_field(t, f, now));
      torrents.push_back(std::move(row));
    }
  } else {
    for (const auto& t : views) {
      json obj = json::object();
      for (const auto& f : fields) {
        if (auto v = torrent_field(t, f, now)) obj[f] = std::move(*v);
      }
      torrents.push_back(std::move(obj));
    }
  }
  json out{{"torrents", std::move(torrents)}};
  if (recent) out["removed"] = backend_.recently_removed();
  return out;
}

Expected<json, std::string> Dispatcher::torrent_add(const json& args) {
  AddRequest req;
  if (auto it = args.find("metainfo"); it != args.end()) {
    if (!it->is_string()) return unexpected(std::string("metainfo must be a base64 string"));
    auto bytes = base64_decode(it->get<std::string>());
    if (!bytes || bytes->empty()) return unexpected(std::string("metainfo is not valid base64"));
    req.metainfo = std::move(*bytes);
  } else if (auto fit = args.find("filename"); fit != args.end()) {
    if (!fit->is_string()) return unexpected(std::string("filename must be a string"));
    auto name = fit->get<std::string>();
    if (name.rfind("magnet:", 0) == 0) {
      req.magnet = name;
    } else if (name.rfind("http://", 0) == 0 || name.rfind("https://", 0) == 0) {
      return unexpected(std::string("fetching a .torrent by URL is not supported: send its metainfo"));
    } else {
      auto confined = paths_.confine(name);
      if (!confined) return unexpected("filename: " + confined.error());
      req.file = confined->string();
    }
  } else {
    return unexpected(std::string("no filename or metainfo specified"));
  }
  if (auto it = args.find("download-dir"); it != args.end()) {
    if (!it->is_string()) return unexpected(std::string("download-dir must be a string"));
    auto confined = paths_.confine(it->get<std::string>());
    if (!confined) return unexpected("download-dir: " + confined.error());
    req.download_dir = confined->string();
  }
  if (auto it = args.find("paused"); it != args.end()) {
    if (it->is_boolean())
      req.paused = it->get<bool>();
    else if (it->is_number_integer())
      req.paused = it->get<std::int64_t>() != 0;
    else
      return unexpected(std::string("paused must be a boolean"));
  } else {
    req.paused = !backend_.session().start_added_torrents;
  }
  if (auto it = args.find("peer-limit"); it != args.end() && it->is_number_integer())
    req.peer_limit = static_cast<int>(std::clamp<std::int64_t>(it->get<std::int64_t>(), 0, 10'000));
  auto unwanted = index_list(args, "files-unwanted");
  if (!unwanted) return unexpected(unwanted.error());
  req.files_unwanted = std::move(*unwanted);

  auto added = backend_.add(req);
  if (!added) return unexpected(added.error());
  json t{{"id", added->id}, {"name", added->name}, {"hashString", added->info_hash}};
  return json{{added->duplicate ? "torrent-duplicate" : "torrent-added", std::move(t)}};
}

Expected<json, std::string> Dispatcher::torrent_set(const json& args) {
  auto ids = resolve_ids(args);
  if (!ids) return unexpected(ids.error());
  TorrentChanges c;
  auto speed_limit = [&](const char* value_key, const char* flag_key,
                         std::optional<std::int64_t>& out) -> Expected<void, std::string> {
    std::optional<bool> limited;
    if (auto it = args.find(flag_key); it != args.end()) {
      if (!it->is_boolean()) return unexpected(std::string(flag_key) + " must be a boolean");
      limited = it->get<bool>();
    }
    if (auto it = args.find(value_key); it != args.end()) {
      if (!it->is_number() || it->get<double>() < 0 || it->get<double>() > 1e12)
        return unexpected(std::string(value_key) + " must be a speed in kB/s");
      if (limited.value_or(true)) out = static_cast<std::int64_t>(it->get<double>() * kSpeedUnit);
    }
    if (limited == false) out = 0;
    return {};
  };
  if (auto r = speed_limit("downloadLimit", "downloadLimited", c.download_limit); !r)
    return unexpected(r.error());
  if (auto r = speed_limit("uploadLimit", "uploadLimited", c.upload_limit); !r) return unexpected(r.error());
  // tr_ratiolimit / tr_idlelimit modes: 0 the session's, 1 this torrent's own, 2 unlimited (stored as -1).
  auto mode_and_limit = [&](const char* mode_key, const char* limit_key, auto& out,
                            auto fallback) -> Expected<void, std::string> {
    using T = std::decay_t<decltype(fallback)>;
    std::optional<std::int64_t> mode;
    std::optional<T> limit;
    if (auto it = args.find(mode_key); it != args.end()) {
      if (!it->is_number_integer()) return unexpected(std::string(mode_key) + " must be 0, 1 or 2");
      mode = it->template get<std::int64_t>();
    }
    if (auto it = args.find(limit_key); it != args.end()) {
      if (!it->is_number() || it->template get<double>() < 0)
        return unexpected(std::string(limit_key) + " must be a number >= 0");
      limit = it->template get<T>();
    }
    if (mode == 0)
      out = std::optional<T>{};
    else if (mode == 2)
      out = std::optional<T>{T(-1)};
    else if (limit)
      out = std::optional<T>{*limit};
    else if (mode == 1)
      out = std::optional<T>{fallback};
    return {};
  };
  if (auto r = mode_and_limit("seedRatioMode", "seedRatioLimit", c.seed_ratio, 2.0); !r)
    return unexpected(r.error());
  if (auto r = mode_and_limit("seedIdleMode", "seedIdleLimit", c.seed_idle_minutes, std::int64_t{30}); !r)
    return unexpected(r.error());
  if (auto it = args.find("peer-limit"); it != args.end()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0 || it->get<std::int64_t>() > 10'000)
      return unexpected(std::string("peer-limit must be a number of peers"));
    c.peer_limit = static_cast<int>(it->get<std::int64_t>());
  }
  struct ListArg {
    const char* key;
    std::vector<int>* out;
  };
  for (auto [key, out] :
       {ListArg{"files-wanted", &c.files_wanted}, ListArg{"files-unwanted", &c.files_unwanted},
        ListArg{"priority-high", &c.priority_high}, ListArg{"priority-low", &c.priority_low},
        ListArg{"priority-normal", &c.priority_normal}}) {
    auto list = index_list(args, key);
    if (!list) return unexpected(list.error());
    *out = std::move(*list);
    // An empty array means "all files": the backend receives -1 for that.
    if (present(args, key) && out->empty()) out->push_back(-1);
  }
  if (auto it = args.find("location"); it != args.end()) {
    if (!it->is_string()) return unexpected(std::string("location must be a string"));
    auto confined = paths_.confine(it->get<std::string>());
    if (!confined) return unexpected("location: " + confined.error());
    c.location = confined->string();
  }
  for (const char* key : {"trackerAdd", "trackerRemove", "trackerReplace", "trackerList"}) {
    if (present(args, key))
      return unexpected(std::string("changing a torrent's trackers is not supported by Shoal"));
  }
  if (auto it = args.find("queuePosition"); it != args.end() && it->is_number_integer() && ids->size() == 1) {
    // Moving one torrent to a position: top, then down as many times as asked.
    backend_.queue_move(*ids, QueueMove::top);
    for (std::int64_t i = 0; i < std::min<std::int64_t>(it->get<std::int64_t>(), 100'000); ++i)
      backend_.queue_move(*ids, QueueMove::down);
  }
  if (c.empty()) return json::object();
  auto r = backend_.set(*ids, c);
  if (!r) return unexpected(r.error());
  return json::object();
}

Expected<json, std::string> Dispatcher::torrent_remove(const json& args) {
  auto ids = resolve_ids(args);
  if (!ids) return unexpected(ids.error());
  bool delete_data = false;
  if (auto it = args.find("delete-local-data"); it != args.end()) {
    if (it->is_boolean())
      delete_data = it->get<bool>();
    else if (it->is_number_integer())
      delete_data = it->get<std::int64_t>() != 0;
    else
      return unexpected(std::string("delete-local-data must be a boolean"));
  }
  backend_.remove(*ids, delete_data);
  return json::object();
}

Expected<json, std::string> Dispatcher::torrent_action(std::string_view method, const json& args) {
  auto ids = resolve_ids(args);
  if (!ids) return unexpected(ids.error());
  if (method == "torrent-start")
    backend_.start(*ids, false);
  else if (method == "torrent-start-now")
    backend_.start(*ids, true);
  else if (method == "torrent-stop")
    backend_.stop(*ids);
  else if (method == "torrent-verify")
    backend_.verify(*ids);
  else
    backend_.reannounce(*ids);
  return json::object();
}

// Transmission answers with the path and name it was given and the torrent's id; exactly one torrent.
Expected<json, std::string> Dispatcher::torrent_rename_path(const json& args) {
  auto ids = resolve_ids(args);
  if (!ids) return unexpected(ids.error());
  if (ids->size() != 1) return unexpected(std::string("torrent-rename-path takes exactly one torrent"));
  auto path = args.find("path");
  auto name = args.find("name");
  if (path == args.end() || !path->is_string() || name == args.end() || !name->is_string())
    return unexpected(std::string("torrent-rename-path needs a path and a name"));
  auto id = ids->front();
  if (auto r = backend_.rename_path(id, path->get<std::string>(), name->get<std::string>()); !r)
    return unexpected(r.error());
  return json{{"id", id}, {"path", *path}, {"name", *name}};
}

Expected<json, std::string> Dispatcher::torrent_set_location(const json& args) {
  auto ids = resolve_ids(args);
  if (!ids) return unexpected(ids.error());
  auto it = args.find("location");
  if (it == args.end() || !it->is_string()) return unexpected(std::string("no location specified"));
  auto confined = paths_.confine(it->get<std::string>());
  if (!confined) return unexpected("location: " + confined.error());
  bool move = args.contains("move") && args["move"].is_boolean() && args["move"].get<bool>();
  auto r = backend_.set_location(*ids, confined->string(), move);
  if (!r) return unexpected(r.error());
  return json::object();
}

Expected<json, std::string> Dispatcher::queue_move(std::string_view method, const json& args) {
  auto ids = resolve_ids(args);
  if (!ids) return unexpected(ids.error());
  QueueMove move;
  if (method == "queue-move-top")
    move = QueueMove::top;
  else if (method == "queue-move-up")
    move = QueueMove::up;
  else if (method == "queue-move-down")
    move = QueueMove::down;
  else if (method == "queue-move-bottom")
    move = QueueMove::bottom;
  else
    return unexpected("method name not recognized: " + std::string(method));
  backend_.queue_move(*ids, move);
  return json::object();
}

Expected<json, std::string> Dispatcher::session_set(const json& args) {
  auto values = apply_session_arguments(backend_.session(), args, paths_);
  if (!values) return unexpected(values.error());
  auto r = backend_.set_session(*values);
  if (!r) return unexpected(r.error());
  return json::object();
}

Expected<json, std::string> Dispatcher::session_stats() {
  auto c = backend_.counters();
  json current{{"uploadedBytes", c.uploaded},
               {"downloadedBytes", c.downloaded},
               {"filesAdded", c.files_added},
               {"sessionCount", 1},
               {"secondsActive", c.seconds_active}};
  return json{{"activeTorrentCount", c.active},
              {"pausedTorrentCount", c.paused},
              {"torrentCount", c.torrents},
              {"downloadSpeed", static_cast<std::int64_t>(c.download_rate)},
              {"uploadSpeed", static_cast<std::int64_t>(c.upload_rate)},
              {"cumulative-stats", current},
              {"current-stats", current}};
}

Expected<json, std::string> Dispatcher::free_space(const json& args) {
  auto it = args.find("path");
  if (it == args.end() || !it->is_string()) return unexpected(std::string("no path specified"));
  auto confined = paths_.confine(it->get<std::string>());
  if (!confined) return unexpected("path: " + confined.error());
  auto space = backend_.free_space(confined->string());
  if (!space) return unexpected(space.error());
  return json{{"path", it->get<std::string>()}, {"size-bytes", space->free}, {"total_size", space->total}};
}

}  // namespace shoal::rpc
