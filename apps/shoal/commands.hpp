// Each sub-command registers itself on the CLI11 app; the returned function runs it and gives the exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace shoal::cli {

using CommandRunner = std::function<int()>;

CommandRunner add_create_command(CLI::App& app);
CommandRunner add_info_command(CLI::App& app);
CommandRunner add_get_command(CLI::App& app);
CommandRunner add_seed_command(CLI::App& app);
CommandRunner add_check_command(CLI::App& app);
CommandRunner add_tracker_command(CLI::App& app);
CommandRunner add_dht_command(CLI::App& app);
CommandRunner add_dht_put_command(CLI::App& app);
CommandRunner add_dht_get_command(CLI::App& app);
CommandRunner add_dht_scrape_command(CLI::App& app);
CommandRunner add_dht_sample_command(CLI::App& app);
CommandRunner add_daemon_command(CLI::App& app);
CommandRunner add_publish_command(CLI::App& app);

}  // namespace shoal::cli
