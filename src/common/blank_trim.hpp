// Header and field values in text protocols (HTTP, LSD) are padded with spaces and tabs ("optional
// whitespace"): the value is what lies between them.
#pragma once

#include <string_view>

namespace shoal {

inline std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

}  // namespace shoal
