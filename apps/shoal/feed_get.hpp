// shoal get 'magnet:?xs=urn:btpk:<key>[&s=<salt hex>]' [--follow]: a BEP 46 feed. The key's DHT item names
// the current info-hash; that torrent is downloaded into the output folder. With --follow the item is polled
// again and again, and each newer version is downloaded into the same folder: added on the same save path,
// its check finds the pieces of files that did not change, so only changed pieces travel.
#pragma once

#include <chrono>
#include <string>

#include "shoal/add_torrent_params.hpp"
#include "transfer.hpp"

namespace shoal::cli {

struct FeedGetRequest {
  TransferRequest transfer;   // settings, quiet and verbose
  AddTorrentParams defaults;  // save path, limits, peers, seeding
  std::string public_key;     // 64 hex digits
  std::string salt;           // raw
  bool follow = false;
  std::chrono::seconds poll_interval{300};
};

// Exit code: without --follow 0 once the current version is verified on disk; with it, runs until Ctrl-C
// (0) or a torrent fails (1).
int run_feed_get(const FeedGetRequest& request);

}  // namespace shoal::cli
