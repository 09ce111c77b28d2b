#include "rpc/static_files.hpp"

#include <map>

namespace shoal::rpc {

namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size() || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) return std::nullopt;
    out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
    i += 2;
  }
  return out;
}

}  // namespace

std::optional<std::filesystem::path> static_file(const std::filesystem::path& web_root,
                                                 std::string_view target) {
  auto query = target.find_first_of("?#");
  auto path = percent_decode(target.substr(0, query));
  if (!path || path->empty() || path->front() != '/' || path->find('\0') != std::string::npos)
    return std::nullopt;
  constexpr std::string_view kTransmissionWeb = "/transmission/web";
  if (path->rfind(kTransmissionWeb, 0) == 0) path->erase(0, kTransmissionWeb.size());
  // Every segment must be a plain name: no "..", no ".", no empty segment beyond a trailing slash.
  std::filesystem::path relative;
  std::size_t start = 1;
  while (start <= path->size()) {
    auto end = path->find('/', start);
    auto segment = path->substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (segment == ".." || segment == ".") return std::nullopt;
    if (!segment.empty()) relative /= segment;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  std::error_code ec;
  auto root = std::filesystem::canonical(web_root, ec);
  if (ec) return std::nullopt;
  auto file = root / relative;
  if (std::filesystem::is_directory(file, ec)) file /= "index.html";
  auto real = std::filesystem::canonical(file, ec);
  if (ec || !std::filesystem::is_regular_file(real, ec)) return std::nullopt;
  // A symlink inside the root may point anywhere: the resolved file must still be below the root.
  auto r = root.begin();
  auto f = real.begin();
  for (; r != root.end(); ++r, ++f) {
    if (f == real.end() || *r != *f) return std::nullopt;
  }
  return real;
}

std::string content_type(const std::filesystem::path& file) {
  static const std::map<std::string, std::string> kTypes = {{".html", "text/html; charset=utf-8"},
                                                            {".htm", "text/html; charset=utf-8"},
                                                            {".js", "text/javascript; charset=utf-8"},
                                                            {".mjs", "text/javascript; charset=utf-8"},
                                                            {".css", "text/css; charset=utf-8"},
                                                            {".json", "application/json"},
                                                            {".png", "image/png"},
                                                            {".jpg", "image/jpeg"},
                                                            {".gif", "image/gif"},
                                                            {".svg", "image/svg+xml"},
                                                            {".ico", "image/x-icon"},
                                                            {".woff", "font/woff"},
                                                            {".woff2", "font/woff2"},
                                                            {".txt", "text/plain; charset=utf-8"},
                                                            {".map", "application/json"},
                                                            {".webmanifest", "application/manifest+json"}};
  auto it = kTypes.find(file.extension().string());
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

}  // namespace shoal::rpc
