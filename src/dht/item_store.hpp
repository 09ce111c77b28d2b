// The BEP 44 items a node holds for others: bounded (separate limits for immutable and mutable items), each
// kept for two hours after its last put, with the put rules of the BEP (signature, CAS, sequence numbers).
// Token checks are the node's job; this is storage only. Sans-I/O: time is a parameter.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>

#include "dht/item.hpp"
#include "dht/routing_table.hpp"

namespace shoal::dht {

struct ItemStoreLimits {
  std::size_t max_immutable = 1000;
  std::size_t max_mutable = 1000;
  std::chrono::seconds ttl{2 * 3600};  // BEP 44: items may expire two hours after the last put
};

struct PutRefused {
  ErrorCode code = ErrorCode::protocol;
  const char* message = "";
};

class ItemStore {
 public:
  // `own_id`: when full, the items farthest from it give way to closer ones (a node keeps what it is
  // responsible for).
  ItemStore(const NodeId& own_id, ItemStoreLimits limits) : own_(own_id), limits_(limits) {}

  // A put whose token was good. Returns the error to answer with when the put breaks a rule. A put that is
  // valid but finds the store full of closer items is acknowledged and not kept.
  std::optional<PutRefused> put(const ItemFields& fields, Clock::time_point now);
  // The live item under target, if any.
  const Item* get(const NodeId& target, Clock::time_point now) const;
  // Drops expired items.
  void expire(Clock::time_point now);

  std::size_t immutable_count() const { return immutable_.size(); }
  std::size_t mutable_count() const { return mutable_.size(); }

 private:
  struct Stored {
    Item item;
    Clock::time_point expires;
  };
  using Map = std::map<NodeId, Stored>;
  // Makes room for target in a full map (expired items first, then the farthest from us); false when
  // everything held is live and closer to us than target.
  bool make_room(Map& map, std::size_t limit, const NodeId& target, Clock::time_point now);

  NodeId own_;
  ItemStoreLimits limits_;
  Map immutable_;
  Map mutable_;
};

}  // namespace shoal::dht
