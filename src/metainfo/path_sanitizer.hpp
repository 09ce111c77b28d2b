// Turns untrusted path components from a torrent into names that are safe to create under the download
// folder.
//
// Rules (a torrent can never name a path outside its download folder):
//  - "" and "." components are dropped; ".." rejects the torrent (it can only be hostile);
//  - '/' and '\' inside a component, NUL and other control characters, and bytes that are not valid UTF-8
//    become '_' (so no component can act as a separator, an absolute path or a drive prefix);
//  - trailing dots and spaces are trimmed (Windows strips them silently, which could merge two names);
//  - names reserved on Windows (CON, PRN, AUX, NUL, COM1-9, LPT1-9, with or without extension) get a '_'
//  prefix;
//  - components longer than kMaxComponentBytes are cut at a UTF-8 boundary, keeping a short extension.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace shoal::metainfo {

inline constexpr std::size_t kMaxComponentBytes = 255;

enum class ComponentVerdict { keep, drop, reject };

struct SanitizedComponent {
  ComponentVerdict verdict = ComponentVerdict::keep;
  std::string name;  // set when verdict == keep; never empty, ".", ".." or containing '/'
};

SanitizedComponent sanitize_component(std::string_view component);

// True when text is well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
bool is_valid_utf8(std::string_view text);

}  // namespace shoal::metainfo
