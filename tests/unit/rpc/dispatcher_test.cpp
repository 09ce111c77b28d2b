#include "rpc/dispatcher.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "fake_backend.hpp"
#include "rpc/base64.hpp"

namespace shoal::rpc {
namespace {

using nlohmann::json;
using testing::FakeBackend;

constexpr std::int64_t kNow = 1'700'000'000;

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() / ("shoal-rpc-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(root_ / "dl");
    root_ = std::filesystem::canonical(root_);
    TorrentView a;
    a.id = 1;
    a.status.info_hash = std::string(40, 'a');
    a.status.name = "alpha";
    a.status.state = TorrentState::downloading;
    a.status.total_size = 2000;
    a.status.total_wanted = 1000;
    a.status.have_wanted = 250;
    a.status.num_pieces = 4;
    a.status.download_rate = 75;
    a.status.peers = 3;
    a.download_limit = 50'000;
    a.files = {{"alpha/x", 600, 150, true, 0}, {"alpha/y", 400, 100, false, 1}};
    backend_.views[1] = a;
    TorrentView b;
    b.id = 2;
    b.status.info_hash = std::string(40, 'b');
    b.status.name = "beta";
    b.status.state = TorrentState::paused;
    b.status.num_pieces = 1;
    b.status.total_wanted = 10;
    b.status.have_wanted = 10;
    backend_.views[2] = b;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  json call(const std::string& method, json args = json::object()) {
    Dispatcher d(backend_, PathPolicy({root_ / "dl"}));
    return d.handle(json{{"method", method}, {"arguments", args}, {"tag", 5}}, kNow, "sid");
  }

  FakeBackend backend_;
  std::filesystem::path root_;
};

TEST_F(DispatcherTest, TorrentGetReturnsTheAskedFieldsInTransmissionUnits) {
  auto r = call("torrent-get", {{"fields",
                                 {"id", "name", "percentDone", "leftUntilDone", "status", "eta",
                                  "downloadLimit", "downloadLimited", "no-such-field"}}});
  ASSERT_EQ(r["result"], "success");
  EXPECT_EQ(r["tag"], 5);
  auto& t = r["arguments"]["torrents"];
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0]["id"], 1);
  EXPECT_EQ(t[0]["name"], "alpha");
  EXPECT_DOUBLE_EQ(t[0]["percentDone"].get<double>(), 0.25);
  EXPECT_EQ(t[0]["leftUntilDone"], 750);
  EXPECT_EQ(t[0]["status"], 4);
  EXPECT_EQ(t[0]["eta"], 10);
  EXPECT_EQ(t[0]["downloadLimit"], 50);
  EXPECT_EQ(t[0]["downloadLimited"], true);
  EXPECT_FALSE(t[0].contains("no-such-field"));
  EXPECT_EQ(t[1]["status"], 0);
  EXPECT_EQ(t[1]["eta"], -1);
  EXPECT_FALSE(backend_.last_query_files);
}

TEST_F(DispatcherTest, TorrentGetTableFormatHasAHeaderRow) {
  auto r = call("torrent-get", {{"fields", {"id", "name", "bogus"}}, {"format", "table"}, {"ids", {2}}});
  auto& t = r["arguments"]["torrents"];
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0], json({"id", "name"}));
  EXPECT_EQ(t[1], json({2, "beta"}));
}

TEST_F(DispatcherTest, FileFieldsAskTheBackendForFiles) {
  auto r = call("torrent-get", {{"fields", {"files", "fileStats", "wanted", "priorities"}}, {"ids", 1}});
  EXPECT_TRUE(backend_.last_query_files);
  auto& t = r["arguments"]["torrents"][0];
  EXPECT_EQ(t["files"][1]["name"], "alpha/y");
  EXPECT_EQ(t["files"][1]["length"], 400);
  EXPECT_EQ(t["fileStats"][1]["wanted"], false);
  EXPECT_EQ(t["wanted"], json({1, 0}));
  EXPECT_EQ(t["priorities"], json({0, 1}));
}

TEST_F(DispatcherTest, IdsByHashNumberAndRecentlyActive) {
  auto r = call("torrent-get", {{"fields", {"id"}}, {"ids", {std::string(40, 'B'), 1, 99}}});
  EXPECT_EQ(r["arguments"]["torrents"], json::parse(R"([{"id":2},{"id":1}])"));
  backend_.active = {2};
  backend_.removed_lately = {5};
  r = call("torrent-get", {{"fields", {"id"}}, {"ids", "recently-active"}});
  EXPECT_EQ(r["arguments"]["torrents"], json::parse(R"([{"id":2}])"));
  EXPECT_EQ(r["arguments"]["removed"], json({5}));
  r = call("torrent-get", {{"fields", {"id"}}, {"ids", {"not-a-hash"}}});
  EXPECT_NE(r["result"], "success");
}

