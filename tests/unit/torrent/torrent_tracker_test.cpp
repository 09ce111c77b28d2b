// torrent::Torrent's tracker tier walk (BEP 12): who is asked, in which order, when the walk ends, what
// stop() tells trackers, and when the next announce is due.
#include "torrent/torrent.hpp"

#include <gtest/gtest.h>

#include "torrent_harness.hpp"

namespace shoal::torrent::testing {
namespace {

constexpr std::int32_t kPieces = 4;
constexpr std::int64_t kPieceLength = 2 * swarm::kBlockSize;
constexpr std::int64_t kTotal = kPieces * kPieceLength;

const std::string kA1 = "http://a1.example/announce";
const std::string kA2 = "http://a2.example/announce";
const std::string kB = "http://b.example/announce";

Params params_with(std::vector<std::vector<std::string>> tiers, bool all_tiers = false) {
  auto p = Harness::make_params(kPieces, kPieceLength, kTotal);
  p.trackers = std::move(tiers);
  p.announce_to_all_tiers = all_tiers;
  return p;
}

using Result = Expected<tracker::AnnounceResponse, std::string>;

Result ok(std::int64_t interval = 1800, std::vector<Endpoint> peers = {}) {
  tracker::AnnounceResponse r;
  r.interval = interval;
  r.peers = std::move(peers);
  return r;
}

Result failure() {
  return unexpected(std::string("connection refused"));
}

int tier_of(const std::string& url) {
  return url == kB ? 1 : 0;
}

// The one Announce among the actions (none: nullopt; more than one fails the test).
std::optional<Announce> the_announce(const std::vector<Action>& actions) {
  auto all = actions_of<Announce>(actions);
  EXPECT_LE(all.size(), 1u);
  if (all.empty()) return std::nullopt;
  return all[0];
}

TEST(TorrentTrackers, TheWalkGoesTierByTierAndEndsAsBep12Says) {
  struct Case {
    const char* what;
    bool all_tiers;
    std::vector<bool> results;  // the answers, in order: true = success
    std::vector<int> tiers;     // the tier of each tracker asked, in order
  };
  const Case cases[] = {
      {"a success ends the walk", false, {true}, {0}},
      {"a failure falls to the next tracker of the tier", false, {false, true}, {0, 0}},
      {"a tier that fails falls to the next tier", false, {false, false, true}, {0, 0, 1}},
      {"every tracker failing ends the walk", false, {false, false, false}, {0, 0, 1}},
      {"all tiers: a success goes on to the next tier", true, {true, true}, {0, 1}},
      {"all tiers: a failed tier does not stop the walk", true, {false, false, false}, {0, 0, 1}},
      {"all tiers: a success skips the rest of its tier", true, {false, true, false}, {0, 0, 1}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    Harness h(params_with({{kA1, kA2}, {kB}}, c.all_tiers));
    h.start();
    std::vector<int> tiers;
    std::set<std::string> urls;
    std::size_t failed = 0, replied = 0;
    for (auto a = the_announce(h.actions()); a; a = the_announce(h.actions())) {
      ASSERT_LT(tiers.size(), c.results.size()) << "asked " << a->url << " after the walk should have ended";
      EXPECT_EQ(a->request.event, tracker::AnnounceEvent::started);
      tiers.push_back(tier_of(a->url));
      urls.insert(a->url);
      bool success = c.results[tiers.size() - 1];
      h.torrent.on_announce_done(a->id, success ? ok() : failure(), h.now);
      (success ? replied : failed)++;
    }
    EXPECT_EQ(tiers, c.tiers);
    EXPECT_EQ(urls.size(), tiers.size()) << "a tracker was asked twice in one walk";
    EXPECT_EQ(actions_of<TrackerFailed>(h.history).size(), failed);
    EXPECT_EQ(actions_of<TrackerReply>(h.history).size(), replied);
  }
}

TEST(TorrentTrackers, EveryAnnounceOfAWalkCarriesItsEvent) {
  Harness h(params_with({{kA1}, {kB}}));
  h.start();
  auto first = the_announce(h.actions());
  ASSERT_TRUE(first);
  h.torrent.on_announce_done(first->id, failure(), h.now);
  auto second = the_announce(h.actions());
  ASSERT_TRUE(second);
  EXPECT_EQ(second->url, kB);
  EXPECT_EQ(second->request.event, tracker::AnnounceEvent::started);
  EXPECT_NE(second->id, first->id);
  EXPECT_EQ(second->request.key, first->request.key);
}

TEST(TorrentTrackers, ATrackerThatAnsweredIsAskedFirstNextTime) {
  Harness h(params_with({{kA1, kA2}}));
  h.start();
  auto first = the_announce(h.actions());
  ASSERT_TRUE(first);
  h.torrent.on_announce_done(first->id, failure(), h.now);
  auto second = the_announce(h.actions());
  ASSERT_TRUE(second);
  ASSERT_NE(second->url, first->url);
  h.torrent.on_announce_done(second->id, ok(), h.now);

  h.torrent.force_reannounce(h.now);
  h.tick();
  auto next = the_announce(h.actions());
  ASSERT_TRUE(next);
  EXPECT_EQ(next->url, second->url);
  EXPECT_EQ(next->request.event, tracker::AnnounceEvent::none);
  auto statuses = h.torrent.trackers();
  ASSERT_EQ(statuses.size(), 2u);
  EXPECT_EQ(statuses[0].url, second->url);
  EXPECT_TRUE(statuses[0].working);
  EXPECT_EQ(statuses[1].failures, 1);
}

// A port mapped while the first announce is still out (the router answered first): the announce that follows
// carries the new port at once, not an interval later.
TEST(TorrentTrackers, AReannounceAskedDuringAnAnnounceFollowsItWithTheNewPort) {
  Harness h(params_with({{kA1}}));
  h.start();
  auto first = the_announce(h.actions());
  ASSERT_TRUE(first);
  h.torrent.set_listen_port(6882);
  h.torrent.force_reannounce(h.now);
  h.tick();
  EXPECT_FALSE(the_announce(h.actions()));  // one walk at a time
  h.torrent.on_announce_done(first->id, ok(), h.now);
  h.tick();
  auto next = the_announce(h.actions());
  ASSERT_TRUE(next);
  EXPECT_EQ(next->request.port, 6882);
}

TEST(TorrentTrackers, TheTrackerIdIsSentBack) {
  Harness h(params_with({{kA1}}));
  h.start();
  auto first = the_announce(h.actions());
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->request.tracker_id);
  auto reply = ok();
  reply->tracker_id = "t-42";
  h.torrent.on_announce_done(first->id, reply, h.now);
  h.torrent.force_reannounce(h.now);
  h.tick();
  auto next = the_announce(h.actions());
  ASSERT_TRUE(next);
  EXPECT_EQ(next->request.tracker_id, std::optional<std::string>("t-42"));
}

TEST(TorrentTrackers, AnswersToAnAbandonedWalkAreIgnored) {
  Harness h(params_with({{kA1}, {kB}}));
  h.start();
  auto started = the_announce(h.actions());
  ASSERT_TRUE(started);
  h.torrent.stop(h.now);
  EXPECT_EQ(h.torrent.phase(), Phase::stopping);
  auto stopped = the_announce(h.actions());
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->url, kA1);
  EXPECT_EQ(stopped->request.event, tracker::AnnounceEvent::stopped);
  EXPECT_EQ(stopped->request.numwant, 0);
  EXPECT_NE(stopped->id, started->id);

