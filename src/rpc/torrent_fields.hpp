// torrent-get's fields (Transmission RPC spec 17, section 3.3): each one computed from a TorrentView. Pure.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "rpc/backend.hpp"

namespace shoal::rpc {

// Transmission's status numbers (tr_torrent_activity).
enum class TrStatus {
  stopped = 0,
  check_wait = 1,
  check = 2,
  download_wait = 3,
  download = 4,
  seed_wait = 5,
  seed = 6
};
TrStatus tr_status(const TorrentView& t);

// The value of one field, or nullopt for a field Shoal does not know (left out of the answer, as Transmission
// does). `now` is seconds since 1970.
std::optional<nlohmann::json> torrent_field(const TorrentView& t, std::string_view field, std::int64_t now);
// True for fields that need the file list (TorrentQuery::files).
bool field_needs_files(std::string_view field);
// Adds to `query` the parts of TorrentDetails that `field` needs.
void add_details_needed(std::string_view field, DetailsQuery& query);

// Transmission speeds are kB/s of 1000 bytes.
inline constexpr std::int64_t kSpeedUnit = 1000;

}  // namespace shoal::rpc
