// BEP 19 (GetRight style) URLs: where each file of a torrent lives on a web seed, and where a redirect
// points. Pure string work.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace shoal::webseed {

// The URL of one file on the web seed `base`. `path` is the file's '/'-separated path as the torrent lists it
// (for a multi-file torrent it starts with the torrent's name).
//  - single-file: `base` itself, or `base` + the escaped name when `base` ends in '/';
//  - multi-file: `base` + '/' (unless it ends in one) + each path component percent-escaped, joined by '/'.
std::string file_url(std::string_view base, std::string_view path, bool multi_file);

// A Location header resolved against the URL that answered: absolute (http/https), host-relative ("/x") or
// relative to the answering URL's directory. nullopt: empty, another scheme, or a URL we cannot read.
std::optional<std::string> resolve_location(std::string_view from_url, std::string_view location);

inline bool is_https(std::string_view url) {
  return url.substr(0, 8) == "https://";
}
inline bool is_http_url(std::string_view url) {
  return url.substr(0, 7) == "http://" || is_https(url);
}

}  // namespace shoal::webseed
