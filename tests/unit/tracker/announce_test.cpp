#include "tracker/announce.hpp"

#include <gtest/gtest.h>

namespace shoal::tracker {
namespace {

using namespace std::string_literals;

AnnounceRequest sample_request() {
  AnnounceRequest r;
  auto hash = Sha1Digest::from_hex("0123456789abcdef0123456789abcdef01234567");
  r.info_hash = *hash;
  r.peer_id.fill('-');
  r.peer_id[0] = ' ';
  r.port = 6881;
  r.uploaded = 1;
  r.downloaded = 2;
  r.left = 3;
  return r;
}

TEST(AnnounceUrl, EscapesBinaryFieldsAndCarriesEveryParameter) {
  auto r = sample_request();
  r.event = AnnounceEvent::started;
  r.key = 0xabc;
  r.tracker_id = "id&1";
  auto url = build_announce_url("http://t.example/announce", r);
  EXPECT_EQ(
      url.rfind("http://t.example/announce?info_hash=%01%23Eg%89%AB%CD%EF%01%23Eg%89%AB%CD%EF%01%23Eg", 0),
      0u)
      << url;
  EXPECT_NE(url.find("&peer_id=%20-------------------"), std::string::npos) << url;
  EXPECT_NE(url.find("&port=6881&uploaded=1&downloaded=2&left=3&compact=1&numwant=50&event=started"),
            std::string::npos);
  EXPECT_NE(url.find("&key=00000abc"), std::string::npos);
  EXPECT_NE(url.find("&trackerid=id%261"), std::string::npos);
  // An announce URL that already has a query keeps it.
  EXPECT_EQ(build_announce_url("http://t/a?passkey=x", r).rfind("http://t/a?passkey=x&info_hash=", 0), 0u);
  r.event = AnnounceEvent::none;
  EXPECT_EQ(build_announce_url("http://t/a", r).find("event="), std::string::npos);
}

TEST(AnnounceResponse, CompactIPv4AndIPv6Peers) {
  std::string body = "d8:completei5e10:incompletei7e8:intervali900e12:min intervali60e5:peers12:"s +
                     "\x7f\x00\x00\x01\x1a\xe1\x0a\x00\x00\x02\x00\x50"s + "6:peers618:"s +
                     std::string(15, '\0') + "\x01\x1a\xe2"s + "e";
  auto r = parse_announce_response(body);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->interval, 900);
  EXPECT_EQ(r->min_interval, 60);
  EXPECT_EQ(r->complete, 5);
  EXPECT_EQ(r->incomplete, 7);
  ASSERT_EQ(r->peers.size(), 3u);
  EXPECT_EQ(r->peers[0].to_string(), "127.0.0.1:6881");
  EXPECT_EQ(r->peers[1].to_string(), "10.0.0.2:80");
  EXPECT_EQ(r->peers[2].to_string(), "[::1]:6882");
}

TEST(AnnounceResponse, DictionaryPeersSkipBadEntries) {
  auto r = parse_announce_response(
      "d8:intervali60e5:peersl"
      "d2:ip9:127.0.0.17:peer id20:aaaaaaaaaaaaaaaaaaaa4:porti6881ee"
      "d2:ip3:::14:porti7000ee"
      "d2:ip9:127.0.0.14:porti0ee"  // port 0
      "d2:ip8:hostname4:porti1ee"   // names are not resolved
      "i5e"                         // not a dictionary
      "ee");
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->peers.size(), 2u);
  EXPECT_EQ(r->peers[0].to_string(), "127.0.0.1:6881");
  EXPECT_EQ(r->peers[1].to_string(), "[::1]:7000");
}

TEST(AnnounceResponse, IntervalsAreClampedAndWarningsAndTrackerIdKept) {
  auto r = parse_announce_response("d8:intervali1e10:tracker id3:xyz15:warning message4:slowe");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->interval, kMinInterval);
  EXPECT_EQ(r->tracker_id, "xyz");
  EXPECT_EQ(r->warning_message, "slow");
  r = parse_announce_response("d8:intervali99999999ee");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->interval, 86400);
}

TEST(AnnounceResponse, RejectionsNameTheProblem) {
  auto failure = parse_announce_response("d14:failure reason15:not whitelistede");
  ASSERT_FALSE(failure);
  EXPECT_EQ(failure.error().code, Errc::tracker_failure);
  EXPECT_NE(failure.error().message().find("not whitelisted"), std::string::npos);

  EXPECT_EQ(parse_announce_response("<html>").error().code, Errc::invalid_response);
  EXPECT_EQ(parse_announce_response("li1ee").error().code, Errc::invalid_response);
  EXPECT_EQ(parse_announce_response("d5:peers5:abcdee").error().code, Errc::bad_peers);
  EXPECT_EQ(parse_announce_response("d6:peers65:abcdee").error().code, Errc::bad_peers);
  EXPECT_EQ(parse_announce_response("d5:peersi1ee").error().code, Errc::bad_peers);
}

TEST(AnnounceResponse, PeerListsAreCapped) {
  std::string compact;
  for (std::size_t i = 0; i < kMaxPeersPerResponse + 500; ++i) {
    compact += "\x0a\x00"s;
    compact.push_back(static_cast<char>(i >> 8));
    compact.push_back(static_cast<char>(i));
    compact += "\x1a\xe1"s;
  }
  auto r = parse_announce_response("d5:peers" + std::to_string(compact.size()) + ":" + compact + "e");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->peers.size(), kMaxPeersPerResponse);
}

}  // namespace
}  // namespace shoal::tracker

namespace shoal::tracker {
namespace {

TEST(Scrape, UrlFollowsBep48) {
  Sha1Digest h;
  h.bytes.fill(0x41);
  EXPECT_EQ(build_scrape_url("http://t/announce", h), "http://t/scrape?info_hash=AAAAAAAAAAAAAAAAAAAA");
  EXPECT_EQ(build_scrape_url("http://t/x/announce.php?k=1", h),
            "http://t/x/scrape.php?k=1&info_hash=AAAAAAAAAAAAAAAAAAAA");
  EXPECT_FALSE(build_scrape_url("http://t/a", h));
  EXPECT_FALSE(build_scrape_url("http://t/announce/x", h));
}

TEST(Scrape, ResponseEntryForTheHash) {
  Sha1Digest h;
  h.bytes.fill(0x41);
  auto r = parse_scrape_response(
      "d5:filesd20:AAAAAAAAAAAAAAAAAAAAd8:completei5e10:downloadedi50e10:incompletei10eeee", h);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->seeders, 5);
  EXPECT_EQ(r->leechers, 10);
  EXPECT_EQ(r->completed, 50);
  Sha1Digest other;
  EXPECT_EQ(parse_scrape_response("d5:filesdee", other)->seeders, 0);
  EXPECT_EQ(parse_scrape_response("d14:failure reason4:nopee", h).error().code, Errc::tracker_failure);
  EXPECT_EQ(parse_scrape_response("de", h).error().code, Errc::invalid_response);
  EXPECT_EQ(parse_scrape_response("garbage", h).error().code, Errc::invalid_response);
}

}  // namespace
}  // namespace shoal::tracker
