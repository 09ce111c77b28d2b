// The Ed25519 key files of dht-put and publish: the 32-byte seed, raw, readable by its owner only. Beside a
// publisher's key, a small state file remembers the last sequence number it stored, so that a restart never
// publishes a lower one (nodes would keep the old version).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "shoal/expected.hpp"

namespace shoal::cli {

// Missing: a new random seed, written with mode 0600. Present: refused when others may read or write it
// (mode & 077, as ssh does: a seed others can read is a key others can sign with).
Expected<std::string, std::string> load_or_create_key_seed(const std::string& path);

// "<key file>.seq": one decimal number. Absent or unreadable: nullopt.
std::optional<std::int64_t> read_stored_seq(const std::string& key_path);
// Written to a temporary file and renamed over the old one: a crash leaves the old or the new number.
Expected<void, std::string> write_stored_seq(const std::string& key_path, std::int64_t seq);

}  // namespace shoal::cli
