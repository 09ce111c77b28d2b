#include "metainfo/torrent_builder.hpp"

#include "bencode/value.hpp"

namespace shoal::metainfo {

std::string build_torrent(const BuildInput& input) {
  using bencode::Value;
  Value::Dict info;
  info["name"] = input.name;
  info["piece length"] = input.piece_length;
  info["pieces"] = input.piece_hashes;
  if (input.is_private) info["private"] = 1;
  if (!input.source.empty()) info["source"] = input.source;
  if (input.single_file) {
    info["length"] = input.files.empty() ? std::int64_t{0} : input.files.front().second;
  } else {
    Value::List files;
    files.reserve(input.files.size());
    for (const auto& [path, length] : input.files) {
      Value::List components;
      for (std::size_t start = 0;;) {
        auto slash = path.find('/', start);
        components.emplace_back(path.substr(start, slash - start));
        if (slash == std::string::npos) break;
        start = slash + 1;
      }
      Value::Dict entry;
      entry["length"] = length;
      entry["path"] = std::move(components);
      files.emplace_back(std::move(entry));
    }
    info["files"] = std::move(files);
  }

  Value::Dict root;
  root["info"] = std::move(info);
  std::size_t tracker_count = 0;
  for (const auto& tier : input.trackers)
    tracker_count += tier.size();
  for (const auto& tier : input.trackers) {
    if (!tier.empty()) {
      root["announce"] = tier.front();
      break;
    }
  }
  if (tracker_count > 1) {
    Value::List tiers;
    for (const auto& tier : input.trackers) {
      if (tier.empty()) continue;
      Value::List urls;
      for (const auto& url : tier)
        urls.emplace_back(url);
      tiers.emplace_back(std::move(urls));
    }
    root["announce-list"] = std::move(tiers);
  }
  if (input.web_seeds.size() == 1) {
    root["url-list"] = input.web_seeds.front();
  } else if (input.web_seeds.size() > 1) {
    Value::List seeds;
    for (const auto& ws : input.web_seeds)
      seeds.emplace_back(ws);
    root["url-list"] = std::move(seeds);
  }
  if (!input.comment.empty()) root["comment"] = input.comment;
  if (!input.created_by.empty()) root["created by"] = input.created_by;
  if (input.creation_date) root["creation date"] = *input.creation_date;
  return bencode::encode(Value(std::move(root)));
}

std::int64_t auto_piece_length(std::int64_t total_size) {
  constexpr std::int64_t kMin = 16 * 1024;
  constexpr std::int64_t kMax = 16 * 1024 * 1024;
  constexpr std::int64_t kTargetPieces = 1500;
  std::int64_t length = kMin;
  while (length < kMax && total_size / length > kTargetPieces)
    length *= 2;
  return length;
}

}  // namespace shoal::metainfo
