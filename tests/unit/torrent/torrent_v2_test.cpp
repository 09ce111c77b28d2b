// torrent::Torrent with a v2-only torrent (BEP 52): hash requests answered from the piece layer and from the
// leaves of pieces it reads, rejected when they fit no tree or name a piece we lack; and a failed piece
// blamed block by block from a peer's leaf hashes, so that only the peer whose block was bad is banned.
#include <gtest/gtest.h>

#include "../metainfo/v2_torrent_fixture.hpp"
#include "hash/merkle.hpp"
#include "torrent/torrent.hpp"
#include "torrent_harness.hpp"

namespace shoal::torrent::testing {
namespace {

constexpr std::int64_t kPiece = 64 * 1024;  // 4 blocks
constexpr std::int64_t kFileLength = 4 * kPiece + 20000;

struct V2Harness {
  metainfo::testing::V2Torrent v2;
  std::unique_ptr<Harness> h;
  std::vector<Sha256Digest> leaves;  // of a.bin, the only file

  V2Harness() {
    v2 = metainfo::testing::make_v2_torrent({{"a.bin", metainfo::testing::v2_data(kFileLength, 9)}}, kPiece);
    auto p = Harness::make_params(v2.info.num_pieces(), kPiece, v2.info.total_size);
    p.metainfo = std::make_shared<metainfo::TorrentInfo>(v2.info);
    h = std::make_unique<Harness>(p);
    h->content.assign(v2.stream.begin(), v2.stream.end());
    for (std::int64_t off = 0; off < kFileLength; off += hash::kMerkleBlockSize)
      leaves.push_back(hash::sha256(std::string_view(v2.stream).substr(
          static_cast<std::size_t>(off),
          static_cast<std::size_t>(std::min(hash::kMerkleBlockSize, kFileLength - off)))));
  }
  const Sha256Digest& root() const { return *v2.info.files[0].pieces_root; }

  // Answers a HashLeaves as the driver does: the piece's bytes hashed block by block.
  void answer_leaves(const HashLeaves& a, bool corrupt = false) {
    hash::MerklePieceHasher hasher(a.data_bytes, a.width);
    auto bytes = h->piece_bytes(a.piece.get());
    std::vector<std::uint8_t> data(bytes.begin(), bytes.end());
    if (corrupt) data[0] ^= 1;
    hasher.update(data);
    h->torrent.on_piece_leaves(a.piece, hasher.leaves());
  }

