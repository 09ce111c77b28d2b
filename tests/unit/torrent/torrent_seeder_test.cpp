// torrent::Torrent as a seeder: upload slots, reads and the read cache, the blocks it sends and drops, and
// the back-pressure of a peer's send queue. Driven by the harness (fake Mediator, virtual time).
#include "torrent/torrent.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "torrent_harness.hpp"

namespace shoal::torrent::testing {
namespace {

// Four pieces of two blocks; the last piece is shorter (a full block and a 3,616-byte one).
constexpr std::int32_t kPieces = 4;
constexpr std::int64_t kPieceLength = 2 * swarm::kBlockSize;
constexpr std::int64_t kTotal = 3 * kPieceLength + 20000;

Params small_params() {
  return Harness::make_params(kPieces, kPieceLength, kTotal);
}

// A started torrent with every piece.
struct Seeder : Harness {
  explicit Seeder(Params p = small_params()) : Harness(std::move(p)) {
    have_all();
    start();
    actions();
  }
};

// An incoming fast peer that has nothing and wants everything; its greeting is read.
PeerId interested_peer(Harness& h, const Endpoint& remote) {
  auto id = h.connect(remote, false);
  h.flush(id);
  EXPECT_TRUE(h.receive_all(id, {wire::HaveNone{}, wire::Interested{}}));
  return id;
}

wire::Request req(std::uint32_t piece, std::uint32_t begin, std::uint32_t length = swarm::kBlockSize) {
  return wire::Request{{piece, begin, length}};
}

TEST(TorrentSeeder, AnInterestedPeerGetsAFreeUploadSlot) {
  Harness h(small_params());
  h.have_all();
  h.start();
  EXPECT_EQ(h.torrent.phase(), Phase::seeding);
  auto id = h.connect(ip(3, 1));
  auto greeting = h.flush(id);
  EXPECT_EQ(greeting.count<wire::HaveAll>(), 1u);
  ASSERT_TRUE(h.receive_all(id, {wire::HaveNone{}, wire::Interested{}}));
  EXPECT_EQ(h.flush(id).count<wire::Unchoke>(), 1u);
  EXPECT_FALSE(h.torrent.protocol(id)->am_choking());
}

TEST(TorrentSeeder, ANewcomerTakesOnlyAFreeOrWastedSlot) {
  struct Case {
    const char* what;
    Clock::duration holder_idle;  // how long the holder had its slot before the newcomer asks
    bool holder_write_stuck;      // a write to the holder is on the socket all that time
    bool newcomer_unchoked;
  };
  const Case cases[] = {
      {"the holder uses its slot", 1s, false, false},
      {"the holder asked for nothing for a while", 6s, false, true},
      {"the holder does not read what we send", 3s, true, true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    Seeder h;
    h.mediator.slots = 1;
    auto holder = interested_peer(h, ip(3, 1));
    ASSERT_EQ(h.flush(holder).count<wire::Unchoke>(), 1u);
    if (c.holder_write_stuck) {
      ASSERT_TRUE(h.receive_all(holder, {req(0, 0)}));
      h.torrent.on_piece_read(PieceIndex(0), h.piece_copy(0));
      ASSERT_EQ(h.take(holder).blocks, 1u);  // on the socket, never finished
    }
    h.now += c.holder_idle;
    auto newcomer = interested_peer(h, ip(3, 2));
    auto out = h.flush(newcomer);
    EXPECT_EQ(out.count<wire::Unchoke>(), c.newcomer_unchoked ? 1u : 0u);
    EXPECT_EQ(h.torrent.protocol(holder)->am_choking(), c.newcomer_unchoked);
  }
}

TEST(TorrentSeeder, AWaitingPeerGetsTheSlotAPeerGaveUpAtTheNextRechoke) {
  Seeder h;
  h.mediator.slots = 2;
  auto a = interested_peer(h, ip(3, 1));
  auto b = interested_peer(h, ip(3, 2));
  auto c = interested_peer(h, ip(3, 3));
  EXPECT_FALSE(h.torrent.protocol(a)->am_choking());
  EXPECT_FALSE(h.torrent.protocol(b)->am_choking());
  EXPECT_TRUE(h.torrent.protocol(c)->am_choking());  // no free slot, nobody wastes one yet
  ASSERT_TRUE(h.receive_all(a, {wire::NotInterested{}}));
  EXPECT_TRUE(h.torrent.protocol(a)->am_choking());
  for (int i = 0; i < kTicksPerRechoke; ++i) {
    h.receive(b, wire::KeepAlive{});
    h.receive(c, wire::KeepAlive{});
    h.tick();
  }
  EXPECT_FALSE(h.torrent.protocol(c)->am_choking());
  EXPECT_TRUE(h.torrent.protocol(a)->am_choking());
  EXPECT_EQ(h.flush(c).count<wire::Unchoke>(), 1u);
}

TEST(TorrentSeeder, RequestsForAnUncachedPieceAskForOneRead) {
  Seeder h;
  auto id = interested_peer(h, ip(3, 1));
  h.flush(id);
  ASSERT_TRUE(h.receive_all(id, {req(1, 0), req(1, swarm::kBlockSize), req(2, 0)}));
  auto reads = actions_of<ReadPiece>(h.actions());
  ASSERT_EQ(reads.size(), 2u);
  EXPECT_EQ(reads[0].piece, PieceIndex(1));
  EXPECT_EQ(reads[1].piece, PieceIndex(2));
  // Asked again before the read lands: no second read.
  ASSERT_TRUE(h.receive_all(id, {wire::Cancel{{1, 0, swarm::kBlockSize}}, req(1, 0)}));
  EXPECT_EQ(count_actions<ReadPiece>(h.actions()), 0u);
}

TEST(TorrentSeeder, ServedBlocksCarryTheBytesOfThePiece) {
  Seeder h;
  auto id = interested_peer(h, ip(3, 1));
  h.flush(id);
  // The last piece: a full block and a short one.
  ASSERT_TRUE(h.receive_all(id, {req(3, 0), req(3, swarm::kBlockSize, 20000 - swarm::kBlockSize)}));
  ASSERT_EQ(count_actions<ReadPiece>(h.actions()), 1u);
  h.torrent.on_piece_read(PieceIndex(3), h.piece_copy(3));
  EXPECT_EQ(actions_of<Writable>(h.actions()).size(), 1u);
  auto out = h.take(id);
  auto pieces = out.all<wire::Piece>();
  ASSERT_EQ(pieces.size(), 2u);
  auto expected = h.piece_bytes(3);
  for (const auto& p : pieces) {
    EXPECT_EQ(p.piece, 3u);
    auto want =
        expected.subspan(p.begin, std::min<std::size_t>(swarm::kBlockSize, expected.size() - p.begin));
    EXPECT_TRUE(std::equal(p.data.begin(), p.data.end(), want.begin(), want.end())) << "block at " << p.begin;
  }
  EXPECT_EQ(out.payload, 20000);
  h.torrent.mark_resume_saved();
  h.written(id, out);
  EXPECT_EQ(h.torrent.stats().uploaded, 20000);
  EXPECT_EQ(h.torrent.total_uploaded(), 20000);
  EXPECT_TRUE(h.torrent.resume_dirty());
}

TEST(TorrentSeeder, NoMoreThanFourReadsAreInFlight) {
  auto p = Harness::make_params(8, kPieceLength, 8 * kPieceLength);
  Seeder h(p);
  auto id = interested_peer(h, ip(3, 1));
  h.flush(id);
  ASSERT_TRUE(h.receive_all(id, {req(0, 0), req(1, 0), req(2, 0), req(3, 0), req(4, 0), req(5, 0)}));
  auto reads = actions_of<ReadPiece>(h.actions());
  ASSERT_EQ(reads.size(), kMaxReadsInFlight);
  h.torrent.on_piece_read(reads[0].piece, h.piece_copy(reads[0].piece.get()));
  auto next = actions_of<ReadPiece>(h.actions());
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].piece, PieceIndex(4));
}

TEST(TorrentSeeder, AChokeDropsTheBlocksNotYetSent) {
  struct Case {
    const char* what;
    bool fast;
    std::size_t rejects;  // BEP 6: each dropped request is rejected
  };
  const Case cases[] = {
      {"a fast peer is told which requests died", true, 1},
      {"a peer without the fast extension just loses them", false, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    Seeder h;
    auto id = h.connect(ip(3, 1), false, {c.fast, true});
    h.flush(id);
    ASSERT_TRUE(h.receive_all(id, {wire::Interested{}}));
    ASSERT_EQ(h.flush(id).count<wire::Unchoke>(), 1u);
    ASSERT_TRUE(h.receive_all(id, {req(0, 0), req(0, swarm::kBlockSize)}));
    h.torrent.on_piece_read(PieceIndex(0), h.piece_copy(0));
    auto first = h.take(id, 1);  // one block goes on the socket, one waits
    ASSERT_EQ(first.blocks, 1u);
    h.written(id, first);

    ASSERT_TRUE(h.receive_all(id, {wire::NotInterested{}}));
    auto out = h.flush(id);
    EXPECT_EQ(out.count<wire::Choke>(), 1u);
    EXPECT_EQ(out.count<wire::Piece>(), 0u);
    auto rejects = out.all<wire::Reject>();
    ASSERT_EQ(rejects.size(), c.rejects);
    for (const auto& r : rejects)
      EXPECT_EQ(r, (wire::BlockRef{0, swarm::kBlockSize, swarm::kBlockSize}));
    EXPECT_EQ(h.torrent.stats().uploaded, swarm::kBlockSize);
  }
}

TEST(TorrentSeeder, ACancelledRequestIsAnsweredOnceUnderBep6) {
  // BEP 6: every request gets exactly one answer, the piece or a reject, even one the peer cancels.
  enum class Where { waiting_for_the_disk, queued_to_send, on_the_wire };
  struct Case {
    const char* what;
    bool fast;
    Where where;
    std::size_t rejects;
    std::size_t pieces;  // the cancelled block, sent after all
  };
  const Case cases[] = {
      {"fast, still waiting for the disk: rejected", true, Where::waiting_for_the_disk, 1, 0},
      {"fast, queued to send: rejected", true, Where::queued_to_send, 1, 0},
      {"fast, already on the wire: the piece is the answer", true, Where::on_the_wire, 0, 1},
      {"no fast extension, waiting for the disk: dropped", false, Where::waiting_for_the_disk, 0, 0},
      {"no fast extension, queued to send: dropped", false, Where::queued_to_send, 0, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    Seeder h;
    auto id = h.connect(ip(3, 1), false, {c.fast, true});
    h.flush(id);
    ASSERT_TRUE(h.receive_all(id, {wire::Interested{}}));
    h.flush(id);
    ASSERT_TRUE(h.receive_all(id, {req(0, 0)}));
    Output on_the_wire;
    if (c.where != Where::waiting_for_the_disk) {
      h.torrent.on_piece_read(PieceIndex(0), h.piece_copy(0));
      if (c.where == Where::on_the_wire) on_the_wire = h.take(id);
    }
    ASSERT_TRUE(h.receive_all(id, {wire::Cancel{{0, 0, swarm::kBlockSize}}}));
    if (c.where == Where::waiting_for_the_disk) h.torrent.on_piece_read(PieceIndex(0), h.piece_copy(0));
    if (on_the_wire.taken) h.written(id, on_the_wire);
    auto out = h.flush(id);
    EXPECT_EQ(out.count<wire::Reject>(), c.rejects);
    EXPECT_EQ(out.count<wire::Piece>() + on_the_wire.count<wire::Piece>(), c.pieces);
    for (const auto& r : out.all<wire::Reject>())
      EXPECT_EQ(r, (wire::BlockRef{0, 0, swarm::kBlockSize}));
  }
}

TEST(TorrentSeeder, ReadingPausesOnlyWhileTheQueueIsFullAndThePeerOwesNothing) {
  // Ten pieces of sixteen blocks: five pieces asked for are 80 blocks, past the 1 MiB floor of a send queue.
  constexpr std::int64_t kBig = 16 * swarm::kBlockSize;
  struct Case {
    const char* what;
    bool we_download_from_it;
    bool paused;
  };
  const Case cases[] = {
      {"a peer that owes us nothing is not read", false, true},
      {"a peer we wait for blocks from is still read", true, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    Harness h(Harness::make_params(10, kBig, 10 * kBig));
    for (std::int32_t p = 0; p < (c.we_download_from_it ? 5 : 10); ++p)
      h.torrent.mark_have(PieceIndex(p));
    h.start();
    auto id = h.connect(ip(3, 1), false);
    h.flush(id);
    if (c.we_download_from_it) {
      const std::vector<std::uint8_t> last_five = {0x07, 0xc0};
      ASSERT_TRUE(h.receive_all(id, {wire::Bitfield{last_five}, wire::Unchoke{}}));
      EXPECT_FALSE(h.torrent.protocol(id)->outstanding().empty());
    } else {
      ASSERT_TRUE(h.receive_all(id, {wire::HaveNone{}}));
    }
    ASSERT_TRUE(h.receive_all(id, {wire::Interested{}}));
    h.flush(id);
    std::vector<wire::Request> asked;
    for (std::uint32_t piece = 0; piece < 5; ++piece) {
      for (std::uint32_t b = 0; b < 16; ++b) {
        asked.push_back(req(piece, b * swarm::kBlockSize));
        ASSERT_TRUE(h.receive(id, asked.back()));
      }
    }
    h.torrent.on_messages_done(id);
    // Answer reads until the torrent asks for no more.
    for (auto reads = actions_of<ReadPiece>(h.actions()); !reads.empty();
         reads = actions_of<ReadPiece>(h.actions())) {
      for (const auto& r : reads)
        h.torrent.on_piece_read(r.piece, h.piece_copy(r.piece.get()));
    }
    EXPECT_EQ(h.torrent.reading_paused(id), c.paused);

    // The queue holds what its capacity allows and no more (a block may cross the line).
    auto out = h.take(id);
    EXPECT_GE(static_cast<std::size_t>(out.payload), swarm::kMinSendQueueBytes - swarm::kBlockSize);
    EXPECT_LE(static_cast<std::size_t>(out.payload), swarm::kMinSendQueueBytes + swarm::kBlockSize);
    h.written(id, out);
    // Written, the queue is topped up from the requests still waiting: full again, so paused as before.
    EXPECT_EQ(h.torrent.reading_paused(id), c.paused);

    // Drained, the rest is served: every block once, with its bytes.
    std::size_t served = out.count<wire::Piece>();
    for (int round = 0; round < 100 && served < asked.size(); ++round) {
      for (const auto& r : actions_of<ReadPiece>(h.actions()))
        h.torrent.on_piece_read(r.piece, h.piece_copy(r.piece.get()));
      auto more = h.flush(id);
      for (const auto& p : more.all<wire::Piece>()) {
        auto want = h.piece_bytes(static_cast<std::int32_t>(p.piece)).subspan(p.begin, p.data.size());
        EXPECT_TRUE(std::equal(p.data.begin(), p.data.end(), want.begin(), want.end()));
      }
      served += more.count<wire::Piece>();
    }
    EXPECT_EQ(served, asked.size());
  }
}

TEST(TorrentSeeder, TheReadCacheKeepsWithinItsBudget) {
  struct Case {
    const char* what;
    std::int64_t read_cache_bytes;
    bool reread_first;  // the first piece read was evicted
  };
  const Case cases[] = {
      {"a budget below two pieces still keeps two, oldest out", 0, true},
      {"a budget of four pieces keeps all three", 4 * kPieceLength, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto p = small_params();
    p.read_cache_bytes = c.read_cache_bytes;
    Seeder h(p);
    auto id = interested_peer(h, ip(3, 1));
    h.flush(id);
    ASSERT_TRUE(h.receive_all(id, {req(0, 0), req(1, 0), req(2, 0)}));
    ASSERT_EQ(count_actions<ReadPiece>(h.actions()), 3u);
    for (std::int32_t piece = 0; piece < 3; ++piece)
      h.torrent.on_piece_read(PieceIndex(piece), h.piece_copy(piece));
    EXPECT_EQ(h.flush(id).count<wire::Piece>(), 3u);

    // The newest piece is served from the cache...
    ASSERT_TRUE(h.receive_all(id, {req(2, swarm::kBlockSize)}));
    EXPECT_EQ(count_actions<ReadPiece>(h.actions()), 0u);
    EXPECT_EQ(h.flush(id).count<wire::Piece>(), 1u);
    // ...the oldest only if the budget kept it.
    ASSERT_TRUE(h.receive_all(id, {req(0, swarm::kBlockSize)}));
    EXPECT_EQ(count_actions<ReadPiece>(h.actions()), c.reread_first ? 1u : 0u);
  }
}

TEST(TorrentSeeder, AFailedReadServesNothing) {
  Seeder h;
  auto id = interested_peer(h, ip(3, 1));
  h.flush(id);
  ASSERT_TRUE(h.receive_all(id, {req(1, 0)}));
  ASSERT_EQ(count_actions<ReadPiece>(h.actions()), 1u);
  h.torrent.on_piece_read(PieceIndex(1), nullptr);
  EXPECT_TRUE(h.actions().empty());
  EXPECT_FALSE(h.take(id).taken);
}

}  // namespace
}  // namespace shoal::torrent::testing
