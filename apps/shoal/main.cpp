// shoal: the command-line client. Each sub-command lives in its own file and uses only the library API.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <exception>
#include <utility>
#include <vector>

#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Shoal: peer-to-peer file transfer (BitTorrent)", "shoal"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "shoal 0.1.0");

  std::vector<std::pair<CLI::App*, shoal::cli::CommandRunner>> commands;
  auto add = [&](shoal::cli::CommandRunner (*adder)(CLI::App&)) {
    std::size_t before = app.get_subcommands({}).size();
    auto runner = adder(app);
    commands.emplace_back(app.get_subcommands({}).at(before), std::move(runner));
  };
  add(shoal::cli::add_create_command);
  add(shoal::cli::add_info_command);
  add(shoal::cli::add_get_command);
  add(shoal::cli::add_seed_command);
  add(shoal::cli::add_check_command);
  add(shoal::cli::add_tracker_command);
  add(shoal::cli::add_dht_command);
  add(shoal::cli::add_dht_put_command);
  add(shoal::cli::add_dht_get_command);
  add(shoal::cli::add_dht_scrape_command);
  add(shoal::cli::add_dht_sample_command);
  add(shoal::cli::add_daemon_command);
  add(shoal::cli::add_publish_command);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (auto& [sub, run] : commands) {
      if (sub->parsed()) return run();
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "shoal: {}\n", e.what());
    return 1;
  }
  return 1;
}
