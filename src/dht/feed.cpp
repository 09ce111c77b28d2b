#include "dht/feed.hpp"

#include <algorithm>

#include "bencode/decoder.hpp"

namespace shoal::dht {

const char* to_string(FeedValueError e) {
  switch (e) {
    case FeedValueError::not_bencoded:
      return "the value is not bencoded";
    case FeedValueError::not_a_dictionary:
      return "the value is not a dictionary";
    case FeedValueError::missing_ih:
      return "the value has no \"ih\"";
    case FeedValueError::bad_ih_length:
      return "\"ih\" is not a 20-byte info-hash";
  }
  return "invalid feed value";
}

const char* to_string(FeedVerdict v) {
  switch (v) {
    case FeedVerdict::new_version:
      return "new version";
    case FeedVerdict::same_torrent:
      return "same torrent, newer sequence number";
    case FeedVerdict::stale_seq:
      return "sequence number not above the one followed";
    case FeedVerdict::wrong_key:
      return "signed by another key";
    case FeedVerdict::bad_signature:
      return "signature does not verify";
    case FeedVerdict::bad_value:
      return "value names no info-hash";
    case FeedVerdict::invalid_fields:
      return "not a mutable item";
  }
  return "unknown";
}

std::string encode_feed_value(const Sha1Digest& info_hash) {
  std::string out = "d2:ih20:";
  out.append(info_hash.raw());
  out.push_back('e');
  return out;
}

Expected<Sha1Digest, FeedValueError> parse_feed_value(std::string_view value) {
  auto doc = bencode::decode(value);
  if (!doc) return unexpected(FeedValueError::not_bencoded);
  auto root = doc->root();
  if (!root.is_dict()) return unexpected(FeedValueError::not_a_dictionary);
  auto ih = root.find_string("ih");
  if (!ih) return unexpected(FeedValueError::missing_ih);
  auto digest = Sha1Digest::from_raw(*ih);
  if (!digest) return unexpected(FeedValueError::bad_ih_length);
  return *digest;
}

std::int64_t next_feed_seq(std::optional<std::int64_t> stored_last, std::optional<std::int64_t> in_dht) {
  return std::max(stored_last.value_or(0), in_dht.value_or(0)) + 1;
}

FeedFollower::FeedFollower(PublicKey key, std::string salt, std::chrono::seconds poll_interval)
    : key_(key), salt_(std::move(salt)), interval_(poll_interval) {}

void FeedFollower::poll_finished(Clock::time_point now) {
  polling_ = false;
  next_poll_ = now + (current_ ? interval_ : std::min<std::chrono::seconds>(interval_, kFeedUnresolvedRetry));
}

FeedVerdict FeedFollower::on_item(const ItemFields& fields) {
  if (!fields.value || !fields.key || !fields.signature || !fields.seq) return FeedVerdict::invalid_fields;
  if (*fields.key != key_) return FeedVerdict::wrong_key;
  // Cheap checks first: a replayed old item costs no signature check.
  if (current_ && *fields.seq <= current_->seq) return FeedVerdict::stale_seq;
  if (*fields.seq < 0 || !verify(key_, *fields.signature, salt_, *fields.seq, *fields.value))
    return FeedVerdict::bad_signature;
  auto info_hash = parse_feed_value(*fields.value);
  if (!info_hash) return FeedVerdict::bad_value;
  bool same = current_ && current_->info_hash == *info_hash;
  current_ = FeedVersion{*fields.seq, *info_hash};
  return same ? FeedVerdict::same_torrent : FeedVerdict::new_version;
}

}  // namespace shoal::dht