TEST_F(DispatcherTest, TorrentGetWithoutFieldsFails) {
  EXPECT_EQ(call("torrent-get")["result"], "no fields specified");
}

TEST_F(DispatcherTest, ActionsReachTheBackendWithTheirIds) {
  call("torrent-stop", {{"ids", {1}}});
  call("torrent-start");
  call("torrent-start-now", {{"ids", 2}});
  call("torrent-verify", {{"ids", {1, 2}}});
  call("torrent-reannounce", {{"ids", {1}}});
  call("torrent-remove", {{"ids", {2}}, {"delete-local-data", true}});
  ASSERT_EQ(backend_.actions.size(), 6u);
  EXPECT_EQ(backend_.actions[0], std::make_pair(std::string("stop"), std::vector<TorrentId>{1}));
  EXPECT_EQ(backend_.actions[1], std::make_pair(std::string("start"), std::vector<TorrentId>{1, 2}));
  EXPECT_EQ(backend_.actions[2].first, "start-now");
  EXPECT_EQ(backend_.actions[3].second, (std::vector<TorrentId>{1, 2}));
  EXPECT_EQ(backend_.actions[4].first, "reannounce");
  EXPECT_EQ(backend_.actions[5], std::make_pair(std::string("remove-data"), std::vector<TorrentId>{2}));
}

TEST_F(DispatcherTest, TorrentAddDecodesMetainfoAndConfinesTheDownloadDir) {
  auto dir = (root_ / "dl" / "sub").string();
  auto r = call("torrent-add", {{"metainfo", base64_encode("d4:infoe")},
                                {"download-dir", dir},
                                {"paused", true},
                                {"files-unwanted", {1}}});
  ASSERT_EQ(r["result"], "success");
  EXPECT_EQ(r["arguments"]["torrent-added"]["id"], 7);
  ASSERT_EQ(backend_.adds.size(), 1u);
  EXPECT_EQ(backend_.adds[0].metainfo, "d4:infoe");
  EXPECT_EQ(backend_.adds[0].download_dir, dir);
  EXPECT_TRUE(backend_.adds[0].paused);
  EXPECT_EQ(backend_.adds[0].files_unwanted, std::vector<int>{1});
}

TEST_F(DispatcherTest, TorrentAddReportsADuplicateAsSuccess) {
  backend_.add_result = AddResult{1, "alpha", std::string(40, 'a'), true};
  auto r = call("torrent-add", {{"filename", "magnet:?xt=urn:btih:" + std::string(40, 'a')}});
  EXPECT_EQ(r["result"], "success");
  EXPECT_EQ(r["arguments"]["torrent-duplicate"]["hashString"], std::string(40, 'a'));
  EXPECT_EQ(backend_.adds[0].magnet.rfind("magnet:", 0), 0u);
}

TEST_F(DispatcherTest, TorrentAddRefusesPathsOutsideTheRootsAndUrls) {
  for (json args : {json{{"filename", "magnet:?x"}, {"download-dir", "/etc"}},
                    json{{"filename", "magnet:?x"}, {"download-dir", (root_ / "dl" / ".." / "..").string()}},
                    json{{"filename", "/etc/passwd"}}, json{{"filename", "relative.torrent"}},
                    json{{"filename", "http://example.com/x.torrent"}}, json{{"metainfo", "!!!not base64"}},
                    json{{"paused", true}}}) {
    auto r = call("torrent-add", args);
    EXPECT_NE(r["result"], "success") << args.dump();
  }
  EXPECT_TRUE(backend_.adds.empty());
}

TEST_F(DispatcherTest, ASymlinkOutOfARootIsRefused) {
  std::filesystem::create_directory_symlink("/etc", root_ / "dl" / "escape");
  auto r =
      call("torrent-add", {{"filename", "magnet:?x"}, {"download-dir", (root_ / "dl" / "escape").string()}});
  EXPECT_NE(r["result"], "success");
  EXPECT_TRUE(backend_.adds.empty());
}