  // The `started` answer arrives late: a failure would move a live walk on to tier 1, peers would be dialled.
  h.torrent.on_announce_done(started->id, failure(), h.now);
  h.torrent.on_announce_done(started->id, ok(1800, {ip(1, 1)}), h.now);
  h.torrent.on_announce_done(stopped->id + 100, failure(), h.now);  // never asked
  EXPECT_TRUE(h.actions().empty());
  EXPECT_EQ(h.torrent.phase(), Phase::stopping);

  h.torrent.on_announce_done(stopped->id, ok(), h.now);
  auto actions = h.actions();
  EXPECT_EQ(count_actions<StopAnnounced>(actions), 1u);
  EXPECT_EQ(count_actions<Announce>(actions), 0u);
  EXPECT_EQ(h.torrent.phase(), Phase::halted);
}

TEST(TorrentTrackers, StopClosesPeersThenTellsEveryTierItWalksTo) {
  Harness h(params_with({{kA1}, {kB}}));
  h.start();
  auto started = the_announce(h.actions());
  ASSERT_TRUE(started);
  h.torrent.on_announce_done(started->id, ok(), h.now);
  auto peer = h.connect(ip(2, 1));
  h.actions();

  h.torrent.stop(h.now);
  auto actions = h.actions();
  EXPECT_EQ(disconnect_reasons(actions, peer), std::vector<std::string>{"stopping"});
  EXPECT_EQ(h.torrent.num_peers(), 0u);
  auto a = the_announce(actions);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->url, kA1);
  EXPECT_EQ(a->request.event, tracker::AnnounceEvent::stopped);
  EXPECT_EQ(count_actions<StopAnnounced>(actions), 0u);