  // Answers the VerifyPiece actions as the driver does for a v2-only torrent: the merkle subtree decides,
  // and each block's evidence is the first 20 bytes of its leaf.
  void answer_verifies(const std::vector<Action>& actions) {
    for (const auto& v : actions_of<VerifyPiece>(actions)) {
      auto check = *metainfo::v2_piece_check(v2.info, v.piece);
      hash::MerklePieceHasher hasher(check.file_bytes, check.leaves);
      hasher.update(v.data);
      bool ok = hasher.root() == check.expected;
      auto blocks = v.blocks;
      for (std::size_t i = 0; i < blocks.size() && (!ok || v.block_hashes); ++i)
        std::copy_n(hasher.leaves()[i].bytes.begin(), 20, blocks[i].hash.begin());
      h->torrent.on_piece_written(v.piece, ok, false, std::move(blocks), v.data);
    }
  }
};

// The hashes a correct peer sends for `r`: the run from the full tree, then its uncles.
std::vector<Sha256Digest> expected_hashes(const std::vector<Sha256Digest>& leaves,
                                          const wire::HashRequestFields& r) {
  hash::MerkleTree tree(leaves);
  std::vector<Sha256Digest> out;
  auto layer = tree.layer(static_cast<int>(r.base_layer));
  for (std::uint32_t i = 0; i < r.length; ++i)
    out.push_back(layer[r.index + i]);
  int k = std::countr_zero(r.length);
  auto uncles = tree.uncles(static_cast<int>(r.base_layer) + k, r.index >> k);
  for (std::uint32_t i = 0; i < wire::hash_uncle_count(r); ++i)
    out.push_back(uncles[i]);
  return out;
}

wire::HashRequest request(const Sha256Digest& root, std::uint32_t base, std::uint32_t index,
                          std::uint32_t length, std::uint32_t proof) {
  wire::HashRequest r;
  r.pieces_root = root;
  r.base_layer = base;
  r.index = index;
  r.length = length;
  r.proof_layers = proof;
  return r;
}

std::vector<Sha256Digest> hashes_of(const wire::Hashes& m) {
  return hash::merkle_split(
      std::string_view(reinterpret_cast<const char*>(m.hashes.data()), m.hashes.size()));
}

PeerId connect_leecher(Harness& h) {
  auto id = h.connect(ip(5, 1));
  h.flush(id);
  EXPECT_TRUE(h.receive_all(id, {wire::HaveNone{}}));
  h.flush(id);
  return id;
}

TEST(TorrentV2, AnswersPieceLayerRequestsWithProofToTheRoot) {
  V2Harness v;
  auto& h = *v.h;
  h.have_all();
  h.start();
  auto peer = connect_leecher(h);
  // a.bin: 18 blocks, 32 leaves, height 5; its piece layer (4 blocks a piece) is 2 above the leaves, 8 wide.
  for (auto r : {request(v.root(), 2, 0, 8, 2), request(v.root(), 2, 4, 4, 2), request(v.root(), 2, 2, 2, 2),
                 request(v.root(), 3, 0, 2, 1), request(v.root(), 2, 0, 2, 0)}) {
    SCOPED_TRACE(std::to_string(r.base_layer) + "/" + std::to_string(r.index) + "/" +
                 std::to_string(r.length));
    ASSERT_TRUE(h.receive_all(peer, {r}));
    auto out = h.flush(peer);
    auto answers = out.all<wire::Hashes>();
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_EQ(static_cast<const wire::HashRequestFields&>(answers[0]), r);
    EXPECT_EQ(hashes_of(answers[0]), expected_hashes(v.leaves, r));
  }
}

TEST(TorrentV2, AnswersLeafRequestsOnceThePoolHashedThePiece) {
  V2Harness v;
  auto& h = *v.h;
  h.have_all();
  h.start();
  auto peer = connect_leecher(h);
  // Piece 1's four leaves with the proof to the root, the last piece's leaves (two real, two pads), and a
  // pair of piece 2's.
  for (auto r :
       {request(v.root(), 0, 4, 4, 4), request(v.root(), 0, 16, 4, 2), request(v.root(), 0, 10, 2, 3)}) {
    SCOPED_TRACE(std::to_string(r.index));
    ASSERT_TRUE(h.receive_all(peer, {r}));
    auto jobs = actions_of<HashLeaves>(h.actions());
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0].width, 4);
    EXPECT_EQ(h.flush(peer).count<wire::Hashes>(), 0u);  // nothing until the leaves are hashed
    v.answer_leaves(jobs[0]);
    auto out = h.flush(peer);  // the messages view its reader
    auto answers = out.all<wire::Hashes>();
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_EQ(hashes_of(answers[0]), expected_hashes(v.leaves, r));
  }
  // Cached now: answered at once.
  auto again = request(v.root(), 0, 6, 2, 3);
  ASSERT_TRUE(h.receive_all(peer, {again}));
  EXPECT_EQ(h.flush(peer).count<wire::Hashes>(), 1u);
}

TEST(TorrentV2, RejectsWhatFitsNoTreeOrWhatWeLack) {
  V2Harness v;
  auto& h = *v.h;
  h.torrent.mark_have(PieceIndex{0});
  h.start();
  auto peer = connect_leecher(h);
  Sha256Digest unknown{};
  unknown.bytes.fill(3);
  const wire::HashRequest cases[] = {
      request(unknown, 2, 0, 8, 2),    // no file with that root
      request(v.root(), 2, 0, 16, 2),  // run wider than the layer
      request(v.root(), 6, 0, 2, 0),   // above the root
      request(v.root(), 2, 0, 8, 3),   // proof up to the root itself
      request(v.root(), 0, 8, 4, 2),   // piece 2's leaves: we do not have it
      request(v.root(), 0, 0, 8, 3),   // a run across two pieces
  };
  for (const auto& r : cases) {
    ASSERT_TRUE(h.receive_all(peer, {r}));
    auto out = h.flush(peer);
    EXPECT_EQ(out.count<wire::HashReject>(), 1u) << r.base_layer << "/" << r.index << "/" << r.length;
    EXPECT_EQ(out.count<wire::Hashes>(), 0u);
  }
  EXPECT_EQ(count_actions<ReadPiece>(h.actions()), 0u);
  EXPECT_EQ(count_actions<HashLeaves>(h.actions()), 0u);
}

