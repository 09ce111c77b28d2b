// Resume data's unfinished pieces: which blocks of a piece in progress are on disk. Round trip, every
// malformed entry left out (named, the rest of the data kept), and the load-time judgement of v2 blocks by
// their saved leaf hashes.
#include <gtest/gtest.h>

#include <vector>

#include "bencode/value.hpp"
#include "hash/merkle.hpp"
#include "hash/sha.hpp"
#include "storage/resume_data.hpp"

namespace shoal::storage {
namespace {

constexpr std::int32_t kPieces = 9;
constexpr std::int64_t kPieceLength = 4 * 16384;           // four blocks
constexpr std::int64_t kTotal = 8 * kPieceLength + 20000;  // the last piece: two blocks
constexpr PieceShape kShape{kPieceLength, kTotal};

Sha1Digest info_hash() {
  Sha1Digest d;
  d.bytes.fill(4);
  return d;
}

swarm::Bitfield mask(std::int32_t size, std::initializer_list<std::int32_t> set) {
  swarm::Bitfield b(size);
  for (auto i : set)
    b.set(PieceIndex{i});
  return b;
}

std::string bits(const swarm::Bitfield& b) {
  auto w = b.wire();
  return {w.begin(), w.end()};
}

// A resume file with piece 0 verified and `unfinished` as its unfinished value, checksummed as ours are.
std::string resume_with(bencode::Value unfinished) {
  using bencode::Value;
  Value::Dict content;
  content["version"] = std::int64_t{1};
  content["info-hash"] = std::string(info_hash().raw());
  content["pieces"] = bits(mask(kPieces, {0}));
  content["files"] = Value::List{Value(Value::List{kTotal, std::int64_t{5}})};
  content["uploaded"] = std::int64_t{3};
  content["downloaded"] = std::int64_t{4};
  content["unfinished"] = std::move(unfinished);
  std::string payload = bencode::encode(Value(std::move(content)));
  Value::Dict wrapper;
  wrapper["checksum"] = std::string(hash::sha1(payload).raw());
  wrapper["payload"] = payload;
  return bencode::encode(Value(std::move(wrapper)));
}

bencode::Value entry(std::int64_t piece, std::string blocks) {
  bencode::Value::Dict d;
  d["piece"] = piece;
  d["blocks"] = std::move(blocks);
  return bencode::Value(std::move(d));
}

TEST(ResumeUnfinished, RoundTripKeepsBlocksAndLeaves) {
  ResumeData data;
  data.info_hash = info_hash();
  data.have = mask(kPieces, {0, 3});
  data.files = {{kTotal, 5}};
  UnfinishedPiece a{PieceIndex{2}, mask(4, {0, 2}), {}};
  UnfinishedPiece b{PieceIndex{8}, mask(2, {1}), {}};
  b.leaves.resize(2);
  b.leaves[0].bytes.fill(7);
  data.unfinished = {a, b};
  auto back = decode_resume(encode_resume(data), data.info_hash, kPieces, kShape);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->unfinished, data.unfinished);
  EXPECT_TRUE(back->ignored.empty());
  // A caller that gives no shape (it wants the bitfield only) gets no unfinished entries.
  auto plain = decode_resume(encode_resume(data), data.info_hash, kPieces);
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain->unfinished.empty());
  EXPECT_EQ(plain->have, data.have);
}

TEST(ResumeUnfinished, ResumeDataWithoutUnfinishedEntriesStillLoads) {
  ResumeData data;
  data.info_hash = info_hash();
  data.have = mask(kPieces, {1});
  data.files = {{kTotal, 5}};
  auto back = decode_resume(encode_resume(data), data.info_hash, kPieces, kShape);
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->unfinished.empty());
  EXPECT_TRUE(back->ignored.empty());
}

