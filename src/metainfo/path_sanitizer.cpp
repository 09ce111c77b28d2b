#include "metainfo/path_sanitizer.hpp"

#include <array>
#include <cctype>

#include "hash/sha.hpp"

namespace shoal::metainfo {
namespace {

// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is not valid.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if ((b0 & 0xe0) == 0xc0) {
    n = 2;
    cp = b0 & 0x1fu;
  } else if ((b0 & 0xf0) == 0xe0) {
    n = 3;
    cp = b0 & 0x0fu;
  } else if ((b0 & 0xf8) == 0xf0) {
    n = 4;
    cp = b0 & 0x07u;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    unsigned char b = byte(i + k);
    if ((b & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3fu);
  }
  static constexpr std::array<std::uint32_t, 5> kMinForLength = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

bool is_reserved_windows_name(std::string_view name) {
  std::string base(name.substr(0, name.find('.')));
  for (auto& c : base)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (base == "CON" || base == "PRN" || base == "AUX" || base == "NUL") return true;
  if (base.size() == 4 && (base.starts_with("COM") || base.starts_with("LPT")) && base[3] >= '1' &&
      base[3] <= '9') {
    return true;
  }
  return false;
}

// Cuts name to at most limit bytes without splitting a UTF-8 sequence (name is valid UTF-8 here).
std::string cut_utf8(std::string_view name, std::size_t limit) {
  std::size_t end = 0;
  while (end < name.size()) {
    std::size_t n = utf8_sequence_length(name, end);
    if (n == 0) n = 1;
    if (end + n > limit) break;
    end += n;
  }
  return std::string(name.substr(0, end));
}

// name: the sanitized component; original: the bytes the torrent gave, whose hash tells apart long names that
// share their first bytes (and extension).
std::string shorten(const std::string& name, std::string_view original) {
  constexpr std::size_t kMaxKeptExtension = 16;  // with the dot: ".tar.gz", ".webm", not a whole tail
  constexpr std::size_t kHashHexDigits = 8;
  std::string tag = "~" + hash::sha1(original).to_hex().substr(0, kHashHexDigits);
  std::string ext;
  auto dot = name.rfind('.');
  if (dot != std::string::npos && dot > 0 && name.size() - dot <= kMaxKeptExtension) ext = name.substr(dot);
  return cut_utf8(name.substr(0, name.size() - ext.size()), kMaxComponentBytes - tag.size() - ext.size()) +
         tag + ext;
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = utf8_sequence_length(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

SanitizedComponent sanitize_component(std::string_view component) {
  if (component.empty() || component == ".") return {ComponentVerdict::drop, {}};
  if (component == "..") return {ComponentVerdict::reject, {}};

  std::string out;
  out.reserve(component.size());
  for (std::size_t i = 0; i < component.size();) {
    std::size_t n = utf8_sequence_length(component, i);
    if (n == 0) {
      out.push_back('_');
      ++i;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(component[i]);
    if (n == 1 && (c < 0x20 || c == 0x7f || c == '/' || c == '\\')) {
      out.push_back('_');
    } else {
      out.append(component.substr(i, n));
    }
    i += n;
  }
  while (!out.empty() && (out.back() == '.' || out.back() == ' '))
    out.pop_back();
  if (out.empty()) out = "_";
  if (is_reserved_windows_name(out)) out.insert(out.begin(), '_');
  if (out.size() <= kMaxComponentBytes) return {ComponentVerdict::keep, std::move(out)};
  return {ComponentVerdict::keep, shorten(out, component), true};
}

}  // namespace shoal::metainfo
