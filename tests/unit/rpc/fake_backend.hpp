// A Backend that records what the dispatcher asked for and answers from plain fields.
#pragma once

#include <algorithm>
#include <map>

#include "rpc/backend.hpp"

namespace shoal::rpc::testing {

class FakeBackend : public Backend {
 public:
  std::map<TorrentId, TorrentView> views;
  std::vector<TorrentId> active;
  std::vector<TorrentId> removed_lately;
  std::vector<AddRequest> adds;
  std::vector<std::pair<std::string, std::vector<TorrentId>>> actions;
  std::vector<TorrentChanges> changes;
  std::vector<std::tuple<std::vector<TorrentId>, std::string, bool>> locations;
  SessionValues values;
  bool closed = false;
  bool last_query_files = false;
  DetailsQuery last_query_details;
  Expected<AddResult, std::string> add_result = AddResult{7, "added", std::string(40, 'c'), false};

  std::vector<TorrentId> ids() override {
    std::vector<TorrentId> out;
    for (auto& [id, v] : views)
      out.push_back(id);
    return out;
  }
  std::optional<TorrentId> find_hash(const std::string& hash) override {
    for (auto& [id, v] : views) {
      std::string lower = hash;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      if (v.status.info_hash == lower) return id;
    }
    return std::nullopt;
  }
  std::vector<TorrentId> recently_active() override { return active; }
  std::vector<TorrentId> recently_removed() override { return removed_lately; }
  std::vector<TorrentView> torrents(const std::vector<TorrentId>& ids, const TorrentQuery& q) override {
    last_query_files = q.files;
    last_query_details = q.details;
    std::vector<TorrentView> out;
    for (auto id : ids) {
      if (auto it = views.find(id); it != views.end()) out.push_back(it->second);
    }
    return out;
  }
  Expected<AddResult, std::string> add(const AddRequest& r) override {
    adds.push_back(r);
    return add_result;
  }
  void start(const std::vector<TorrentId>& ids, bool now) override {
    actions.emplace_back(now ? "start-now" : "start", ids);
  }
  void stop(const std::vector<TorrentId>& ids) override { actions.emplace_back("stop", ids); }
  void verify(const std::vector<TorrentId>& ids) override { actions.emplace_back("verify", ids); }
  void reannounce(const std::vector<TorrentId>& ids) override { actions.emplace_back("reannounce", ids); }
  void remove(const std::vector<TorrentId>& ids, bool del) override {
    actions.emplace_back(del ? "remove-data" : "remove", ids);
  }
  Expected<void, std::string> set(const std::vector<TorrentId>& ids, const TorrentChanges& c) override {
    actions.emplace_back("set", ids);
    changes.push_back(c);
    return {};
  }
  Expected<void, std::string> set_location(const std::vector<TorrentId>& ids, const std::string& loc,
                                           bool move) override {
    locations.emplace_back(ids, loc, move);
    return {};
  }
  Expected<void, std::string> rename_path(TorrentId id, const std::string& path,
                                          const std::string& name) override {
    if (path == "missing") return unexpected(std::string("the torrent has no file or folder 'missing'"));
    renames.emplace_back(id, path, name);
    return {};
  }
  std::vector<std::tuple<TorrentId, std::string, std::string>> renames;
  void queue_move(const std::vector<TorrentId>& ids, QueueMove m) override {
    actions.emplace_back("queue-" + std::to_string(static_cast<int>(m)), ids);
  }
  SessionValues session() override { return values; }
  Expected<void, std::string> set_session(const SessionValues& v) override {
    values = v;
    return {};
  }
  SessionCounters counters() override { return SessionCounters{3, 2, 1, 1500, 300, 10, 20, 60, 3}; }
  Expected<FreeSpace, std::string> free_space(const std::string&) override { return FreeSpace{100, 1000}; }
  std::uint16_t peer_port() override { return 51413; }
  void close() override { closed = true; }
};

}  // namespace shoal::rpc::testing
