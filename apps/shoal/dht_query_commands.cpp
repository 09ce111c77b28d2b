// shoal dht-scrape and shoal dht-sample: one-shot questions to the DHT. A BEP 33 scrape estimates how many
// seeds and downloaders announced a torrent; a BEP 51 walk collects info-hashes that nodes sample for us.
// Both join read-only (BEP 43): a node that leaves in a minute should not enter anyone's routing table.
#include <fmt/core.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cmath>
#include <memory>
#include <random>
#include <set>

#include "commands.hpp"
#include "magnet/magnet_link.hpp"
#include "metainfo/torrent_info.hpp"
#include "runtime/file_io.hpp"
#include "transfer.hpp"

namespace shoal::cli {
namespace {

namespace asio = boost::asio;

struct DhtQueryOptions {
  std::string subject;  // dht-scrape: a .torrent, a magnet link or a hex info-hash
  std::vector<std::string> bootstrap;
  bool allow_same_ip = false;
  int walks = 8;
  int wait_seconds = 10;
  bool json = false;
};

void add_join_options(CLI::App& cmd, DhtQueryOptions& opt) {
  cmd.add_option("--dht-bootstrap", opt.bootstrap,
                 "Join the DHT through this node (HOST:PORT, repeatable) instead of the public routers");
  cmd.add_flag("--dht-allow-same-ip", opt.allow_same_ip,
               "Keep many DHT nodes of one address (private test networks on one host)");
  cmd.add_option("--wait", opt.wait_seconds, "Seconds to wait for the first DHT nodes (default 10)")
      ->check(CLI::Range(1, 600));
}

net::DhtServiceOptions service_options(const DhtQueryOptions& opt) {
  DhtCliOptions dht;
  dht.bootstrap = opt.bootstrap;
  dht.allow_same_ip = opt.allow_same_ip;
  dht.read_only = true;
  return dht_service_options(dht, {});
}

std::optional<dht::NodeId> info_hash_of(const std::string& subject, std::string& error) {
  if (auto hex = dht::NodeId::from_hex(subject); hex && subject.size() == 40) return hex;
  if (subject.rfind("magnet:", 0) == 0) {
    auto link = magnet::parse_magnet(subject);
    if (!link || !link->btih) {
      error = "not a magnet link with a BitTorrent v1 info-hash";
      return std::nullopt;
    }
    return *link->btih;
  }
  auto bytes = runtime::read_file(subject, 64 * 1024 * 1024);
  if (!bytes) {
    error = subject + ": " + bytes.error().message();
    return std::nullopt;
  }
  auto info = metainfo::parse_torrent(*bytes);
  if (!info) {
    error = subject + ": " + info.error().message();
    return std::nullopt;
  }
  return info->info_hash;
}

// Runs `work` on a DHT node of our own and returns what it returns (exit code), or 1 if the node cannot
// start.
template <class Work>
int with_dht(const char* command, const DhtQueryOptions& opt, Work work) {
  asio::io_context io(1);
  net::DhtService service(io, service_options(opt));
  if (auto port = service.start(); !port) {
    fmt::print(stderr, "shoal {}: {}\n", command, port.error());
    return 1;
  }
  int exit_code = 1;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        exit_code = co_await work(service);
        service.stop();
      },
      asio::detached);
  io.run();
  return exit_code;
}

int run_scrape(const DhtQueryOptions& opt) {
  std::string error;
  auto hash = info_hash_of(opt.subject, error);
  if (!hash) {
    fmt::print(stderr, "shoal dht-scrape: {}\n", error);
    return 1;
  }
  return with_dht("dht-scrape", opt, [&](net::DhtService& service) -> asio::awaitable<int> {
    auto r = co_await service.search(*hash, dht::PeerSearch{std::nullopt, false, true},
                                     std::chrono::seconds(opt.wait_seconds));
    if (service.node().node_count() == 0) {
      fmt::print(stderr, "shoal dht-scrape: no DHT node answered within {} s\n", opt.wait_seconds);
      co_return 2;
    }
    auto seeds = std::lround(r.bloom_seeds.estimate());
    auto downloaders = std::lround(r.bloom_peers.estimate());
    if (opt.json) {
      fmt::print(
          "{{\"info_hash\":\"{}\",\"seeds\":{},\"downloaders\":{},\"peers_listed\":{},\"nodes_replied\":{}}}"
          "\n",
          hash->to_hex(), seeds, downloaders, r.peers.size(), r.scrape_replies);
    } else {
      fmt::print("{}: about {} seeds and {} downloaders ({} peers listed, {} nodes sent counts)\n",
                 hash->to_hex(), seeds, downloaders, r.peers.size(), r.scrape_replies);
    }
    co_return 0;
  });
}

int run_sample(const DhtQueryOptions& opt) {
  return with_dht("dht-sample", opt, [&](net::DhtService& service) -> asio::awaitable<int> {
    std::set<std::string> seen;
    std::random_device rd;
    int queries = 0;
    for (int walk = 0; walk < opt.walks; ++walk) {
      dht::NodeId target;
      for (auto& b : target.bytes)
        b = static_cast<std::uint8_t>(rd());
      auto r = co_await service.sample(target, std::chrono::seconds(opt.wait_seconds));
      queries += r.queries;
      for (const auto& h : r.samples)
        if (seen.insert(h.to_hex()).second) fmt::print("{}\n", h.to_hex());
      std::fflush(stdout);
    }
    if (service.node().node_count() == 0) {
      fmt::print(stderr, "shoal dht-sample: no DHT node answered within {} s\n", opt.wait_seconds);
      co_return 2;
    }
    fmt::print(stderr, "dht-sample: {} info-hashes from {} walks ({} queries)\n", seen.size(), opt.walks,
               queries);
    co_return 0;
  });
}

}  // namespace

CommandRunner add_dht_scrape_command(CLI::App& app) {
  auto opt = std::make_shared<DhtQueryOptions>();
  auto* cmd =
      app.add_subcommand("dht-scrape", "Estimate a torrent's seeds and downloaders from the DHT (BEP 33)");
  cmd->add_option("torrent", opt->subject, "A .torrent file, a magnet link or a 40-digit hex info-hash")
      ->required();
  cmd->add_flag("--json", opt->json, "Print one JSON object");
  add_join_options(*cmd, *opt);
  return [opt] { return run_scrape(*opt); };
}

CommandRunner add_dht_sample_command(CLI::App& app) {
  auto opt = std::make_shared<DhtQueryOptions>();
  auto* cmd = app.add_subcommand("dht-sample", "List info-hashes that DHT nodes store (BEP 51 sampling)");
  cmd->add_option("--walks", opt->walks, "Walks towards random ids (default 8)")->check(CLI::Range(1, 10000));
  add_join_options(*cmd, *opt);
  return [opt] { return run_sample(*opt); };
}

}  // namespace shoal::cli
