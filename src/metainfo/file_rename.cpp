#include "metainfo/file_rename.hpp"

#include <set>

#include "metainfo/path_sanitizer.hpp"

namespace shoal::metainfo {
namespace {

// A component is acceptable only if the sanitizer keeps it exactly as given: a rename must not be a way to
// create a name the parser would never have let a torrent have.
bool is_clean_component(std::string_view c) {
  auto s = sanitize_component(c);
  return s.verdict == ComponentVerdict::keep && s.name == c && !s.shortened;
}

bool is_clean_path(std::string_view path) {
  if (path.empty()) return false;
  std::size_t depth = 0;
  for (std::size_t begin = 0;;) {
    auto end = path.find('/', begin);
    auto c = path.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin);
    if (!is_clean_component(c) || ++depth > kMaxPathDepth) return false;
    if (end == std::string_view::npos) return true;
    begin = end + 1;
  }
}

// `path` is `prefix` itself or lies below it.
bool is_at_or_below(std::string_view path, std::string_view prefix) {
  return path == prefix || (path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix &&
                            path[prefix.size()] == '/');
}

void refresh_name(TorrentInfo& info) {
  if (info.files.empty()) return;
  // A multi-file torrent's paths all start with its name (its top folder); a single file's path is its name.
  const auto& first = info.files.front().path;
  info.name = first.substr(0, first.find('/'));
}

}  // namespace

Expected<RenamePlan, std::string> plan_rename(const TorrentInfo& info, std::string_view path,
                                              std::string_view new_name) {
  while (!path.empty() && path.back() == '/')
    path.remove_suffix(1);
  if (path.empty()) return unexpected(std::string("no path given to rename"));
  if (new_name.empty() || new_name.find('/') != std::string_view::npos || !is_clean_component(new_name))
    return unexpected("'" + std::string(new_name) + "' is not a valid file name");
  RenamePlan plan;
  plan.from = path;
  auto slash = plan.from.rfind('/');
  plan.to =
      (slash == std::string::npos ? std::string() : plan.from.substr(0, slash + 1)) + std::string(new_name);
  plan.renames_root = slash == std::string::npos;
  if (plan.to == plan.from) return unexpected("'" + plan.from + "' already has that name");
  for (std::size_t i = 0; i < info.files.size(); ++i) {
    const auto& p = info.files[i].path;
    if (is_at_or_below(p, plan.from)) {
      plan.files.emplace_back(i, plan.to + p.substr(plan.from.size()));
    } else if (is_at_or_below(p, plan.to)) {
      return unexpected("'" + plan.to + "' is already a file or folder of this torrent");
    }
  }
  if (plan.files.empty()) return unexpected("the torrent has no file or folder '" + plan.from + "'");
  return plan;
}

void apply_rename(TorrentInfo& info, const RenamePlan& plan) {
  for (const auto& [index, path] : plan.files) {
    if (index >= info.files.size()) continue;
    auto& file = info.files[index];
    if (file.torrent_path.empty()) file.torrent_path = file.path;
    file.path = path;
  }
  if (plan.renames_root) refresh_name(info);
}

std::vector<std::string> apply_file_paths(TorrentInfo& info, const std::map<int, std::string>& paths) {
  std::vector<std::string> skipped;
  std::set<std::string> taken;
  for (const auto& f : info.files)
    taken.insert(f.path);
  for (const auto& [index, path] : paths) {
    if (index < 0 || static_cast<std::size_t>(index) >= info.files.size() || !is_clean_path(path) ||
        taken.count(path)) {
      skipped.push_back(std::to_string(index) + " -> " + path);
      continue;
    }
    auto& file = info.files[static_cast<std::size_t>(index)];
    taken.erase(file.path);
    taken.insert(path);
    if (file.torrent_path.empty()) file.torrent_path = file.path;
    file.path = path;
  }
  refresh_name(info);
  return skipped;
}

}  // namespace shoal::metainfo
