// Web seeds inside the torrent core: whole pieces nobody downloads, handed to the disk like any, and a seed
// whose pieces fail the hash check banned while the download goes on from others.
#include <gtest/gtest.h>

#include <algorithm>

#include "torrent/torrent.hpp"
#include "torrent_harness.hpp"

namespace shoal::torrent::testing {
namespace {

constexpr std::int64_t kPiece = 32 * 1024;

webseed::Layout one_file_layout(const Params& p, const std::string& url) {
  webseed::Layout l;
  l.base_url = url;
  l.piece_length = p.piece_length;
  l.total_size = p.total_size;
  l.num_pieces = p.num_pieces;
  l.files.push_back({url, 0, p.total_size, false});
  return l;
}

// Answers the seed's request as a server holding the torrent's single file would (`corrupt`: one byte
// flipped in every piece). False: the seed asked for nothing.
bool serve(Harness& h, std::size_t seed, bool corrupt = false) {
  auto req = h.torrent.web_seed_request(seed, h.now);
  if (!req) return false;
  webseed::ResponseHead head;
  head.status = 206;
  head.content_length = req->last - req->first + 1;
  head.content_range = "bytes " + std::to_string(req->first) + "-" + std::to_string(req->last) + "/" +
                       std::to_string(h.params.total_size);
  auto d = h.torrent.on_web_seed_head(seed, head, h.now);
  EXPECT_EQ(d.verdict, webseed::HeadVerdict::read_body);
  std::vector<std::uint8_t> body(h.content.begin() + req->first, h.content.begin() + req->last + 1);
  if (corrupt) {
    for (std::size_t i = 0; i < body.size(); i += static_cast<std::size_t>(kPiece))
      body[i] ^= 0xff;
  }
  EXPECT_EQ(h.torrent.on_web_seed_body(seed, body, h.now), 0);
  return true;
}

std::set<std::int32_t> pieces_asked(const Output& out) {
  std::set<std::int32_t> pieces;
  for (const auto& r : out.all<wire::Request>())
    pieces.insert(static_cast<std::int32_t>(r.piece));
  return pieces;
}

TEST(TorrentWebSeed, AloneItDownloadsEveryPieceInRuns) {
  auto p = Harness::make_params(10, kPiece, 10 * kPiece - 100);
  Harness h(p);
  h.torrent.add_web_seed(one_file_layout(h.params, "http://ws/file"));
  h.start();
  h.actions();
  int requests = 0;
  while (serve(h, 0)) {
    ++requests;
    h.answer_verifies(h.actions());
  }
  h.actions();
  EXPECT_TRUE(h.torrent.is_complete());
  EXPECT_EQ(requests, 1);  // ten 32 KiB pieces fit one run: one range
  EXPECT_EQ(count_actions<Completed>(h.history), 1u);
  EXPECT_EQ(count_actions<PieceVerified>(h.history), 10u);
  EXPECT_EQ(h.torrent.stats().downloaded, h.params.total_size);
  auto reports = h.torrent.web_seed_reports(h.now);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].downloaded, h.params.total_size);
}

TEST(TorrentWebSeed, TakesOnlyPiecesNoPeerIsDownloadingAndPeersLeaveItsPiecesAlone) {
  auto p = Harness::make_params(200, kPiece, 200 * kPiece);
  Harness h(p);
  h.torrent.add_web_seed(one_file_layout(h.params, "http://ws/file"));
  h.start();
  auto peer = h.connect(ip(1, 1));
  h.receive_all(peer, {wire::HaveAll{}, wire::Unchoke{}});
  auto before = pieces_asked(h.flush(peer));
  ASSERT_FALSE(before.empty());
  auto req = h.torrent.web_seed_request(0, h.now);
  ASSERT_TRUE(req);
  auto first = static_cast<std::int32_t>(req->first / kPiece);
  auto last = static_cast<std::int32_t>(req->last / kPiece);
  // A run of consecutive untouched pieces: up to the first the peer took, at most kMaxFetchBytes.
  EXPECT_LE(last - first + 1, static_cast<std::int32_t>(webseed::kMaxFetchBytes / kPiece));
  EXPECT_TRUE(before.count(last + 1) != 0 || last - first + 1 == webseed::kMaxFetchBytes / kPiece ||
              last - first + 1 == (200 - static_cast<std::int32_t>(before.size())) / 2);
  for (auto piece : before) {
    EXPECT_TRUE(piece < first || piece > last) << "piece " << piece << " is the peer's";
  }
  // The peer asks for more: never a piece of the web seed's run.
  for (int round = 0; round < 5; ++round) {
    h.tick();
    for (auto piece : pieces_asked(h.flush(peer)))
      EXPECT_TRUE(piece < first || piece > last) << "piece " << piece << " is the web seed's";
  }
}

