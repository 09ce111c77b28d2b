// shoal get A.torrent B.torrent MAGNET...: downloads every torrent named in one session (one listen port, one
// DHT node), verifies every piece, optionally keeps seeding.
#include <fmt/core.h>

#include "commands.hpp"
#include "feed_get.hpp"
#include "shoal/terminal_text.hpp"
#include "shoal/torrent_file.hpp"
#include "transfer.hpp"

namespace shoal::cli {
namespace {

struct GetOptions {
  std::vector<std::string> inputs;
  std::string output = ".";
  bool seed = false;
  std::optional<double> seed_ratio;
  bool sequential = false;
  std::vector<std::string> only;
  std::string max_down = "0";
  bool no_web_seeds = false;
  std::vector<std::string> web_seeds;
  bool follow = false;
  int poll_seconds = 300;
  CommonTransferOptions common;
};

// A BEP 46 link (xs=urn:btpk): its public key and salt; nullopt for any other input.
std::optional<MagnetInfo> feed_link(const std::string& input) {
  if (input.rfind("magnet:", 0) != 0) return std::nullopt;
  auto link = parse_magnet(input);
  if (!link || link->public_key.empty()) return std::nullopt;
  return *link;
}

int run_get(const GetOptions& opt) {
  auto fail = [](const std::string& message) {
    fmt::print(stderr, "shoal get: {}\n", escape_for_terminal(message));
    return 1;
  };
  TransferRequest request;
  request.command = "get";
  AddTorrentParams defaults;
  if (auto err = apply_common_options(opt.common, request, defaults)) return fail(*err);
  auto down = parse_rate(opt.max_down);
  if (!down) return fail("invalid --max-down '" + opt.max_down + "' (e.g. 10M, 512K)");
  request.settings.max_download_rate = *down;
  defaults.save_path = opt.output;
  defaults.seed_when_complete = opt.seed || opt.seed_ratio.has_value();
  defaults.seed_ratio = opt.seed_ratio;
  defaults.sequential = opt.sequential;
  defaults.only = opt.only;
  defaults.use_web_seeds = !opt.no_web_seeds;
  for (const auto& url : opt.web_seeds) {
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
      return fail("invalid --web-seed '" + url + "' (an http:// or https:// URL)");
  }
  defaults.web_seeds = opt.web_seeds;
  if (auto feed = opt.inputs.size() == 1 ? feed_link(opt.inputs[0]) : std::nullopt) {
    FeedGetRequest follow;
    follow.public_key = feed->public_key;
    follow.salt = feed->salt;
    follow.follow = opt.follow;
    follow.poll_interval = std::chrono::seconds(opt.poll_seconds);
    // A follower keeps each version seeded until the next one replaces it.
    defaults.seed_when_complete = defaults.seed_when_complete || opt.follow;
    // A follower waits for the publisher as long as it runs, rather than failing after a minute.
    if (opt.follow) defaults.metadata_timeout_seconds = 0;
    follow.defaults = std::move(defaults);
    follow.transfer = std::move(request);
    return run_feed_get(follow);
  }
  if (opt.follow) return fail("--follow takes one magnet link with a public key (xs=urn:btpk:, BEP 46)");
  for (const auto& input : opt.inputs) {
    AddTorrentParams params = defaults;
    if (input.rfind("magnet:", 0) == 0) {
      params.magnet = input;
    } else {
      params.torrent_file = input;
    }
    request.torrents.push_back(std::move(params));
  }
  request.exit_when_complete = !defaults.seed_when_complete;
  return run_transfer(std::move(request));
}

}  // namespace

CommandRunner add_get_command(CLI::App& app) {
  auto opt = std::make_shared<GetOptions>();
  auto* cmd = app.add_subcommand("get", "Download torrents, verifying every piece");
  cmd->add_option("torrents", opt->inputs, "One or more .torrent files or magnet links")->required();
  cmd->add_option("-o,--output", opt->output, "Download folder (default: current directory)");
  cmd->add_flag("--seed", opt->seed, "Keep seeding after the download completes (until Ctrl-C)");
  cmd->add_option("--seed-ratio", opt->seed_ratio, "Seed until uploaded = RATIO x size, then exit");
  cmd->add_flag("--sequential", opt->sequential, "Download pieces in order (for streaming)");
  cmd->add_option("--only", opt->only, "Download only files matching this glob (repeatable)");
  cmd->add_option("--max-down", opt->max_down,
                  "Download rate limit of all torrents together, e.g. 10M (bytes/s)");
  cmd->add_flag("--no-web-seeds", opt->no_web_seeds, "Do not download from the torrents' web seeds (BEP 19)");
  cmd->add_option("--web-seed", opt->web_seeds,
                  "Download from this HTTP(S) web seed too (BEP 19: the file, or the folder holding the "
                  "torrent's folder; repeatable)");
  cmd->add_flag(
      "--follow", opt->follow,
      "With a magnet:?xs=urn:btpk link (BEP 46): keep polling the key and download each new version "
      "into the same folder (until Ctrl-C)");
  cmd->add_option("--poll-interval", opt->poll_seconds,
                  "Seconds between polls of a followed key (default 300)")
      ->check(CLI::Range(1, 86400));
  add_common_transfer_options(*cmd, opt->common);
  return [opt] { return run_get(*opt); };
}

}  // namespace shoal::cli
