// shoal dht-scrape and shoal dht-sample: one-shot questions to the DHT. A BEP 33 scrape estimates how many
// seeds and downloaders announced a torrent; a BEP 51 walk collects info-hashes that nodes sample for us.
// Both run on the one-shot node of dht_one_shot.hpp.
#include <fmt/core.h>

#include <boost/asio/use_awaitable.hpp>
#include <cmath>
#include <memory>
#include <random>
#include <set>

#include "commands.hpp"
#include "dht_one_shot.hpp"
#include "magnet/magnet_link.hpp"
#include "metainfo/torrent_info.hpp"
#include "runtime/file_io.hpp"

namespace shoal::cli {
namespace {

namespace asio = boost::asio;

struct DhtQueryOptions {
  OneShotDhtOptions common;
  std::string subject;  // dht-scrape: a .torrent, a magnet link or a hex info-hash
  int walks = 8;
  bool json = false;
};

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

int run_scrape(const DhtQueryOptions& opt) {
  std::string error;
  auto hash = info_hash_of(opt.subject, error);
  if (!hash) {
    fmt::print(stderr, "shoal dht-scrape: {}\n", error);
    return 1;
  }
  return run_on_one_shot_dht("dht-scrape", opt.common, [&](net::DhtService& service) -> asio::awaitable<int> {
    auto r =
        co_await service.search(*hash, dht::PeerSearch{std::nullopt, false, true}, opt.common.join_wait());
    if (service.node().node_count() == 0) {
      fmt::print(stderr, "shoal dht-scrape: no DHT node answered\n");
      co_return kDhtNothingFound;
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
  return run_on_one_shot_dht("dht-sample", opt.common, [&](net::DhtService& service) -> asio::awaitable<int> {
    std::set<std::string> seen;
    std::random_device rd;
    int queries = 0;
    for (int walk = 0; walk < opt.walks; ++walk) {
      dht::NodeId target;
      for (auto& b : target.bytes)
        b = static_cast<std::uint8_t>(rd());
      auto r = co_await service.sample(target, opt.common.join_wait());
      queries += r.queries;
      for (const auto& h : r.samples)
        if (seen.insert(h.to_hex()).second) fmt::print("{}\n", h.to_hex());
      std::fflush(stdout);
    }
    if (service.node().node_count() == 0) {
      fmt::print(stderr, "shoal dht-sample: no DHT node answered\n");
      co_return kDhtNothingFound;
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
  add_one_shot_dht_options(*cmd, opt->common);
  return [opt] { return run_scrape(*opt); };
}

CommandRunner add_dht_sample_command(CLI::App& app) {
  auto opt = std::make_shared<DhtQueryOptions>();
  auto* cmd = app.add_subcommand("dht-sample", "List info-hashes that DHT nodes store (BEP 51 sampling)");
  cmd->add_option("--walks", opt->walks, "Walks towards random ids (default 8)")->check(CLI::Range(1, 10000));
  opt->common.timeout_seconds = 60;  // several walks
  add_one_shot_dht_options(*cmd, opt->common);
  return [opt] { return run_sample(*opt); };
}

}  // namespace shoal::cli