// A peer asking for every piece's leaves: one piece is hashed at a time per torrent (the rest rejected at
// once), at most kMaxLeafWaitsPerPeer of one peer's requests wait, and a piece asked for by several is hashed
// once for all of them.
TEST(TorrentV2, LeafRequestsBeyondTheCapsAreRejected) {
  static_assert(kMaxLeafWaitsPerPeer == 2 && kMaxLeafJobs == 1);
  V2Harness v;
  auto& h = *v.h;
  h.have_all();
  h.start();
  auto greedy = connect_leecher(h);
  ASSERT_TRUE(h.receive_all(greedy, {request(v.root(), 0, 0, 4, 2), request(v.root(), 0, 4, 4, 2),
                                     request(v.root(), 0, 8, 4, 2), request(v.root(), 0, 12, 4, 2)}));
  EXPECT_EQ(h.flush(greedy).count<wire::HashReject>(), 3u);
  auto jobs = actions_of<HashLeaves>(h.actions());
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].piece, PieceIndex{0});
  // Another peer asks for piece 0 too: it waits for the same job, twice; a third request is one too many.
  auto other = h.connect(ip(5, 2));
  h.flush(other);
  ASSERT_TRUE(h.receive_all(other, {wire::HaveNone{}}));
  h.flush(other);
  ASSERT_TRUE(h.receive_all(
      other, {request(v.root(), 0, 0, 2, 3), request(v.root(), 0, 2, 2, 3), request(v.root(), 1, 0, 2, 2)}));
  EXPECT_EQ(h.flush(other).count<wire::HashReject>(), 1u);
  EXPECT_EQ(count_actions<HashLeaves>(h.actions()), 0u);
  EXPECT_EQ(h.torrent.leaf_jobs(), 1u);
  // The pool answers: every request that waited gets its hashes, and new ones are taken again.
  v.answer_leaves(jobs[0]);
  EXPECT_EQ(h.torrent.leaf_jobs(), 0u);
  auto out = h.flush(greedy);
  auto answers = out.all<wire::Hashes>();
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(hashes_of(answers[0]), expected_hashes(v.leaves, request(v.root(), 0, 0, 4, 2)));
  EXPECT_EQ(h.flush(other).count<wire::Hashes>(), 2u);
  ASSERT_TRUE(h.receive_all(greedy, {request(v.root(), 0, 4, 4, 2)}));
  EXPECT_EQ(count_actions<HashLeaves>(h.actions()), 1u);
}

// What peers may have hashed a second is bounded too: past Params::leaf_hash_bytes_per_tick, rejects until
// the next tick.
TEST(TorrentV2, LeafHashingIsBoundedPerSecond) {
  V2Harness v;
  auto params = v.h->params;
  params.leaf_hash_bytes_per_tick = 2 * kPiece;
  v.h = std::make_unique<Harness>(params);
  v.h->content.assign(v.v2.stream.begin(), v.v2.stream.end());
  auto& h = *v.h;
  h.have_all();
  h.start();
  auto peer = connect_leecher(h);
  for (std::uint32_t piece = 0; piece < 2; ++piece) {
    ASSERT_TRUE(h.receive_all(peer, {request(v.root(), 0, piece * 4, 4, 2)}));
    auto jobs = actions_of<HashLeaves>(h.actions());
    ASSERT_EQ(jobs.size(), 1u);
    v.answer_leaves(jobs[0]);
    EXPECT_EQ(h.flush(peer).count<wire::Hashes>(), 1u);
  }
  ASSERT_TRUE(h.receive_all(peer, {request(v.root(), 0, 8, 4, 2)}));
  EXPECT_EQ(h.flush(peer).count<wire::HashReject>(), 1u);
  EXPECT_EQ(count_actions<HashLeaves>(h.actions()), 0u);
  // Cached pieces cost nothing: still answered.
  ASSERT_TRUE(h.receive_all(peer, {request(v.root(), 0, 0, 4, 2)}));
  EXPECT_EQ(h.flush(peer).count<wire::Hashes>(), 1u);
  h.tick();
  ASSERT_TRUE(h.receive_all(peer, {request(v.root(), 0, 8, 4, 2)}));
  EXPECT_EQ(count_actions<HashLeaves>(h.actions()), 1u);
}

// The leaf layers kept stay within the budget, least recently used out first; a piece whose data on disk no
// longer hashes to its piece layer entry is rejected, not cached.
TEST(TorrentV2, LeafCacheIsBoundedAndLeavesAreCheckedAgainstThePieceLayer) {
  V2Harness v;
  // One piece's layers: 4 + 2 + 1 hashes of 32 bytes. Room for two.
  auto params = v.h->params;
  params.leaf_cache_bytes = 2 * 7 * 32;
  V2Harness small;
  small.h = std::make_unique<Harness>(params);
  small.h->content.assign(small.v2.stream.begin(), small.v2.stream.end());
  auto& h = *small.h;
  h.have_all();
  h.start();
  auto peer = connect_leecher(h);
  for (std::uint32_t piece = 0; piece < 4; ++piece) {
    ASSERT_TRUE(h.receive_all(peer, {request(small.root(), 0, piece * 4, 4, 2)}));
    auto jobs = actions_of<HashLeaves>(h.actions());
    ASSERT_EQ(jobs.size(), 1u);
    small.answer_leaves(jobs[0]);
    EXPECT_EQ(h.flush(peer).count<wire::Hashes>(), 1u);
    EXPECT_LE(h.torrent.leaf_cache_bytes(), params.leaf_cache_bytes);
  }
  // Pieces 2 and 3 are kept, 0 is gone.
  ASSERT_TRUE(h.receive_all(peer, {request(small.root(), 0, 12, 4, 2)}));
  EXPECT_EQ(count_actions<HashLeaves>(h.actions()), 0u);
  EXPECT_EQ(h.flush(peer).count<wire::Hashes>(), 1u);
  ASSERT_TRUE(h.receive_all(peer, {request(small.root(), 0, 0, 4, 2)}));
  auto jobs = actions_of<HashLeaves>(h.actions());
  ASSERT_EQ(jobs.size(), 1u);
  small.answer_leaves(jobs[0], true);  // the file changed under us
  auto out = h.flush(peer);
  EXPECT_EQ(out.count<wire::HashReject>(), 1u);
  EXPECT_EQ(out.count<wire::Hashes>(), 0u);
  // A failed read is a reject too.
  ASSERT_TRUE(h.receive_all(peer, {request(small.root(), 0, 4, 4, 2)}));
  jobs = actions_of<HashLeaves>(h.actions());
  ASSERT_EQ(jobs.size(), 1u);
  h.torrent.on_piece_leaves(jobs[0].piece, std::nullopt);
  EXPECT_EQ(h.flush(peer).count<wire::HashReject>(), 1u);
}

