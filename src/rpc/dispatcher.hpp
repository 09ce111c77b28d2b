// The Transmission RPC (spec version 17) as a pure dispatcher: one JSON request in, one JSON response out,
// over a Backend. No sockets, no clock (time is a parameter), no file access beyond PathPolicy's resolving of
// paths; the HTTP layer (rpc/http_server) does transport and security.
//
// Methods: session-get/set/stats/close, torrent-add/get/set/remove/set-location/rename-path,
// torrent-start/start-now/stop/verify/reannounce, queue-move-top/up/down/bottom, free-space, port-test,
// blocklist-update. A malformed request or a failure is a "result" string other than "success", never an
// exception.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "rpc/backend.hpp"
#include "rpc/path_policy.hpp"

namespace shoal::rpc {

class Dispatcher {
 public:
  Dispatcher(Backend& backend, PathPolicy paths) : backend_(backend), paths_(std::move(paths)) {}

  // `body` is the HTTP request body; returns the response body. `session_id` is reported by session-get.
  std::string handle_text(std::string_view body, std::int64_t now, const std::string& session_id = {});
  nlohmann::json handle(const nlohmann::json& request, std::int64_t now, const std::string& session_id = {});

 private:
  using json = nlohmann::json;
  // A torrent-get's arguments, read.
  struct GetRequest {
    std::vector<std::string> fields;
    TorrentQuery query;
    std::vector<TorrentId> ids;
    bool recent = false;  // ids: "recently-active" (the answer lists the removed too)
    bool table = false;   // format: "table"
  };
  Expected<GetRequest, std::string> read_get(const json& args);
  // A whole torrent-get answer in objects format (rpc/torrent_get_text.cpp).
  std::string torrent_get_text(const json& request, const GetRequest& get, std::int64_t now);
  // Each returns the response's "arguments", or the failure text for "result".
  Expected<json, std::string> torrent_get(const json& args, std::int64_t now);
  Expected<json, std::string> torrent_add(const json& args);
  Expected<json, std::string> torrent_set(const json& args);
  Expected<json, std::string> torrent_remove(const json& args);
  Expected<json, std::string> torrent_action(std::string_view method, const json& args);
  Expected<json, std::string> torrent_set_location(const json& args);
  Expected<json, std::string> torrent_rename_path(const json& args);
  Expected<json, std::string> queue_move(std::string_view method, const json& args);
  Expected<json, std::string> session_set(const json& args);
  Expected<json, std::string> session_stats();
  Expected<json, std::string> free_space(const json& args);
  // The `ids` argument (3.1): absent = all, a number, a hash, a list of both, or "recently-active".
  Expected<std::vector<TorrentId>, std::string> resolve_ids(const json& args);

  Backend& backend_;
  PathPolicy paths_;
};

}  // namespace shoal::rpc
