// The daemon's configuration: `settings.json` in the config dir, written by the machine's owner (it holds
// the password hash and the completion hook, which the RPC can never change), then command-line flags on top.
// SIGHUP reads the file again.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "shoal/expected.hpp"

namespace shoal::daemon {

struct DaemonConfig {
  std::filesystem::path config_dir;
  std::filesystem::path download_dir;
  std::string rpc_address = "127.0.0.1";  // loopback unless the owner says otherwise
  std::uint16_t rpc_port = 9091;
  std::string rpc_username;
  std::string rpc_password_hash;  // rpc/password_hash.hpp format; empty: no authentication
  bool host_whitelist_enabled = true;
  std::vector<std::string> host_whitelist;
  double rpc_requests_per_second = 50;
  double rpc_burst = 200;
  // Where RPC paths may point; empty: the download dir only.
  std::vector<std::filesystem::path> allowed_roots;
  std::filesystem::path web_root;
  std::filesystem::path watch_dir;  // empty: no watch directory
  // The completion hook: a program and its arguments, run without a shell. "{id}", "{hash}", "{name}" and
  // "{dir}" in an argument are replaced by the torrent's values (each stays one argument).
  std::vector<std::string> done_hook;
  int done_hook_timeout_seconds = 60;
  std::string listen_address = "::";
  std::uint16_t peer_port = 0;
  bool dht_enabled = true;
  bool lpd_enabled = true;
  // Ask the home router to forward peer-port (UPnP IGD, then PCP or NAT-PMP), as Transmission does by
  // default.
  bool port_forwarding_enabled = true;
  // Session settings (session-set keys) the owner fixes in the file; they override what RPC stored.
  nlohmann::json session = nlohmann::json::object();
};

// Reads `dir/settings.json` over `base` (a missing file keeps `base`). An error names the key and the
// problem.
Expected<DaemonConfig, std::string> load_config(DaemonConfig base);
// The roots RPC paths are confined to: allowed_roots, or the download dir.
std::vector<std::filesystem::path> effective_roots(const DaemonConfig& config);

}  // namespace shoal::daemon