// Two peers share a piece; one sent one bad block. The piece fails; its leaf hashes, asked of a peer (the
// liar first: it answers with a lie, which does not prove out; then the honest one), convict the liar alone.
TEST(TorrentV2, OneBadBlockBlamesItsSenderAlone) {
  V2Harness v;
  auto& h = *v.h;
  h.start();
  const auto liar_address = ip(4, 1);
  const auto honest_address = ip(4, 2);
  auto liar = h.connect(liar_address, true);
  auto honest = h.connect(honest_address, true);
  h.flush(liar);
  h.flush(honest);

  ASSERT_TRUE(h.receive_all(liar, {wire::HaveAll{}, wire::Unchoke{}}));
  auto from_liar = h.flush(liar).all<wire::Request>();
  ASSERT_FALSE(from_liar.empty());
  auto piece = from_liar[0].piece;
  // One bad block, then it rejects the rest (BEP 6), which go to the honest peer.
  auto good = h.block(from_liar[0]);
  std::vector<std::uint8_t> bad(good.data.begin(), good.data.end());
  bad[100] ^= 0xff;
  ASSERT_TRUE(h.receive(liar, wire::Piece{from_liar[0].piece, from_liar[0].begin, bad}));
  for (std::size_t i = 1; i < from_liar.size(); ++i)
    ASSERT_TRUE(h.receive(liar, wire::Reject{from_liar[i]}));
  h.torrent.on_messages_done(liar);
  h.flush(liar);

  ASSERT_TRUE(h.receive_all(honest, {wire::HaveAll{}, wire::Unchoke{}}));
  // The honest peer supplies the rest; each piece is verified as it completes, until the shared one fails
  // (before the torrent completes, when seeds are let go).
  for (int round = 0; round < 20 && h.torrent.stats().failed_pieces == 0; ++round) {
    auto out = h.flush(honest);
    auto requests = out.all<wire::Request>();
    for (const auto& r : requests)
      ASSERT_TRUE(h.receive(honest, h.block(r)));
    h.torrent.on_messages_done(honest);
    v.answer_verifies(h.actions());
  }
  EXPECT_EQ(h.torrent.stats().failed_pieces, 1);
  EXPECT_EQ(count_actions<PeerBanned>(h.history), 0u) << "two suppliers: nobody is convicted yet";

  // Asked of the liar first (lowest id that has the piece): it lies about the hashes.
  auto liar_out = h.flush(liar);
  auto ask = liar_out.all<wire::HashRequest>();

  ASSERT_EQ(ask.size(), 1u);
  auto check = *metainfo::v2_piece_check(v.v2.info, PieceIndex{static_cast<std::int32_t>(piece)});
  EXPECT_EQ(ask[0].pieces_root, v.root());
  EXPECT_EQ(ask[0].base_layer, 0u);
  EXPECT_EQ(ask[0].index, static_cast<std::uint32_t>(check.piece_in_file * 4));
  EXPECT_EQ(ask[0].length, 4u);
  EXPECT_EQ(wire::hash_uncle_count(ask[0]), 0u);
  std::string lie(4 * 32, '\x07');
  ASSERT_TRUE(h.receive_all(liar, {wire::Hashes{ask[0], bytes_of(lie)}}));
  EXPECT_EQ(count_actions<PeerBanned>(h.actions()), 0u);

  auto honest_out = h.flush(honest);
  auto ask2 = honest_out.all<wire::HashRequest>();
  ASSERT_EQ(ask2.size(), 1u);
  auto truth = hash::merkle_concat(expected_hashes(v.leaves, ask2[0]));
  ASSERT_TRUE(h.receive_all(honest, {wire::Hashes{ask2[0], bytes_of(truth)}}));
  auto actions = h.actions();
  auto bans = actions_of<PeerBanned>(actions);
  ASSERT_EQ(bans.size(), 1u);
  EXPECT_EQ(bans[0].address, swarm::ban_key(liar_address));
  EXPECT_TRUE(disconnect_reasons(actions, honest).empty());
  EXPECT_FALSE(h.torrent.is_banned(honest_address));
  EXPECT_NE(h.torrent.remote(honest), nullptr);

  // The piece is fetched again; its proven leaves go with its blocks into resume data, so that a restart can
  // judge the blocks it kept one by one.
  std::vector<wire::Request> again;
  h.torrent.on_messages_done(honest);
  auto later = h.flush(honest);
  for (const auto& out : {&honest_out, &later}) {
    for (const auto& r : out->all<wire::Request>()) {
      if (r.piece == piece) again.push_back(r);
    }
  }
  ASSERT_FALSE(again.empty());
  ASSERT_TRUE(h.receive(honest, h.block(again[0])));
  auto unfinished = h.torrent.unfinished();
  auto it = std::find_if(unfinished.begin(), unfinished.end(), [&](const Torrent::Unfinished& u) {
    return u.piece.get() == static_cast<std::int32_t>(piece);
  });
  ASSERT_NE(it, unfinished.end());
  auto first = v.leaves.begin() + check.piece_in_file * 4;
  EXPECT_EQ(it->leaves, std::vector<Sha256Digest>(first, first + 4));
}