TEST_F(DispatcherTest, TorrentSetConvertsLimitsAndFileLists) {
  auto r = call("torrent-set", {{"ids", {1}},
                                {"downloadLimit", 100},
                                {"downloadLimited", true},
                                {"uploadLimited", false},
                                {"files-unwanted", {1}},
                                {"priority-high", json::array()},
                                {"seedRatioLimit", 1.5},
                                {"seedRatioMode", 1},
                                {"seedIdleMode", 2}});
  ASSERT_EQ(r["result"], "success");
  ASSERT_EQ(backend_.changes.size(), 1u);
  const auto& c = backend_.changes[0];
  EXPECT_EQ(c.download_limit, 100'000);
  EXPECT_EQ(c.upload_limit, 0);
  EXPECT_EQ(c.files_unwanted, std::vector<int>{1});
  EXPECT_EQ(c.priority_high, std::vector<int>{-1});  // an empty list: every file
  ASSERT_TRUE(c.seed_ratio.has_value());
  EXPECT_EQ(*c.seed_ratio, 1.5);
  ASSERT_TRUE(c.seed_idle_minutes.has_value());
  EXPECT_EQ(*c.seed_idle_minutes, -1);
}

TEST_F(DispatcherTest, TorrentSetRefusesALocationOutsideTheRoots) {
  EXPECT_NE(call("torrent-set", {{"ids", {1}}, {"location", "/tmp/../root"}})["result"], "success");
  EXPECT_NE(call("torrent-set-location", {{"ids", {1}}, {"location", "/"}})["result"], "success");
  EXPECT_TRUE(backend_.changes.empty());
  EXPECT_TRUE(backend_.locations.empty());
  auto inside = (root_ / "dl" / "moved").string();
  EXPECT_EQ(call("torrent-set-location", {{"ids", {1}}, {"location", inside}, {"move", true}})["result"],
            "success");
  ASSERT_EQ(backend_.locations.size(), 1u);
  EXPECT_EQ(std::get<1>(backend_.locations[0]), inside);
  EXPECT_TRUE(std::get<2>(backend_.locations[0]));
}

TEST_F(DispatcherTest, SessionGetReportsVersionAndOnlyAskedFields) {
  auto r = call("session-get");
  EXPECT_EQ(r["arguments"]["rpc-version"], 17);
  EXPECT_EQ(r["arguments"]["session-id"], "sid");
  EXPECT_EQ(r["arguments"]["peer-port"], 51413);
  r = call("session-get", {{"fields", {"version", "download-dir"}}});
  EXPECT_EQ(r["arguments"].size(), 2u);
}

TEST_F(DispatcherTest, SessionSetChangesValuesButNeverTheHook) {
  auto r = call("session-set",
                {{"speed-limit-down", 300}, {"speed-limit-down-enabled", true}, {"download-queue-size", 3}});
  ASSERT_EQ(r["result"], "success");
  EXPECT_EQ(backend_.values.speed_limit_down, 300'000);
  EXPECT_TRUE(backend_.values.speed_limit_down_enabled);
  EXPECT_EQ(backend_.values.download_queue_size, 3);
  r = call("session-set",
           {{"script-torrent-done-filename", "/bin/sh"}, {"script-torrent-done-enabled", true}});
  EXPECT_NE(r["result"], "success");
  EXPECT_TRUE(backend_.values.done_script.empty());
  EXPECT_NE(call("session-set", {{"download-dir", "/root"}})["result"], "success");
  EXPECT_NE(call("session-set", {{"speed-limit-up", "fast"}})["result"], "success");
}

TEST_F(DispatcherTest, SessionSetTakesTransmissionsEncryptionNamesAndUtp) {
  EXPECT_EQ(call("session-get")["arguments"]["encryption"], "preferred");
  EXPECT_EQ(call("session-get")["arguments"]["utp-enabled"], true);
  ASSERT_EQ(call("session-set", {{"encryption", "required"}, {"utp-enabled", false}})["result"], "success");
  EXPECT_EQ(backend_.values.encryption, "required");
  EXPECT_FALSE(backend_.values.utp_enabled);
  EXPECT_EQ(call("session-get")["arguments"]["encryption"], "required");
  auto r = call("session-set", {{"encryption", "sometimes"}});
  EXPECT_NE(r["result"], "success");
  EXPECT_EQ(backend_.values.encryption, "required");
  EXPECT_NE(call("session-set", {{"encryption", 1}})["result"], "success");
}

TEST_F(DispatcherTest, RenamePathTakesOneTorrentAPathAndANameAndEchoesThem) {
  auto r = call("torrent-rename-path", {{"ids", {1}}, {"path", "alpha/a.bin"}, {"name", "b.bin"}});
  ASSERT_EQ(r["result"], "success");
  EXPECT_EQ(r["arguments"]["id"], 1);
  EXPECT_EQ(r["arguments"]["path"], "alpha/a.bin");
  EXPECT_EQ(r["arguments"]["name"], "b.bin");
  ASSERT_EQ(backend_.renames.size(), 1u);
  EXPECT_EQ(backend_.renames[0],
            std::make_tuple(rpc::TorrentId{1}, std::string("alpha/a.bin"), std::string("b.bin")));
  EXPECT_NE(call("torrent-rename-path", {{"ids", {1, 2}}, {"path", "alpha"}, {"name", "b"}})["result"],
            "success");
  EXPECT_NE(call("torrent-rename-path", {{"ids", {1}}, {"name", "b"}})["result"], "success");
  EXPECT_NE(call("torrent-rename-path", {{"ids", {1}}, {"path", "alpha"}, {"name", 3}})["result"], "success");
  r = call("torrent-rename-path", {{"ids", {1}}, {"path", "missing"}, {"name", "b"}});
  EXPECT_NE(r["result"].get<std::string>().find("no file or folder"), std::string::npos);
  EXPECT_EQ(backend_.renames.size(), 1u);
}

TEST_F(DispatcherTest, LocalAnswersAndRefusals) {
  EXPECT_EQ(call("port-test")["arguments"]["port-is-open"], true);
  auto r = call("blocklist-update");
  EXPECT_NE(r["result"], "success");
  EXPECT_NE(r["result"].get<std::string>().find("not supported"), std::string::npos);
  EXPECT_NE(call("free-space", {{"path", "/"}})["result"], "success");
  r = call("free-space", {{"path", (root_ / "dl").string()}});
  EXPECT_EQ(r["arguments"]["size-bytes"], 100);
  EXPECT_EQ(call("session-stats")["arguments"]["torrentCount"], 3);
  call("session-close");
  EXPECT_TRUE(backend_.closed);
  EXPECT_NE(call("no-such-method")["result"], "success");
}

TEST_F(DispatcherTest, QueueMovesAreForwarded) {
  call("queue-move-top", {{"ids", {2}}});
  call("queue-move-bottom", {{"ids", {1}}});
  ASSERT_EQ(backend_.actions.size(), 2u);
  EXPECT_EQ(backend_.actions[0].first, "queue-0");
  EXPECT_EQ(backend_.actions[1].first, "queue-3");
}

TEST_F(DispatcherTest, MalformedRequestsGetAnErrorNotAnException) {
  Dispatcher d(backend_, PathPolicy({root_}));
  for (std::string body :
       {"", "{", "[]", "null", R"({"method": 5})", R"({"method":"torrent-get","arguments":[]})",
        R"({"method":"torrent-get","arguments":{"fields":[1]}})",
        R"({"method":"torrent-add","arguments":{"metainfo":7}})",
        R"({"method":"torrent-set","arguments":{"ids":[1],"files-wanted":"x"}})",
        R"({"method":"torrent-get","arguments":{"fields":["id"],"ids":{"a":1}}})"}) {
    auto out = json::parse(d.handle_text(body, kNow), nullptr, false);
    ASSERT_FALSE(out.is_discarded()) << body;
    EXPECT_NE(out["result"], "success") << body;
  }
}

TEST_F(DispatcherTest, InvalidUtf8InANameIsReplacedNotFatal) {
  backend_.views[1].status.name = "bad\xff name";
  Dispatcher d(backend_, PathPolicy({root_}));
  auto out = json::parse(
      d.handle_text(R"({"method":"torrent-get","arguments":{"fields":["name"],"ids":[1]}})", kNow));
  EXPECT_EQ(out["result"], "success");
}

// torrent-get's answer is written as text (the fast path for 10,000 torrents): the same answer as the tree
// form, for every shape of request it takes, with the tag, removed ids, a duplicate and an unknown field.
TEST_F(DispatcherTest, TorrentGetTextIsTheSameAnswerAsTheTree) {
  backend_.views[1].status.name = "quote\" back\\slash <b> \x01 bad\xff";
  backend_.active = {2};
  backend_.removed_lately = {5, 6};
  Dispatcher d(backend_, PathPolicy({root_}));
  for (std::string args : {
           R"({"fields":["id","name","percentDone","eta","uploadRatio","isFinished","name","bogus"]})",
           R"({"fields":["id","files","fileStats","wanted","priorities"],"ids":[1]})",
           R"({"fields":["id","status"],"ids":"recently-active"})",
           R"({"fields":[],"ids":[2,1]})",
           R"({"fields":["id"],"ids":[]})",
       }) {
    SCOPED_TRACE(args);
    auto request = json::parse(R"({"method":"torrent-get","tag":"t\"1","arguments":)" + args + "}");
    auto text = json::parse(d.handle_text(request.dump(), kNow), nullptr, false);
    ASSERT_FALSE(text.is_discarded());
    auto tree = json::parse(d.handle(request, kNow).dump(-1, ' ', false, json::error_handler_t::replace));
    EXPECT_EQ(text, tree);
    EXPECT_EQ(text["result"], "success");
  }
}

TEST(Base64, RoundTripsAndRejectsGarbage) {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)})
    EXPECT_EQ(base64_decode(base64_encode(s)), s);
  EXPECT_EQ(base64_decode("YWJj\nZA=="), "abcd");
  EXPECT_FALSE(base64_decode("YW*j"));
  EXPECT_FALSE(base64_decode("Y"));
  EXPECT_FALSE(base64_decode("YQ==YQ"));
}

}  // namespace
}  // namespace shoal::rpc
