// Fetching a torrent's info dictionary from peers (BEP 9 ut_metadata), for magnet links.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "metainfo/torrent_info.hpp"
#include "shoal/digest.hpp"
#include "shoal/endpoint.hpp"
#include "shoal/expected.hpp"

namespace shoal::session {

// Tries each peer in turn until one delivers metadata that hashes to info_hash; a peer whose metadata does
// not match, or that declares a size above the cap, is dropped and the next one asked.
boost::asio::awaitable<Expected<metainfo::TorrentInfo, std::string>> fetch_metadata(
    Sha1Digest info_hash, std::vector<Endpoint> peers, std::chrono::seconds timeout_per_peer);

}  // namespace shoal::session