  h.torrent.on_announce_done(a->id, failure(), h.now);
  auto b = the_announce(h.actions());
  ASSERT_TRUE(b);
  EXPECT_EQ(b->url, kB);
  EXPECT_EQ(b->request.event, tracker::AnnounceEvent::stopped);

  // Peers in the answer to `stopped` are not dialled.
  h.torrent.on_announce_done(b->id, ok(1800, {ip(1, 1), ip(1, 2)}), h.now);
  actions = h.actions();
  EXPECT_EQ(count_actions<StopAnnounced>(actions), 1u);
  EXPECT_EQ(count_actions<Dial>(actions), 0u);
  EXPECT_EQ(h.torrent.phase(), Phase::halted);
  for (int i = 0; i < 3; ++i)
    h.tick(60s);
  EXPECT_TRUE(h.actions().empty());
  h.torrent.stop(h.now);  // twice: nothing more
  EXPECT_TRUE(h.actions().empty());
}

TEST(TorrentTrackers, StopWithNobodyToTellIsAnnouncedAtOnce) {
  struct Case {
    const char* what;
    std::vector<std::vector<std::string>> tiers;
    bool use_trackers;
    bool started;
  };
  const Case cases[] = {
      {"no trackers", {}, true, true},
      {"trackers turned off", {{kA1}}, false, true},
      {"stopped while checking: nothing was announced", {{kA1}}, true, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto p = params_with(c.tiers);
    p.use_trackers = c.use_trackers;
    Harness h(p);
    if (c.started) h.start();
    EXPECT_EQ(count_actions<Announce>(h.actions()), 0u);
    h.torrent.stop(h.now);
    auto actions = h.actions();
    EXPECT_EQ(count_actions<StopAnnounced>(actions), 1u);
    EXPECT_EQ(count_actions<Announce>(actions), 0u);
    EXPECT_EQ(h.torrent.phase(), Phase::halted);
  }
}

TEST(TorrentTrackers, TheNextAnnounceIsDueAfterTheRightWait) {
  enum class Setup { connected_downloader, lonely_downloader, lonely_seed };
  struct Case {
    const char* what;
    Setup setup;
    bool success;
    std::int64_t interval;  // in the answer
    Clock::duration wait;   // until the next announce
  };
  const Case cases[] = {
      {"a connected downloader waits the tracker's interval", Setup::connected_downloader, true, 900, 900s},
      {"a lonely downloader asks again soon", Setup::lonely_downloader, true, 900,
       std::chrono::seconds(kLonelyReannounceSeconds)},
      {"a seed is never lonely", Setup::lonely_seed, true, 900, 900s},
      {"after a walk with no answer, 30 s", Setup::connected_downloader, false, 900, 30s},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    Harness h(params_with({{kA1}}));
    if (c.setup == Setup::lonely_seed) h.have_all();
    h.start();
    auto started = the_announce(h.actions());
    ASSERT_TRUE(started);
    if (c.setup == Setup::connected_downloader) h.connect(ip(2, 1));
    h.torrent.on_announce_done(started->id, c.success ? ok(c.interval) : failure(), h.now);
    auto answered = h.now;
    h.actions();

    h.now = answered + c.wait - 1s;
    h.torrent.on_tick(h.now);
    EXPECT_EQ(count_actions<Announce>(h.actions()), 0u) << "too early";
    h.now = answered + c.wait;
    h.torrent.on_tick(h.now);
    auto next = the_announce(h.actions());
    ASSERT_TRUE(next) << "not asked at the due time";
    EXPECT_EQ(next->request.event, tracker::AnnounceEvent::none);
  }
}

TEST(TorrentTrackers, NoWalkStartsWhileOneIsInFlight) {
  Harness h(params_with({{kA1}}));
  h.start();
  auto started = the_announce(h.actions());
  ASSERT_TRUE(started);
  h.torrent.force_reannounce(h.now);
  for (int i = 0; i < 5; ++i)
    h.tick();
  EXPECT_EQ(count_actions<Announce>(h.actions()), 0u);
}

TEST(TorrentTrackers, TrackersTurnedOffAreNeverAsked) {
  auto p = params_with({{kA1}});
  p.use_trackers = false;
  Harness h(p);
  h.start();
  h.torrent.force_reannounce(h.now);
  for (int i = 0; i < 3; ++i)
    h.tick(3600s);
  h.actions();
  EXPECT_EQ(count_actions<Announce>(h.history), 0u);
}

}  // namespace
}  // namespace shoal::torrent::testing
