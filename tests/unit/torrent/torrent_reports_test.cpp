// The torrent core's read-only reports for the API (peer list with sources, availability) and its
// connection limit changed while it runs.
#include <gtest/gtest.h>

#include "torrent_harness.hpp"

namespace shoal::torrent {
namespace {

using testing::Harness;
using testing::ip;

constexpr std::int32_t kPieces = 4;
constexpr std::int64_t kPieceLength = 2 * swarm::kBlockSize;
constexpr std::int64_t kTotal = 4 * kPieceLength;

Params params() {
  auto p = Harness::make_params(kPieces, kPieceLength, kTotal);
  p.trackers = {{"http://a.example/announce"}};
  return p;
}

tracker::AnnounceResponse answer(std::vector<Endpoint> peers) {
  tracker::AnnounceResponse r;
  r.interval = 1800;
  r.peers = std::move(peers);
  return r;
}

TEST(TorrentReports, PeersCarryTheirSourceStateAndProgress) {
  Harness h(params());
  h.start();
  auto id = testing::actions_of<Announce>(h.actions()).at(0).id;
  h.torrent.on_announce_done(id, answer({ip(1, 1)}), h.now);
  h.actions();
  auto from_tracker = h.connect(ip(1, 1), true);
  auto incoming = h.connect(ip(2, 2, 40000), false);
  const std::vector<std::uint8_t> all = {0xf0};
  const std::vector<std::uint8_t> first = {0x80};
  EXPECT_TRUE(h.receive_all(from_tracker, {wire::Bitfield{all}, wire::Unchoke{}}));
  EXPECT_TRUE(h.receive_all(incoming, {wire::Bitfield{first}}));

  auto reports = h.torrent.peer_reports();
  ASSERT_EQ(reports.size(), 2u);
  const auto& a = reports[0].id == from_tracker ? reports[0] : reports[1];
  const auto& b = reports[0].id == from_tracker ? reports[1] : reports[0];
  EXPECT_EQ(a.remote, ip(1, 1));
  EXPECT_TRUE(a.outgoing);
  ASSERT_TRUE(a.source.has_value());
  EXPECT_EQ(*a.source, swarm::PeerSource::tracker);
  ASSERT_NE(a.protocol, nullptr);
  EXPECT_TRUE(a.protocol->is_seed());
  EXPECT_FALSE(a.protocol->peer_choking());
  EXPECT_TRUE(a.protocol->am_interested());
  EXPECT_FALSE(b.outgoing);
  EXPECT_FALSE(b.source.has_value());  // it came to us
  EXPECT_EQ(b.protocol->has().count(), 1);

  // The seed has every piece, the other peer piece 0 only.
  EXPECT_EQ(h.torrent.availability(PieceIndex{0}), 2);
  EXPECT_EQ(h.torrent.availability(PieceIndex{1}), 1);
  EXPECT_EQ(h.torrent.availability(PieceIndex{3}), 1);
}

TEST(TorrentReports, ALowerConnectionLimitClosesTheSurplusAtOnce) {
  Harness h(params());
  h.start();
  h.actions();
  std::vector<PeerId> peers;
  for (std::uint8_t i = 1; i <= 4; ++i)
    peers.push_back(h.connect(ip(3, i, 50000), false));
  h.torrent.set_rates_for_test(peers[2], 5000, 0);  // the one that gives most stays
  h.torrent.set_max_connections(1);
  auto actions = h.actions();
  EXPECT_EQ(testing::count_actions<Disconnect>(actions), 3u);
  ASSERT_EQ(h.torrent.num_peers(), 1u);
  EXPECT_EQ(h.torrent.peer_reports().at(0).id, peers[2]);
  EXPECT_TRUE(testing::disconnect_reasons(actions, peers[2]).empty());
  // And no more are taken in.
  EXPECT_FALSE(h.torrent.accepts_incoming(ip(4, 1, 50000)));
}

}  // namespace
}  // namespace shoal::torrent
