// shoal seed FILE.torrent DATA_DIR: checks the data and serves it until stopped.
#include <fmt/core.h>

#include "commands.hpp"
#include "metainfo/torrent_info.hpp"
#include "runtime/file_io.hpp"
#include "shoal/terminal_text.hpp"
#include "transfer.hpp"

namespace shoal::cli {
namespace {

struct SeedOptions {
  std::string torrent;
  std::string data_dir;
  std::uint16_t port = 0;
  std::string listen = "::";
  std::vector<std::string> peers;
  std::string max_up = "0";
  bool no_trackers = false;
  bool quiet = false;
  bool verbose = false;
  int upload_slots = 8;
  bool all_tiers = false;
  DhtCliOptions dht;
  LsdCliOptions lsd;
  int max_connections = 80;
};

int run_seed(const SeedOptions& opt) {
  auto fail = [](const std::string& message) {
    fmt::print(stderr, "shoal seed: {}\n", escape_for_terminal(message));
    return 1;
  };
  auto bytes = runtime::read_file(opt.torrent, 64 * 1024 * 1024);
  if (!bytes) return fail(opt.torrent + ": " + bytes.error().message());
  auto info = metainfo::parse_torrent(*bytes);
  if (!info) return fail(opt.torrent + ": " + info.error().message());
  TransferRequest request;
  request.command = "seed";
  request.info = std::move(*info);
  request.options.save_dir = opt.data_dir;
  request.options.listen_address = opt.listen;
  request.options.listen_port = opt.port;
  if (auto err = parse_peers(opt.peers, request.options.peers)) return fail(*err);
  request.options.use_trackers = !opt.no_trackers;
  request.options.seed_when_complete = true;
  request.options.announce_to_all_tiers = opt.all_tiers;
  request.dht = opt.dht;
  request.lsd = opt.lsd;
  request.options.upload_slots = opt.upload_slots;
  request.options.max_connections = opt.max_connections;
  auto up = parse_rate(opt.max_up);
  if (!up) return fail("invalid --max-up '" + opt.max_up + "'");
  request.options.max_upload_rate = *up;
  request.exit_when_complete = false;
  request.quiet = opt.quiet;
  request.verbose = opt.verbose;
  return run_transfer(std::move(request));
}

}  // namespace

CommandRunner add_seed_command(CLI::App& app) {
  auto opt = std::make_shared<SeedOptions>();
  auto* cmd = app.add_subcommand("seed", "Check existing data and seed it until stopped");
  cmd->add_option("torrent", opt->torrent, "The .torrent file")->required();
  cmd->add_option("data_dir", opt->data_dir, "Folder that holds the torrent's data")->required();
  cmd->add_option("--port", opt->port, "Listen port (default: any free port)");
  cmd->add_option("--listen", opt->listen,
                  "Listen address (default: :: = IPv6 and IPv4, or 0.0.0.0 where there is no IPv6)");
  cmd->add_option("--peer", opt->peers, "Connect to this peer too (IP:PORT, repeatable)");
  cmd->add_option("--max-up", opt->max_up, "Upload rate limit, e.g. 1M (bytes/s)");
  cmd->add_flag("--no-trackers", opt->no_trackers, "Do not announce to the torrent's trackers");
  add_dht_options(*cmd, opt->dht);
  add_lsd_options(*cmd, opt->lsd);
  cmd->add_flag("--announce-all-tiers", opt->all_tiers,
                "Announce to one tracker of every tier, not just the first tier that answers (BEP 12)");
  cmd->add_flag("-q,--quiet", opt->quiet, "No progress output");
  cmd->add_flag("-v,--verbose", opt->verbose, "Log connections and why they close");
  cmd->add_option("--upload-slots", opt->upload_slots, "Peers unchoked at once (default 8)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--max-connections", opt->max_connections, "Peer connections at most (default 80)")
      ->check(CLI::Range(1, 10000));
  return [opt] { return run_seed(*opt); };
}

}  // namespace shoal::cli