// Each malformed entry is left out with its reason; the good entry beside it and the rest of the data stand.
TEST(ResumeUnfinished, EveryMalformedEntryIsIgnoredAndNamed) {
  struct Case {
    const char* name;
    bencode::Value bad;
    const char* reason;
  };
  bencode::Value::Dict no_piece;
  no_piece["blocks"] = bits(mask(4, {0}));
  bencode::Value::Dict no_blocks;
  no_blocks["piece"] = std::int64_t{2};
  bencode::Value::Dict piece_not_int;
  piece_not_int["piece"] = std::string("2");
  piece_not_int["blocks"] = bits(mask(4, {0}));
  auto bad_leaves = entry(3, bits(mask(4, {1})));
  bad_leaves.as_dict()["leaves"] = std::string(31, 'x');
  std::vector<Case> cases;
  cases.push_back({"not a dictionary", bencode::Value(std::int64_t{5}), "not a dictionary"});
  cases.push_back({"no piece", bencode::Value(no_piece), "no piece or no blocks"});
  cases.push_back({"no blocks", bencode::Value(no_blocks), "no piece or no blocks"});
  cases.push_back({"piece not an integer", bencode::Value(piece_not_int), "no piece or no blocks"});
  cases.push_back({"negative piece", entry(-1, bits(mask(4, {0}))), "unknown piece -1"});
  cases.push_back({"piece past the end", entry(kPieces, bits(mask(4, {0}))), "unknown piece 9"});
  cases.push_back({"huge piece", entry(std::int64_t{1} << 40, bits(mask(4, {0}))), "unknown piece"});
  // The last piece has two blocks: a bit for a third is a block out of range, so is a second byte.
  cases.push_back({"block past the last piece's end", entry(8, std::string(1, '\x20')), "out of range"});
  cases.push_back({"bitfield too long", entry(2, std::string("\x80\x00", 2)), "out of range"});
  cases.push_back({"bitfield too short", entry(2, std::string()), "too short"});
  cases.push_back({"no block set", entry(2, std::string(1, '\0')), "no blocks"});
  cases.push_back({"piece already verified", entry(0, bits(mask(4, {1}))), "already verified"});
  cases.push_back({"leaves of the wrong size", bad_leaves, "leaf hashes of the wrong size"});
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    bencode::Value::List list;
    list.push_back(entry(5, bits(mask(4, {1, 3}))));
    list.push_back(c.bad);
    auto back = decode_resume(resume_with(bencode::Value(std::move(list))), info_hash(), kPieces, kShape);
    ASSERT_TRUE(back) << back.error();
    ASSERT_EQ(back->unfinished.size(), 1u);
    EXPECT_EQ(back->unfinished[0].piece, PieceIndex{5});
    EXPECT_EQ(back->unfinished[0].blocks, mask(4, {1, 3}));
    ASSERT_EQ(back->ignored.size(), 1u);
    EXPECT_NE(back->ignored[0].find(c.reason), std::string::npos) << back->ignored[0];
    EXPECT_EQ(back->have, mask(kPieces, {0}));
    EXPECT_EQ(back->downloaded, 4);
  }
}

TEST(ResumeUnfinished, APieceListedTwiceKeepsItsFirstEntry) {
  bencode::Value::List list;
  list.push_back(entry(5, bits(mask(4, {1}))));
  list.push_back(entry(5, bits(mask(4, {2}))));
  auto back = decode_resume(resume_with(bencode::Value(std::move(list))), info_hash(), kPieces, kShape);
  ASSERT_TRUE(back);
  ASSERT_EQ(back->unfinished.size(), 1u);
  EXPECT_EQ(back->unfinished[0].blocks, mask(4, {1}));
  ASSERT_EQ(back->ignored.size(), 1u);
  EXPECT_NE(back->ignored[0].find("listed twice"), std::string::npos);
}

TEST(ResumeUnfinished, UnfinishedNotAListIsIgnored) {
  auto back = decode_resume(resume_with(bencode::Value(std::string("x"))), info_hash(), kPieces, kShape);
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->unfinished.empty());
  ASSERT_EQ(back->ignored.size(), 1u);
  EXPECT_EQ(back->have, mask(kPieces, {0}));
}

