// Static files for the web UIs (Shoal's own, or Transmission's web client pointed at with --web-root): a
// request path mapped into the web root, never outside it, with its content type.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace shoal::rpc {

// The file a request path names below `web_root` ("/" and directories give their index.html), or nullopt
// for a path that leaves the root (.., symlinks out, NUL, percent-encoded tricks) or names nothing.
// `/transmission/web/...` maps to the same files as `/...`: Transmission's web client lives there.
std::optional<std::filesystem::path> static_file(const std::filesystem::path& web_root,
                                                 std::string_view target);
std::string content_type(const std::filesystem::path& file);

}  // namespace shoal::rpc