// Metadata from a v2-only magnet has no piece layers: the torrent asks a peer for each, asks for no piece
// before it has them, refuses a layer that does not hash to the file's root and asks another peer.
TEST(TorrentV2, FetchesMissingPieceLayersBeforeAnyPiece) {
  V2Harness v;
  auto info = v.v2.info;
  info.piece_layers.clear();
  auto p = Harness::make_params(info.num_pieces(), kPiece, info.total_size);
  p.metainfo = std::make_shared<metainfo::TorrentInfo>(info);
  Harness h(p);
  h.start();
  auto liar = h.connect(ip(6, 1), true);
  auto honest = h.connect(ip(6, 2), true);
  h.flush(liar);
  h.flush(honest);
  ASSERT_TRUE(h.receive_all(liar, {wire::HaveAll{}, wire::Unchoke{}}));
  auto liar_out = h.flush(liar);
  EXPECT_EQ(liar_out.count<wire::Request>(), 0u);
  auto asks = liar_out.all<wire::HashRequest>();
  ASSERT_EQ(asks.size(), 1u);
  EXPECT_EQ(asks[0].pieces_root, v.root());
  EXPECT_EQ(asks[0].base_layer, 2u);  // the piece layer: 4 blocks a piece
  EXPECT_EQ(asks[0].index, 0u);
  EXPECT_EQ(asks[0].length, 8u);  // 5 pieces, padded to the layer's width
  EXPECT_EQ(wire::hash_uncle_count(asks[0]), 0u);
  std::string lie(8 * 32, '\x01');
  ASSERT_TRUE(h.receive_all(liar, {wire::Hashes{asks[0], bytes_of(lie)}}));
  EXPECT_EQ(count_actions<PieceLayerReceived>(h.actions()), 0u);
  EXPECT_EQ(h.flush(liar).count<wire::Request>(), 0u);

  ASSERT_TRUE(h.receive_all(honest, {wire::HaveAll{}, wire::Unchoke{}}));
  auto honest_out = h.flush(honest);
  auto asks2 = honest_out.all<wire::HashRequest>();
  ASSERT_EQ(asks2.size(), 1u);
  auto truth = hash::merkle_concat(expected_hashes(v.leaves, asks2[0]));
  ASSERT_TRUE(h.receive_all(honest, {wire::Hashes{asks2[0], bytes_of(truth)}}));
  auto layers = actions_of<PieceLayerReceived>(h.actions());
  ASSERT_EQ(layers.size(), 1u);
  EXPECT_EQ(layers[0].pieces_root, v.root());
  EXPECT_EQ(layers[0].layer, v.v2.info.piece_layers.at(v.root()));  // the 5 real entries, pads dropped
  EXPECT_GT(h.flush(honest).count<wire::Request>() + h.flush(liar).count<wire::Request>(), 0u);
}

// A hybrid from metadata has no layers either, but it is verified by its v1 half: it asks for pieces at once,
// never for layers (its v1-only peers could not give them).
TEST(TorrentV2, AHybridNeverWaitsForLayers) {
  V2Harness v;
  auto info = v.v2.info;
  info.piece_layers.clear();
  info.version = metainfo::MetaVersion::hybrid;
  auto p = Harness::make_params(info.num_pieces(), kPiece, info.total_size);
  p.metainfo = std::make_shared<metainfo::TorrentInfo>(info);
  Harness h(p);
  h.start();
  auto peer = h.connect(ip(6, 3), true);
  h.flush(peer);
  ASSERT_TRUE(h.receive_all(peer, {wire::HaveAll{}, wire::Unchoke{}}));
  auto out = h.flush(peer);
  EXPECT_EQ(out.count<wire::HashRequest>(), 0u);
  EXPECT_GT(out.count<wire::Request>(), 0u);
}

