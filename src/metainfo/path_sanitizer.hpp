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
//  - components longer than kMaxComponentBytes (NAME_MAX: no file system takes more in one name) are cut at a
//    UTF-8 boundary and end in "~" and 8 hex digits of the SHA-1 of the original component, then the
//    extension (up to 16 bytes with its dot): "<first bytes>~1a2b3c4d.mkv". The hash keeps two long names
//    that share their first 240 bytes apart; the caller is told (`shortened`) so the user can be.
// A whole path can still be too long for the file system (PATH_MAX) once joined below a download folder: only
// storage knows that folder, and refuses such a file by name (storage::Errc::path_too_long).
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
  std::string name;        // set when verdict == keep; never empty, ".", ".." or containing '/'
  bool shortened = false;  // cut to kMaxComponentBytes (see above)
};

SanitizedComponent sanitize_component(std::string_view component);

// True when text is well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
bool is_valid_utf8(std::string_view text);

}  // namespace shoal::metainfo
