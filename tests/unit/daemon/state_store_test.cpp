#include "daemon/state_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <random>

namespace shoal::daemon {
namespace {

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("shoal-store-" + std::to_string(std::random_device{}()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<StateStore> open() {
    auto s = StateStore::open(dir_ / "state.sqlite");
    EXPECT_TRUE(s.has_value()) << (s ? "" : s.error());
    return std::move(*s);
  }
  static StoredTorrent torrent(const std::string& hash_digit) {
    StoredTorrent t;
    t.info_hash = std::string(40, hash_digit[0]);
    t.torrent_bytes = std::string("d4:info\0\1\2e", 11);  // binary bytes survive
    t.save_path = "/downloads";
    t.added_date = 1700000000;
    return t;
  }
  std::filesystem::path dir_;
};

TEST_F(StateStoreTest, TorrentsSurviveReopeningWithTheirIdsAndOptions) {
  std::int64_t a, b;
  {
    auto store = open();
    StoredTorrent t = torrent("a");
    t.options.download_limit = 1000;
    t.options.seed_ratio = 1.5;
    t.options.wanted = {true, false, true};
    t.options.priorities = {1, 0, -1};
    t.options.file_paths = {{0, "name/renamed file.bin"}, {12, "other/x"}};
    a = store->add(t)->id;
    b = store->add(torrent("b"))->id;
    ASSERT_TRUE(store->set_paused(b, true));
  }
  auto store = open();
  auto all = store->torrents();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, a);
  EXPECT_EQ((*all)[0].torrent_bytes, std::string("d4:info\0\1\2e", 11));
  EXPECT_EQ((*all)[0].options.download_limit, 1000);
  EXPECT_EQ((*all)[0].options.seed_ratio, 1.5);
  EXPECT_FALSE((*all)[0].options.seed_idle_minutes.has_value());
  EXPECT_EQ((*all)[0].options.wanted, (std::vector<bool>{true, false, true}));
  EXPECT_EQ((*all)[0].options.priorities, (std::vector<int>{1, 0, -1}));
  EXPECT_EQ((*all)[0].options.file_paths,
            (std::map<int, std::string>{{0, "name/renamed file.bin"}, {12, "other/x"}}));
  EXPECT_FALSE((*all)[0].paused);
  EXPECT_EQ((*all)[1].id, b);
  EXPECT_TRUE((*all)[1].paused);
  EXPECT_EQ((*all)[1].queue_position, 1);
}

TEST_F(StateStoreTest, IdsAreNeverReusedAfterRemoval) {
  auto store = open();
  auto a = store->add(torrent("a"))->id;
  ASSERT_TRUE(store->remove(a));
  auto b = store->add(torrent("b"))->id;
  EXPECT_GT(b, a);
  EXPECT_EQ(store->torrents()->size(), 1u);
}

TEST_F(StateStoreTest, ResumeDataIsKeptPerTorrentAndGoesWithIt) {
  std::int64_t a, b;
  {
    auto store = open();
    a = store->add(torrent("a"))->id;
    b = store->add(torrent("b"))->id;
    std::string binary("RES\0\xff\x01", 6);
    ASSERT_TRUE(store->set_resume_data({{a, "first"}, {b, binary}}));
    ASSERT_TRUE(store->set_resume_data({{a, "second"}}));  // the latest wins
    ASSERT_TRUE(store->set_resume_data({{9999, "for a torrent that is gone"}}));
  }
  auto store = open();
  auto all = store->torrents();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].resume_data, "second");
  EXPECT_EQ((*all)[1].resume_data, std::string("RES\0\xff\x01", 6));
  ASSERT_TRUE(store->remove(a));
  auto c = store->add(torrent("c"))->id;
  all = store->torrents();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].id, c);
  EXPECT_EQ((*all)[1].resume_data, "");  // nothing left behind by the removed one
}

TEST_F(StateStoreTest, ADuplicateInfoHashIsRefused) {
  auto store = open();
  ASSERT_TRUE(store->add(torrent("a")));
  EXPECT_FALSE(store->add(torrent("a")));
  EXPECT_EQ(store->torrents()->size(), 1u);
}

TEST_F(StateStoreTest, QueueOrderIsRewrittenDensely) {
  auto store = open();
  auto a = store->add(torrent("a"))->id;
  auto b = store->add(torrent("b"))->id;
  auto c = store->add(torrent("c"))->id;
  ASSERT_TRUE(store->set_queue_order({c, a}));
  auto all = *store->torrents();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].id, c);
  EXPECT_EQ(all[1].id, a);
  EXPECT_EQ(all[2].id, b);
  EXPECT_EQ(all[2].queue_position, 2);
}

TEST_F(StateStoreTest, UpdatesAreKept) {
  std::int64_t a;
  {
    auto store = open();
    a = store->add(torrent("a"))->id;
    TorrentOptions o;
    o.upload_limit = 5000;
    o.seed_idle_minutes = 10;
    o.peer_limit = 7;
    ASSERT_TRUE(store->set_options(a, o));
    ASSERT_TRUE(store->set_save_path(a, "/elsewhere"));
    ASSERT_TRUE(store->set_torrent_bytes(a, "d1:xi1ee"));
    ASSERT_TRUE(store->set_done_date(a, 42));
  }
  auto t = (*open()->torrents())[0];
  EXPECT_EQ(t.options.upload_limit, 5000);
  EXPECT_EQ(t.options.seed_idle_minutes, 10);
  EXPECT_EQ(t.options.peer_limit, 7);
  EXPECT_EQ(t.save_path, "/elsewhere");
  EXPECT_EQ(t.torrent_bytes, "d1:xi1ee");
  EXPECT_EQ(t.done_date, 42);
}

TEST_F(StateStoreTest, SettingsAreUpserted) {
  {
    auto store = open();
    ASSERT_TRUE(store->set_settings({{"speed-limit-down", "100"}, {"download-dir", "\"/x\""}}));
    ASSERT_TRUE(store->set_settings({{"speed-limit-down", "200"}}));
  }
  auto settings = *open()->settings();
  EXPECT_EQ(settings.size(), 2u);
  EXPECT_EQ(settings["speed-limit-down"], "200");
  EXPECT_EQ(settings["download-dir"], "\"/x\"");
}

TEST_F(StateStoreTest, AnUnwritablePlaceIsAnError) {
  auto s = StateStore::open(dir_ / "missing" / "dir" / "state.sqlite");
  EXPECT_FALSE(s.has_value());
}

TEST(StateStoreFlags, MalformedTextDecodesToEmpty) {
  EXPECT_EQ(decode_flags("10x"), std::vector<bool>{});
  EXPECT_EQ(decode_priorities("nq"), std::vector<int>{});
  EXPECT_EQ(decode_flags(encode_flags({true, false})), (std::vector<bool>{true, false}));
}

// A store written before renames were kept (no file_paths column) opens, keeps its torrents, and takes
// renames.
TEST_F(StateStoreTest, AStoreWithoutTheFilePathsColumnIsUpgraded) {
  {
    auto store = open();
    ASSERT_TRUE(store->add(torrent("a")));
  }
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "state.sqlite").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "ALTER TABLE torrents DROP COLUMN file_paths", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = open();
  auto all = store->torrents();
  ASSERT_TRUE(all) << all.error();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_TRUE((*all)[0].options.file_paths.empty());
  auto options = (*all)[0].options;
  options.file_paths[1] = "a/b";
  ASSERT_TRUE(store->set_options((*all)[0].id, options));
  EXPECT_EQ((*store->torrents())[0].options.file_paths.at(1), "a/b");
}

}  // namespace
}  // namespace shoal::daemon