// A v2-only file of 20,000 pieces of 16 KiB (328 MB, no content: only its piece layer matters), whose
// metadata came without its piece layer.
struct LargeLayer {
  static constexpr std::int64_t kPieces = 20000;
  static constexpr std::int64_t kWidth = 32768;  // the layer padded to a power of two
  std::vector<Sha256Digest> layer;
  std::vector<std::vector<Sha256Digest>> tree;  // every layer from the piece layer (padded) up to the root
  metainfo::TorrentInfo info;
  std::unique_ptr<Harness> h;

  LargeLayer() {
    for (std::int64_t i = 0; i < kPieces; ++i)
      layer.push_back(hash::sha256("piece " + std::to_string(i)));
    // 16 KiB pieces: the piece layer is the leaf layer, padded with zero hashes.
    tree = hash::merkle_layers(layer, kWidth, hash::merkle_pad_hash(0));
    info.version = metainfo::MetaVersion::v2;
    info.name = "big.bin";
    info.piece_length = 16 * 1024;
    info.total_size = kPieces * info.piece_length;
    metainfo::FileEntry f;
    f.path = "big.bin";
    f.length = info.total_size;
    f.pieces_root = tree.back()[0];
    info.files.push_back(f);
    auto p = Harness::make_params(info.num_pieces(), info.piece_length, info.total_size);
    p.metainfo = std::make_shared<metainfo::TorrentInfo>(info);
    h = std::make_unique<Harness>(p, false);
  }
  const Sha256Digest& root() const { return tree.back()[0]; }

  // What an honest peer sends for a run of the piece layer: the run, then its uncles up to the root.
  std::string answer(const wire::HashRequestFields& r) const {
    std::vector<Sha256Digest> out(tree[0].begin() + r.index, tree[0].begin() + r.index + r.length);
    auto levels = static_cast<std::size_t>(std::countr_zero(r.length));
    for (std::size_t level = levels; level + 1 < tree.size(); ++level)
      out.push_back(tree[level][(r.index >> level) ^ 1]);
    EXPECT_EQ(out.size(), r.length + wire::hash_uncle_count(r));
    return hash::merkle_concat(out);
  }
  PeerId seed(std::uint8_t b) {
    auto id = h->connect(ip(7, b), true);
    h->flush(id);
    EXPECT_TRUE(h->receive_all(id, {wire::HaveAll{}, wire::Unchoke{}}));
    return id;
  }
  // Answers every run `peer` was asked for (honestly), until it is asked for none; runs answered in all.
  std::size_t serve_honestly(PeerId peer) {
    std::size_t answered = 0;
    for (;;) {
      auto asks = h->flush(peer).all<wire::HashRequest>();
      if (asks.empty()) return answered;
      for (const auto& a : asks) {
        auto bytes = answer(a);
        EXPECT_TRUE(h->receive_all(peer, {wire::Hashes{a, bytes_of(bytes)}}));
        ++answered;
      }
    }
  }
  // The same for several peers, until none is asked for anything.
  std::size_t serve_honestly(std::initializer_list<PeerId> peers) {
    std::size_t answered = 0;
    for (;;) {
      std::size_t round = 0;
      for (auto peer : peers)
        round += serve_honestly(peer);
      if (round == 0) return answered;
      answered += round;
    }
  }
};

