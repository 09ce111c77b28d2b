#include "dht/feed.hpp"

#include <gtest/gtest.h>

namespace shoal::dht {
namespace {

using namespace std::chrono_literals;
using Clock = FeedFollower::Clock;

KeySeed seed_of(std::uint8_t fill) {
  KeySeed s;
  s.bytes.fill(fill);
  return s;
}

Sha1Digest hash_of(std::uint8_t fill) {
  Sha1Digest d;
  d.bytes.fill(fill);
  return d;
}

// The fields a node returns for a feed item signed with `seed` (the salt is not repeated in responses).
ItemFields feed_item(const KeySeed& seed, std::string_view salt, std::int64_t seq, std::string value) {
  auto item = make_mutable_item(seed, std::move(value), std::string(salt), seq);
  EXPECT_TRUE(item);
  ItemFields fields = to_fields(*item);
  fields.salt.clear();
  return fields;
}

ItemFields feed_item(const KeySeed& seed, std::string_view salt, std::int64_t seq, const Sha1Digest& ih) {
  return feed_item(seed, salt, seq, encode_feed_value(ih));
}

FeedFollower follower_of(const KeySeed& seed, std::string salt = "folder") {
  return FeedFollower(*public_key_of(seed), std::move(salt), 60s);
}

TEST(FeedValue, RoundTripsAndMatchesBep46) {
  auto ih = hash_of(0xab);
  std::string value = encode_feed_value(ih);
  EXPECT_EQ(value, "d2:ih20:" + std::string(ih.raw()) + "e");
  EXPECT_EQ(parse_feed_value(value).value(), ih);
  // Other keys are allowed beside ih.
  EXPECT_EQ(parse_feed_value("d2:ih20:" + std::string(ih.raw()) + "1:x1:ye").value(), ih);
}

struct BadValue {
  const char* name;
  std::string value;
  FeedValueError error;
};

class RejectsFeedValue : public ::testing::TestWithParam<BadValue> {};

TEST_P(RejectsFeedValue, WithItsReason) {
  auto parsed = parse_feed_value(GetParam().value);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error(), GetParam().error) << to_string(parsed.error());
}

INSTANTIATE_TEST_SUITE_P(Feed, RejectsFeedValue,
                         ::testing::Values(BadValue{"not_bencoded", "d2:ih", FeedValueError::not_bencoded},
                                           BadValue{"trailing_bytes", "dexx", FeedValueError::not_bencoded},
                                           BadValue{"string", "20:" + std::string(20, 'a'),
                                                    FeedValueError::not_a_dictionary},
                                           BadValue{"list", "le", FeedValueError::not_a_dictionary},
                                           BadValue{"no_ih", "d1:x1:ye", FeedValueError::missing_ih},
                                           BadValue{"ih_integer", "d2:ihi5ee", FeedValueError::missing_ih},
                                           BadValue{"ih_short", "d2:ih19:" + std::string(19, 'a') + "e",
                                                    FeedValueError::bad_ih_length},
                                           BadValue{"ih_v2_length", "d2:ih32:" + std::string(32, 'a') + "e",
                                                    FeedValueError::bad_ih_length}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(FeedSeq, NeverGoesBack) {
  EXPECT_EQ(next_feed_seq(std::nullopt, std::nullopt), 1);
  EXPECT_EQ(next_feed_seq(5, std::nullopt), 6);
  EXPECT_EQ(next_feed_seq(std::nullopt, 9), 10);
  EXPECT_EQ(next_feed_seq(5, 3), 6);    // the DHT forgot a version (or holds an old one): the file wins
  EXPECT_EQ(next_feed_seq(5, 12), 13);  // another copy of the key published: the DHT wins
}

TEST(FeedFollower, TakesTheFirstVersionThenOnlyHigherOnes) {
  auto seed = seed_of(1);
  auto f = follower_of(seed);
  EXPECT_FALSE(f.current());
  EXPECT_EQ(f.on_item(feed_item(seed, "folder", 3, hash_of(1))), FeedVerdict::new_version);
  EXPECT_EQ(f.current(), (FeedVersion{3, hash_of(1)}));
  EXPECT_EQ(f.on_item(feed_item(seed, "folder", 2, hash_of(2))), FeedVerdict::stale_seq);
  EXPECT_EQ(f.on_item(feed_item(seed, "folder", 3, hash_of(2))), FeedVerdict::stale_seq);
  EXPECT_EQ(f.current(), (FeedVersion{3, hash_of(1)}));
  EXPECT_EQ(f.on_item(feed_item(seed, "folder", 4, hash_of(1))), FeedVerdict::same_torrent);
  EXPECT_EQ(f.on_item(feed_item(seed, "folder", 7, hash_of(2))), FeedVerdict::new_version);
  EXPECT_EQ(f.current(), (FeedVersion{7, hash_of(2)}));
}

TEST(FeedFollower, IgnoresAnotherKey) {
  auto f = follower_of(seed_of(1));
  EXPECT_EQ(f.on_item(feed_item(seed_of(2), "folder", 9, hash_of(3))), FeedVerdict::wrong_key);
  EXPECT_FALSE(f.current());
}

TEST(FeedFollower, IgnoresABrokenSignature) {
  auto seed = seed_of(1);
  auto f = follower_of(seed);
  auto forged = feed_item(seed, "folder", 9, hash_of(3));
  forged.signature->bytes[5] ^= 0x40;
  EXPECT_EQ(f.on_item(forged), FeedVerdict::bad_signature);
  // The right signature over another value: the value was swapped.
  auto swapped = feed_item(seed, "folder", 9, hash_of(3));
  swapped.value = encode_feed_value(hash_of(4));
  EXPECT_EQ(f.on_item(swapped), FeedVerdict::bad_signature);
  // A higher seq on a signature made for a lower one.
  auto bumped = feed_item(seed, "folder", 9, hash_of(3));
  bumped.seq = 10;
  EXPECT_EQ(f.on_item(bumped), FeedVerdict::bad_signature);
  EXPECT_FALSE(f.current());
}

TEST(FeedFollower, IgnoresAnItemSignedUnderAnotherSalt) {
  auto seed = seed_of(1);
  auto f = follower_of(seed, "folder");
  EXPECT_EQ(f.on_item(feed_item(seed, "other", 9, hash_of(3))), FeedVerdict::bad_signature);
  EXPECT_EQ(f.on_item(feed_item(seed, "", 9, hash_of(3))), FeedVerdict::bad_signature);
  auto unsalted = follower_of(seed, "");
  EXPECT_EQ(unsalted.on_item(feed_item(seed, "", 9, hash_of(3))), FeedVerdict::new_version);
}

TEST(FeedFollower, IgnoresASignedValueThatNamesNoTorrent) {
  auto seed = seed_of(1);
  auto f = follower_of(seed);
  EXPECT_EQ(f.on_item(feed_item(seed, "folder", 9, "5:hello")), FeedVerdict::bad_value);
  EXPECT_EQ(f.on_item(feed_item(seed, "folder", 9, "d2:ih3:abce")), FeedVerdict::bad_value);
  EXPECT_FALSE(f.current());
}

TEST(FeedFollower, IgnoresIncompleteFields) {
  auto seed = seed_of(1);
  auto f = follower_of(seed);
  auto full = feed_item(seed, "folder", 9, hash_of(3));
  for (int missing = 0; missing < 4; ++missing) {
    auto fields = full;
    if (missing == 0) fields.value.reset();
    if (missing == 1) fields.key.reset();
    if (missing == 2) fields.signature.reset();
    if (missing == 3) fields.seq.reset();
    EXPECT_EQ(f.on_item(fields), FeedVerdict::invalid_fields) << missing;
  }
  auto negative = full;
  negative.seq = -1;
  EXPECT_EQ(f.on_item(negative), FeedVerdict::bad_signature);
}

TEST(FeedFollower, PollsOneAtATimeOnItsInterval) {
  auto seed = seed_of(1);
  FeedFollower f(*public_key_of(seed), "", 120s);
  Clock::time_point t0{};
  EXPECT_TRUE(f.poll_due(t0));  // at once
  f.poll_started();
  EXPECT_FALSE(f.poll_due(t0 + 1h));  // one poll at a time
  // Nothing found yet: the next try comes soon.
  f.poll_finished(t0 + 2s);
  EXPECT_EQ(f.next_poll(), t0 + 2s + kFeedUnresolvedRetry);
  EXPECT_FALSE(f.poll_due(t0 + 6s));
  EXPECT_TRUE(f.poll_due(t0 + 7s));
  f.poll_started();
  EXPECT_EQ(f.on_item(feed_item(seed, "", 1, hash_of(1))), FeedVerdict::new_version);
  f.poll_finished(t0 + 8s);
  // Found: the full interval.
  EXPECT_FALSE(f.poll_due(t0 + 127s));
  EXPECT_TRUE(f.poll_due(t0 + 128s));
}

TEST(FeedFollower, ShortIntervalIsNotStretchedWhileUnresolved) {
  FeedFollower f(*public_key_of(seed_of(1)), "", 1s);
  f.poll_started();
  f.poll_finished(Clock::time_point{});
  EXPECT_EQ(f.next_poll(), Clock::time_point{} + 1s);
}

TEST(FeedFollower, TargetIsTheMutableItemsTarget) {
  auto seed = seed_of(1);
  auto f = follower_of(seed, "folder");
  EXPECT_EQ(f.target(), mutable_target(*public_key_of(seed), "folder"));
}

}  // namespace
}  // namespace shoal::dht