// ---- v2: kept blocks judged by their saved leaf hashes.

struct V2Piece {
  std::vector<std::uint8_t> data;
  std::vector<Sha256Digest> leaves;  // one per block of the piece
  metainfo::V2PieceCheck check;
};

// A piece of `blocks` 16 KiB blocks whose file data ends after `file_bytes` (zeros beyond).
V2Piece v2_piece(std::int32_t blocks, std::int64_t file_bytes) {
  V2Piece p;
  p.data.resize(static_cast<std::size_t>(blocks) * 16384);
  for (std::int64_t i = 0; i < file_bytes; ++i)
    p.data[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i * 13 + i / 977);
  auto data_blocks = hash::merkle_num_blocks(file_bytes);
  p.leaves.resize(static_cast<std::size_t>(blocks));
  for (std::int64_t b = 0; b < data_blocks; ++b) {
    auto length = std::min<std::int64_t>(16384, file_bytes - b * 16384);
    p.leaves[static_cast<std::size_t>(b)] = hash::sha256(std::as_bytes(
        std::span(p.data).subspan(static_cast<std::size_t>(b) * 16384, static_cast<std::size_t>(length))));
  }
  p.check.file_bytes = file_bytes;
  p.check.leaves = hash::merkle_num_leaves(data_blocks);
  p.check.expected = hash::merkle_root(std::span(p.leaves).first(static_cast<std::size_t>(data_blocks)),
                                       p.check.leaves, Sha256Digest{});
  return p;
}

TEST(ResumeUnfinished, AKeptBlockThatIsNotItsLeafIsDropped) {
  auto p = v2_piece(4, 4 * 16384);
  UnfinishedPiece u{PieceIndex{1}, mask(4, {0, 2, 3}), p.leaves};
  p.data[2 * 16384 + 100] ^= 1;  // block 2 changed on disk
  auto dropped = drop_blocks_failing_leaves(u, p.check, p.data);
  ASSERT_TRUE(dropped) << dropped.error();
  EXPECT_EQ(*dropped, 1);
  EXPECT_EQ(u.blocks, mask(4, {0, 3}));
}

TEST(ResumeUnfinished, AShortLastBlockIsJudgedByItsFileBytesOnly) {
  auto p = v2_piece(4, 2 * 16384 + 5000);  // three data blocks, four leaves (one pad), one pad block
  UnfinishedPiece u{PieceIndex{1}, mask(4, {1, 2, 3}), p.leaves};
  auto dropped = drop_blocks_failing_leaves(u, p.check, p.data);
  ASSERT_TRUE(dropped) << dropped.error();
  EXPECT_EQ(*dropped, 0);
  EXPECT_EQ(u.blocks, mask(4, {1, 2, 3}));
}

TEST(ResumeUnfinished, LeavesThatDoNotProveOutJudgeNothing) {
  auto p = v2_piece(4, 4 * 16384);
  auto forged = p.leaves;
  forged[1].bytes[0] ^= 1;
  UnfinishedPiece u{PieceIndex{1}, mask(4, {0, 1}), forged};
  p.data[0] ^= 1;
  auto dropped = drop_blocks_failing_leaves(u, p.check, p.data);
  EXPECT_FALSE(dropped);
  EXPECT_TRUE(u.leaves.empty());
  EXPECT_EQ(u.blocks, mask(4, {0, 1}));  // unjudged: the whole-piece hash decides later
}

TEST(ResumeUnfinished, NoLeavesNoJudgement) {
  auto p = v2_piece(4, 4 * 16384);
  UnfinishedPiece u{PieceIndex{1}, mask(4, {0}), {}};
  p.data[0] ^= 1;
  auto dropped = drop_blocks_failing_leaves(u, p.check, p.data);
  ASSERT_TRUE(dropped);
  EXPECT_EQ(*dropped, 0);
  EXPECT_EQ(u.blocks, mask(4, {0}));
}

}  // namespace
}  // namespace shoal::storage
