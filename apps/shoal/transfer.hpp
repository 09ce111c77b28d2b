// Shared by `shoal get` and `shoal seed`: runs one torrent session until it completes, stops or fails, with a
// live status line and a clean shutdown on Ctrl-C (resume data saved).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "local_discovery.hpp"
#include "metainfo/torrent_info.hpp"
#include "net/dht_service.hpp"
#include "session/torrent_options.hpp"

namespace shoal::cli {

// The DHT settings a command line gives, for a node of our own.
struct DhtCliOptions {
  std::vector<std::string> bootstrap;  // empty: the public routers
  std::uint16_t port = 0;
  bool allow_same_ip = false;
  bool no_dht = false;
  bool read_only = false;  // BEP 43: query others, answer nobody, stay out of their tables
};

struct TransferRequest {
  metainfo::TorrentInfo info;
  session::TorrentOptions options;
  bool exit_when_complete = true;  // get without --seed
  bool quiet = false;
  bool verbose = false;
  std::string command = "get";
  DhtCliOptions dht;  // on by default; never for private torrents (BEP 27)
  LsdCliOptions lsd;  // the same
};

// The DHT flags of `get` and `seed`, registered once for both.
void add_dht_options(CLI::App& cmd, DhtCliOptions& dht);
// The flags that say how to join (bootstrap, port, same-IP rule), for commands that always use the DHT.
void add_dht_join_options(CLI::App& cmd, DhtCliOptions& dht);
// What those flags mean for a DHT node of ours: the given bootstrap nodes, else the public routers.
net::DhtServiceOptions dht_service_options(const DhtCliOptions& dht, std::filesystem::path state_file);

// Exit code: 0 when every wanted piece is verified on disk (get) or the seeder stopped cleanly (seed).
int run_transfer(TransferRequest request);

// "10M", "512K", "1.5M", "100000" (bytes per second) -> bytes; nullopt on nonsense.
std::optional<std::int64_t> parse_rate(const std::string& text);
// Parses --peer values; returns an error message for the first bad one.
std::optional<std::string> parse_peers(const std::vector<std::string>& texts, std::vector<Endpoint>& out);

}  // namespace shoal::cli
