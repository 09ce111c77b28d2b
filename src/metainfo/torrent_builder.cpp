#include "metainfo/torrent_builder.hpp"

#include "bencode/value.hpp"

namespace shoal::metainfo {
namespace {

using bencode::Value;

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> components;
  for (std::size_t start = 0;;) {
    auto slash = path.find('/', start);
    components.push_back(path.substr(start, slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return components;
}

Value::List path_value(const std::vector<std::string>& components) {
  Value::List list;
  list.reserve(components.size());
  for (const auto& c : components)
    list.emplace_back(c);
  return list;
}

// BEP 52 "file tree": nested dictionaries by path component, each file a leaf under the key "".
Value::Dict file_tree(const BuildInput& input) {
  Value::Dict tree;
  for (std::size_t i = 0; i < input.files.size(); ++i) {
    const auto& [path, length] = input.files[i];
    auto components = input.single_file ? std::vector<std::string>{input.name} : split_path(path);
    Value::Dict* dir = &tree;
    for (std::size_t c = 0; c + 1 < components.size(); ++c) {
      Value& child = (*dir)[components[c]];
      if (!child.is_dict()) child = Value(Value::Dict{});
      dir = &child.as_dict();
    }
    Value::Dict attrs;
    attrs["length"] = length;
    if (i < input.pieces_roots.size() && input.pieces_roots[i]) {
      attrs["pieces root"] = std::string(input.pieces_roots[i]->raw());
    }
    Value::Dict leaf;
    leaf[""] = std::move(attrs);
    (*dir)[components.back()] = std::move(leaf);
  }
  return tree;
}

}  // namespace

std::int64_t pad_after(std::int64_t length, std::int64_t piece_length) {
  return length % piece_length == 0 ? 0 : piece_length - length % piece_length;
}

std::string build_torrent(const BuildInput& input) {
  bool v1 = input.version != MetaVersion::v2;
  bool v2 = input.version != MetaVersion::v1;
  Value::Dict info;
  info["name"] = input.name;
  info["piece length"] = input.piece_length;
  if (v1) info["pieces"] = input.piece_hashes;
  if (input.is_private) info["private"] = 1;
  if (!input.source.empty()) info["source"] = input.source;
  if (v1 && input.single_file) {
    info["length"] = input.files.empty() ? std::int64_t{0} : input.files.front().second;
  } else if (v1) {
    Value::List files;
    files.reserve(input.files.size());
    for (const auto& [path, length] : input.files) {
      Value::Dict entry;
      entry["length"] = length;
      entry["path"] = path_value(split_path(path));
      files.emplace_back(std::move(entry));
      std::int64_t pad = v2 ? pad_after(length, input.piece_length) : 0;
      if (pad > 0) {
        Value::Dict pad_entry;
        pad_entry["attr"] = "p";
        pad_entry["length"] = pad;
        pad_entry["path"] = path_value({".pad", std::to_string(pad)});
        files.emplace_back(std::move(pad_entry));
      }
    }
    info["files"] = std::move(files);
  }
  if (v2) {
    info["meta version"] = 2;
    info["file tree"] = file_tree(input);
  }

  Value::Dict root;
  root["info"] = std::move(info);
  if (v2) {
    Value::Dict layers;
    for (std::size_t i = 0; i < input.files.size() && i < input.piece_layers.size(); ++i) {
      if (!input.piece_layers[i].empty() && input.pieces_roots[i]) {
        layers[std::string(input.pieces_roots[i]->raw())] = input.piece_layers[i];
      }
    }
    root["piece layers"] = std::move(layers);
  }
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
