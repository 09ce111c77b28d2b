// shoal get FILE.torrent: downloads from many peers at once, verifies every piece, optionally keeps seeding.
#include <fmt/core.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include "commands.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include "magnet/magnet_link.hpp"
#include "metainfo/torrent_info.hpp"

#include "net/dht_service.hpp"
#include "runtime/file_io.hpp"
#include "session/metadata_fetch.hpp"
#include "shoal/terminal_text.hpp"
#include "transfer.hpp"

namespace shoal::cli {
namespace {

constexpr std::size_t kMaxTorrentFileSize = 64 * 1024 * 1024;

struct GetOptions {
  std::string input;
  std::string output = ".";
  std::uint16_t port = 0;
  std::string listen = "::";
  std::vector<std::string> peers;
  bool seed = false;
  std::optional<double> seed_ratio;
  bool sequential = false;
  std::vector<std::string> only;
  std::string max_down = "0";
  std::string max_up = "0";
  bool no_trackers = false;
  bool quiet = false;
  bool verbose = false;
  int upload_slots = 8;
  bool all_tiers = false;
  DhtCliOptions dht;
  LsdCliOptions lsd;
  int max_connections = 80;
};

// A magnet link: metadata comes from the x.pe peers (and --peer ones) over ut_metadata, checked against the
// info-hash; the link's trackers become the torrent's.
Expected<metainfo::TorrentInfo, std::string> info_from_magnet(const std::string& uri,
                                                              std::vector<Endpoint>& peers, bool quiet,
                                                              const DhtCliOptions& dht) {
  auto link = magnet::parse_magnet(uri);
  if (!link) return unexpected("invalid magnet link: " + link.error().message());
  if (!link->btih) return unexpected(std::string("v2-only magnet links are not supported yet"));
  for (const auto& p : link->peers) {
    if (auto e = Endpoint::parse(p)) peers.push_back(*e);
  }
  if (peers.empty() && !dht.no_dht) {
    // No peer named: ask the DHT who has it.
    if (!quiet) fmt::print(stderr, "get: looking up {} in the DHT\n", link->btih->to_hex());
    boost::asio::io_context io(1);
    net::DhtService service(io, dht_service_options(dht, {}));
    if (auto port = service.start(); !port) return unexpected(port.error());
    bool nobody_answered = false;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          // A swarm may be announcing itself just now: ask again every couple of seconds for up to a minute.
          boost::asio::steady_timer pause(io);
          for (int round = 0; round < 30 && peers.empty(); ++round) {
            if (round > 0) {
              pause.expires_after(std::chrono::seconds(2));
              co_await pause.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
            }
            peers = co_await service.lookup(*link->btih, std::nullopt, std::chrono::seconds(10));
            if (service.node().node_count() == 0) {
              nobody_answered = true;  // no network, or every bootstrap node is down: asking again won't help
              break;
            }
          }
          service.stop();
        },
        boost::asio::detached);
    io.run();
    if (nobody_answered) {
      return unexpected(std::string("no DHT node answered within 10 s (") +
                        (dht.bootstrap.empty() ? "public routers" : "--dht-bootstrap nodes") +
                        " unreachable?); give x.pe in the link or --peer");
    }
  }
  if (peers.empty()) {
    return unexpected(std::string(
        dht.no_dht ? "no peer to fetch metadata from: give x.pe in the link or --peer, or leave the DHT on"
                   : "no peer found for this magnet link (DHT searched for a minute)"));
  }
  if (!quiet)
    fmt::print(stderr, "get: fetching metadata for {} from {} peer(s)\n", link->btih->to_hex(), peers.size());
  boost::asio::io_context io(1);
  std::optional<Expected<metainfo::TorrentInfo, std::string>> result;
  auto fetch = [&]() -> boost::asio::awaitable<void> {
    result.emplace(co_await session::fetch_metadata(*link->btih, peers, std::chrono::seconds(20)));
  };
  boost::asio::co_spawn(io, fetch(), boost::asio::detached);
  io.run();
  if (!result || !*result) return unexpected(result ? result->error() : std::string("metadata fetch failed"));
  auto info = std::move(**result);
  for (const auto& t : link->trackers)
    info.trackers.push_back({t});
  return info;
}

