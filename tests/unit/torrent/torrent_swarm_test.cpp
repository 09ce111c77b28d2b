// torrent::Torrent in a crowded swarm: how many requests a peer gets for its rate, the last blocks of a
// download held by slow peers, and a newcomer that finds every connection slot taken. Each case is a cause
// the swarm simulation (tests/sim, `swarm_sim large`) showed of a finish time far above its lower bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <vector>

#include "torrent/torrent.hpp"
#include "torrent_harness.hpp"

namespace shoal::torrent::testing {
namespace {

std::vector<std::uint8_t> all_of(std::int32_t pieces) {
  std::vector<std::uint8_t> bits(static_cast<std::size_t>((pieces + 7) / 8), 0);
  for (std::int32_t i = 0; i < pieces; ++i)
    bits[static_cast<std::size_t>(i / 8)] |= static_cast<std::uint8_t>(0x80 >> (i % 8));
  return bits;
}

std::string handshake_with_reqq(std::uint32_t reqq) {
  wire::ExtensionHandshake h;
  h.reqq = reqq;
  return wire::encode_extension_handshake(h);
}

wire::Request request_of(const swarm::BlockRequest& r) {
  return {{static_cast<std::uint32_t>(r.piece.get()), static_cast<std::uint32_t>(r.begin),
           static_cast<std::uint32_t>(r.length)}};
}

// ---- Request queue depth.

TEST(TorrentSwarm, TheRequestQueueFollowsThePeersRate) {
  // 160 pieces of eight blocks: more blocks than any queue below.
  constexpr std::int32_t kPieces = 160;
  constexpr std::int64_t kLength = 8 * swarm::kBlockSize;
  Harness h(Harness::make_params(kPieces, kLength, kPieces * kLength));
  h.start();
  auto bits = all_of(kPieces);
  auto slow = h.connect(ip(2, 1), true);
  auto fast = h.connect(ip(2, 2), true);
  std::string reqq = handshake_with_reqq(5000);
  for (auto peer : {slow, fast}) {
    h.flush(peer);
    h.receive(peer, wire::Extended{0, bytes_of(reqq)});
    h.receive(peer, wire::Bitfield{bits});
  }
  h.torrent.set_rates_for_test(slow, 10e3, 0);   // a DSL uplink shared by many: 10 kB/s to us
  h.torrent.set_rates_for_test(fast, 700e6, 0);  // a loopback peer
  h.receive_all(slow, {wire::Unchoke{}});
  h.receive_all(fast, {wire::Unchoke{}});
  auto to_slow = h.flush(slow).count<wire::Request>();
  auto to_fast = h.flush(fast).count<wire::Request>();
  // The slow peer holds about a second of its rate, or the small floor, not dozens of blocks nobody else
  // may fetch while they crowd our downlink for seconds.
  EXPECT_GE(to_slow, 1u);
  EXPECT_LE(to_slow, swarm::PeerProtocol::kMinQueueDepth);
  EXPECT_LE(to_slow, 8u);
  // The fast one is kept busy: at 700 MB/s a round trip of 20 ms holds 850 blocks.
  EXPECT_GE(static_cast<double>(to_fast) * swarm::kBlockSize, 700e6 * 0.02);
}

TEST(TorrentSwarm, ANewPeerThatDeliversFastIsNotHeldToTheFloorUntilTheNextTick) {
  constexpr std::int32_t kPieces = 160;
  constexpr std::int64_t kLength = 8 * swarm::kBlockSize;
  Harness h(Harness::make_params(kPieces, kLength, kPieces * kLength));
  h.start();
  auto peer = h.connect(ip(2, 1), true);
  h.flush(peer);
  std::string reqq = handshake_with_reqq(5000);
  h.receive(peer, wire::Extended{0, bytes_of(reqq)});
  h.receive_all(peer, {wire::Bitfield{all_of(kPieces)}, wire::Unchoke{}});
  h.flush(peer);
  std::size_t first = h.torrent.protocol(peer)->outstanding().size();
  // Within one tick (no rate measured yet) it answers every request at once, six times over.
  for (int round = 0; round < 6; ++round) {
    auto asked = h.torrent.protocol(peer)->outstanding();
    for (const auto& r : asked)
      ASSERT_TRUE(h.receive(peer, h.block(request_of(r))));
    h.torrent.on_messages_done(peer);
    h.answer_verifies(h.actions());
    h.flush(peer);
  }
  // Each block that came made room for more: the queue grew as a TCP window does in slow start.
  EXPECT_GE(h.torrent.protocol(peer)->outstanding().size(), 32 * first);
}

// A peer far away behind a paced line: each request reaches it half a round trip later, its block leaves once
// the line is free and arrives half a round trip after that. Virtual time in steps of 10 ms.
struct FarPeer {
  Clock::duration one_way{};
  double rate = 0;                                                     // bytes/s of its line
  std::deque<std::pair<Clock::time_point, wire::Request>> on_the_way;  // blocks, by arrival
  Clock::time_point line_free{};

