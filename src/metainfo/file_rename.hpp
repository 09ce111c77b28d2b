// Renaming a file or folder of a torrent (Transmission's torrent-rename-path, libtorrent's rename_file):
// which files a rename touches and where they go. Pure: the session moves the data on disk and then applies
// the new paths to its TorrentInfo; the renames are kept as per-file paths (file index -> path) so they
// survive a restart and are applied again to the metainfo, which itself never changes (the info-hash stays).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "metainfo/torrent_info.hpp"
#include "shoal/expected.hpp"

namespace shoal::metainfo {

struct RenamePlan {
  std::string from;  // the path renamed, '/'-separated, relative to the save path (a file or a folder)
  std::string to;    // its new path: `from` with its last component replaced
  std::vector<std::pair<std::size_t, std::string>> files;  // each file moved and its new path
  bool renames_root = false;  // `from` is the torrent's top name: the torrent's name changes too
};

// Plans renaming `path` (a file's whole path, or a folder every file below it shares; the torrent's name for
// its top folder or single file) to `new_name` (one path component). Errors, as text for the user: no such
// file or folder in the torrent; a name that is empty, ".", "..", holds '/' or would be changed by the path
// sanitizer (control characters, reserved names, over-long); or a new path another file of the torrent
// already uses or lives under.
Expected<RenamePlan, std::string> plan_rename(const TorrentInfo& info, std::string_view path,
                                              std::string_view new_name);

// Applies a plan to the torrent's file list (and name); the plan must come from plan_rename on this info.
void apply_rename(TorrentInfo& info, const RenamePlan& plan);

// Applies stored per-file paths (from earlier renames) to a freshly parsed torrent. Each path is checked as
// the parser checks the torrent's own: an index out of range, or a path with a component the sanitizer would
// change (or "..", or an absolute path) or that another file already has, is skipped and named in the
// returned list, never applied.
std::vector<std::string> apply_file_paths(TorrentInfo& info, const std::map<int, std::string>& paths);

}  // namespace shoal::metainfo
