#include <fmt/core.h>

#include "commands.hpp"

namespace shoal::cli {

CommandRunner add_info_command(CLI::App& app) {
  app.add_subcommand("info", "info (not yet implemented)");
  return [] {
    fmt::print(stderr, "shoal info: not yet implemented\n");
    return 2;
  };
}

}  // namespace shoal::cli
