// Asks one tracker (http, https or udp) how many seeders, leechers and completed downloads a torrent has
// (BEP 48 over HTTP, BEP 15's scrape over UDP).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>

#include "shoal/digest.hpp"
#include "shoal/expected.hpp"
#include "tracker/announce.hpp"

namespace shoal::net {

boost::asio::awaitable<Expected<tracker::ScrapeCounts, std::string>> scrape(std::string url,
                                                                            Sha1Digest info_hash,
                                                                            std::chrono::seconds timeout);

}  // namespace shoal::net
