#include "webseed/web_seed_url.hpp"

#include "magnet/uri_codec.hpp"

namespace shoal::webseed {

std::string file_url(std::string_view base, std::string_view path, bool multi_file) {
  std::string url(base);
  bool slash = !url.empty() && url.back() == '/';
  if (!multi_file) {
    if (slash) url += magnet::percent_encode(path);
    return url;
  }
  if (!slash) url += '/';
  // Each component escaped on its own: a '/' inside a name cannot occur (the parser refuses it), and the
  // separators between components must stay.
  std::size_t start = 0;
  for (;;) {
    auto end = path.find('/', start);
    url += magnet::percent_encode(path.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    url += '/';
    start = end + 1;
  }
  return url;
}

std::optional<std::string> resolve_location(std::string_view from_url, std::string_view location) {
  if (location.empty()) return std::nullopt;
  if (is_http_url(location)) return std::string(location);
  if (location.find("://") != std::string_view::npos) return std::nullopt;  // ftp://, file://...
  if (!is_http_url(from_url)) return std::nullopt;
  auto authority_start = from_url.find("://") + 3;
  auto path_start = from_url.find('/', authority_start);
  std::string_view origin = from_url.substr(0, path_start);
  if (location.substr(0, 2) == "//")
    return std::string(from_url.substr(0, authority_start - 2)) + std::string(location);
  if (location.front() == '/') return std::string(origin) + std::string(location);
  // Relative to the directory of the answering URL (its query left out).
  std::string_view path = path_start == std::string_view::npos ? "/" : from_url.substr(path_start);
  path = path.substr(0, path.find('?'));
  return std::string(origin) + std::string(path.substr(0, path.rfind('/') + 1)) + std::string(location);
}

}  // namespace shoal::webseed
