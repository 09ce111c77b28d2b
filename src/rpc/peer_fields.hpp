// torrent-get's fields built from TorrentDetails (Transmission RPC spec 17): `peers`, `peersFrom`,
// `peersSendingToUs`, `peersGettingFromUs`, `pieces` and `availability`. Pure.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "rpc/backend.hpp"

namespace shoal::rpc {

// The value of one of the fields above, or nullopt for any other field.
std::optional<nlohmann::json> peer_field(const TorrentView& t, std::string_view field);
// Transmission's flag letters for a peer ("DUEI"...), as transmission-remote -pi prints them.
std::string peer_flags(const PeerInfo& peer);

}  // namespace shoal::rpc
