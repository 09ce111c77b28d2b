// shoal daemon: an always-on node, driven over the Transmission RPC and its web UI (see
// src/daemon/daemon.hpp).
#include <fmt/core.h>

#include <iostream>
#include <string>

#include "commands.hpp"
#include "daemon/daemon.hpp"
#include "rpc/password_hash.hpp"

namespace shoal::cli {

namespace {

struct DaemonCliOptions {
  daemon::DaemonOptions daemon;
  std::string download_dir;
  std::string rpc;
  std::string web_root;
  int peer_port = -1;
  bool hash_password = false;
};

// "ADDR:PORT", "[v6]:PORT" or "PORT".
bool parse_rpc(const std::string& text, daemon::DaemonOptions& o) {
  auto colon = text.rfind(':');
  std::string host = colon == std::string::npos ? std::string() : text.substr(0, colon);
  std::string port = colon == std::string::npos ? text : text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  try {
    std::size_t used = 0;
    int p = std::stoi(port, &used);
    if (used != port.size() || p < 0 || p > 65535) return false;
    o.rpc_port = static_cast<std::uint16_t>(p);
  } catch (const std::exception&) {
    return false;
  }
  if (!host.empty()) o.rpc_address = host;
  return true;
}

int run(DaemonCliOptions& opt) {
  if (opt.hash_password) {
    // The password comes on stdin, never on the command line (where `ps` would show it).
    std::string password;
    std::getline(std::cin, password);
    fmt::print("{}\n", rpc::make_password_hash(password));
    return 0;
  }
  if (!opt.download_dir.empty()) opt.daemon.download_dir = opt.download_dir;
  if (!opt.web_root.empty()) opt.daemon.web_root = opt.web_root;
  if (opt.peer_port >= 0) opt.daemon.peer_port = static_cast<std::uint16_t>(opt.peer_port);
  if (!opt.rpc.empty() && !parse_rpc(opt.rpc, opt.daemon)) {
    fmt::print(stderr, "shoal daemon: --rpc wants ADDR:PORT, got '{}'\n", opt.rpc);
    return 2;
  }
  return daemon::run_daemon(opt.daemon);
}

}  // namespace

CommandRunner add_daemon_command(CLI::App& app) {
  auto opt = std::make_shared<DaemonCliOptions>();
  auto* cmd = app.add_subcommand("daemon", "Run an always-on node with the Transmission RPC and a web UI");
  cmd->add_option("--config-dir", opt->daemon.config_dir,
                  "State (SQLite), settings.json and resume data live here")
      ->default_val(std::string(std::getenv("HOME") ? std::getenv("HOME") : ".") + "/.config/shoal-daemon");
  cmd->add_option("--download-dir", opt->download_dir, "Where torrents download by default");
  cmd->add_option("--rpc", opt->rpc, "RPC and web UI address, ADDR:PORT (default 127.0.0.1:9091)");
  cmd->add_option("--web-root", opt->web_root, "Folder of the web UI served at / (default: Shoal's web/)");
  cmd->add_option("--peer-port", opt->peer_port, "TCP port for peers (default: settings.json, else any)")
      ->check(CLI::Range(0, 65535));
  cmd->add_flag("--no-dht", opt->daemon.no_dht, "No DHT node");
  cmd->add_flag("--no-lsd", opt->daemon.no_lsd, "No local peer discovery");
  cmd->add_flag("--no-port-forwarding", opt->daemon.no_port_forwarding,
                "Do not ask the home router to forward the peer port (UPnP IGD, PCP, NAT-PMP)");
  cmd->add_flag("--foreground", opt->daemon.foreground, "Stay attached to the terminal (systemd: yes)");
  cmd->add_flag("--hash-password", opt->hash_password,
                "Read a password on stdin and print the hash for settings.json's rpc-password-hash");
  return [opt] { return run(*opt); };
}

}  // namespace shoal::cli
