#include "dht/item_store.hpp"

#include <algorithm>

namespace shoal::dht {

std::optional<PutRefused> ItemStore::put(const ItemFields& fields, Clock::time_point now) {
  auto item = item_from_fields(fields);
  if (!item) {
    switch (item.error()) {
      case ItemError::value_too_big:
        return PutRefused{ErrorCode::value_too_big, "message (v) too big"};
      case ItemError::salt_too_big:
        return PutRefused{ErrorCode::salt_too_big, "salt too big"};
      case ItemError::invalid_signature:
        return PutRefused{ErrorCode::invalid_signature, "invalid signature"};
      case ItemError::not_bencoded:
      case ItemError::negative_seq:
      case ItemError::crypto_failure:
        return PutRefused{ErrorCode::protocol, to_string(item.error())};
    }
  }
  auto target = item->target();
  auto expires = now + limits_.ttl;
  bool is_mutable = item->mutable_info.has_value();
  auto& map = is_mutable ? mutable_ : immutable_;
  auto it = map.find(target);
  if (it != map.end() && it->second.expires <= now) {
    map.erase(it);  // an expired item is no item: the new put starts afresh
    it = map.end();
  }
  if (it == map.end()) {
    // BEP 44: with nothing stored, cas is ignored.
    if (!make_room(map, is_mutable ? limits_.max_mutable : limits_.max_immutable, target, now))
      return std::nullopt;
    map.emplace(target, Stored{std::move(*item), expires});
    return std::nullopt;
  }
  auto& stored = it->second;
  if (!is_mutable) {
    stored.expires = expires;  // same hash, same value: a refresh
    return std::nullopt;
  }
  const auto& held = *stored.item.mutable_info;
  const auto& incoming = *item->mutable_info;
  if (fields.cas && *fields.cas != held.seq) return PutRefused{ErrorCode::cas_mismatch, "CAS mismatch"};
  if (incoming.seq < held.seq)
    return PutRefused{ErrorCode::sequence_too_old, "sequence number less than current"};
  if (incoming.seq == held.seq) {
    // The same version again is a refresh; another value under the same number would fork the item.
    if (item->value != stored.item.value)
      return PutRefused{ErrorCode::sequence_too_old, "sequence number not newer than current"};
    stored.expires = expires;
    return std::nullopt;
  }
  stored = Stored{std::move(*item), expires};
  return std::nullopt;
}

const Item* ItemStore::get(const NodeId& target, Clock::time_point now) const {
  for (const auto* map : {&mutable_, &immutable_}) {
    auto it = map->find(target);
    if (it != map->end() && it->second.expires > now) return &it->second.item;
  }
  return nullptr;
}

void ItemStore::expire(Clock::time_point now) {
  for (auto* map : {&mutable_, &immutable_})
    std::erase_if(*map, [&](const auto& entry) { return entry.second.expires <= now; });
}

bool ItemStore::make_room(Map& map, std::size_t limit, const NodeId& target, Clock::time_point now) {
  if (map.size() >= limit) std::erase_if(map, [&](const auto& entry) { return entry.second.expires <= now; });
  if (map.size() < limit) return true;
  if (limit == 0) return false;
  auto farthest = std::max_element(
      map.begin(), map.end(), [&](const auto& a, const auto& b) { return closer(own_, a.first, b.first); });
  if (!closer(own_, target, farthest->first)) return false;
  map.erase(farthest);
  return true;
}

}  // namespace shoal::dht