TEST(TorrentWebSeed, LyingSeedIsBannedAndAnotherFinishesTheDownload) {
  auto p = Harness::make_params(300, kPiece, 300 * kPiece);
  Harness h(p);
  h.torrent.add_web_seed(one_file_layout(h.params, "http://liar/file"));
  h.torrent.add_web_seed(one_file_layout(h.params, "http://good/file"));
  h.torrent.set_logging(true);
  h.start();
  h.actions();
  ASSERT_TRUE(serve(h, 0, true));  // a whole run of bad pieces
  h.answer_verifies(h.actions());
  h.actions();
  auto stats = h.torrent.stats();
  EXPECT_EQ(stats.web_seeds_banned, 1);
  EXPECT_EQ(stats.web_seeds, 1);
  EXPECT_GT(stats.failed_pieces, 0);
  EXPECT_FALSE(h.torrent.web_seed_request(0, h.now + std::chrono::hours(24)));
  auto reports = h.torrent.web_seed_reports(h.now);
  EXPECT_EQ(reports[0].state, webseed::State::banned);
  EXPECT_EQ(reports[0].hash_failures, static_cast<int>(webseed::kMaxFetchBytes / kPiece));
  EXPECT_EQ(reports[1].state, webseed::State::idle);
  while (serve(h, 1))
    h.answer_verifies(h.actions());
  EXPECT_TRUE(h.torrent.is_complete());
  EXPECT_EQ(h.torrent.stats().banned_peers, 0);  // no peer was blamed
}

TEST(TorrentWebSeed, AFailedFetchGivesItsPiecesBackToPeers) {
  auto p = Harness::make_params(8, kPiece, 8 * kPiece);
  Harness h(p);
  h.torrent.add_web_seed(one_file_layout(h.params, "http://ws/file"));
  h.start();
  ASSERT_TRUE(h.torrent.web_seed_request(0, h.now));  // claims all 8 pieces
  auto peer = h.connect(ip(1, 2));
  h.receive_all(peer, {wire::HaveAll{}, wire::Unchoke{}});
  auto asked = h.flush(peer).all<wire::Request>();
  // End-game: the peer may double some of the seed's blocks, but only a few.
  EXPECT_LE(asked.size(), 8u);
  h.torrent.on_web_seed_failed(0, "connection refused", h.now);
  EXPECT_EQ(h.torrent.web_seed_reports(h.now)[0].state, webseed::State::backing_off);
  EXPECT_FALSE(h.torrent.web_seed_request(0, h.now));
  h.tick();
  EXPECT_GT(h.flush(peer).all<wire::Request>().size(), 0u);
  EXPECT_FALSE(h.torrent.picker().in_end_game() && asked.empty());
}

