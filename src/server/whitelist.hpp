// The tracker's optional info-hash whitelist: a text file of 40-digit hex info-hashes, one per line (blank
// lines and '#' comments allowed), the format opentracker reads too.
#pragma once

#include <filesystem>
#include <string>
#include <unordered_set>

#include "shoal/digest.hpp"
#include "shoal/expected.hpp"

namespace shoal::server {

struct DigestHash {
  std::size_t operator()(const Sha1Digest& d) const noexcept {
    std::size_t h;
    __builtin_memcpy(&h, d.bytes.data(), sizeof h);
    return h;
  }
};
using Whitelist = std::unordered_set<Sha1Digest, DigestHash>;

// Errors name the file and the first bad line.
Expected<Whitelist, std::string> load_whitelist(const std::filesystem::path& file);

}  // namespace shoal::server
