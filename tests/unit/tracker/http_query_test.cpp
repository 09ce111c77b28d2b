#include "tracker/http_query.hpp"

#include <gtest/gtest.h>

namespace shoal::tracker {
namespace {

const std::string kHash = "%124Vx%9A%BC%DE%F1%23Eg%89%AB%CD%EF%124Vx%9A";  // 20 bytes

TEST(HttpQuery, ParsesAStandardAnnounce) {
  auto q = parse_announce_query("info_hash=" + kHash + "&peer_id=-SH0100-aaaaaaaaaaaa&port=6881&uploaded=1" +
                                "&downloaded=2&left=3&event=started&numwant=80&compact=1&key=abc&extra=1");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->info_hash.to_hex(), "123456789abcdef123456789abcdef123456789a");
  EXPECT_EQ(q->port, 6881);
  EXPECT_EQ(q->left, 3);
  EXPECT_EQ(q->event, AnnounceKind::started);
  EXPECT_EQ(q->numwant, 80);
  EXPECT_TRUE(q->compact);
  EXPECT_EQ(std::string(q->peer_id.begin(), q->peer_id.end()), "-SH0100-aaaaaaaaaaaa");
}

TEST(HttpQuery, EveryMalformedFieldIsNamed) {
  auto err = [](const std::string& query) { return parse_announce_query(query).error(); };
  EXPECT_EQ(err("port=1"), QueryError::missing_info_hash);
  EXPECT_EQ(err("info_hash=" + kHash), QueryError::missing_port);
  EXPECT_EQ(err("info_hash=abc&port=1"), QueryError::bad_info_hash);
  EXPECT_EQ(err("info_hash=" + kHash + "aa&port=1"), QueryError::bad_info_hash);
  EXPECT_EQ(err("info_hash=%1&port=1"), QueryError::bad_escape);
  EXPECT_EQ(err("info_hash=%zz" + kHash + "&port=1"), QueryError::bad_escape);
  EXPECT_EQ(err("info_hash=" + kHash + "&port=0"), QueryError::bad_port);
  EXPECT_EQ(err("info_hash=" + kHash + "&port=65536"), QueryError::bad_port);
  EXPECT_EQ(err("info_hash=" + kHash + "&port=12x"), QueryError::bad_port);
  EXPECT_EQ(err("info_hash=" + kHash + "&port=1&left=-1"), QueryError::bad_number);
  EXPECT_EQ(err("info_hash=" + kHash + "&port=1&numwant=99999999999999999999999"), QueryError::bad_number);
  EXPECT_EQ(err("info_hash=" + kHash + "&port=1&event=exploded"), QueryError::bad_event);
  EXPECT_EQ(err("info_hash=" + kHash + "&port=1&peer_id=short"), QueryError::bad_peer_id);
  EXPECT_EQ(err(std::string(kMaxQueryLength + 1, 'a')), QueryError::too_long);
  EXPECT_STREQ(describe(QueryError::bad_port), "invalid port");
}

TEST(HttpQuery, ScrapeTakesManyHashesUpToACap) {
  std::string query;
  for (int i = 0; i < 100; ++i)
    query += "info_hash=" + kHash + "&";
  auto q = parse_scrape_query(query);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->info_hashes.size(), kMaxScrapeHashesPerRequest);
  EXPECT_TRUE(parse_scrape_query("")->info_hashes.empty());
  EXPECT_EQ(parse_scrape_query("info_hash=xyz").error(), QueryError::bad_info_hash);
}

}  // namespace
}  // namespace shoal::tracker