// A layer wider than one message (libtorrent rejects more than 8,192 hashes) comes in aligned runs of 512,
// each with the uncles up to the pieces root, spread over the peers (4 at a time each); no piece is asked
// for until the whole layer is in.
TEST(TorrentV2, FetchesALargePieceLayerInRunsSpreadOverPeers) {
  LargeLayer big;
  auto& h = *big.h;
  h.start();
  auto a = big.seed(1);
  auto b = big.seed(2);
  auto a_out = h.flush(a);
  auto b_out = h.flush(b);
  auto a_asks = a_out.all<wire::HashRequest>();
  auto b_asks = b_out.all<wire::HashRequest>();
  ASSERT_EQ(a_asks.size(), kMaxLayerRequestsPerPeer);
  ASSERT_EQ(b_asks.size(), kMaxLayerRequestsPerPeer);
  EXPECT_EQ(a_out.count<wire::Request>() + b_out.count<wire::Request>(), 0u);
  std::set<std::uint32_t> starts;
  for (const auto& r : a_asks)
    starts.insert(r.index);
  for (const auto& r : b_asks)
    starts.insert(r.index);
  EXPECT_EQ(starts.size(), 2 * kMaxLayerRequestsPerPeer);  // no run asked twice
  for (const auto& r : a_asks) {
    EXPECT_EQ(r.pieces_root, big.root());
    EXPECT_EQ(r.base_layer, 0u);
    EXPECT_EQ(r.length, kLayerChunkHashes);
    EXPECT_EQ(r.index % kLayerChunkHashes, 0u);
    EXPECT_EQ(wire::hash_uncle_count(r), 15u - 9u);  // from the run's subtree (2^9) to the root (2^15)
  }
  // a answers its runs and gets the next ones; b stays silent for now.
  std::vector<wire::HashRequestFields> last;
  for (int round = 0; round < 3; ++round) {
    for (const auto& r : a_asks) {
      auto bytes = big.answer(r);
      ASSERT_TRUE(h.receive_all(a, {wire::Hashes{r, bytes_of(bytes)}}));
    }
    a_asks = h.flush(a).all<wire::HashRequest>();
    ASSERT_EQ(a_asks.size(), kMaxLayerRequestsPerPeer);
  }
  EXPECT_EQ(count_actions<PieceLayerReceived>(h.actions()), 0u);
  for (const auto& r : b_asks) {
    auto bytes = big.answer(r);
    ASSERT_TRUE(h.receive_all(b, {wire::Hashes{r, bytes_of(bytes)}}));
  }
  for (const auto& r : a_asks) {
    auto bytes = big.answer(r);
    ASSERT_TRUE(h.receive_all(a, {wire::Hashes{r, bytes_of(bytes)}}));
  }
  // The rest, from both: 40 runs in all, the last one 32 wide (19,968 + 32 = 20,000).
  std::size_t rest = 0;
  bool saw_last = false;
  for (int turn = 0; turn < 40 && h.torrent.piece_layers_missing(); ++turn) {
    for (auto peer : {a, b}) {
      for (const auto& r : h.flush(peer).all<wire::HashRequest>()) {
        if (r.index == 19968) {
          saw_last = true;
          EXPECT_EQ(r.length, 32u);
          EXPECT_EQ(wire::hash_uncle_count(r), 15u - 5u);
        }
        auto bytes = big.answer(r);
        ASSERT_TRUE(h.receive_all(peer, {wire::Hashes{r, bytes_of(bytes)}}));
        ++rest;
      }
    }
  }
  EXPECT_EQ(rest, 40u - 5 * kMaxLayerRequestsPerPeer);
  EXPECT_TRUE(saw_last);
  EXPECT_FALSE(h.torrent.piece_layers_missing());
  auto layers = actions_of<PieceLayerReceived>(h.actions());
  ASSERT_EQ(layers.size(), 1u);
  EXPECT_EQ(layers[0].pieces_root, big.root());
  EXPECT_EQ(layers[0].layer, hash::merkle_concat(big.layer));
  EXPECT_GT(h.flush(a).count<wire::Request>() + h.flush(b).count<wire::Request>(), 0u);
}

// A run that does not prove out is not taken; its sender is asked for layers no more, and that run (and
// whatever else it held) comes from another peer.
TEST(TorrentV2, AWrongLayerRunIsNotTrustedAndComesFromAnotherPeer) {
  LargeLayer big;
  auto& h = *big.h;
  h.start();
  auto liar = big.seed(1);
  auto asks = h.flush(liar).all<wire::HashRequest>();
  ASSERT_EQ(asks.size(), kMaxLayerRequestsPerPeer);
  // One hash of the run changed, the uncles left as they are: the subtree no longer leads to the root.
  auto bytes = big.answer(asks[0]);
  bytes[100] = static_cast<char>(bytes[100] ^ 1);
  ASSERT_TRUE(h.receive_all(liar, {wire::Hashes{asks[0], bytes_of(bytes)}}));
  // Right run, forged uncles: refused as well (only a proof to the pieces root counts).
  auto forged = big.answer(asks[1]);
  forged.replace(forged.size() - 32, 32, std::string(32, '\x07'));
  ASSERT_TRUE(h.receive_all(liar, {wire::Hashes{asks[1], bytes_of(forged)}}));
  EXPECT_EQ(h.flush(liar).count<wire::HashRequest>(), 0u);
  h.tick();
  EXPECT_EQ(h.flush(liar).count<wire::HashRequest>(), 0u);

  auto honest = big.seed(2);
  auto answered = big.serve_honestly(honest);
  EXPECT_EQ(answered, 40u);  // every run, the four the liar held included
  EXPECT_EQ(h.torrent.piece_layers_missing(), false);
  auto layers = actions_of<PieceLayerReceived>(h.actions());
  ASSERT_EQ(layers.size(), 1u);
  EXPECT_EQ(layers[0].layer, hash::merkle_concat(big.layer));
}

