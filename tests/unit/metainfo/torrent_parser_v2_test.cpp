// BEP 52: v2-only and hybrid torrents, built from real data with the builder, then broken one thing at a
// time.
#include <gtest/gtest.h>

#include <functional>

#include "bencode/decoder.hpp"
#include "bencode/value.hpp"
#include "hash/merkle.hpp"
#include "hash/sha.hpp"
#include "metainfo/path_sanitizer.hpp"
#include "metainfo/torrent_builder.hpp"
#include "metainfo/torrent_info.hpp"

namespace shoal::metainfo {
namespace {

using bencode::Value;

constexpr std::int64_t kPiece = 32 * 1024;

struct Content {
  std::string path;
  std::string data;
};

std::string data_of(std::size_t size, unsigned seed) {
  std::string data(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    data[i] = static_cast<char>((i * 31 + seed * 101 + (i >> 11)) & 0xff);
  return data;
}

// a.bin: 3 pieces (has a piece layer); other/empty; other/z.dat: under one block; sub/b.bin: under one piece.
std::vector<Content> tree_contents() {
  return {{"a.bin", data_of(70001, 1)},
          {"other/empty", ""},
          {"other/z.dat", data_of(333, 2)},
          {"sub/b.bin", data_of(20000, 3)}};
}

BuildInput input_for(MetaVersion version, const std::vector<Content>& contents, bool single = false,
                     std::int64_t piece = kPiece) {
  BuildInput in;
  in.version = version;
  in.name = single ? contents.front().path : "tree";
  in.single_file = single;
  in.piece_length = piece;
  std::string stream;  // the v1 view: files with their pads
  for (const auto& c : contents) {
    in.files.emplace_back(c.path, static_cast<std::int64_t>(c.data.size()));
    std::vector<Sha256Digest> leaves;
    for (std::size_t off = 0; off < c.data.size(); off += hash::kMerkleBlockSize)
      leaves.push_back(hash::sha256(std::string_view(c.data).substr(off, hash::kMerkleBlockSize)));
    if (leaves.empty()) {
      in.pieces_roots.emplace_back();
      in.piece_layers.emplace_back();
    } else {
      auto hashes = hash::merkle_file_hashes(leaves, piece / hash::kMerkleBlockSize);
      in.pieces_roots.emplace_back(hashes.root);
      in.piece_layers.push_back(hash::merkle_concat(hashes.piece_layer));
    }
    stream += c.data;
    if (!single && version != MetaVersion::v1)
      stream.append(static_cast<std::size_t>(pad_after(std::ssize(c.data), piece)), '\0');
  }
  for (std::size_t off = 0; off < stream.size(); off += static_cast<std::size_t>(piece))
    in.piece_hashes +=
        hash::sha1(std::string_view(stream).substr(off, static_cast<std::size_t>(piece))).raw();
  return in;
}

Value::Dict as_dict(const std::string& bytes) {
  auto doc = bencode::decode(bytes);
  return bencode::to_value(doc->root()).as_dict();
}

std::string encode(Value::Dict d) {
  return bencode::encode(Value(std::move(d)));
}

// The decoded torrent of `version` over tree_contents(), to break.
Value::Dict torrent_dict(MetaVersion version) {
  return as_dict(build_torrent(input_for(version, tree_contents())));
}

Value::Dict& info_of(Value::Dict& root) {
  return root["info"].as_dict();
}

Value::Dict& leaf(Value::Dict& root, std::vector<std::string> path) {
  Value::Dict* d = &info_of(root)["file tree"].as_dict();
  for (const auto& c : path)
    d = &(*d)[c].as_dict();
  return (*d)[""].as_dict();
}

Sha256Digest root_of(const std::string& data, std::int64_t piece = kPiece) {
  std::vector<Sha256Digest> leaves;
  for (std::size_t off = 0; off < data.size(); off += hash::kMerkleBlockSize)
    leaves.push_back(hash::sha256(std::string_view(data).substr(off, hash::kMerkleBlockSize)));
  return hash::merkle_file_hashes(leaves, piece / hash::kMerkleBlockSize).root;
}

TEST(ParseV2, MultiFileGetsAlignedLayoutHashesAndLayers) {
  std::string bytes = build_torrent(input_for(MetaVersion::v2, tree_contents()));
  auto t = parse_torrent(bytes);
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(t->version, MetaVersion::v2);
  EXPECT_FALSE(t->has_v1());
  EXPECT_TRUE(t->has_v2());
  EXPECT_TRUE(t->multi_file);
  EXPECT_TRUE(t->piece_hashes.empty());
  ASSERT_TRUE(t->info_hash_v2);
  EXPECT_EQ(*t->info_hash_v2, hash::sha256(t->info_bytes));
  EXPECT_EQ(t->info_hash.raw(), t->info_hash_v2->raw().substr(0, 20));  // BEP 52: truncated on the wire

  struct Expect {
    const char* path;
    std::int64_t length, offset;
    bool pad;
  };
  std::vector<Expect> expected{
      {"tree/a.bin", 70001, 0, false},         {"tree/.pad/28303", 28303, 70001, true},
      {"tree/other/empty", 0, 98304, false},   {"tree/other/z.dat", 333, 98304, false},
      {"tree/.pad/32435", 32435, 98637, true}, {"tree/sub/b.bin", 20000, 131072, false},
      {"tree/.pad/12768", 12768, 151072, true}};
  ASSERT_EQ(t->files.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(t->files[i].path, expected[i].path) << i;
    EXPECT_EQ(t->files[i].length, expected[i].length) << i;
    EXPECT_EQ(t->files[i].offset, expected[i].offset) << i;
    EXPECT_EQ(t->files[i].pad, expected[i].pad) << i;
  }
  EXPECT_EQ(t->total_size, 163840);
  EXPECT_EQ(t->num_pieces(), 5);
  auto contents = tree_contents();
  EXPECT_EQ(t->files[0].pieces_root, root_of(contents[0].data));
  EXPECT_FALSE(t->files[2].pieces_root);  // empty file
  EXPECT_EQ(t->files[3].pieces_root, root_of(contents[2].data));
  EXPECT_FALSE(t->files[1].pieces_root);  // pad
  // Only a.bin is larger than a piece: one layer of 3 hashes.
  ASSERT_EQ(t->piece_layers.size(), 1u);
  EXPECT_EQ(t->piece_layers.at(*t->files[0].pieces_root).size(), 3u * 32);
}

TEST(ParseV2, SingleFileIsNamedByItsKeyAndPaddedToAPiece) {
  auto t =
      parse_torrent(build_torrent(input_for(MetaVersion::v2, {{"single.bin", data_of(50000, 4)}}, true)));
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_FALSE(t->multi_file);
  ASSERT_EQ(t->files.size(), 2u);
  EXPECT_EQ(t->files[0].path, "single.bin");
  // As libtorrent lays it out: the last piece is whole, its tail a pad.
  EXPECT_TRUE(t->files[1].pad);
  EXPECT_EQ(t->total_size, 2 * kPiece);
  EXPECT_EQ(t->num_pieces(), 2);
  EXPECT_EQ(t->piece_size(PieceIndex(1)), kPiece);
}

TEST(ParseV2, HybridKeepsTheV1ListAndBothHashes) {
  auto t = parse_torrent(build_torrent(input_for(MetaVersion::hybrid, tree_contents())));
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(t->version, MetaVersion::hybrid);
  EXPECT_TRUE(t->has_v1());
  EXPECT_EQ(t->info_hash, hash::sha1(t->info_bytes));
  EXPECT_EQ(t->info_hash_v2, hash::sha256(t->info_bytes));
  EXPECT_EQ(t->num_pieces(), 5);
  EXPECT_EQ(t->piece_hashes.size(), 5u * 20);
  ASSERT_EQ(t->files.size(), 7u);
  EXPECT_TRUE(t->files[1].pad);
  EXPECT_EQ(t->files[5].path, "tree/sub/b.bin");
  EXPECT_EQ(t->files[5].offset, 131072);
  EXPECT_EQ(t->files[5].pieces_root, root_of(tree_contents()[3].data));
  EXPECT_EQ(t->piece_layers.size(), 1u);
  // The same torrent's metadata alone (from peers): no piece layers, which must then come from peers.
  auto bare = parse_info_dict(t->info_bytes);
  ASSERT_TRUE(bare) << bare.error().message();
  EXPECT_EQ(bare->version, MetaVersion::hybrid);
  EXPECT_TRUE(bare->piece_layers.empty());
}

TEST(ParseV2, HybridSingleFile) {
  auto t =
      parse_torrent(build_torrent(input_for(MetaVersion::hybrid, {{"one.bin", data_of(40000, 5)}}, true)));
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(t->version, MetaVersion::hybrid);
  ASSERT_EQ(t->files.size(), 1u);
  EXPECT_EQ(t->files[0].path, "one.bin");
  EXPECT_TRUE(t->files[0].pieces_root);
}

TEST(ParseV2, HybridWithoutATailPadIsAccepted) {
  auto root = torrent_dict(MetaVersion::hybrid);
  auto& files = info_of(root)["files"].as_list();
  files.pop_back();  // the pad after the last file: the last piece just ends early
  auto t = parse_torrent(encode(root));
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(t->total_size, 151072);
  EXPECT_EQ(t->num_pieces(), 5);
}

TEST(ParseV2, MetaVersionOneIsV1) {
  auto root = torrent_dict(MetaVersion::v1);
  info_of(root)["meta version"] = 1;
  auto t = parse_torrent(encode(root));
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(t->version, MetaVersion::v1);
  EXPECT_FALSE(t->info_hash_v2);
}

TEST(ParseV2, FileTreeNamesAreSanitizedLikeV1Paths) {
  auto root = torrent_dict(MetaVersion::v2);
  auto& tree = info_of(root)["file tree"].as_dict();
  Value sub = tree["sub"];
  tree.erase("sub");
  tree["s\\u\x01b"] = sub;
  auto t = parse_torrent(encode(root));
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(t->files[5].path, "tree/" + sanitize_component("s\\u\x01b").name + "/b.bin");
  EXPECT_EQ(t->files[5].path.find('\\'), std::string::npos);
}

struct RejectCase {
  const char* name;
  std::function<std::string()> make;
  Errc code;
};

void PrintTo(const RejectCase& c, std::ostream* os) {
  *os << c.name;
}

class RejectsV2Torrent : public ::testing::TestWithParam<RejectCase> {};

TEST_P(RejectsV2Torrent, WithPreciseError) {
  auto result = parse_torrent(GetParam().make());
  ASSERT_FALSE(result) << GetParam().name;
  EXPECT_EQ(result.error().code, GetParam().code) << GetParam().name << ": " << result.error().message();
  EXPECT_FALSE(result.error().message().empty());
}

// Edits the decoded v2 (or hybrid) torrent, then encodes it.
std::function<std::string()> v2_with(std::function<void(Value::Dict&)> edit,
                                     MetaVersion version = MetaVersion::v2) {
  return [edit, version] {
    auto root = torrent_dict(version);
    edit(root);
    return encode(root);
  };
}

// Moves the v1 entry at `from` (e.g. a pad) to the end of the v1 file list.
void move_v1_entry_to_end(Value::Dict& root, std::size_t from) {
  auto& files = info_of(root)["files"].as_list();
  Value moved = files[from];
  files.erase(files.begin() + static_cast<std::ptrdiff_t>(from));
  files.push_back(moved);
}

INSTANTIATE_TEST_SUITE_P(
    Metainfo, RejectsV2Torrent,
    ::testing::Values(
        RejectCase{"meta_version_3", v2_with([](auto& r) { info_of(r)["meta version"] = 3; }),
                   Errc::unsupported_meta_version},
        RejectCase{"meta_version_is_string", v2_with([](auto& r) { info_of(r)["meta version"] = "2"; }),
                   Errc::wrong_type},
        RejectCase{"piece_length_not_power_of_two",
                   v2_with([](auto& r) { info_of(r)["piece length"] = 3 * 16384; }),
                   Errc::invalid_v2_piece_length},
        RejectCase{"piece_length_below_16k", v2_with([](auto& r) { info_of(r)["piece length"] = 8192; }),
                   Errc::invalid_v2_piece_length},
        RejectCase{"hybrid_piece_length_below_16k",
                   v2_with([](auto& r) { info_of(r)["piece length"] = 8192; }, MetaVersion::hybrid),
                   Errc::invalid_v2_piece_length},
        RejectCase{"missing_file_tree", v2_with([](auto& r) { info_of(r).erase("file tree"); }),
                   Errc::missing_key},
        RejectCase{"file_tree_is_list", v2_with([](auto& r) { info_of(r)["file tree"] = Value::List{}; }),
                   Errc::wrong_type},
        RejectCase{"empty_file_tree", v2_with([](auto& r) { info_of(r)["file tree"] = Value::Dict{}; }),
                   Errc::empty_file_list},
        RejectCase{"tree_node_not_a_dict",
                   v2_with([](auto& r) { info_of(r)["file tree"].as_dict()["x"] = 5; }),
                   Errc::invalid_file_tree},
        RejectCase{"tree_empty_name", v2_with([](auto& r) {
                     info_of(r)["file tree"].as_dict()["sub"].as_dict()[""] = Value::Dict{};
                   }),
                   Errc::invalid_file_tree},
        RejectCase{"leaf_attrs_not_a_dict", v2_with([](auto& r) {
                     info_of(r)["file tree"].as_dict()["sub"].as_dict()["b.bin"].as_dict()[""] = 7;
                   }),
                   Errc::invalid_file_tree},
        RejectCase{"tree_dotdot", v2_with([](auto& r) {
                     auto& tree = info_of(r)["file tree"].as_dict();
                     tree[".."] = tree["sub"];
                     tree.erase("sub");
                   }),
                   Errc::invalid_path},
        RejectCase{"too_deep", v2_with([](auto& r) {
                     // Deeper than any path may be: the decoder's nesting limit stops it before the tree
                     // walk.
                     Value node = info_of(r)["file tree"].as_dict()["a.bin"];
                     for (std::size_t i = 0; i < kMaxPathDepth + 2; ++i)
                       node = Value(Value::Dict{{"d", node}});
                     info_of(r)["file tree"] = node;
                   }),
                   Errc::invalid_bencode},
        RejectCase{"leaf_missing_length", v2_with([](auto& r) { leaf(r, {"a.bin"}).erase("length"); }),
                   Errc::missing_key},
        RejectCase{"leaf_negative_length", v2_with([](auto& r) {
                     leaf(r, {"other", "empty"})["length"] = -1;
                   }),
                   Errc::invalid_file_length},
        RejectCase{"missing_pieces_root", v2_with([](auto& r) {
                     leaf(r, {"sub", "b.bin"}).erase("pieces root");
                   }),
                   Errc::missing_pieces_root},
        RejectCase{"zero_pieces_root", v2_with([](auto& r) {
                     leaf(r, {"sub", "b.bin"})["pieces root"] = std::string(32, '\0');
                   }),
                   Errc::missing_pieces_root},
        RejectCase{"short_pieces_root", v2_with([](auto& r) {
                     leaf(r, {"sub", "b.bin"})["pieces root"] = std::string(31, 'r');
                   }),
                   Errc::invalid_pieces_root},
        RejectCase{"pieces_root_is_int", v2_with([](auto& r) {
                     leaf(r, {"sub", "b.bin"})["pieces root"] = 1;
                   }),
                   Errc::wrong_type},
        RejectCase{"only_empty_files", v2_with([](auto& r) {
                     auto& tree = info_of(r)["file tree"].as_dict();
                     tree.erase("a.bin");
                     tree.erase("sub");
                     tree["other"].as_dict().erase("z.dat");
                   }),
                   Errc::invalid_file_length},
        RejectCase{"no_piece_layers", v2_with([](auto& r) { r.erase("piece layers"); }),
                   Errc::missing_piece_layer},
        RejectCase{"piece_layers_not_a_dict", v2_with([](auto& r) { r["piece layers"] = "x"; }),
                   Errc::wrong_type},
        RejectCase{"piece_layer_missing_for_a_file",
                   v2_with([](auto& r) { r["piece layers"] = Value::Dict{}; }), Errc::missing_piece_layer},
        RejectCase{"piece_layer_short", v2_with([](auto& r) {
                     for (auto& [k, v] : r["piece layers"].as_dict())
                       v = v.as_string().substr(32);
                   }),
                   Errc::invalid_piece_layer_size},
        RejectCase{"piece_layer_odd_size", v2_with([](auto& r) {
                     for (auto& [k, v] : r["piece layers"].as_dict())
                       v = v.as_string() + "x";
                   }),
                   Errc::invalid_piece_layer_size},
        RejectCase{"piece_layer_tampered", v2_with([](auto& r) {
                     for (auto& [k, v] : r["piece layers"].as_dict()) {
                       std::string s = v.as_string();
                       s[40] = static_cast<char>(s[40] ^ 1);
                       v = s;
                     }
                   }),
                   Errc::piece_layer_mismatch},
        RejectCase{"hybrid_piece_layer_tampered",
                   v2_with(
                       [](auto& r) {
                         for (auto& [k, v] : r["piece layers"].as_dict()) {
                           std::string s = v.as_string();
                           s[0] = static_cast<char>(s[0] ^ 1);
                           v = s;
                         }
                       },
                       MetaVersion::hybrid),
                   Errc::piece_layer_mismatch},
        RejectCase{
            "hybrid_v1_file_renamed",
            v2_with(
                [](auto& r) { info_of(r)["files"].as_list()[0].as_dict()["path"] = Value::List{"A.bin"}; },
                MetaVersion::hybrid),
            Errc::hybrid_mismatch},
        RejectCase{"hybrid_v1_length_differs",
                   v2_with(
                       [](auto& r) {
                         // Same total, so the v1 half is consistent on its own: only the comparison sees it.
                         auto& files = info_of(r)["files"].as_list();
                         files[5].as_dict()["length"] = 20001;
                         files[6].as_dict()["length"] = 12767;
                       },
                       MetaVersion::hybrid),
                   Errc::hybrid_mismatch},
        RejectCase{"hybrid_v1_order_differs",
                   v2_with(
                       [](auto& r) {
                         auto& files = info_of(r)["files"].as_list();
                         std::swap(files[2], files[3]);  // other/empty and other/z.dat
                       },
                       MetaVersion::hybrid),
                   Errc::hybrid_mismatch},
        RejectCase{"hybrid_v1_extra_file",
                   v2_with(
                       [](auto& r) {
                         auto& files = info_of(r)["files"].as_list();
                         files.push_back(Value::Dict{{"length", 0}, {"path", Value::List{"zz"}}});
                       },
                       MetaVersion::hybrid),
                   Errc::hybrid_mismatch},
        RejectCase{"hybrid_v1_missing_file",
                   v2_with(
                       [](auto& r) {
                         auto& files = info_of(r)["files"].as_list();
                         files.erase(files.begin() + 2);  // other/empty
                       },
                       MetaVersion::hybrid),
                   Errc::hybrid_mismatch},
        RejectCase{"hybrid_v2_file_length_differs",
                   v2_with(
                       [](auto& r) {
                         leaf(r, {"other", "z.dat"})["length"] = 334;
                       },
                       MetaVersion::hybrid),
                   Errc::hybrid_mismatch},
        RejectCase{"hybrid_missing_pad",
                   v2_with([](auto& r) { move_v1_entry_to_end(r, 1); }, MetaVersion::hybrid),
                   Errc::hybrid_unaligned},
        RejectCase{"hybrid_pad_not_marked",
                   v2_with([](auto& r) { info_of(r)["files"].as_list()[1].as_dict().erase("attr"); },
                           MetaVersion::hybrid),
                   Errc::hybrid_mismatch},
        RejectCase{"hybrid_extra_tail",
                   v2_with(
                       [](auto& r) {
                         // A whole extra piece of padding at the end: v1 has one piece v2 does not.
                         auto& i = info_of(r);
                         i["files"].as_list().push_back(Value::Dict{
                             {"attr", "p"}, {"length", kPiece}, {"path", Value::List{".pad", "32768"}}});
                         i["pieces"] = i["pieces"].as_string() + std::string(20, 'p');
                       },
                       MetaVersion::hybrid),
                   Errc::hybrid_unaligned}));

}  // namespace
}  // namespace shoal::metainfo
