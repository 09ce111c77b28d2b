#include <gtest/gtest.h>

#include <functional>

#include "bencode/value.hpp"
#include "hash/sha.hpp"
#include "metainfo/torrent_builder.hpp"
#include "metainfo/torrent_info.hpp"

namespace shoal::metainfo {
namespace {

using bencode::Value;

// A valid multi-file torrent as a mutable value, so each case can break exactly one thing.
Value::Dict valid_info(std::int64_t piece_length = 16384) {
  Value::Dict info;
  info["name"] = "folder";
  info["piece length"] = piece_length;
  Value::List files;
  auto file = [](std::int64_t length, std::vector<std::string> path) {
    Value::List parts;
    for (auto& p : path)
      parts.emplace_back(p);
    Value::Dict f;
    f["length"] = length;
    f["path"] = Value(parts);
    return Value(f);
  };
  files.push_back(file(20000, {"a.bin"}));
  files.push_back(file(30000, {"sub", "b.bin"}));
  info["files"] = Value(files);
  info["pieces"] = std::string(20 * 4, 'x');  // ceil(50000 / 16384) = 4
  return info;
}

std::string torrent_with(const Value::Dict& info) {
  Value::Dict root;
  root["announce"] = "http://127.0.0.1:6969/announce";
  root["info"] = Value(info);
  return bencode::encode(Value(root));
}

Value::List path_of(std::vector<std::string> parts) {
  Value::List list;
  for (auto& p : parts)
    list.emplace_back(p);
  return list;
}

struct RejectCase {
  const char* name;
  std::function<std::string()> make;
  Errc code;
};

// Names the case in test listings instead of dumping its bytes.
void PrintTo(const RejectCase& c, std::ostream* os) {
  *os << c.name;
}

class RejectsTorrent : public ::testing::TestWithParam<RejectCase> {};

TEST_P(RejectsTorrent, WithPreciseError) {
  auto result = parse_torrent(GetParam().make());
  ASSERT_FALSE(result) << GetParam().name;
  EXPECT_EQ(result.error().code, GetParam().code) << GetParam().name << ": " << result.error().message();
  EXPECT_FALSE(result.error().message().empty());
}

Value::Dict with_file_path(std::vector<std::string> path) {
  auto info = valid_info();
  info["files"].as_list()[1].as_dict()["path"] = path_of(std::move(path));
  return info;
}

INSTANTIATE_TEST_SUITE_P(
    Metainfo, RejectsTorrent,
    ::testing::Values(
        RejectCase{"not_bencode", [] { return std::string("hello"); }, Errc::invalid_bencode},
        RejectCase{"truncated",
                   [] {
                     auto whole = torrent_with(valid_info());
                     return whole.substr(0, whole.size() / 2);
                   },
                   Errc::invalid_bencode},
        RejectCase{"not_a_dict", [] { return std::string("li1ee"); }, Errc::not_a_dict},
        RejectCase{"missing_info", [] { return std::string("d8:announce3:urle"); }, Errc::missing_info},
        RejectCase{"info_not_a_dict", [] { return std::string("d4:infoi1ee"); }, Errc::wrong_type},
        RejectCase{"missing_name",
                   [] {
                     auto i = valid_info();
                     i.erase("name");
                     return torrent_with(i);
                   },
                   Errc::missing_key},
        RejectCase{"name_is_integer",
                   [] {
                     auto i = valid_info();
                     i["name"] = 5;
                     return torrent_with(i);
                   },
                   Errc::wrong_type},
        RejectCase{"name_is_dotdot",
                   [] {
                     auto i = valid_info();
                     i["name"] = "..";
                     return torrent_with(i);
                   },
                   Errc::invalid_path},
        RejectCase{"name_is_empty",
                   [] {
                     auto i = valid_info();
                     i["name"] = "";
                     return torrent_with(i);
                   },
                   Errc::invalid_path},
        RejectCase{"missing_piece_length",
                   [] {
                     auto i = valid_info();
                     i.erase("piece length");
                     return torrent_with(i);
                   },
                   Errc::missing_key},
        RejectCase{"piece_length_is_string",
                   [] {
                     auto i = valid_info();
                     i["piece length"] = "16384";
                     return torrent_with(i);
                   },
                   Errc::wrong_type},
        RejectCase{"zero_piece_length",
                   [] {
                     auto i = valid_info();
                     i["piece length"] = 0;
                     return torrent_with(i);
                   },
                   Errc::invalid_piece_length},
        RejectCase{"negative_piece_length",
                   [] {
                     auto i = valid_info();
                     i["piece length"] = -16384;
                     return torrent_with(i);
                   },
                   Errc::invalid_piece_length},
        RejectCase{"absurd_piece_length",
                   [] {
                     auto i = valid_info();
                     i["piece length"] = std::int64_t{1} << 40;
                     return torrent_with(i);
                   },
                   Errc::invalid_piece_length},
        RejectCase{"missing_pieces",
                   [] {
                     auto i = valid_info();
                     i.erase("pieces");
                     return torrent_with(i);
                   },
                   Errc::missing_key},
        RejectCase{"pieces_not_multiple_of_20",
                   [] {
                     auto i = valid_info();
                     i["pieces"] = std::string(79, 'x');
                     return torrent_with(i);
                   },
                   Errc::invalid_pieces_length},
        RejectCase{"too_few_piece_hashes",
                   [] {
                     auto i = valid_info();
                     i["pieces"] = std::string(60, 'x');
                     return torrent_with(i);
                   },
                   Errc::piece_count_mismatch},
        RejectCase{"too_many_piece_hashes",
                   [] {
                     auto i = valid_info();
                     i["pieces"] = std::string(100, 'x');
                     return torrent_with(i);
                   },
                   Errc::piece_count_mismatch},
        RejectCase{"negative_file_length",
                   [] {
                     auto i = valid_info();
                     i["files"].as_list()[0].as_dict()["length"] = -1;
                     return torrent_with(i);
                   },
                   Errc::invalid_file_length},
        RejectCase{"overflowing_total_size",
                   [] {
                     auto i = valid_info();
                     i["files"].as_list()[0].as_dict()["length"] = INT64_MAX;
                     i["files"].as_list()[1].as_dict()["length"] = INT64_MAX;
                     return torrent_with(i);
                   },
                   Errc::total_size_overflow},
        RejectCase{"single_file_too_large",
                   [] {
                     auto i = valid_info();
                     i.erase("files");
                     i["length"] = INT64_MAX;
                     return torrent_with(i);
                   },
                   Errc::total_size_overflow},
        RejectCase{"file_length_missing",
                   [] {
                     auto i = valid_info();
                     i["files"].as_list()[0].as_dict().erase("length");
                     return torrent_with(i);
                   },
                   Errc::missing_key},
        RejectCase{"file_path_missing",
                   [] {
                     auto i = valid_info();
                     i["files"].as_list()[0].as_dict().erase("path");
                     return torrent_with(i);
                   },
                   Errc::missing_key},
        RejectCase{"file_path_is_string",
                   [] {
                     auto i = valid_info();
                     i["files"].as_list()[0].as_dict()["path"] = "a.bin";
                     return torrent_with(i);
                   },
                   Errc::wrong_type},
        RejectCase{"file_path_component_is_integer",
                   [] {
                     auto i = valid_info();
                     i["files"].as_list()[0].as_dict()["path"] = Value::List{Value(7)};
                     return torrent_with(i);
                   },
                   Errc::wrong_type},
        RejectCase{"file_entry_not_a_dict",
                   [] {
                     auto i = valid_info();
                     i["files"].as_list()[0] = 3;
                     return torrent_with(i);
                   },
                   Errc::wrong_type},
        RejectCase{"empty_file_list",
                   [] {
                     auto i = valid_info();
                     i["files"] = Value::List{};
                     return torrent_with(i);
                   },
                   Errc::empty_file_list},
        RejectCase{"files_not_a_list",
                   [] {
                     auto i = valid_info();
                     i["files"] = 3;
                     return torrent_with(i);
                   },
                   Errc::wrong_type},
        RejectCase{"both_length_and_files",
                   [] {
                     auto i = valid_info();
                     i["length"] = 50000;
                     return torrent_with(i);
                   },
                   Errc::both_length_and_files},
        RejectCase{"neither_length_nor_files",
                   [] {
                     auto i = valid_info();
                     i.erase("files");
                     return torrent_with(i);
                   },
                   Errc::missing_key},
        RejectCase{"zero_total_size",
                   [] {
                     auto i = valid_info();
                     i.erase("files");
                     i["length"] = 0;
                     i["pieces"] = "";
                     return torrent_with(i);
                   },
                   Errc::invalid_file_length},
        RejectCase{"dotdot_component",
                   [] {
                     return torrent_with(with_file_path({"..", "..", "etc", "passwd"}));
                   },
                   Errc::invalid_path},
        RejectCase{"dotdot_in_middle",
                   [] {
                     return torrent_with(with_file_path({"a", "..", "..", "x"}));
                   },
                   Errc::invalid_path},
        RejectCase{"only_empty_components",
                   [] {
                     return torrent_with(with_file_path({"", ".", ""}));
                   },
                   Errc::invalid_path},
        RejectCase{"empty_path_list", [] { return torrent_with(with_file_path({})); }, Errc::invalid_path},
        RejectCase{
            "path_too_deep",
            [] { return torrent_with(with_file_path(std::vector<std::string>(kMaxPathDepth + 1, "d"))); },
            Errc::path_too_deep},
        RejectCase{"duplicate_paths", [] { return torrent_with(with_file_path({"a.bin"})); },
                   Errc::duplicate_path},
        RejectCase{"duplicate_after_sanitizing",
                   [] {
                     return torrent_with(with_file_path({".", "a.bin", ""}));
                   },
                   Errc::duplicate_path},
        RejectCase{"file_where_directory_needed",
                   [] {
                     return torrent_with(with_file_path({"a.bin", "x"}));
                   },
                   Errc::duplicate_path}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(ParseTorrent, MultiFileLayoutAndHash) {
  auto info = valid_info();
  std::string bytes = torrent_with(info);
  auto t = parse_torrent(bytes);
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(t->name, "folder");
  EXPECT_TRUE(t->multi_file);
  EXPECT_EQ(t->total_size, 50000);
  EXPECT_EQ(t->num_pieces(), 4);
  EXPECT_EQ(t->piece_size(PieceIndex(0)), 16384);
  EXPECT_EQ(t->piece_size(PieceIndex(3)), 50000 - 3 * 16384);
  ASSERT_EQ(t->files.size(), 2u);
  EXPECT_EQ(t->files[0].path, "folder/a.bin");
  EXPECT_EQ(t->files[0].offset, 0);
  EXPECT_EQ(t->files[1].path, "folder/sub/b.bin");
  EXPECT_EQ(t->files[1].offset, 20000);
  EXPECT_EQ(t->info_bytes, bencode::encode(Value(info)));
  EXPECT_EQ(t->info_hash, hash::sha1(bencode::encode(Value(info))));
  ASSERT_EQ(t->trackers.size(), 1u);
  EXPECT_EQ(t->trackers[0][0], "http://127.0.0.1:6969/announce");
}

TEST(ParseTorrent, InfoHashUsesTheExactBytesNotAReEncoding) {
  // An unknown key inside info must be kept in the hash: re-encoding only known keys would change it.
  auto info = valid_info();
  info["x-unknown"] = Value::List{1, 2, 3};
  std::string bytes = torrent_with(info);
  auto t = parse_torrent(bytes);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->info_hash, hash::sha1(bencode::encode(Value(info))));
}

TEST(ParseTorrent, SingleFileAndOptionalFields) {
  Value::Dict info;
  info["name"] = "movie.mkv";
  info["piece length"] = 32768;
  info["length"] = 100000;
  info["pieces"] = std::string(20 * 4, 'y');
  info["private"] = 1;
  info["source"] = "SRC";
  Value::Dict root;
  root["info"] = Value(info);
  root["announce"] = "http://ignored-when-list-present/announce";
  root["announce-list"] =
      Value::List{Value::List{"http://a/1", "http://a/2"}, Value::List{}, Value::List{"udp://b:80"}};
  root["url-list"] = "http://ws/";
  root["comment"] = "hello";
  root["created by"] = "someone";
  root["creation date"] = 1700000000;
  auto t = parse_torrent(bencode::encode(Value(root)));
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_FALSE(t->multi_file);
  ASSERT_EQ(t->files.size(), 1u);
  EXPECT_EQ(t->files[0].path, "movie.mkv");
  EXPECT_TRUE(t->is_private);
  EXPECT_EQ(t->source, "SRC");
  ASSERT_EQ(t->trackers.size(), 2u);  // the empty tier is dropped
  EXPECT_EQ(t->trackers[0], (std::vector<std::string>{"http://a/1", "http://a/2"}));
  EXPECT_EQ(t->web_seeds, std::vector<std::string>{"http://ws/"});
  EXPECT_EQ(t->comment, "hello");
  EXPECT_EQ(t->created_by, "someone");
  EXPECT_EQ(t->creation_date, 1700000000);
}

TEST(ParseTorrent, UrlListAsListAndUtf8Preference) {
  auto info = valid_info();
  info["name.utf-8"] = "f\xc3\xb6lder";
  Value::Dict root;
  root["info"] = Value(info);
  root["url-list"] = Value::List{"http://a/", "http://b/"};
  auto t = parse_torrent(bencode::encode(Value(root)));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->name, "f\xc3\xb6lder");
  EXPECT_EQ(t->files[0].path, "f\xc3\xb6lder/a.bin");
  EXPECT_EQ(t->web_seeds.size(), 2u);
  EXPECT_TRUE(t->trackers.empty());
}

TEST(ParseTorrent, PadFilesAreMarkedAndMayShareNames) {
  auto info = valid_info();
  Value::Dict pad1;
  pad1["length"] = 100;
  pad1["path"] = path_of({".pad", "100"});
  pad1["attr"] = "p";
  auto& files = info["files"].as_list();
  files.insert(files.begin() + 1, Value(pad1));
  files.push_back(Value(pad1));
  info["pieces"] = std::string(20 * 4, 'x');  // 50200 bytes still 4 pieces
  auto t = parse_torrent(torrent_with(info));
  ASSERT_TRUE(t) << t.error().message();
  ASSERT_EQ(t->files.size(), 4u);
  EXPECT_TRUE(t->files[1].pad);
  EXPECT_EQ(t->files[2].offset, 20100);
  EXPECT_EQ(t->total_size, 50200);
}

TEST(ParseInfoDict, ParsesBareInfo) {
  std::string info = bencode::encode(Value(valid_info()));
  auto t = parse_info_dict(info);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->info_hash, hash::sha1(info));
  EXPECT_FALSE(parse_info_dict("le"));
}

TEST(Builder, RoundTripsThroughTheParser) {
  BuildInput in;
  in.name = "tree";
  in.single_file = false;
  in.files = {{"a.bin", 10}, {"sub/b.bin", 40000}, {"sub/deeper/c", 0}};
  in.piece_length = 16384;
  in.piece_hashes = std::string(20 * 3, 'z');
  in.trackers = {{"http://t1/announce"}, {"http://t2/announce"}};
  in.web_seeds = {"http://ws/"};
  in.is_private = true;
  in.comment = "c";
  in.created_by = "Shoal test";
  in.source = "s";
  in.creation_date = 42;
  auto t = parse_torrent(build_torrent(in));
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(t->files.size(), 3u);
  EXPECT_EQ(t->files[2].path, "tree/sub/deeper/c");
  EXPECT_EQ(t->trackers.size(), 2u);
  EXPECT_TRUE(t->is_private);
  EXPECT_EQ(t->source, "s");
  EXPECT_EQ(t->creation_date, 42);
  EXPECT_EQ(build_torrent(in), build_torrent(in));  // deterministic
}

TEST(Builder, SingleTrackerHasNoAnnounceList) {
  BuildInput in;
  in.name = "f";
  in.files = {{"f", 5}};
  in.piece_length = 16384;
  in.piece_hashes = std::string(20, 'z');
  in.trackers = {{"http://t/announce"}};
  std::string bytes = build_torrent(in);
  EXPECT_EQ(bytes.find("announce-list"), std::string::npos);
  EXPECT_NE(bytes.find("8:announce17:http://t/announce"), std::string::npos);
}

TEST(AutoPieceLength, PowersOfTwoWithinBounds) {
  EXPECT_EQ(auto_piece_length(1), 16384);
  EXPECT_EQ(auto_piece_length(1500LL * 16384), 16384);
  EXPECT_EQ(auto_piece_length(2LL << 30), 2 * 1024 * 1024);
  EXPECT_EQ(auto_piece_length(1LL << 50), 16 * 1024 * 1024);
  for (std::int64_t size : {1LL, 1LL << 20, 1LL << 30, 1LL << 40}) {
    auto p = auto_piece_length(size);
    EXPECT_EQ(p & (p - 1), 0);
  }
}

}  // namespace
}  // namespace shoal::metainfo
