// `shoal daemon`: one Session for many torrents, kept in a SQLite StateStore, driven over the Transmission
// RPC (and the web UI it serves), with a watch directory, a completion hook, SIGHUP reload and a graceful
// SIGTERM.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "daemon/daemon_config.hpp"

namespace shoal::daemon {

// What the command line says; it wins over settings.json (also after a SIGHUP reload).
struct DaemonOptions {
  std::filesystem::path config_dir;
  std::optional<std::filesystem::path> download_dir;
  std::optional<std::string> rpc_address;
  std::optional<std::uint16_t> rpc_port;
  std::optional<std::filesystem::path> web_root;
  std::optional<std::uint16_t> peer_port;
  bool no_dht = false;
  bool no_lsd = false;
  bool no_port_forwarding = false;
  bool foreground = false;
};

// Reads settings.json and applies the command line over it.
Expected<DaemonConfig, std::string> make_config(const DaemonOptions& options);

// Runs until SIGTERM, SIGINT or session-close. @return the process exit code.
int run_daemon(const DaemonOptions& options);

}  // namespace shoal::daemon
