// The watch directory: .torrent and .magnet files dropped there are added, then renamed so they are not added
// again (NAME.added, or NAME.invalid with the reason in the log). Scanned on a timer by the daemon.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace shoal::daemon {

struct WatchedFile {
  std::filesystem::path path;
  bool magnet = false;  // a .magnet file holds one magnet link
};

// The files to add now, oldest name first. Files still being written (changed in the last second) wait.
std::vector<WatchedFile> scan_watch_dir(const std::filesystem::path& dir);

}  // namespace shoal::daemon