  void asked(const std::vector<wire::Request>& requests, Clock::time_point now) {
    auto serialise =
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(swarm::kBlockSize / rate));
    for (const auto& r : requests) {
      line_free = std::max(now + one_way, line_free) + serialise;
      on_the_way.emplace_back(line_free + one_way, r);
    }
  }
};

TEST(TorrentSwarm, AFarFastPeerGetsMoreRequestsThanItsBandwidthDelayProduct) {
  // 5 MB/s at a 400 ms round trip: 2 MB, 122 blocks, are on the path at any time.
  constexpr std::int32_t kPieces = 200;
  constexpr std::int64_t kLength = 16 * swarm::kBlockSize;
  Harness h(Harness::make_params(kPieces, kLength, kPieces * kLength));
  h.start();
  auto peer = h.connect(ip(2, 1), true);
  h.flush(peer);
  std::string reqq = handshake_with_reqq(5000);
  h.receive(peer, wire::Extended{0, bytes_of(reqq)});
  h.receive_all(peer, {wire::Bitfield{all_of(kPieces)}, wire::Unchoke{}});
  FarPeer far;
  far.one_way = 200ms;
  far.rate = 5e6;
  far.asked(h.flush(peer).all<wire::Request>(), h.now);
  const double bdp = far.rate * 0.4 / swarm::kBlockSize;
  std::size_t most = 0;
  std::int64_t got_in_last_second = 0;
  for (int step = 1; step <= 600; ++step) {  // six seconds
    h.now += 10ms;
    while (!far.on_the_way.empty() && far.on_the_way.front().first <= h.now) {
      ASSERT_TRUE(h.receive(peer, h.block(far.on_the_way.front().second)));
      if (step > 500) got_in_last_second += swarm::kBlockSize;
      far.on_the_way.pop_front();
    }
    h.torrent.on_messages_done(peer);
    if (step % 100 == 0) h.torrent.on_tick(h.now);
    h.answer_verifies(h.actions());
    far.asked(h.flush(peer).all<wire::Request>(), h.now);
    most = std::max(most, h.torrent.protocol(peer)->outstanding().size());
    if (step == 300) {
      // Three seconds, seven round trips: slow start has doubled the floor past the path.
      EXPECT_GT(static_cast<double>(most), bdp) << "after 3 s";
    }
  }
  EXPECT_GT(static_cast<double>(h.torrent.protocol(peer)->outstanding().size()), bdp);
  // The path's 400 ms, its line's 3 ms for a block and the 10 ms steps; not the second of queue it then held.
  auto rtt = h.torrent.protocol(peer)->window().path_rtt();
  ASSERT_TRUE(rtt.has_value());
  EXPECT_GE(*rtt, 400ms);
  EXPECT_LE(*rtt, 420ms);
  // The line is full: the last second brought (almost) its rate.
  EXPECT_GE(static_cast<double>(got_in_last_second), 0.95 * far.rate);
}

TEST(TorrentSwarm, TheRequestBudgetBoundsThePeersTogether) {
  constexpr std::int32_t kPieces = 160;
  constexpr std::int64_t kLength = 8 * swarm::kBlockSize;
  auto params = Harness::make_params(kPieces, kLength, kPieces * kLength);
  constexpr std::size_t kBudgetBlocks = 100;
  params.request_budget_bytes = kBudgetBlocks * swarm::kBlockSize;
  Harness h(params);
  h.start();
  std::string reqq = handshake_with_reqq(5000);
  std::vector<PeerId> peers;
  for (std::uint8_t i = 1; i <= 6; ++i) {
    auto peer = h.connect(ip(2, i), true);
    h.flush(peer);
    h.receive(peer, wire::Extended{0, bytes_of(reqq)});
    h.receive(peer, wire::Bitfield{all_of(kPieces)});
    h.torrent.set_rates_for_test(peer, 50e6, 0);  // each alone would get thousands
    peers.push_back(peer);
  }
  auto in_flight = [&] {
    std::size_t n = 0;
    for (auto p : peers)
      n += h.torrent.protocol(p)->outstanding().size();
    return n;
  };
  for (auto p : peers) {
    h.receive_all(p, {wire::Unchoke{}});
    h.flush(p);
    ASSERT_LE(in_flight(), kBudgetBlocks);
  }
  EXPECT_EQ(in_flight(), kBudgetBlocks);
  // They all answer at once, round after round: the sum stays within the budget and each gets its share.
  for (int round = 0; round < 8; ++round) {
    for (auto p : peers) {
      auto asked = h.torrent.protocol(p)->outstanding();
      for (const auto& r : asked)
        ASSERT_TRUE(h.receive(p, h.block(request_of(r))));
      h.torrent.on_messages_done(p);
      h.answer_verifies(h.actions());
      ASSERT_LE(in_flight(), kBudgetBlocks);
    }
    h.tick();
    h.answer_verifies(h.actions());
    for (auto p : peers) {
      h.torrent.set_rates_for_test(p, 50e6, 0);
      h.flush(p);
    }
    ASSERT_LE(in_flight(), kBudgetBlocks);
  }
  for (auto p : peers)
    EXPECT_GE(h.torrent.protocol(p)->outstanding().size(), swarm::PeerProtocol::kMinQueueDepth) << p;
}

TEST(TorrentSwarm, APeerGetsNoMoreRequestsThanItsReqq) {
  constexpr std::int32_t kPieces = 160;
  constexpr std::int64_t kLength = 8 * swarm::kBlockSize;
  Harness h(Harness::make_params(kPieces, kLength, kPieces * kLength));
  h.start();
  auto peer = h.connect(ip(2, 1), true);
  h.flush(peer);
  std::string reqq = handshake_with_reqq(100);
  h.receive(peer, wire::Extended{0, bytes_of(reqq)});
  h.receive(peer, wire::Bitfield{all_of(kPieces)});
  h.torrent.set_rates_for_test(peer, 700e6, 0);
  h.receive_all(peer, {wire::Unchoke{}});
  EXPECT_EQ(h.flush(peer).count<wire::Request>(), 100u);
  for (int round = 0; round < 5; ++round) {  // slow start grows past it, the reqq holds
    auto asked = h.torrent.protocol(peer)->outstanding();
    for (const auto& r : asked)
      ASSERT_TRUE(h.receive(peer, h.block(request_of(r))));
    h.torrent.on_messages_done(peer);
    h.answer_verifies(h.actions());
    h.flush(peer);
    EXPECT_EQ(h.torrent.protocol(peer)->outstanding().size(), 100u);
  }
  EXPECT_EQ(h.torrent.protocol(peer)->peak_outstanding(), 100u);
}

TEST(TorrentSwarm, ASnubbedPeerKeepsOneRequestWhateverItsWindow) {
  constexpr std::int32_t kPieces = 160;
  constexpr std::int64_t kLength = 8 * swarm::kBlockSize;
  Harness h(Harness::make_params(kPieces, kLength, kPieces * kLength));
  h.start();
  auto peer = h.connect(ip(2, 1), true);
  h.flush(peer);
  std::string reqq = handshake_with_reqq(5000);
  h.receive(peer, wire::Extended{0, bytes_of(reqq)});
  h.receive_all(peer, {wire::Bitfield{all_of(kPieces)}, wire::Unchoke{}});
  // A few fast rounds grow its window, then it stops sending.
  for (int round = 0; round < 4; ++round) {
    auto asked = h.torrent.protocol(peer)->outstanding();
    for (const auto& r : asked)
      ASSERT_TRUE(h.receive(peer, h.block(request_of(r))));
    h.torrent.on_messages_done(peer);
    h.answer_verifies(h.actions());
    h.flush(peer);
  }
  ASSERT_GE(h.torrent.protocol(peer)->outstanding().size(), 64u);
  for (int second = 0; second < 31; ++second) {
    h.receive(peer, wire::KeepAlive{});
    h.tick();
  }
  ASSERT_TRUE(h.torrent.protocol(peer)->snubbed());
  for (int second = 0; second < 10; ++second) {
    h.torrent.set_rates_for_test(peer, 50e6, 0);  // whatever the rate says
    h.receive_all(peer, {wire::KeepAlive{}});
    h.tick();
    h.flush(peer);
    EXPECT_EQ(h.torrent.protocol(peer)->outstanding().size(), 1u) << second;
  }
}

// ---- End-game hostages.

TEST(TorrentSwarm, EndGameBlocksHeldBySlowPeersGoToAFasterOne) {
  // One piece of eight blocks, held by two peers that stay connected but send nothing.
  constexpr std::int64_t kLength = 8 * swarm::kBlockSize;
  Harness h(Harness::make_params(1, kLength, kLength));
  h.start();
  const std::vector<std::uint8_t> one = {0x80};
  auto slow1 = h.connect(ip(2, 1), true);
  auto slow2 = h.connect(ip(2, 2), true);
  for (auto peer : {slow1, slow2}) {
    h.flush(peer);
    h.receive_all(peer, {wire::Bitfield{one}, wire::Unchoke{}});
    h.flush(peer);
  }
  ASSERT_TRUE(h.torrent.picker().in_end_game());
  h.tick();
  h.tick();
  // A peer that answers every request at once arrives.
  auto fast = h.connect(ip(2, 3), true);
  h.flush(fast);
  h.receive_all(fast, {wire::Bitfield{one}, wire::Unchoke{}});
  int completed_at = 0;
  for (int second = 1; second <= 25 && completed_at == 0; ++second) {
    for (int round = 0; round < 8; ++round) {
      auto asked = h.torrent.protocol(fast)->outstanding();
      for (const auto& r : asked)
        ASSERT_TRUE(h.receive(fast, h.block(request_of(r))));
      h.torrent.on_messages_done(fast);
    }
    for (auto peer : {slow1, slow2})
      h.receive(peer, wire::KeepAlive{});
    h.tick();
    h.flush(fast);
    auto actions = h.actions();
    if (count_actions<VerifyPiece>(actions) > 0) completed_at = second;
  }
  // The slow peers' requests went to the fast one within seconds, not after the 30 s snub timeout; they were
  // told to forget them.
  ASSERT_GT(completed_at, 0);
  EXPECT_LE(completed_at, 15);
  EXPECT_TRUE(h.torrent.protocol(slow1)->outstanding().empty());
  EXPECT_TRUE(h.torrent.protocol(slow2)->outstanding().empty());
  EXPECT_GE(h.flush(slow1).count<wire::Cancel>(), 1u);
}

TEST(TorrentSwarm, EndGameDuplicatesOneBlockAtATime) {
  // One piece of eight blocks, all asked from a first peer; a second peer gets one copy of one of them, the
  // one asked longest ago, and another only when it has delivered it.
  constexpr std::int64_t kLength = 8 * swarm::kBlockSize;
  Harness h(Harness::make_params(1, kLength, kLength));
  h.start();
  const std::vector<std::uint8_t> one = {0x80};
  auto a = h.connect(ip(2, 1), true);
  auto b = h.connect(ip(2, 2), true);
  h.flush(a);
  h.flush(b);
  h.receive_all(a, {wire::Bitfield{one}, wire::Unchoke{}});
  auto to_a = h.flush(a).all<wire::Request>();
  ASSERT_GE(to_a.size(), 4u);
  h.receive_all(b, {wire::Bitfield{one}, wire::Unchoke{}});
  auto to_b = h.flush(b).all<wire::Request>();
  ASSERT_EQ(to_b.size(), 1u);
  EXPECT_EQ(static_cast<wire::BlockRef>(to_b[0]), static_cast<wire::BlockRef>(to_a[0]));
  ASSERT_TRUE(h.receive_all(b, {h.block(to_b[0])}));
  EXPECT_EQ(h.flush(a).count<wire::Cancel>(), 1u);
  auto again = h.flush(b).all<wire::Request>();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(static_cast<wire::BlockRef>(again[0]), static_cast<wire::BlockRef>(to_a[1]));
}

// ---- A newcomer when every connection slot is taken.

Params two_slots() {
  auto p = Harness::make_params(4, 2 * swarm::kBlockSize, 8 * swarm::kBlockSize);
  p.max_connections = 2;
  return p;
}

TEST(TorrentSwarm, ANewcomerTakesTheSlotOfAnIdlePeer) {
  Harness h(two_slots());
  h.have_all();
  h.start();
  auto first = h.connect(ip(2, 1));
  auto second = h.connect(ip(2, 2));
  h.receive_all(first, {wire::HaveNone{}});
  h.receive_all(second, {wire::HaveNone{}, wire::Interested{}});  // wants ours: more useful than `first`
  h.actions();
  EXPECT_FALSE(h.torrent.accepts_incoming(ip(3, 1))) << "both are still new: they get their chance first";
  for (int i = 0; i < 11; ++i) {
    for (auto peer : {first, second})
      h.receive(peer, wire::KeepAlive{});
    h.tick();
  }
  h.actions();
  ASSERT_TRUE(h.torrent.accepts_incoming(ip(3, 1)));
  auto newcomer = h.connect(ip(3, 1));
  EXPECT_NE(newcomer, swarm::kNoPeer);
  EXPECT_EQ(disconnect_reasons(h.actions(), first), std::vector<std::string>{"replaced by a newcomer"});
  EXPECT_EQ(h.torrent.num_peers(), 2u);
}

TEST(TorrentSwarm, PeersThatExchangeDataKeepTheirSlots) {
  Harness h(two_slots());
  h.have_all();
  h.start();
  auto first = h.connect(ip(2, 1));
  auto second = h.connect(ip(2, 2));
  // Both want our pieces and hold upload slots.
  h.receive_all(first, {wire::HaveNone{}, wire::Interested{}});
  h.receive_all(second, {wire::HaveNone{}, wire::Interested{}});
  for (int i = 0; i < 30; ++i) {
    for (auto peer : {first, second})
      h.receive_all(peer, {wire::Request{{0, 0, static_cast<std::uint32_t>(swarm::kBlockSize)}}});
    h.tick();
  }
  ASSERT_FALSE(h.torrent.protocol(first)->am_choking());
  ASSERT_FALSE(h.torrent.protocol(second)->am_choking());
  EXPECT_FALSE(h.torrent.accepts_incoming(ip(3, 1)));
  auto refused = h.torrent.on_peer_connected(ip(3, 1), false, {true, true}, h.now);
  EXPECT_FALSE(refused.has_value());
  EXPECT_EQ(h.torrent.num_peers(), 2u);
}

}  // namespace
}  // namespace shoal::torrent::testing
