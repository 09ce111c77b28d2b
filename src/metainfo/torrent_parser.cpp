// .torrent parsing: structure checks, size arithmetic that cannot overflow, and path sanitizing.
#include <set>
#include <string>
#include <unordered_set>

#include "bencode/decoder.hpp"
#include "hash/sha.hpp"
#include "metainfo/path_sanitizer.hpp"
#include "metainfo/torrent_info.hpp"

namespace shoal::metainfo {
namespace {

using bencode::Node;

Unexpected<MetainfoError> error(Errc code, std::string detail = {}) {
  return unexpected(MetainfoError{code, std::move(detail)});
}

// Prefers "key.utf-8" when it is a valid UTF-8 string, as BEP 3 extensions in the wild do.
std::optional<std::string_view> find_text(const Node& dict, std::string_view key) {
  if (auto utf8 = dict.find_string(std::string(key) + ".utf-8"); utf8 && is_valid_utf8(*utf8)) return utf8;
  return dict.find_string(key);
}

// Records a component that sanitizing shortened, once per distinct result.
class ShortenedNames {
 public:
  explicit ShortenedNames(std::vector<ShortenedName>& out) : out_(out) {}
  void add(std::string_view original, const SanitizedComponent& clean) {
    if (clean.shortened && seen_.insert(clean.name).second)
      out_.push_back({std::string(original), clean.name});
  }

