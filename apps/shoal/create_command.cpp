#include <fmt/core.h>

#include "commands.hpp"

namespace shoal::cli {

CommandRunner add_create_command(CLI::App& app) {
  app.add_subcommand("create", "create (not yet implemented)");
  return [] {
    fmt::print(stderr, "shoal create: not yet implemented\n");
    return 2;
  };
}

}  // namespace shoal::cli