// A peer that says no (BEP 52 lets it reject any request): the run goes to another peer at once; with
// nobody else, the same peer is asked again at the next tick.
TEST(TorrentV2, ARejectedLayerRunIsAskedOfAnotherPeerOrAgainLater) {
  LargeLayer big;
  auto& h = *big.h;
  h.start();
  auto a = big.seed(1);
  auto asks = h.flush(a).all<wire::HashRequest>();
  ASSERT_EQ(asks.size(), kMaxLayerRequestsPerPeer);
  ASSERT_TRUE(h.receive_all(a, {wire::HashReject{asks[0]}}));
  auto next = h.flush(a).all<wire::HashRequest>();
  ASSERT_EQ(next.size(), 1u);  // its freed slot takes a run nobody has tried
  EXPECT_NE(next[0].index, asks[0].index);

  auto b = big.seed(2);
  auto b_asks = h.flush(b).all<wire::HashRequest>();
  ASSERT_EQ(b_asks.size(), kMaxLayerRequestsPerPeer);
  EXPECT_EQ(b_asks[0].index, asks[0].index);  // the rejected run first
  ASSERT_TRUE(h.receive_all(b, {wire::HashReject{b_asks[0]}}));
  // Every peer said no to it: once the others are done, it is offered again at the next tick.
  for (const auto& r : {asks[1], asks[2], asks[3], next[0]}) {
    auto bytes = big.answer(r);
    ASSERT_TRUE(h.receive_all(a, {wire::Hashes{r, bytes_of(bytes)}}));
  }
  for (const auto& r : {b_asks[1], b_asks[2], b_asks[3]}) {
    auto bytes = big.answer(r);
    ASSERT_TRUE(h.receive_all(b, {wire::Hashes{r, bytes_of(bytes)}}));
  }
  big.serve_honestly({a, b});
  EXPECT_TRUE(h.torrent.piece_layers_missing());
  h.tick();
  EXPECT_EQ(big.serve_honestly({a, b}), 1u);
  EXPECT_FALSE(h.torrent.piece_layers_missing());
  auto layers = actions_of<PieceLayerReceived>(h.actions());
  ASSERT_EQ(layers.size(), 1u);
  EXPECT_EQ(layers[0].layer, hash::merkle_concat(big.layer));
}

// A peer that never answers, or leaves: after the timeout (or at the next tick) its runs go to another.
TEST(TorrentV2, AnUnansweredLayerRunIsAskedOfAnotherPeer) {
  LargeLayer big;
  auto& h = *big.h;
  h.start();
  auto silent = big.seed(1);
  auto leaver = big.seed(2);
  auto silent_asks = h.flush(silent).all<wire::HashRequest>();
  ASSERT_EQ(silent_asks.size(), kMaxLayerRequestsPerPeer);
  ASSERT_EQ(h.flush(leaver).count<wire::HashRequest>(), kMaxLayerRequestsPerPeer);
  auto honest = big.seed(3);
  EXPECT_EQ(big.serve_honestly(honest), 40u - 2 * kMaxLayerRequestsPerPeer);
  h.torrent.on_peer_closed(leaver, "gone", h.now);
  h.tick();
  EXPECT_EQ(big.serve_honestly(honest), kMaxLayerRequestsPerPeer);
  EXPECT_TRUE(h.torrent.piece_layers_missing());
  for (int i = 0; i < kBlameTimeoutTicks; ++i)
    h.tick();
  EXPECT_EQ(big.serve_honestly(honest), kMaxLayerRequestsPerPeer);
  EXPECT_FALSE(h.torrent.piece_layers_missing());
  // A late answer from the silent peer is harmless.
  auto bytes = big.answer(silent_asks[0]);
  ASSERT_TRUE(h.receive_all(silent, {wire::Hashes{silent_asks[0], bytes_of(bytes)}}));
  auto layers = actions_of<PieceLayerReceived>(h.actions());
  ASSERT_EQ(layers.size(), 1u);
  EXPECT_EQ(layers[0].layer, hash::merkle_concat(big.layer));
}

// SmartBan's side: proven good hashes strike only the address whose block differs, and record nothing.
TEST(SmartBanV2, ProvenBlocksStrikeOnlyTheirSender) {
  swarm::SmartBan ban;
  swarm::SmartBan::Block a{true, ip(1, 1), {}};
  swarm::SmartBan::Block b{true, ip(1, 2), {}};
  b.hash[0] = 1;
  std::vector<swarm::SmartBan::Block> blocks = {a, b, a};
  std::vector<swarm::SmartBan::Digest> good(3);  // all zeros: b's block differs
  auto convicted = ban.on_blocks_proven(blocks, good);
  ASSERT_EQ(convicted.size(), 1u);
  EXPECT_EQ(convicted[0], ip(1, 2));
  EXPECT_EQ(ban.strikes(ip(1, 2)), 1);
  EXPECT_EQ(ban.strikes(ip(1, 1)), 0) << "an honest co-contributor gets no strike";
  EXPECT_FALSE(ban.recorded(PieceIndex{0}));
}

}  // namespace
}  // namespace shoal::torrent::testing
