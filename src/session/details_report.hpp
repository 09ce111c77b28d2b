// The costly parts of a torrent's state for the public API (TorrentDetails): its connected peers, its
// bitfield and per-piece availability, read from the torrent core on the network thread.
#pragma once

#include <string>

#include "shoal/torrent_details.hpp"
#include "swarm/bitfield.hpp"
#include "torrent/torrent.hpp"

namespace shoal::session {

// The bitfield in the BEP 3 wire layout, as bytes.
std::string bitfield_bytes(const swarm::Bitfield& bits);
// Fills what `query` asks for into `out` (info_hash is left alone).
void fill_details(const torrent::Torrent& core, const DetailsQuery& query, TorrentDetails& out);

}  // namespace shoal::session