 private:
  std::vector<ShortenedName>& out_;
  std::set<std::string> seen_;
};

// Joins sanitized components with '/'. Fails on ".." or when nothing is left.
Expected<std::string, MetainfoError> sanitize_path(const Node& components, std::string_view shown_as,
                                                   ShortenedNames& shortened) {
  if (components.size() > kMaxPathDepth) return error(Errc::path_too_deep, std::string(shown_as));
  std::string joined;
  for (Node part : components.children()) {
    if (!part.is_string()) return error(Errc::wrong_type, std::string(shown_as));
    auto clean = sanitize_component(part.as_string());
    if (clean.verdict == ComponentVerdict::reject) {
      return error(Errc::invalid_path, "'..' in a path of " + std::string(shown_as));
    }
    if (clean.verdict == ComponentVerdict::drop) continue;
    shortened.add(part.as_string(), clean);
    if (!joined.empty()) joined.push_back('/');
    joined += clean.name;
  }
  if (joined.empty()) return error(Errc::invalid_path, "empty path in " + std::string(shown_as));
  return joined;
}

Expected<void, MetainfoError> add_size(std::int64_t& total, std::int64_t length) {
  if (length < 0) return error(Errc::invalid_file_length, std::to_string(length));
  if (length > kMaxTotalSize - total) return error(Errc::total_size_overflow);
  total += length;
  return {};
}

// Two files on one path, or a file standing where another file needs a directory, would make one overwrite
// or shadow the other on disk.
Expected<void, MetainfoError> check_unique_paths(const std::vector<FileEntry>& files) {
  std::unordered_set<std::string_view> file_paths;
  std::unordered_set<std::string_view> dir_paths;
  for (const auto& f : files) {
    if (f.pad) continue;  // pad files are never written; BEP 47 names many of them alike
    std::string_view path = f.path;
    if (!file_paths.insert(path).second || dir_paths.count(path)) return error(Errc::duplicate_path, f.path);
    for (auto slash = path.find('/'); slash != std::string_view::npos; slash = path.find('/', slash + 1)) {
      std::string_view dir = path.substr(0, slash);
      if (file_paths.count(dir)) return error(Errc::duplicate_path, std::string(dir));
      dir_paths.insert(dir);
    }
  }
  return {};
}

Expected<void, MetainfoError> parse_files(const Node& info, TorrentInfo& t) {
  auto length = info.find("length");
  auto files = info.find("files");
  if (length && files) return error(Errc::both_length_and_files);
  if (length) {
    if (!length->is_int()) return error(Errc::wrong_type, "info.length");
    std::int64_t total = 0;
    if (auto ok = add_size(total, length->as_int()); !ok) return unexpected(ok.error());
    t.multi_file = false;
    t.total_size = total;
    t.files.push_back(FileEntry{t.name, total, 0});
    return {};
  }
  if (!files) return error(Errc::missing_key, "info.length or info.files");
  if (!files->is_list()) return error(Errc::wrong_type, "info.files");
  if (files->size() == 0) return error(Errc::empty_file_list);
  if (files->size() > kMaxFiles) return error(Errc::too_many_files, std::to_string(files->size()));
  t.multi_file = true;
  t.files.reserve(files->size());
  std::int64_t total = 0;
  std::size_t index = 0;
  ShortenedNames shortened(t.shortened_names);
  for (Node entry : files->children()) {
    std::string shown = "info.files[" + std::to_string(index++) + "]";
    if (!entry.is_dict()) return error(Errc::wrong_type, shown);
    auto file_length = entry.find("length");
    if (!file_length) return error(Errc::missing_key, shown + ".length");
    if (!file_length->is_int()) return error(Errc::wrong_type, shown + ".length");
    std::optional<Node> path;
    if (auto utf8 = entry.find_list("path.utf-8")) {
      bool all_valid = true;
      for (Node part : utf8->children())
        all_valid = all_valid && part.is_string() && is_valid_utf8(part.as_string());
      if (all_valid) path = utf8;
    }
    if (!path) {
      auto plain = entry.find("path");
      if (!plain) return error(Errc::missing_key, shown + ".path");
      if (!plain->is_list()) return error(Errc::wrong_type, shown + ".path");
      path = plain;
    }
    auto relative = sanitize_path(*path, shown, shortened);
    if (!relative) return unexpected(relative.error());
    FileEntry f;
    f.path = t.name + "/" + *relative;
    f.length = file_length->as_int();
    f.offset = total;
    if (auto attr = entry.find_string("attr")) {
      f.pad = attr->find('p') != std::string_view::npos;
      f.executable = attr->find('x') != std::string_view::npos;
      f.hidden = attr->find('h') != std::string_view::npos;
    }
    if (auto ok = add_size(total, f.length); !ok) return unexpected(ok.error());
    t.files.push_back(std::move(f));
  }
  t.total_size = total;
  return check_unique_paths(t.files);
}

Expected<void, MetainfoError> parse_info(const Node& info, TorrentInfo& t) {
  auto name = find_text(info, "name");
  if (!name) return error(info.find("name") ? Errc::wrong_type : Errc::missing_key, "info.name");
  auto clean_name = sanitize_component(*name);
  if (clean_name.verdict != ComponentVerdict::keep) {
    return error(Errc::invalid_path, "torrent name '" + std::string(*name) + "'");
  }
  if (clean_name.shortened) t.shortened_names.push_back({std::string(*name), clean_name.name});
  t.name = std::move(clean_name.name);

  auto piece_length = info.find("piece length");
  if (!piece_length) return error(Errc::missing_key, "info.piece length");
  if (!piece_length->is_int()) return error(Errc::wrong_type, "info.piece length");
  if (piece_length->as_int() <= 0 || piece_length->as_int() > kMaxPieceLength) {
    return error(Errc::invalid_piece_length, std::to_string(piece_length->as_int()));
  }
  t.piece_length = piece_length->as_int();

  auto pieces = info.find("pieces");
  if (!pieces) return error(Errc::missing_key, "info.pieces");
  if (!pieces->is_string()) return error(Errc::wrong_type, "info.pieces");
  if (pieces->as_string().size() % 20 != 0) {
    return error(Errc::invalid_pieces_length, std::to_string(pieces->as_string().size()) + " bytes");
  }

  if (auto ok = parse_files(info, t); !ok) return unexpected(ok.error());
  if (t.total_size == 0) return error(Errc::invalid_file_length, "the torrent holds no data");

  std::int64_t expected = (t.total_size + t.piece_length - 1) / t.piece_length;
  auto actual = static_cast<std::int64_t>(pieces->as_string().size() / 20);
  if (actual != expected) {
    return error(Errc::piece_count_mismatch,
                 std::to_string(actual) + " hashes for " + std::to_string(expected) + " pieces");
  }
  t.piece_hashes = std::string(pieces->as_string());
  t.is_private = info.find_int("private").value_or(0) == 1;
  if (auto source = info.find_string("source")) t.source = std::string(*source);
  t.info_bytes = std::string(info.raw());
  t.info_hash = hash::sha1(info.raw());
  return {};
}

// Optional, descriptive fields: a wrong type there is ignored rather than rejecting a usable torrent.
void parse_outer(const Node& root, TorrentInfo& t) {
  if (auto list = root.find_list("announce-list")) {
    for (Node tier : list->children()) {
      if (!tier.is_list()) continue;
      std::vector<std::string> urls;
      for (Node url : tier.children()) {
        if (url.is_string() && !url.as_string().empty()) urls.emplace_back(url.as_string());
      }
      if (!urls.empty()) t.trackers.push_back(std::move(urls));
    }
  }
  if (t.trackers.empty()) {
    if (auto announce = root.find_string("announce"); announce && !announce->empty()) {
      t.trackers.push_back({std::string(*announce)});
    }
  }
  if (auto url = root.find_string("url-list"); url && !url->empty()) {
    t.web_seeds.emplace_back(*url);
  } else if (auto urls = root.find_list("url-list")) {
    for (Node u : urls->children()) {
      if (u.is_string() && !u.as_string().empty()) t.web_seeds.emplace_back(u.as_string());
    }
  }
  t.creation_date = root.find_int("creation date");
  if (auto comment = find_text(root, "comment")) t.comment = std::string(*comment);
  if (auto created_by = find_text(root, "created by")) t.created_by = std::string(*created_by);
}

}  // namespace

Expected<TorrentInfo, MetainfoError> parse_torrent(std::string_view file_bytes) {
  auto doc = bencode::decode(file_bytes);
  if (!doc) return error(Errc::invalid_bencode, doc.error().message());
  Node root = doc->root();
  if (!root.is_dict()) return error(Errc::not_a_dict);
  auto info = root.find("info");
  if (!info) return error(Errc::missing_info);
  if (!info->is_dict()) return error(Errc::wrong_type, "info");
  TorrentInfo t;
  if (auto ok = parse_info(*info, t); !ok) return unexpected(ok.error());
  parse_outer(root, t);
  return t;
}

Expected<TorrentInfo, MetainfoError> parse_info_dict(std::string_view info_bytes) {
  auto doc = bencode::decode(info_bytes);
  if (!doc) return error(Errc::invalid_bencode, doc.error().message());
  if (!doc->root().is_dict()) return error(Errc::not_a_dict);
  TorrentInfo t;
  if (auto ok = parse_info(doc->root(), t); !ok) return unexpected(ok.error());
  return t;
}

}  // namespace shoal::metainfo
