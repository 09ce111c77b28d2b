#include "daemon/daemon_config.hpp"

#include <fstream>
#include <sstream>

namespace shoal::daemon {

namespace {

using nlohmann::json;

template <class T>
Expected<void, std::string> read(const json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it == j.end()) return {};
  try {
    out = it->get<T>();
  } catch (const json::exception&) {
    return unexpected(std::string("settings.json: ") + key + " has the wrong type");
  }
  return {};
}

}  // namespace

Expected<DaemonConfig, std::string> load_config(DaemonConfig c) {
  auto file = c.config_dir / "settings.json";
  std::ifstream in(file);
  if (!in) return c;
  std::stringstream text;
  text << in.rdbuf();
  auto j = json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return unexpected(file.string() + ": not a JSON object");
  std::string download_dir, web_root, watch_dir;
  std::vector<std::string> roots;
  int rpc_port = c.rpc_port, peer_port = c.peer_port;
  Expected<void, std::string> results[] = {
      read(j, "download-dir", download_dir),
      read(j, "rpc-bind-address", c.rpc_address),
      read(j, "rpc-port", rpc_port),
      read(j, "rpc-username", c.rpc_username),
      read(j, "rpc-password-hash", c.rpc_password_hash),
      read(j, "rpc-host-whitelist-enabled", c.host_whitelist_enabled),
      read(j, "rpc-host-whitelist", c.host_whitelist),
      read(j, "rpc-requests-per-second", c.rpc_requests_per_second),
      read(j, "rpc-burst", c.rpc_burst),
      read(j, "allowed-roots", roots),
      read(j, "web-root", web_root),
      read(j, "watch-dir", watch_dir),
      read(j, "done-hook", c.done_hook),
      read(j, "done-hook-timeout-seconds", c.done_hook_timeout_seconds),
      read(j, "listen-address", c.listen_address),
      read(j, "peer-port", peer_port),
      read(j, "dht-enabled", c.dht_enabled),
      read(j, "lpd-enabled", c.lpd_enabled),
      read(j, "port-forwarding-enabled", c.port_forwarding_enabled),
  };
  for (auto& r : results) {
    if (!r) return unexpected(r.error());
  }
  if (rpc_port < 0 || rpc_port > 65535 || peer_port < 0 || peer_port > 65535)
    return unexpected(std::string("settings.json: a port is out of range"));
  c.rpc_port = static_cast<std::uint16_t>(rpc_port);
  c.peer_port = static_cast<std::uint16_t>(peer_port);
  if (!download_dir.empty()) c.download_dir = download_dir;
  if (!web_root.empty()) c.web_root = web_root;
  if (!watch_dir.empty()) c.watch_dir = watch_dir;
  if (!roots.empty()) c.allowed_roots.assign(roots.begin(), roots.end());
  if (auto it = j.find("session"); it != j.end()) {
    if (!it->is_object()) return unexpected(std::string("settings.json: session must be an object"));
    c.session = *it;
  }
  if (c.done_hook_timeout_seconds < 1) c.done_hook_timeout_seconds = 1;
  return c;
}

std::vector<std::filesystem::path> effective_roots(const DaemonConfig& config) {
  if (!config.allowed_roots.empty()) return config.allowed_roots;
  return {config.download_dir};
}

}  // namespace shoal::daemon