int run_get(const GetOptions& opt) {
  auto fail = [](const std::string& message) {
    fmt::print(stderr, "shoal get: {}\n", escape_for_terminal(message));
    return 1;
  };
  TransferRequest request;
  request.command = "get";
  if (auto err = parse_peers(opt.peers, request.options.peers)) return fail(*err);
  if (opt.input.rfind("magnet:", 0) == 0) {
    auto info = info_from_magnet(opt.input, request.options.peers, opt.quiet, opt.dht);
    if (!info) return fail(info.error());
    request.info = std::move(*info);
  } else {
    auto bytes = runtime::read_file(opt.input, kMaxTorrentFileSize);
    if (!bytes) return fail(opt.input + ": " + bytes.error().message());
    auto info = metainfo::parse_torrent(*bytes);
    if (!info) return fail(opt.input + ": " + info.error().message());
    request.info = std::move(*info);
  }
  request.options.save_dir = opt.output;
  request.options.listen_address = opt.listen;
  request.options.listen_port = opt.port;
  request.options.use_trackers = !opt.no_trackers;
  request.options.seed_when_complete = opt.seed || opt.seed_ratio.has_value();
  request.options.seed_ratio = opt.seed_ratio;
  request.options.sequential = opt.sequential;
  request.options.only = opt.only;
  request.options.announce_to_all_tiers = opt.all_tiers;
  request.dht = opt.dht;
  request.lsd = opt.lsd;
  request.options.upload_slots = opt.upload_slots;
  request.options.max_connections = opt.max_connections;
  auto down = parse_rate(opt.max_down);
  auto up = parse_rate(opt.max_up);
  if (!down) return fail("invalid --max-down '" + opt.max_down + "' (e.g. 10M, 512K)");
  if (!up) return fail("invalid --max-up '" + opt.max_up + "' (e.g. 10M, 512K)");
  request.options.max_download_rate = *down;
  request.options.max_upload_rate = *up;
  request.exit_when_complete = !request.options.seed_when_complete;
  request.quiet = opt.quiet;
  request.verbose = opt.verbose;
  return run_transfer(std::move(request));
}

}  // namespace

CommandRunner add_get_command(CLI::App& app) {
  auto opt = std::make_shared<GetOptions>();
  auto* cmd = app.add_subcommand("get", "Download a torrent, verifying every piece");
  cmd->add_option("torrent", opt->input, "A .torrent file or a magnet link")->required();
  cmd->add_option("-o,--output", opt->output, "Download folder (default: current directory)");
  cmd->add_option("--port", opt->port, "Listen port (default: any free port)");
  cmd->add_option("--listen", opt->listen,
                  "Listen address (default: :: = IPv6 and IPv4, or 0.0.0.0 where there is no IPv6)");
  cmd->add_option("--peer", opt->peers, "Connect to this peer too (IP:PORT, repeatable)");
  cmd->add_flag("--seed", opt->seed, "Keep seeding after the download completes (until Ctrl-C)");
  cmd->add_option("--seed-ratio", opt->seed_ratio, "Seed until uploaded = RATIO x size, then exit");
  cmd->add_flag("--sequential", opt->sequential, "Download pieces in order (for streaming)");
  cmd->add_option("--only", opt->only, "Download only files matching this glob (repeatable)");
  cmd->add_option("--max-down", opt->max_down, "Download rate limit, e.g. 10M (bytes/s)");
  cmd->add_option("--max-up", opt->max_up, "Upload rate limit, e.g. 1M (bytes/s)");
  cmd->add_flag("--no-trackers", opt->no_trackers, "Do not announce to the torrent's trackers");
  add_dht_options(*cmd, opt->dht);
  add_lsd_options(*cmd, opt->lsd);
  cmd->add_flag("--announce-all-tiers", opt->all_tiers,
                "Announce to one tracker of every tier, not just the first tier that answers (BEP 12)");
  cmd->add_flag("-q,--quiet", opt->quiet, "No progress output");
  cmd->add_flag("-v,--verbose", opt->verbose, "Log connections and why they close");
  cmd->add_option("--upload-slots", opt->upload_slots, "Peers unchoked at once (default 8)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--max-connections", opt->max_connections, "Peer connections at most (default 80)")
      ->check(CLI::Range(1, 10000));
  return [opt] { return run_get(*opt); };
}

}  // namespace shoal::cli
