#include "swarm/smart_ban.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace shoal::swarm {
namespace {

using Address = SmartBan::Address;
using Digest = SmartBan::Digest;

Address ip(std::uint8_t last) {
  const std::uint8_t a[4] = {10, 0, 0, last};
  return Endpoint::from_v4(std::span<const std::uint8_t, 4>(a), 0);
}

Digest digest(std::uint8_t v) {
  Digest d{};
  d.fill(v);
  return d;
}

SmartBan::Block from(Address a, Digest d) {
  return {true, a, d};
}

const Address kHonest = ip(1);
const Address kLiar = ip(2);
const Address kOther = ip(3);
const Digest kGood0 = digest(0x10), kGood1 = digest(0x11), kGood2 = digest(0x12), kBad = digest(0xee);

TEST(SmartBan, ASoleSupplierOfAFailedPieceIsConvictedAtOnce) {
  SmartBan ban;
  const SmartBan::Block blocks[] = {from(kLiar, kBad), from(kLiar, kGood1)};
  EXPECT_EQ(ban.on_piece_failed(PieceIndex{5}, blocks), std::vector<Address>{kLiar});
  EXPECT_FALSE(ban.recorded(PieceIndex{5}));
}

TEST(SmartBan, ABlockFromAPeerNoLongerKnownLeavesNoSoleSupplier) {
  SmartBan ban;
  // The liar sent block 0 and left (banned for another piece); the honest peer sent block 1.
  const SmartBan::Block blocks[] = {{}, from(kHonest, kGood1)};
  EXPECT_TRUE(ban.on_piece_failed(PieceIndex{5}, blocks).empty());
  const Digest good[] = {kGood0, kGood1};
  EXPECT_TRUE(ban.on_piece_passed(PieceIndex{5}, good).empty());
}

TEST(SmartBan, SharedPiecesConvictExactlyThePeersWhoseBlocksDiffer) {
  SmartBan ban;
  const SmartBan::Block blocks[] = {from(kHonest, kGood0), from(kLiar, kBad), from(kHonest, kGood2)};
  EXPECT_TRUE(ban.on_piece_failed(PieceIndex{5}, blocks).empty());  // no evidence yet: nobody is convicted
  EXPECT_TRUE(ban.recorded(PieceIndex{5}));
  const Digest good[] = {kGood0, kGood1, kGood2};
  EXPECT_EQ(ban.on_piece_passed(PieceIndex{5}, good), std::vector<Address>{kLiar});
  EXPECT_FALSE(ban.recorded(PieceIndex{5}));
}

TEST(SmartBan, AnHonestCoContributorIsNeverConvicted) {
  SmartBan ban;
  // The honest peer shares many failed pieces with a liar: each time only the liar's blocks differ.
  for (std::int32_t piece = 0; piece < 20; ++piece) {
    const SmartBan::Block blocks[] = {from(kHonest, kGood0), from(kLiar, kBad)};
    ban.on_piece_failed(PieceIndex{piece}, blocks);
    const Digest good[] = {kGood0, kGood1};
    auto convicted = ban.on_piece_passed(PieceIndex{piece}, good);
    EXPECT_EQ(convicted, std::vector<Address>{kLiar}) << piece;
  }
  EXPECT_EQ(ban.strikes(kHonest), 20);  // strikes are counted, but they are not evidence
}

TEST(SmartBan, FailuresAccumulateUntilThePiecePasses) {
  SmartBan ban;
  const SmartBan::Block first[] = {from(kHonest, kGood0), from(kLiar, kBad)};
  const SmartBan::Block second[] = {from(kOther, kBad), from(kHonest, kGood1)};
  ban.on_piece_failed(PieceIndex{1}, first);
  ban.on_piece_failed(PieceIndex{1}, second);
  const Digest good[] = {kGood0, kGood1};
  auto convicted = ban.on_piece_passed(PieceIndex{1}, good);
  std::sort(convicted.begin(), convicted.end());
  EXPECT_EQ(convicted, (std::vector<Address>{kLiar, kOther}));
}

TEST(SmartBan, StrikesAreKeptPerAddressAcrossConnections) {
  SmartBan ban;
  // The same address reconnecting (a new connection each time) keeps its count.
  for (std::int32_t piece = 0; piece < 3; ++piece) {
    const SmartBan::Block blocks[] = {from(kLiar, kBad), from(kHonest, kGood1)};
    ban.on_piece_failed(PieceIndex{piece}, blocks);
  }
  EXPECT_EQ(ban.strikes(kLiar), 3);
  EXPECT_EQ(ban.strikes(kOther), 0);
}

TEST(SmartBan, BlocksWithNoKnownSupplierConvictNobody) {
  SmartBan ban;
  const SmartBan::Block blocks[] = {{}, {}};
  EXPECT_TRUE(ban.on_piece_failed(PieceIndex{3}, blocks).empty());
  EXPECT_FALSE(ban.recorded(PieceIndex{3}));
  const Digest good[] = {kGood0, kGood1};
  EXPECT_TRUE(ban.on_piece_passed(PieceIndex{3}, good).empty());  // never recorded
}

TEST(SmartBan, TheRecordIsBounded) {
  SmartBan ban;
  for (std::int32_t piece = 0; piece < static_cast<std::int32_t>(SmartBan::kMaxPiecesRecorded) + 10;
       ++piece) {
    const SmartBan::Block blocks[] = {from(kHonest, kGood0), from(kLiar, kBad)};
    ban.on_piece_failed(PieceIndex{piece}, blocks);
  }
  EXPECT_FALSE(ban.recorded(PieceIndex{0}));  // the oldest were forgotten
  EXPECT_TRUE(ban.recorded(PieceIndex{static_cast<std::int32_t>(SmartBan::kMaxPiecesRecorded) + 9}));
}

}  // namespace
}  // namespace shoal::swarm
