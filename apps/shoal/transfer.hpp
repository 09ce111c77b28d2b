// Shared by `shoal get` and `shoal seed`: one shoal::Session running every torrent named on the command line,
// with a live status line per torrent and a clean shutdown on Ctrl-C (resume data saved). Uses the public API
// only (include/shoal/), as any embedder would.
#pragma once

#include <signal.h>
#include <CLI/CLI.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "network_flags.hpp"
#include "shoal/add_torrent_params.hpp"
#include "shoal/settings.hpp"

namespace shoal::cli {

struct TransferRequest {
  SessionSettings settings;
  std::vector<AddTorrentParams> torrents;
  bool exit_when_complete = true;  // get without --seed
  bool quiet = false;
  bool verbose = false;
  std::string command = "get";
};

// The flags get and seed share (listen, peers, limits, trackers, DHT, LSD, state dir, output), registered
// once.
struct CommonTransferOptions {
  std::uint16_t port = 0;
  std::string listen = "::";
  std::vector<std::string> peers;
  std::string max_up = "0";
  bool no_trackers = false;
  bool quiet = false;
  bool verbose = false;
  int upload_slots = 8;
  int max_connections = 80;
  bool all_tiers = false;
  std::string state_dir;
  DhtCliOptions dht;
  LsdCliOptions lsd;
  EncryptionMode encryption = EncryptionMode::prefer;
  Transport transport = Transport::both;
  PortMappingCliOptions port_mapping;
};
void add_common_transfer_options(CLI::App& cmd, CommonTransferOptions& opt);
// Session settings and per-torrent defaults from those flags; the error names the bad flag.
std::optional<std::string> apply_common_options(const CommonTransferOptions& opt, TransferRequest& request,
                                                AddTorrentParams& defaults);

// Exit code: 0 when every wanted piece of every torrent is verified on disk (get) or the seeder stopped
// cleanly (seed); 1 when a torrent failed; 130 when a download was interrupted.
int run_transfer(TransferRequest request);

// "10M", "512K", "1.5M", "100000" (bytes per second) -> bytes; nullopt on nonsense.
std::optional<std::int64_t> parse_rate(const std::string& text);
// The state directory when none is given: $SHOAL_STATE_DIR, else $XDG_STATE_HOME/shoal, else
// ~/.local/state/shoal.
std::filesystem::path default_state_dir();

// Ctrl-C and SIGTERM, blocked in the calling thread and returned for sigtimedwait: a command takes them
// synchronously. Call before the session starts its thread, which inherits the mask, so no other thread
// receives them.
sigset_t block_stop_signals();

}  // namespace shoal::cli