// The seed is banned while its run is still streaming in: the pieces it had not finished are untouched
// again, so that another web seed (which only takes untouched pieces) can have them.
TEST(TorrentWebSeed, BanMidRunGivesTheRestOfTheRunToAnotherSeed) {
  auto p = Harness::make_params(40, kPiece, 40 * kPiece);
  Harness h(p);
  h.torrent.add_web_seed(one_file_layout(h.params, "http://liar/file"));
  h.torrent.add_web_seed(one_file_layout(h.params, "http://good/file"));
  h.start();
  auto req = h.torrent.web_seed_request(0, h.now);
  ASSERT_TRUE(req);
  auto run = (req->last - req->first + 1) / kPiece;
  ASSERT_GT(run, webseed::kMaxHashFailures);
  webseed::ResponseHead head;
  head.status = 206;
  head.content_length = req->last - req->first + 1;
  head.content_range = "bytes " + std::to_string(req->first) + "-" + std::to_string(req->last) + "/" +
                       std::to_string(h.params.total_size);
  ASSERT_EQ(h.torrent.on_web_seed_head(0, head, h.now).verdict, webseed::HeadVerdict::read_body);
  // Bad bytes for the first pieces only, hashed while the rest is still on its way.
  std::vector<std::uint8_t> bad(static_cast<std::size_t>(kPiece * webseed::kMaxHashFailures), 0xee);
  h.torrent.on_web_seed_body(0, bad, h.now);
  h.answer_verifies(h.actions());
  EXPECT_EQ(h.torrent.web_seed_reports(h.now)[0].state, webseed::State::banned);
  EXPECT_EQ(h.torrent.on_web_seed_body(0, bad, h.now), 0);  // the rest is not read
  while (serve(h, 1))
    h.answer_verifies(h.actions());
  EXPECT_TRUE(h.torrent.is_complete());
}

// A one-piece torrent of two blocks shared between a web seed and a peer: the web seed claims the piece, the
// peer (end-game) is asked for one of its blocks too and answers first; the seed's copy of the other block
// completes the piece. `seed_lies` / `peer_lies`: who sent a bad block.
struct MixedPiece {
  explicit MixedPiece(bool seed_lies, bool peer_lies) : h(Harness::make_params(1, kPiece, kPiece)) {
    h.torrent.add_web_seed(one_file_layout(h.params, "http://ws/file"));
    h.torrent.set_logging(true);
    h.start();
    h.actions();
    auto req = h.torrent.web_seed_request(0, h.now);
    EXPECT_TRUE(req);
    peer = h.connect(ip(1, 1));
    h.receive_all(peer, {wire::HaveAll{}, wire::Unchoke{}});
    auto asked = h.flush(peer).all<wire::Request>();
    EXPECT_EQ(asked.size(), 1u) << "end-game: the peer is asked for one of the seed's blocks too";
    if (asked.size() != 1 || !req) return;
    auto piece = h.block(asked[0]);
    peer_block = static_cast<std::size_t>(asked[0].begin) / swarm::kBlockSize;
    std::vector<std::uint8_t> bytes(piece.data.begin(), piece.data.end());
    if (peer_lies) bytes[7] ^= 0xff;
    h.receive_all(peer, {wire::Piece{piece.piece, piece.begin, bytes}});
    // The seed's copy of the other block (its copy of the peer's block comes too late and is dropped).
    webseed::ResponseHead head;
    head.status = 206;
    head.content_length = req->last - req->first + 1;
    head.content_range = "bytes " + std::to_string(req->first) + "-" + std::to_string(req->last) + "/" +
                         std::to_string(h.params.total_size);
    EXPECT_EQ(h.torrent.on_web_seed_head(0, head, h.now).verdict, webseed::HeadVerdict::read_body);
    std::vector<std::uint8_t> body(h.content.begin() + req->first, h.content.begin() + req->last + 1);
    if (seed_lies) body[(1 - peer_block) * swarm::kBlockSize + 3] ^= 0xff;
    EXPECT_EQ(h.torrent.on_web_seed_body(0, body, h.now), 0);
    auto verify = actions_of<VerifyPiece>(h.actions());
    EXPECT_EQ(verify.size(), 1u);
    if (verify.size() != 1) return;
    const auto& blocks = verify[0].blocks;
    EXPECT_EQ(blocks.size(), 2u);
    if (blocks.size() != 2) return;
    EXPECT_TRUE(blocks[1 - peer_block].known && blocks[1 - peer_block].from.is_web_seed());
    EXPECT_TRUE(blocks[peer_block].known && blocks[peer_block].from == swarm::ban_key(ip(1, 1)));
    h.answer_verifies({verify[0]});
  }
  std::size_t peer_block = 0;
  Harness h;
  PeerId peer = swarm::kNoPeer;
};

