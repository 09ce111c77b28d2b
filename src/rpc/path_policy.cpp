#include "rpc/path_policy.hpp"

#include <algorithm>

namespace shoal::rpc {

namespace {

// weakly_canonical resolves the part that exists (symlinks included) and normalizes the rest lexically.
std::filesystem::path resolve(const std::filesystem::path& p) {
  std::error_code ec;
  auto r = std::filesystem::weakly_canonical(p, ec);
  if (ec) return p.lexically_normal();
  return r;
}

bool is_within(const std::filesystem::path& path, const std::filesystem::path& root) {
  auto p = path.begin();
  for (auto r = root.begin(); r != root.end(); ++r, ++p) {
    if (r->empty()) continue;  // a trailing separator
    if (p == path.end() || *p != *r) return false;
  }
  return true;
}

}  // namespace

PathPolicy::PathPolicy(std::vector<std::filesystem::path> roots) {
  for (auto& r : roots) {
    if (r.empty()) continue;
    roots_.push_back(resolve(std::filesystem::absolute(r)));
  }
}

Expected<std::filesystem::path, std::string> PathPolicy::confine(const std::string& path) const {
  if (path.empty()) return unexpected(std::string("empty path"));
  if (path.find('\0') != std::string::npos) return unexpected(std::string("path holds a NUL byte"));
  std::filesystem::path p(path);
  if (!p.is_absolute()) return unexpected("not an absolute path: " + path);
  auto resolved = resolve(p);
  bool inside =
      std::any_of(roots_.begin(), roots_.end(), [&](const auto& r) { return is_within(resolved, r); });
  if (!inside) return unexpected("path outside the allowed roots: " + path);
  return resolved;
}

}  // namespace shoal::rpc
