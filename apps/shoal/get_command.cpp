// shoal get FILE.torrent: downloads from many peers at once, verifies every piece, optionally keeps seeding.
#include <fmt/core.h>

#include "commands.hpp"
#include "metainfo/torrent_info.hpp"
#include "runtime/file_io.hpp"
#include "transfer.hpp"

namespace shoal::cli {
namespace {

constexpr std::size_t kMaxTorrentFileSize = 64 * 1024 * 1024;

struct GetOptions {
  std::string input;
  std::string output = ".";
  std::uint16_t port = 0;
  std::string listen = "0.0.0.0";
  std::vector<std::string> peers;
  bool seed = false;
  std::optional<double> seed_ratio;
  bool sequential = false;
  std::vector<std::string> only;
  std::string max_down = "0";
  std::string max_up = "0";
  bool no_trackers = false;
  bool quiet = false;
  bool verbose = false;
};

int run_get(const GetOptions& opt) {
  auto fail = [](const std::string& message) {
    fmt::print(stderr, "shoal get: {}\n", message);
    return 1;
  };
  if (opt.input.rfind("magnet:", 0) == 0) {
    return fail("magnet links need metadata from peers (ut_metadata), which this build does not fetch yet");
  }
  auto bytes = runtime::read_file(opt.input, kMaxTorrentFileSize);
  if (!bytes) return fail(opt.input + ": " + bytes.error().message());
  auto info = metainfo::parse_torrent(*bytes);
  if (!info) return fail(opt.input + ": " + info.error().message());

  TransferRequest request;
  request.command = "get";
  request.info = std::move(*info);
  request.options.save_dir = opt.output;
  request.options.listen_address = opt.listen;
  request.options.listen_port = opt.port;
  if (auto err = parse_peers(opt.peers, request.options.peers)) return fail(*err);
  request.options.use_trackers = !opt.no_trackers;
  request.options.seed_when_complete = opt.seed || opt.seed_ratio.has_value();
  request.options.seed_ratio = opt.seed_ratio;
  request.options.sequential = opt.sequential;
  request.options.only = opt.only;
  auto down = parse_rate(opt.max_down);
  auto up = parse_rate(opt.max_up);
  if (!down) return fail("invalid --max-down '" + opt.max_down + "' (e.g. 10M, 512K)");
  if (!up) return fail("invalid --max-up '" + opt.max_up + "' (e.g. 10M, 512K)");
  request.options.max_download_rate = *down;
  request.options.max_upload_rate = *up;
  request.exit_when_complete = !request.options.seed_when_complete;
  request.quiet = opt.quiet;
  request.verbose = opt.verbose;
  return run_transfer(std::move(request));
}

}  // namespace

CommandRunner add_get_command(CLI::App& app) {
  auto opt = std::make_shared<GetOptions>();
  auto* cmd = app.add_subcommand("get", "Download a torrent, verifying every piece");
  cmd->add_option("torrent", opt->input, "A .torrent file")->required();
  cmd->add_option("-o,--output", opt->output, "Download folder (default: current directory)");
  cmd->add_option("--port", opt->port, "Listen port (default: any free port)");
  cmd->add_option("--listen", opt->listen, "Listen address (default: 0.0.0.0)");
  cmd->add_option("--peer", opt->peers, "Connect to this peer too (IP:PORT, repeatable)");
  cmd->add_flag("--seed", opt->seed, "Keep seeding after the download completes (until Ctrl-C)");
  cmd->add_option("--seed-ratio", opt->seed_ratio, "Seed until uploaded = RATIO x size, then exit");
  cmd->add_flag("--sequential", opt->sequential, "Download pieces in order (for streaming)");
  cmd->add_option("--only", opt->only, "Download only files matching this glob (repeatable)");
  cmd->add_option("--max-down", opt->max_down, "Download rate limit, e.g. 10M (bytes/s)");
  cmd->add_option("--max-up", opt->max_up, "Upload rate limit, e.g. 1M (bytes/s)");
  cmd->add_flag("--no-trackers", opt->no_trackers, "Do not announce to the torrent's trackers");
  cmd->add_flag("-q,--quiet", opt->quiet, "No progress output");
  cmd->add_flag("-v,--verbose", opt->verbose, "Log connections and why they close");
  return [opt] { return run_get(*opt); };
}

}  // namespace shoal::cli
