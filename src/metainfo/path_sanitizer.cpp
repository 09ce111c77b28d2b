#include "metainfo/path_sanitizer.hpp"

#include <array>
#include <cctype>

#include "common/utf8.hpp"
#include "hash/sha.hpp"

namespace shoal::metainfo {
namespace {

// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is not valid.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  return decode_utf8(text, i).length;
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
