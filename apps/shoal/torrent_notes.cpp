#include "torrent_notes.hpp"

#include <fmt/core.h>

#include <algorithm>

#include "metainfo/path_sanitizer.hpp"
#include "shoal/terminal_text.hpp"

namespace shoal::cli {
namespace {

constexpr std::size_t kExamples = 3;
constexpr std::size_t kShownOriginalBytes = 72;

}  // namespace

std::string abbreviate_for_terminal(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return escape_for_terminal(text);
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80)
    --end;  // not inside a UTF-8 sequence
  return escape_for_terminal(text.substr(0, end)) + "...";
}

void print_torrent_notes(std::string_view command, const metainfo::TorrentInfo& info) {
  std::vector<ShortenedName> names;
  for (const auto& n : info.shortened_names)
    names.push_back({n.original, n.used});
  print_torrent_notes(command, names);
}

void print_torrent_notes(std::string_view command, const std::vector<ShortenedName>& names) {
  if (names.empty()) return;
  fmt::print(
      stderr,
      "{}: note: {} name{} in this torrent {} longer than {} bytes, too long for a file name; shortened "
      "(a hash of the original keeps them apart):\n",
      command, names.size(), names.size() == 1 ? "" : "s", names.size() == 1 ? "is" : "are",
      metainfo::kMaxComponentBytes);
  for (std::size_t i = 0; i < std::min(names.size(), kExamples); ++i) {
    fmt::print(stderr, "  {} ({} bytes)\n    -> {}\n",
               abbreviate_for_terminal(names[i].original, kShownOriginalBytes), names[i].original.size(),
               escape_for_terminal(names[i].used));
  }
  if (names.size() > kExamples) fmt::print(stderr, "  and {} more\n", names.size() - kExamples);
}

}  // namespace shoal::cli
