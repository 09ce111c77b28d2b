// Stateless UDP tracker connection ids (BEP 15): an id is a keyed MAC over the client's address, port and a
// one-minute time bucket, so the server keeps nothing per connect. The key is derived from a master secret
// and a five-minute epoch, so it rotates by itself with no shared mutable state between threads.
// An id is accepted for the bucket it was issued in and the next one (one to two minutes), only from the
// address and port it was issued to; ids of other addresses, of older buckets, or made for future buckets
// do not verify. Comparison is constant-time.
#pragma once

#include <cstdint>

#include "hash/siphash.hpp"
#include "shoal/endpoint.hpp"

namespace shoal::tracker {

class ConnectionIds {
 public:
  static constexpr std::int64_t kBucketSeconds = 60;
  static constexpr std::int64_t kEpochSeconds = 300;

  explicit ConnectionIds(const hash::SipKey& master) : master_(master) {}

  std::uint64_t issue(const Endpoint& client, std::int64_t now_seconds) const;
  bool verify(const Endpoint& client, std::uint64_t id, std::int64_t now_seconds) const;

 private:
  std::uint64_t mac(const Endpoint& client, std::int64_t bucket) const;
  hash::SipKey master_;
};

}  // namespace shoal::tracker
