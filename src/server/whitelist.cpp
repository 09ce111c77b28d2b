#include "server/whitelist.hpp"

#include <fstream>

namespace shoal::server {

Expected<Whitelist, std::string> load_whitelist(const std::filesystem::path& file, const hash::SipKey& key) {
  std::ifstream in(file);
  if (!in) return unexpected(file.string() + ": cannot open");
  Whitelist list(0, DigestHash{key});
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    auto last = line.find_last_not_of(" \t\r");
    auto hash = Sha1Digest::from_hex(std::string_view(line).substr(first, last - first + 1));
    if (!hash)
      return unexpected(file.string() + ":" + std::to_string(number) + ": not a 40-digit hex info-hash");
    list.insert(*hash);
  }
  return list;
}

}  // namespace shoal::server
