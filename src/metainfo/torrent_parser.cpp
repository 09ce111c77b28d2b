// .torrent parsing: structure checks, size arithmetic that cannot overflow, and path sanitizing; for v2 and
// hybrid torrents also the file tree, the piece layers against their roots, and the agreement of both halves.
#include <bit>
#include <set>
#include <string>
#include <unordered_set>

#include "bencode/decoder.hpp"
#include "hash/merkle.hpp"
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

// One file of a v2 file tree, in tree order.
struct TreeFile {
  std::string path;  // sanitized, '/'-separated; starts with the torrent name for multi-file torrents
  std::int64_t length = 0;
  std::optional<Sha256Digest> pieces_root;
  bool executable = false;
  bool hidden = false;
};

template <class Where>
Expected<TreeFile, MetainfoError> parse_tree_leaf(const Node& attrs, std::string path, const Where& shown) {
  if (!attrs.is_dict())
    return error(Errc::invalid_file_tree, shown() + ": file attributes are not a dictionary");
  auto length = attrs.find("length");
  if (!length) return error(Errc::missing_key, shown() + ".length");
  if (!length->is_int()) return error(Errc::wrong_type, shown() + ".length");
  if (length->as_int() < 0 || length->as_int() > kMaxTotalSize) {
    return error(Errc::invalid_file_length, std::to_string(length->as_int()));
  }
  TreeFile f;
  f.path = std::move(path);
  f.length = length->as_int();
  if (f.length > 0) {
    auto root = attrs.find("pieces root");
    if (!root) return error(Errc::missing_pieces_root, shown());
    if (!root->is_string()) return error(Errc::wrong_type, shown() + ".pieces root");
    auto digest = Sha256Digest::from_raw(root->as_string());
    if (!digest) return error(Errc::invalid_pieces_root, shown());
    if (*digest == Sha256Digest{}) return error(Errc::missing_pieces_root, shown() + " (all zeros)");
    f.pieces_root = *digest;
  }
  if (auto attr = attrs.find_string("attr")) {
    f.executable = attr->find('x') != std::string_view::npos;
    f.hidden = attr->find('h') != std::string_view::npos;
  }
  return f;
}

// Walks the BEP 52 file tree depth first in key order, without recursion: the depth is bounded by
// kMaxPathDepth and the file count by kMaxFiles before anything is stored.
Expected<std::vector<TreeFile>, MetainfoError> parse_file_tree(const Node& tree, const TorrentInfo& t,
                                                               bool single, ShortenedNames& shortened) {
  struct Frame {
    Node::ChildIterator next, end;
  };
  std::vector<Frame> stack;
  std::vector<std::string> dirs;  // sanitized components of the directories on the stack ("" when dropped)
  std::vector<TreeFile> files;
  auto range = tree.children();
  stack.push_back({range.begin(), range.end()});
  while (!stack.empty()) {
    Frame& frame = stack.back();
    if (frame.next == frame.end) {
      stack.pop_back();
      if (!dirs.empty()) dirs.pop_back();
      continue;
    }
    Node key = *frame.next;
    ++frame.next;
    Node value = *frame.next;
    ++frame.next;
    auto shown = [&] {  // where, for an error message only
      std::string where = "info.file tree";
      for (const auto& d : dirs)
        where += "/" + d;
      return where + "/" + std::string(key.as_string());
    };
    if (key.as_string().empty()) return error(Errc::invalid_file_tree, shown() + ": empty name");
    if (!value.is_dict()) return error(Errc::invalid_file_tree, shown() + ": not a dictionary");
    auto clean = sanitize_component(key.as_string());
    if (clean.verdict == ComponentVerdict::reject) return error(Errc::invalid_path, "'..' in " + shown());
    std::string name = clean.verdict == ComponentVerdict::drop ? std::string() : clean.name;
    if (!name.empty()) shortened.add(key.as_string(), clean);

    bool leaf = value.size() == 1 && value.item(0).first.empty();
    if (!leaf) {
      if (dirs.size() + 1 >= kMaxPathDepth) return error(Errc::path_too_deep, shown());
      auto children = value.children();
      dirs.push_back(std::move(name));
      stack.push_back({children.begin(), children.end()});
      continue;
    }
    if (files.size() >= kMaxFiles)
      return error(Errc::too_many_files, "more than " + std::to_string(kMaxFiles));
    std::string path;
    for (const auto& d : dirs) {
      if (d.empty()) continue;
      if (!path.empty()) path.push_back('/');
      path += d;
    }
    if (!name.empty()) path += (path.empty() ? "" : "/") + name;
    if (path.empty()) return error(Errc::invalid_path, "empty path in " + shown());
    auto file = parse_tree_leaf(value.item(0).second, single ? path : t.name + "/" + path, shown);
    if (!file) return unexpected(file.error());
    files.push_back(std::move(*file));
  }
  return files;
}

