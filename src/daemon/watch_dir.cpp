#include "daemon/watch_dir.hpp"

#include <algorithm>

namespace shoal::daemon {

std::vector<WatchedFile> scan_watch_dir(const std::filesystem::path& dir) {
  std::vector<WatchedFile> out;
  std::error_code ec;
  auto now = std::filesystem::file_time_type::clock::now();
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    auto ext = it->path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext != ".torrent" && ext != ".magnet") continue;
    auto mtime = it->last_write_time(ec);
    if (ec || now - mtime < std::chrono::seconds(1)) continue;
    out.push_back({it->path(), ext == ".magnet"});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return out;
}

}  // namespace shoal::daemon
