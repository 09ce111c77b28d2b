// shoal info FILE.torrent|MAGNET: shows what a torrent or magnet link describes, as text or JSON.
#include <fmt/core.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <string>
#include "net/scrape_client.hpp"

#include "commands.hpp"
#include "magnet/magnet_link.hpp"
#include "metainfo/torrent_info.hpp"
#include "progress.hpp"
#include "runtime/file_io.hpp"
#include "shoal/terminal_text.hpp"
#include "torrent_notes.hpp"

namespace shoal::cli {
namespace {

// Torrent files are small; anything bigger is not a torrent we would load anyway.
constexpr std::size_t kMaxTorrentFileSize = 64 * 1024 * 1024;
// JSON escapes C0 controls but passes DEL and C1 controls (U+0080-U+009F) through; \uXXXX for everything
// beyond ASCII keeps a hostile name from acting on a terminal that shows the JSON, and any JSON reader reads
// the same strings.
constexpr bool kAsciiJson = true;

struct InfoOptions {
  std::string input;
  bool json = false;
  bool scrape = false;
};

magnet::MagnetLink magnet_for(const metainfo::TorrentInfo& info) {
  magnet::MagnetLink link;
  if (info.has_v1()) link.btih = info.info_hash;
  link.btmh = info.info_hash_v2;  // BEP 52: a hybrid's magnet carries both
  link.display_name = info.name;
  for (const auto& tier : info.trackers) {
    for (const auto& url : tier)
      link.trackers.push_back(url);
  }
  link.web_seeds = info.web_seeds;
  return link;
}

std::string format_date(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(unix_seconds);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

using ScrapeResults = std::vector<std::pair<std::string, Expected<tracker::ScrapeCounts, std::string>>>;

// Every tracker asked at once, a few seconds each; a tracker that does not answer is reported, not fatal.
ScrapeResults scrape_trackers(const metainfo::TorrentInfo& info) {
  boost::asio::io_context io;
  ScrapeResults results;
  for (const auto& tier : info.trackers)
    for (const auto& url : tier)
      results.emplace_back(url, unexpected(std::string("no answer")));
  for (std::size_t i = 0; i < results.size(); ++i) {
    boost::asio::co_spawn(
        io,
        [&results, i, hash = info.info_hash]() -> boost::asio::awaitable<void> {
          results[i].second = co_await net::scrape(results[i].first, hash, std::chrono::seconds(10));
        },
        boost::asio::detached);
  }
  io.run();
  return results;
}

nlohmann::json scrape_json(const ScrapeResults& results) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& [url, r] : results) {
    nlohmann::json entry{{"tracker", url}};
    if (r) {
      entry["seeders"] = r->seeders;
      entry["leechers"] = r->leechers;
      entry["completed"] = r->completed;
    } else {
      entry["error"] = r.error();
    }
    j.push_back(entry);
  }
  return j;
}

void print_scrape(const ScrapeResults& results) {
  if (results.empty()) fmt::print("scrape:       no trackers\n");
  for (const auto& [url, r] : results) {
    if (r) {
      fmt::print("scrape:       {}: {} seeders, {} leechers, {} completed\n", escape_for_terminal(url),
                 r->seeders, r->leechers, r->completed);
    } else {
      fmt::print("scrape:       {}: {}\n", escape_for_terminal(url), escape_for_terminal(r.error()));
    }
  }
}

int show_torrent(const metainfo::TorrentInfo& info, bool json, const ScrapeResults* scrape) {
  std::string magnet_uri = magnet::to_uri(magnet_for(info));
  if (json) {
    nlohmann::json j;
    j["name"] = info.name;
    // info_hash: what peers and trackers know it by (v1, or the truncated v2 hash of a v2-only torrent).
    j["info_hash"] = info.info_hash.to_hex();
    j["meta_version"] = metainfo::to_string(info.version);
    if (info.has_v1()) j["info_hash_v1"] = info.info_hash.to_hex();
    if (info.info_hash_v2) j["info_hash_v2"] = info.info_hash_v2->to_hex();
    j["total_size"] = info.total_size;
    j["piece_length"] = info.piece_length;
    j["num_pieces"] = info.num_pieces();
    j["private"] = info.is_private;
    j["multi_file"] = info.multi_file;
    j["files"] = nlohmann::json::array();
    for (const auto& f : info.files) {
      nlohmann::json file{{"path", f.path}, {"length", f.length}, {"offset", f.offset}, {"pad", f.pad}};
      if (f.pieces_root) file["pieces_root"] = f.pieces_root->to_hex();
      j["files"].push_back(std::move(file));
    }
    j["trackers"] = info.trackers;
    j["web_seeds"] = info.web_seeds;
    if (scrape) j["scrape"] = scrape_json(*scrape);
    if (info.creation_date) j["creation_date"] = *info.creation_date;
    j["comment"] = info.comment;
    j["created_by"] = info.created_by;
    j["source"] = info.source;
    j["magnet"] = magnet_uri;
    fmt::print("{}\n", j.dump(2, ' ', kAsciiJson, nlohmann::json::error_handler_t::replace));
    return 0;
  }
  fmt::print("name:         {}\n", escape_for_terminal(info.name));
  if (info.version != metainfo::MetaVersion::v1) {
    fmt::print("version:      {}\n",
               info.version == metainfo::MetaVersion::hybrid ? "hybrid (v1 and v2)" : "v2");
  }
  if (info.has_v1()) fmt::print("info-hash:    {}\n", info.info_hash.to_hex());
  if (info.info_hash_v2) fmt::print("info-hash v2: {}\n", info.info_hash_v2->to_hex());
  fmt::print("size:         {} ({} bytes)\n", format_bytes(info.total_size), info.total_size);
  fmt::print("pieces:       {} x {}\n", info.num_pieces(), format_bytes(info.piece_length));
  fmt::print("private:      {}\n", info.is_private ? "yes" : "no");
  if (info.creation_date) fmt::print("created:      {}\n", format_date(*info.creation_date));
  if (!info.created_by.empty()) fmt::print("created by:   {}\n", escape_for_terminal(info.created_by));
  if (!info.comment.empty()) fmt::print("comment:      {}\n", escape_for_terminal(info.comment));
  if (!info.source.empty()) fmt::print("source:       {}\n", escape_for_terminal(info.source));
  fmt::print("files:        {}\n", info.files.size());
  for (const auto& f : info.files) {
    if (f.pad) continue;
    fmt::print("  {:>12}  {}\n", format_bytes(f.length), escape_for_terminal(f.path));
  }
  if (!info.trackers.empty()) {
    fmt::print("trackers:\n");
    for (std::size_t tier = 0; tier < info.trackers.size(); ++tier) {
      for (const auto& url : info.trackers[tier])
        fmt::print("  tier {}  {}\n", tier, escape_for_terminal(url));
    }
  }
  for (const auto& ws : info.web_seeds)
    fmt::print("web seed:     {}\n", escape_for_terminal(ws));
  fmt::print("magnet:       {}\n", magnet_uri);
  if (scrape) print_scrape(*scrape);
  return 0;
}

int show_magnet(const magnet::MagnetLink& link, bool json) {
  if (json) {
    nlohmann::json j;
    j["name"] = link.display_name;
    if (link.btih) j["info_hash"] = link.btih->to_hex();
    if (link.btmh) j["info_hash_v2"] = link.btmh->to_hex();
    if (link.btpk) j["public_key"] = link.btpk->to_hex();
    if (!link.salt.empty()) j["salt"] = link.salt;
    j["trackers"] = link.trackers;
    j["web_seeds"] = link.web_seeds;
    j["peers"] = link.peers;
    j["magnet"] = magnet::to_uri(link);
    fmt::print("{}\n", j.dump(2, ' ', kAsciiJson, nlohmann::json::error_handler_t::replace));
    return 0;
  }
  if (!link.display_name.empty()) fmt::print("name:         {}\n", escape_for_terminal(link.display_name));
  if (link.btih) fmt::print("info-hash:    {}\n", link.btih->to_hex());
  if (link.btmh) fmt::print("info-hash v2: {}\n", link.btmh->to_hex());
  if (link.btpk) fmt::print("public key:   {} (BEP 46: follows the key's DHT item)\n", link.btpk->to_hex());
  if (!link.salt.empty()) fmt::print("salt:         {}\n", escape_for_terminal(link.salt));
  for (const auto& t : link.trackers)
    fmt::print("tracker:      {}\n", escape_for_terminal(t));
  for (const auto& ws : link.web_seeds)
    fmt::print("web seed:     {}\n", escape_for_terminal(ws));
  for (const auto& p : link.peers)
    fmt::print("peer:         {}\n", escape_for_terminal(p));
  fmt::print("magnet:       {}\n", magnet::to_uri(link));
  return 0;
}

int run_info(const InfoOptions& opt) {
  if (opt.input.rfind("magnet:", 0) == 0) {
    auto link = magnet::parse_magnet(opt.input);
    if (!link) {
      fmt::print(stderr, "shoal info: invalid magnet link: {}\n",
                 escape_for_terminal(link.error().message()));
      return 1;
    }
    return show_magnet(*link, opt.json);
  }
  auto bytes = runtime::read_file(opt.input, kMaxTorrentFileSize);
  if (!bytes) {
    fmt::print(stderr, "shoal info: {}: {}\n", escape_for_terminal(opt.input), bytes.error().message());
    return 1;
  }
  auto info = metainfo::parse_torrent(*bytes);
  if (!info) {
    fmt::print(stderr, "shoal info: {}: {}\n", escape_for_terminal(opt.input),
               escape_for_terminal(info.error().message()));
    return 1;
  }
  print_torrent_notes("shoal info", *info);
  if (!opt.scrape) return show_torrent(*info, opt.json, nullptr);
  auto results = scrape_trackers(*info);
  return show_torrent(*info, opt.json, &results);
}

}  // namespace

CommandRunner add_info_command(CLI::App& app) {
  auto opt = std::make_shared<InfoOptions>();
  auto* cmd = app.add_subcommand("info", "Show what a .torrent file or magnet link describes");
  cmd->add_option("input", opt->input, "A .torrent file or a magnet: link")->required();
  cmd->add_flag("--json", opt->json, "Print JSON instead of text");
  cmd->add_flag("--scrape", opt->scrape,
                "Ask the torrent's trackers for seeders, leechers and completed counts");
  return [opt] { return run_info(*opt); };
}

}  // namespace shoal::cli