std::int64_t round_up(std::int64_t value, std::int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

// A v2-only torrent's byte stream: every file on a piece boundary, with the pad entries a hybrid would carry,
// and one after the last file too, a single file's included. That is the stream libtorrent pieces a v2-only
// torrent by: its last piece is whole, and its requests for the last block reach into the pad (which reads as
// zeros and is never written).
Expected<void, MetainfoError> lay_out_v2(std::vector<TreeFile>& tree, bool multi_file, TorrentInfo& t) {
  std::int64_t total = 0;
  t.files.reserve(tree.size() * 2);
  for (auto& tf : tree) {
    FileEntry f;
    f.path = std::move(tf.path);
    f.length = tf.length;
    f.offset = total;
    f.executable = tf.executable;
    f.hidden = tf.hidden;
    f.pieces_root = tf.pieces_root;
    if (auto ok = add_size(total, f.length); !ok) return unexpected(ok.error());
    t.files.push_back(std::move(f));
    std::int64_t pad = round_up(total, t.piece_length) - total;
    if (pad > 0) {
      FileEntry p;
      p.path = (multi_file ? t.name + "/" : std::string()) + ".pad/" + std::to_string(pad);
      p.length = pad;
      p.offset = total;
      p.pad = true;
      if (auto ok = add_size(total, pad); !ok) return unexpected(ok.error());
      t.files.push_back(std::move(p));
    }
  }
  t.total_size = total;
  return check_unique_paths(t.files);
}

// A hybrid's v1 files, pads aside, must be the v2 files in the same order with the same paths and lengths,
// each non-empty one starting where the v2 layout puts it (a piece boundary), so that piece i is the same
// bytes in both halves. The v1 stream may end with or without a pad after its last file.
Expected<void, MetainfoError> match_hybrid(const std::vector<TreeFile>& tree, TorrentInfo& t) {
  std::size_t v2 = 0;
  std::int64_t aligned = 0;   // where the v2 layout puts the next file
  std::int64_t data_end = 0;  // end of the last non-empty file
  for (auto& f : t.files) {
    if (f.pad) continue;
    if (v2 == tree.size())
      return error(Errc::hybrid_mismatch, "v1 lists '" + f.path + "', not in the file tree");
    const TreeFile& other = tree[v2++];
    if (f.path != other.path) {
      return error(Errc::hybrid_mismatch,
                   "v1 has '" + f.path + "' where the file tree has '" + other.path + "'");
    }
    if (f.length != other.length) {
      return error(Errc::hybrid_mismatch, "'" + f.path + "' is " + std::to_string(f.length) +
                                              " bytes in v1, " + std::to_string(other.length) + " in v2");
    }
    if (f.length > 0 && f.offset != aligned) {
      return error(Errc::hybrid_unaligned, "'" + f.path + "' starts at " + std::to_string(f.offset) +
                                               " in v1, at " + std::to_string(aligned) + " in v2");
    }
    f.pieces_root = other.pieces_root;
    if (f.length > 0) data_end = aligned + f.length;
    aligned = round_up(aligned + f.length, t.piece_length);
  }
  if (v2 != tree.size())
    return error(Errc::hybrid_mismatch, "file tree has '" + tree[v2].path + "', not in v1");
  if (t.total_size != data_end && t.total_size != round_up(data_end, t.piece_length)) {
    return error(Errc::hybrid_unaligned,
                 "v1 holds " + std::to_string(t.total_size) + " bytes, v2 " + std::to_string(data_end));
  }
  return {};
}

Expected<void, MetainfoError> parse_v1_pieces(const Node& info, TorrentInfo& t) {
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
  return {};
}

// "meta version": absent or 1 is v1, 2 is v2 (a hybrid when the v1 keys are there too).
Expected<bool, MetainfoError> is_v2(const Node& info) {
  auto meta = info.find("meta version");
  if (!meta) return false;
  if (!meta->is_int()) return error(Errc::wrong_type, "info.meta version");
  if (meta->as_int() == 1) return false;
  if (meta->as_int() == 2) return true;
  return error(Errc::unsupported_meta_version, std::to_string(meta->as_int()));
}

Expected<void, MetainfoError> parse_v2(const Node& info, TorrentInfo& t) {
  if (t.piece_length < kMinV2PieceLength ||
      !std::has_single_bit(static_cast<std::uint64_t>(t.piece_length))) {
    return error(Errc::invalid_v2_piece_length, std::to_string(t.piece_length));
  }
  auto tree_node = info.find("file tree");
  if (!tree_node) return error(Errc::missing_key, "info.file tree");
  if (!tree_node->is_dict()) return error(Errc::wrong_type, "info.file tree");
  if (tree_node->size() == 0) return error(Errc::empty_file_list, "info.file tree");
  bool hybrid = info.find("pieces") || info.find("files") || info.find("length");
  // A single file at the top of the tree is a single-file torrent (unless the v1 half lists "files"): its
  // path is its own name, as in libtorrent, rather than NAME/NAME.
  auto top = tree_node->item(0).second;
  bool single = !info.find("files") && tree_node->size() == 1 && top.is_dict() && top.size() == 1 &&
                top.item(0).first.empty();
  // A hybrid's v1 half names the same shortened components: they are noted from there, once.
  std::vector<ShortenedName> unused;
  ShortenedNames shortened(hybrid ? unused : t.shortened_names);
  auto tree = parse_file_tree(*tree_node, t, single, shortened);
  if (!tree) return unexpected(tree.error());
  if (hybrid) {
    t.version = MetaVersion::hybrid;
    if (auto ok = parse_v1_pieces(info, t); !ok) return unexpected(ok.error());
    return match_hybrid(*tree, t);
  }
  t.version = MetaVersion::v2;
  bool multi_file = !single;
  t.multi_file = multi_file;
  if (auto ok = lay_out_v2(*tree, multi_file, t); !ok) return unexpected(ok.error());
  if (t.total_size == 0) return error(Errc::invalid_file_length, "the torrent holds no data");
  return {};
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

  auto v2 = is_v2(info);
  if (!v2) return unexpected(v2.error());
  if (*v2) {
    if (auto ok = parse_v2(info, t); !ok) return unexpected(ok.error());
  } else if (auto ok = parse_v1_pieces(info, t); !ok) {
    return unexpected(ok.error());
  }
  t.is_private = info.find_int("private").value_or(0) == 1;
  if (auto source = info.find_string("source")) t.source = std::string(*source);
  t.info_bytes = std::string(info.raw());
  if (t.has_v2()) t.info_hash_v2 = hash::sha256(info.raw());
  t.info_hash =
      t.has_v1() ? hash::sha1(info.raw()) : *Sha1Digest::from_raw(t.info_hash_v2->raw().substr(0, 20));
  return {};
}

// BEP 52 "piece layers" (beside "info"): one entry per distinct pieces root of a file larger than a piece,
// each 32 bytes per piece of the file and hashing up to that root. Entries for no file are ignored.
Expected<void, MetainfoError> parse_piece_layers(const Node& root, TorrentInfo& t) {
  auto layers = root.find("piece layers");
  if (layers && !layers->is_dict()) return error(Errc::wrong_type, "piece layers");
  std::int64_t blocks_per_piece = t.piece_length / hash::kMerkleBlockSize;
  for (const auto& f : t.files) {
    if (!f.pieces_root || f.length <= t.piece_length || t.piece_layers.count(*f.pieces_root)) continue;
    auto layer = layers ? layers->find(f.pieces_root->raw()) : std::nullopt;
    if (!layer) return error(Errc::missing_piece_layer, f.path);
    if (!layer->is_string()) return error(Errc::wrong_type, "piece layers of " + f.path);
    std::int64_t pieces = (f.length + t.piece_length - 1) / t.piece_length;
    if (static_cast<std::int64_t>(layer->as_string().size()) != pieces * 32) {
      return error(Errc::invalid_piece_layer_size, f.path + ": " + std::to_string(layer->as_string().size()) +
                                                       " bytes for " + std::to_string(pieces) + " pieces");
    }
    auto hashes = hash::merkle_split(layer->as_string());
    if (hash::merkle_root_from_piece_layer(hashes, blocks_per_piece) != *f.pieces_root) {
      return error(Errc::piece_layer_mismatch, f.path);
    }
    t.piece_layers.emplace(*f.pieces_root, std::string(layer->as_string()));
  }
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

const char* to_string(MetaVersion version) {
  switch (version) {
    case MetaVersion::v1:
      return "v1";
    case MetaVersion::v2:
      return "v2";
    case MetaVersion::hybrid:
      return "hybrid";
  }
  return "v1";
}

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
  if (t.has_v2()) {
    if (auto ok = parse_piece_layers(root, t); !ok) return unexpected(ok.error());
  }
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
