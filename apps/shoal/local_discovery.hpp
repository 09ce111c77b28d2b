// Local Service Discovery (BEP 14) for `get` and `seed`: the flags, and an LSD service that announces one
// torrent on the local network and hands the peers it hears of to the torrent session, as the DHT and the
// trackers do.
#pragma once

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>

#include "net/lsd_service.hpp"
#include "session/torrent_session.hpp"

namespace shoal::cli {

struct LsdCliOptions {
  bool no_lsd = false;
  std::string interface_address;  // empty: the routing table's choice
};

void add_lsd_options(CLI::App& cmd, LsdCliOptions& lsd);

// Starts LSD for the session's torrent unless switched off or the torrent is private (BEP 27). When LSD
// cannot start, `say` tells why once and nullptr comes back: the transfer goes on without it.
std::unique_ptr<net::LsdService> start_local_discovery(boost::asio::io_context& io,
                                                       const LsdCliOptions& options,
                                                       session::TorrentSession& torrent,
                                                       const std::function<void(const std::string&)>& say,
                                                       bool verbose);

}  // namespace shoal::cli