// Neither is struck at the first failure: either may have sent the bad block.
TEST(TorrentWebSeed, AFailedPieceSharedWithAPeerStrikesNobodyYet) {
  MixedPiece m(true, false);
  EXPECT_EQ(m.h.torrent.stats().failed_pieces, 1);
  EXPECT_EQ(m.h.torrent.web_seed_reports(m.h.now)[0].hash_failures, 0);
  EXPECT_EQ(m.h.torrent.stats().banned_peers, 0);
  EXPECT_TRUE(disconnect_reasons(m.h.actions(), m.peer).empty());
}

// The honest peer fetches the piece again: it passes, the seed's recorded block differs and the seed alone is
// struck.
TEST(TorrentWebSeed, ALyingSeedInAPieceSharedWithAnHonestPeerIsStruckAndThePeerIsNot) {
  MixedPiece m(true, false);
  auto& h = m.h;
  h.tick();
  std::set<std::uint32_t> blocks;
  for (const auto& r : h.flush(m.peer).all<wire::Request>()) {
    if (blocks.insert(r.begin).second) h.receive_all(m.peer, {h.block(r)});
  }
  ASSERT_EQ(blocks.size(), 2u);
  h.answer_verifies(h.actions());
  h.actions();
  EXPECT_TRUE(h.torrent.is_complete());
  auto report = h.torrent.web_seed_reports(h.now)[0];
  EXPECT_EQ(report.hash_failures, 1);
  EXPECT_EQ(report.last_error, "sent blocks that differ from the good copy of a piece");
  EXPECT_EQ(h.torrent.stats().banned_peers, 0);
  EXPECT_EQ(count_actions<PeerBanned>(h.history), 0u);
  for (const auto& reason : disconnect_reasons(h.history, m.peer))
    EXPECT_EQ(reason, "both seeding");  // done, not blamed
}

// The honest seed fetches the piece again: it passes, the peer's recorded block differs and the peer alone is
// banned.
TEST(TorrentWebSeed, ALyingPeerInAPieceSharedWithAnHonestSeedIsBannedAndTheSeedIsNot) {
  MixedPiece m(false, true);
  auto& h = m.h;
  ASSERT_TRUE(serve(h, 0));  // the piece is untouched again: the seed takes it whole
  h.answer_verifies(h.actions());
  h.actions();
  EXPECT_TRUE(h.torrent.is_complete());
  EXPECT_EQ(h.torrent.web_seed_reports(h.now)[0].hash_failures, 0);
  EXPECT_EQ(h.torrent.web_seed_reports(h.now)[0].state, webseed::State::idle);
  EXPECT_EQ(h.torrent.stats().banned_peers, 1);
  auto bans = actions_of<PeerBanned>(h.history);
  ASSERT_EQ(bans.size(), 1u);
  EXPECT_EQ(bans[0].address, swarm::ban_key(ip(1, 1)));
  EXPECT_FALSE(disconnect_reasons(h.history, m.peer).empty());
}

// A seed that lies again when it fetches the failed piece alone is struck for that piece; the peer is not.
TEST(TorrentWebSeed, ALyingSeedThatFetchesTheFailedPieceAgainIsStruckAlone) {
  MixedPiece m(true, false);
  auto& h = m.h;
  ASSERT_TRUE(serve(h, 0, true));
  h.answer_verifies(h.actions());
  h.actions();
  EXPECT_EQ(h.torrent.web_seed_reports(h.now)[0].hash_failures, 1);
  EXPECT_EQ(h.torrent.stats().banned_peers, 0);
  EXPECT_FALSE(h.torrent.web_seed_request(0, h.now + std::chrono::hours(1)))
      << "a piece that failed from the seed alone is not asked of it again";
}

TEST(TorrentWebSeed, NothingIsFetchedWhileSeedingOrBeforeStart) {
  auto p = Harness::make_params(4, kPiece, 4 * kPiece);
  Harness h(p);
  h.torrent.add_web_seed(one_file_layout(h.params, "http://ws/file"));
  EXPECT_FALSE(h.torrent.web_seed_request(0, h.now));  // still checking
  h.have_all();
  h.start();
  EXPECT_FALSE(h.torrent.web_seed_request(0, h.now));
  EXPECT_FALSE(h.torrent.web_seed_request(7, h.now));  // no such seed
}

}  // namespace
}  // namespace shoal::torrent::testing
