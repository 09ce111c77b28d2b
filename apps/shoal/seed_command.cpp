// shoal seed A.torrent DIR_A [B.torrent DIR_B]...: checks the data of every pair and serves it all from one
// session until stopped.
#include <fmt/core.h>

#include "commands.hpp"
#include "shoal/terminal_text.hpp"
#include "transfer.hpp"

namespace shoal::cli {
namespace {

struct SeedOptions {
  std::vector<std::string> pairs;  // torrent, data dir, torrent, data dir...
  CommonTransferOptions common;
};

int run_seed(const SeedOptions& opt) {
  auto fail = [](const std::string& message) {
    fmt::print(stderr, "shoal seed: {}\n", escape_for_terminal(message));
    return 1;
  };
  if (opt.pairs.size() % 2 != 0)
    return fail("give each torrent with its data folder: TORRENT DATA_DIR [TORRENT DATA_DIR]...");
  TransferRequest request;
  request.command = "seed";
  AddTorrentParams defaults;
  if (auto err = apply_common_options(opt.common, request, defaults)) return fail(*err);
  defaults.seed_when_complete = true;
  for (std::size_t i = 0; i < opt.pairs.size(); i += 2) {
    AddTorrentParams params = defaults;
    params.torrent_file = opt.pairs[i];
    params.save_path = opt.pairs[i + 1];
    request.torrents.push_back(std::move(params));
  }
  request.exit_when_complete = false;
  return run_transfer(std::move(request));
}

}  // namespace

CommandRunner add_seed_command(CLI::App& app) {
  auto opt = std::make_shared<SeedOptions>();
  auto* cmd = app.add_subcommand("seed", "Check existing data and seed it until stopped");
  cmd->add_option("torrent_and_dir", opt->pairs,
                  "The .torrent file and the folder that holds its data (repeat the pair for more torrents)")
      ->required()
      ->expected(2, -1);
  add_common_transfer_options(*cmd, opt->common);
  return [opt] { return run_seed(*opt); };
}

}  // namespace shoal::cli
