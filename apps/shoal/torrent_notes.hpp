// What a user should hear once about how a torrent lands on disk, before any work starts.
#pragma once

#include <string>
#include <string_view>

#include "metainfo/torrent_info.hpp"
#include "shoal/torrent_file.hpp"

namespace shoal::cli {

// On stderr, once: names longer than the file system allows were shortened (path_sanitizer.hpp), with a few
// examples of what became what. Prints nothing for an ordinary torrent.
void print_torrent_notes(std::string_view command, const metainfo::TorrentInfo& info);
void print_torrent_notes(std::string_view command, const std::vector<ShortenedName>& names);

// At most max_bytes of untrusted text for one line of output: cut on a UTF-8 boundary, escaped for the
// terminal, "..." when cut.
std::string abbreviate_for_terminal(std::string_view text, std::size_t max_bytes);

}  // namespace shoal::cli
