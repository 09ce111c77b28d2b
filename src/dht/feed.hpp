// BEP 46 feeds: a publisher's mutable item (BEP 44) whose value {"ih": <20-byte info-hash>} names the
// current version of a torrent, and the pure logic on both ends. The follower is a state machine fed "poll
// finished" and "item received" events and a clock; the driver runs the lookups and swaps torrents. No I/O.
//
// Invariants of FeedFollower:
//  - current().seq only grows: an item with a sequence number at or below it is ignored (a replay of an old
//    version, or a node that has not heard of the new one), whatever it names.
//  - only an item signed by the followed key over the followed salt is ever taken (verified here again,
//    whatever the lookup checked), and only when its value names a 20-byte info-hash.
//  - at most one poll runs at a time; the next is due one interval after the last one finished.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dht/item.hpp"
#include "dht/routing_table.hpp"
#include "shoal/digest.hpp"
#include "shoal/expected.hpp"

namespace shoal::dht {

// Until a first version is found, polls come at most this far apart (the torrent is not known yet).
inline constexpr std::chrono::seconds kFeedUnresolvedRetry{5};

enum class FeedValueError {
  not_bencoded,      // not one bencoded value
  not_a_dictionary,  // BEP 46: v is a dictionary
  missing_ih,        // no "ih" string in it
  bad_ih_length,     // "ih" is not 20 bytes
};
const char* to_string(FeedValueError e);

// The bencoded value of a feed item: d2:ih20:<info-hash>e.
std::string encode_feed_value(const Sha1Digest& info_hash);
// The info-hash a feed item names. Other keys are allowed (and ignored): a later BEP may add some.
Expected<Sha1Digest, FeedValueError> parse_feed_value(std::string_view value);

// The sequence number of the next version a publisher stores: above both what it stored last (its state file)
// and what the DHT holds now (a copy of the key elsewhere may have published), so nodes take it.
std::int64_t next_feed_seq(std::optional<std::int64_t> stored_last, std::optional<std::int64_t> in_dht);

struct FeedVersion {
  std::int64_t seq = 0;
  Sha1Digest info_hash;
  bool operator==(const FeedVersion&) const = default;
};

// What became of one received item.
enum class FeedVerdict {
  new_version,     // taken: a higher sequence naming another torrent; the driver switches to it
  same_torrent,    // taken: a higher sequence naming the torrent we have (a republish); nothing to fetch
  stale_seq,       // ignored: sequence at or below the one we follow
  wrong_key,       // ignored: signed by another key than the followed one
  bad_signature,   // ignored: the signature does not verify over (salt, seq, value)
  bad_value,       // ignored: signed, but the value names no info-hash
  invalid_fields,  // ignored: no value, key, signature or sequence number at all
};
const char* to_string(FeedVerdict v);

class FeedFollower {
 public:
  using Clock = std::chrono::steady_clock;

  // `poll_interval` is the time between polls once a version is known; before that, at most
  // kFeedUnresolvedRetry. The first poll is due at once.
  FeedFollower(PublicKey key, std::string salt, std::chrono::seconds poll_interval);

  const PublicKey& key() const { return key_; }
  const std::string& salt() const { return salt_; }
  NodeId target() const { return mutable_target(key_, salt_); }
  const std::optional<FeedVersion>& current() const { return current_; }

  // Polling: ask poll_due(); if so, call poll_started(), run the lookup, feed what it returns to on_item()
  // and then call poll_finished().
  bool poll_due(Clock::time_point now) const { return !polling_ && now >= next_poll_; }
  void poll_started() { polling_ = true; }
  void poll_finished(Clock::time_point now);
  Clock::time_point next_poll() const { return next_poll_; }

  // An item as a node returned it (salt not included: the followed one is what was signed).
  FeedVerdict on_item(const ItemFields& fields);

 private:
  PublicKey key_;
  std::string salt_;
  std::chrono::seconds interval_;
  std::optional<FeedVersion> current_;
  Clock::time_point next_poll_{};
  bool polling_ = false;
};

}  // namespace shoal::dht
