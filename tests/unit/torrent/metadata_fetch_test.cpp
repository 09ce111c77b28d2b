#include "torrent/metadata_fetch.hpp"

#include <gtest/gtest.h>

#include "hash/sha.hpp"

namespace shoal::torrent {
namespace {

using Clock = MetadataFetch::Clock;

std::string make_metadata(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    s[i] = static_cast<char>('a' + i % 26);
  return s;
}

Sha1Digest digest_of(const std::string& s) {
  return hash::sha1(std::span(reinterpret_cast<const std::byte*>(s.data()), s.size()));
}

std::span<const std::uint8_t> piece_of(const std::string& s, std::uint32_t piece) {
  auto offset = static_cast<std::size_t>(piece) * wire::kMetadataPieceSize;
  auto length = std::min<std::size_t>(wire::kMetadataPieceSize, s.size() - offset);
  return {reinterpret_cast<const std::uint8_t*>(s.data()) + offset, length};
}

const Clock::time_point t0{};

TEST(MetadataFetch, AsksEveryPeerInParallelAndCompletes) {
  auto metadata = make_metadata(5 * wire::kMetadataPieceSize + 100);  // 6 pieces
  auto size = static_cast<std::int64_t>(metadata.size());
  MetadataFetch fetch(digest_of(metadata));
  std::map<swarm::PeerId, std::vector<std::uint32_t>> asked;
  for (swarm::PeerId p = 1; p <= 3; ++p)
    asked[p] = fetch.requests_for(p, size, t0);
  // Two pieces each, no piece twice.
  std::set<std::uint32_t> all;
  for (const auto& [p, pieces] : asked) {
    EXPECT_EQ(pieces.size(), MetadataFetch::kRequestsPerPeer);
    all.insert(pieces.begin(), pieces.end());
  }
  EXPECT_EQ(all.size(), 6u);
  EXPECT_TRUE(fetch.requests_for(1, size, t0).empty()) << "already has its share in flight";
  MetadataFetch::Outcome last;
  for (const auto& [p, pieces] : asked) {
    for (auto piece : pieces)
      last = fetch.on_data(p, piece, size, piece_of(metadata, piece));
  }
  EXPECT_TRUE(last.complete);
  EXPECT_TRUE(fetch.complete());
  EXPECT_EQ(fetch.metadata(), metadata);
  EXPECT_TRUE(fetch.requests_for(4, size, t0).empty());
}

TEST(MetadataFetch, ALiarIsNamedAndTheNextAttemptSucceedsWithoutIt) {
  auto metadata = make_metadata(2 * wire::kMetadataPieceSize);
  auto size = static_cast<std::int64_t>(metadata.size());
  MetadataFetch fetch(digest_of(metadata));
  auto liar = fetch.requests_for(1, size, t0);
  ASSERT_EQ(liar.size(), 2u);
  std::string bad = metadata;
  bad[10] ^= 1;
  fetch.on_data(1, liar[0], size, piece_of(bad, liar[0]));
  auto outcome = fetch.on_data(1, liar[1], size, piece_of(bad, liar[1]));
  EXPECT_FALSE(outcome.complete);
  EXPECT_EQ(outcome.liars, std::vector<swarm::PeerId>{1});
  EXPECT_TRUE(fetch.requests_for(1, size, t0).empty()) << "a liar is never asked again";
  auto honest = fetch.requests_for(2, size, t0);
  ASSERT_EQ(honest.size(), 2u);
  for (auto piece : honest)
    outcome = fetch.on_data(2, piece, size, piece_of(metadata, piece));
  EXPECT_TRUE(outcome.complete);
  EXPECT_EQ(fetch.metadata(), metadata);
}

TEST(MetadataFetch, AWrongSizedPieceNamesOnlyItsSender) {
  auto metadata = make_metadata(2 * wire::kMetadataPieceSize);
  auto size = static_cast<std::int64_t>(metadata.size());
  MetadataFetch fetch(digest_of(metadata));
  auto a = fetch.requests_for(1, size, t0);
  ASSERT_EQ(a.size(), 2u);
  fetch.on_data(1, a[0], size, piece_of(metadata, a[0]));
  std::string shorter(100, 'x');
  auto outcome =
      fetch.on_data(1, a[1], size, {reinterpret_cast<const std::uint8_t*>(shorter.data()), shorter.size()});
  EXPECT_EQ(outcome.liars, std::vector<swarm::PeerId>{1});
  auto b = fetch.requests_for(2, size, t0);
  ASSERT_EQ(b, std::vector<std::uint32_t>{a[1]}) << "only the bad piece is asked again";
  outcome = fetch.on_data(2, b[0], size, piece_of(metadata, b[0]));
  EXPECT_TRUE(outcome.complete);
}

TEST(MetadataFetch, RejectsSilenceAndDeparturesFreeTheirPieces) {
  auto metadata = make_metadata(3 * wire::kMetadataPieceSize);
  auto size = static_cast<std::int64_t>(metadata.size());
  MetadataFetch fetch(digest_of(metadata));
  auto a = fetch.requests_for(1, size, t0);  // pieces 0, 1
  auto b = fetch.requests_for(2, size, t0);  // piece 2
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 1u);
  fetch.on_reject(1, a[0], t0);
  EXPECT_TRUE(fetch.requests_for(1, size, t0 + std::chrono::seconds(1)).empty())
      << "backs off after a reject";
  auto later = t0 + std::chrono::seconds(5);
  EXPECT_EQ(fetch.requests_for(3, size, later), std::vector<std::uint32_t>{a[0]});
  fetch.on_peer_gone(2);
  EXPECT_EQ(fetch.requests_for(4, size, later), std::vector<std::uint32_t>{b[0]});
  // Peer 1 never answers piece a[1]: after the timeout it goes to someone else.
  EXPECT_TRUE(fetch.requests_for(5, size, t0).empty());
  fetch.on_tick(t0 + MetadataFetch::kRequestTimeout);
  EXPECT_EQ(fetch.requests_for(5, size, t0 + MetadataFetch::kRequestTimeout),
            std::vector<std::uint32_t>{a[1]});
  // An answer from the peer that was no longer asked is not taken.
  auto late = fetch.on_data(1, a[1], size, piece_of(metadata, a[1]));
  EXPECT_FALSE(late.problem.empty());
}

TEST(MetadataFetch, AbsurdOrMissingSizesAllocateNothing) {
  MetadataFetch fetch(Sha1Digest{});
  EXPECT_TRUE(fetch.requests_for(1, wire::kMaxMetadataSize + 1, t0).empty());
  EXPECT_TRUE(fetch.requests_for(1, 0, t0).empty());
  EXPECT_TRUE(fetch.requests_for(1, -5, t0).empty());
  auto outcome = fetch.on_data(1, 0, 100, {});
  EXPECT_FALSE(outcome.complete);
  EXPECT_FALSE(outcome.problem.empty());
}

TEST(MetadataFetch, APeerDisagreeingOnTheSizeIsNotAsked) {
  auto metadata = make_metadata(wire::kMetadataPieceSize);
  auto size = static_cast<std::int64_t>(metadata.size());
  MetadataFetch fetch(digest_of(metadata));
  EXPECT_EQ(fetch.requests_for(1, size, t0).size(), 1u);
  EXPECT_TRUE(fetch.requests_for(2, size + 1, t0).empty());
}

}  // namespace
}  // namespace shoal::torrent
