// The tracker's optional info-hash whitelist: a text file of 40-digit hex info-hashes, one per line (blank
// lines and '#' comments allowed), the format opentracker reads too.
#pragma once

#include <filesystem>
#include <string>
#include <unordered_set>

#include "hash/siphash.hpp"
#include "shoal/digest.hpp"
#include "shoal/expected.hpp"

namespace shoal::server {

// Keyed: a list may hold hashes that share long prefixes (anyone can mint such torrents), and lookups come
// with hashes a remote party chose.
struct DigestHash {
  hash::SipKey key;
  std::size_t operator()(const Sha1Digest& d) const noexcept {
    return static_cast<std::size_t>(hash::siphash24(key, d.bytes));
  }
};
using Whitelist = std::unordered_set<Sha1Digest, DigestHash>;

// Errors name the file and the first bad line. `key`: a secret chosen at start-up.
Expected<Whitelist, std::string> load_whitelist(const std::filesystem::path& file, const hash::SipKey& key);

}  // namespace shoal::server
