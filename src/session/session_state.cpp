#include "session/session_state.hpp"

#include <algorithm>
#include <cstring>

#include "bencode/decoder.hpp"
#include "bencode/value.hpp"

namespace shoal::session {
namespace {

constexpr std::int64_t kFormatVersion = 1;
constexpr std::size_t kMaxTorrents = 1'000'000;

// Ratios are kept as integers (millionths): bencode has no floating point.
constexpr double kRatioScale = 1'000'000.0;

}  // namespace

std::string encode_session_state(const std::vector<SavedTorrent>& torrents) {
  bencode::Value::List list;
  for (const auto& t : torrents) {
    bencode::Value::Dict d;
    d["info_hash"] = t.info_hash;
    d["save_path"] = t.save_path;
    if (!t.magnet.empty()) d["magnet"] = t.magnet;
    d["paused"] = t.paused ? 1 : 0;
    d["sequential"] = t.sequential ? 1 : 0;
    d["seed"] = t.seed_when_complete ? 1 : 0;
    if (t.seed_ratio) d["seed_ratio_e6"] = static_cast<std::int64_t>(*t.seed_ratio * kRatioScale);
    if (t.seed_time_seconds) d["seed_time"] = *t.seed_time_seconds;
    bencode::Value::List only;
    for (const auto& o : t.only)
      only.emplace_back(o);
    d["only"] = std::move(only);
    std::string mask;
    for (bool b : t.file_mask)
      mask.push_back(b ? '1' : '0');
    d["file_mask"] = mask;
    d["max_down"] = t.max_download_rate;
    d["max_up"] = t.max_upload_rate;
    if (!t.file_paths.empty()) {
      bencode::Value::List renamed;  // [index, path] pairs
      for (const auto& [index, path] : t.file_paths) {
        bencode::Value::List pair;
        pair.emplace_back(std::int64_t{index});
        pair.emplace_back(path);
        renamed.emplace_back(std::move(pair));
      }
      d["renamed"] = std::move(renamed);
    }
    list.emplace_back(std::move(d));
  }
  bencode::Value::Dict root;
  root["version"] = kFormatVersion;
  root["torrents"] = std::move(list);
  return bencode::encode(root);
}

Expected<std::vector<SavedTorrent>, std::string> decode_session_state(std::string_view bytes) {
  auto doc = bencode::decode(bytes);
  if (!doc) return unexpected("session state: " + doc.error().message());
  auto root = doc->root();
  if (root.find_int("version") != kFormatVersion)
    return unexpected(std::string("session state: unknown version"));
  auto list = root.find_list("torrents");
  if (!list) return unexpected(std::string("session state: no torrent list"));
  if (list->size() > kMaxTorrents) return unexpected(std::string("session state: too many torrents"));
  std::vector<SavedTorrent> out;
  for (auto node : list->children()) {
    if (!node.is_dict()) return unexpected(std::string("session state: an entry is not a dictionary"));
    SavedTorrent t;
    auto hash = node.find_string("info_hash");
    auto path = node.find_string("save_path");
    if (!hash || hash->size() != 40 || !Sha1Digest::from_hex(*hash) || !path)
      return unexpected(std::string("session state: an entry has no valid info-hash or save path"));
    t.info_hash = std::string(*hash);
    t.save_path = std::string(*path);
    if (auto m = node.find_string("magnet")) t.magnet = std::string(*m);
    t.paused = node.find_int("paused").value_or(0) != 0;
    t.sequential = node.find_int("sequential").value_or(0) != 0;
    t.seed_when_complete = node.find_int("seed").value_or(1) != 0;
    if (auto r = node.find_int("seed_ratio_e6"); r && *r >= 0)
      t.seed_ratio = static_cast<double>(*r) / kRatioScale;
    if (auto s = node.find_int("seed_time"); s && *s >= 0) t.seed_time_seconds = *s;
    if (auto only = node.find_list("only")) {
      for (auto o : only->children()) {
        if (o.is_string()) t.only.emplace_back(o.as_string());
      }
    }
    if (auto mask = node.find_string("file_mask")) {
      for (char c : *mask)
        t.file_mask.push_back(c == '1');
    }
    t.max_download_rate = std::max<std::int64_t>(0, node.find_int("max_down").value_or(0));
    t.max_upload_rate = std::max<std::int64_t>(0, node.find_int("max_up").value_or(0));
    if (auto renamed = node.find_list("renamed")) {
      for (auto pair : renamed->children()) {
        if (!pair.is_list() || pair.size() != 2) continue;
        auto index = pair.at(0).is_int() ? pair.at(0).as_int() : -1;
        if (index < 0 || index > static_cast<std::int64_t>(metainfo::kMaxFiles) || !pair.at(1).is_string())
          continue;  // the session checks the path itself before using it
        t.file_paths[static_cast<int>(index)] = std::string(pair.at(1).as_string());
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::string torrent_file_from_info(const metainfo::TorrentInfo& info) {
  // Written by hand around the raw info bytes: re-encoding them could change the info-hash.
  std::string out = "d";
  if (!info.trackers.empty()) {
    std::string first = info.trackers.front().empty() ? std::string() : info.trackers.front().front();
    if (!first.empty()) out += "8:announce" + std::to_string(first.size()) + ":" + first;
    out += "13:announce-listl";
    for (const auto& tier : info.trackers) {
      out += "l";
      for (const auto& url : tier)
        out += std::to_string(url.size()) + ":" + url;
      out += "e";
    }
    out += "e";
  }
  out += "4:info" + info.info_bytes;
  if (!info.piece_layers.empty()) {
    // BEP 52: by pieces root (raw 32 bytes, sorted as the map is), the file's piece hashes concatenated.
    out += "12:piece layersd";
    for (const auto& [root, layer] : info.piece_layers)
      out += "32:" + std::string(reinterpret_cast<const char*>(root.bytes.data()), root.bytes.size()) +
             std::to_string(layer.size()) + ":" + layer;
    out += "e";
  }
  if (!info.web_seeds.empty()) {
    out += "8:url-listl";
    for (const auto& url : info.web_seeds)
      out += std::to_string(url.size()) + ":" + url;
    out += "e";
  }
  return out + "e";
}

void add_magnet_sources(metainfo::TorrentInfo& info, const magnet::MagnetLink& link) {
  for (const auto& t : link.trackers) {
    bool known = std::any_of(info.trackers.begin(), info.trackers.end(), [&](const auto& tier) {
      return std::find(tier.begin(), tier.end(), t) != tier.end();
    });
    if (!known) info.trackers.push_back({t});
  }
  for (const auto& url : link.web_seeds) {
    if (std::find(info.web_seeds.begin(), info.web_seeds.end(), url) == info.web_seeds.end())
      info.web_seeds.push_back(url);
  }
}

}  // namespace shoal::session
