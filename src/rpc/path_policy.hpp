// Paths that arrive over RPC (download-dir, location, a .torrent's filename, free-space) may only name places
// below the allowed roots from the daemon's config: a remote client must not make the daemon read or write
// anywhere else (~/.ssh, /etc). Symbolic links are resolved before the check, so a link inside a root that
// points outside is refused too.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "shoal/expected.hpp"

namespace shoal::rpc {

class PathPolicy {
 public:
  explicit PathPolicy(std::vector<std::filesystem::path> roots);

  // The path, absolute and normalized, if it lies inside a root (a root itself counts); otherwise why not.
  // Relative paths are refused: the daemon's working directory means nothing to a remote client.
  Expected<std::filesystem::path, std::string> confine(const std::string& path) const;
  const std::vector<std::filesystem::path>& roots() const { return roots_; }

 private:
  std::vector<std::filesystem::path> roots_;  // canonical
};

}  // namespace shoal::rpc
