#include "tracker/connection_id.hpp"

#include <array>
#include <cstring>

namespace shoal::tracker {
namespace {

hash::SipKey epoch_key(const hash::SipKey& master, std::int64_t epoch) {
  std::array<std::uint8_t, 9> in{};
  std::memcpy(in.data(), &epoch, sizeof epoch);
  in[8] = 0;
  hash::SipKey k;
  k[0] = hash::siphash24(master, in);
  in[8] = 1;
  k[1] = hash::siphash24(master, in);
  return k;
}

}  // namespace

std::uint64_t ConnectionIds::mac(const Endpoint& client, std::int64_t bucket) const {
  std::int64_t seconds = bucket * kBucketSeconds;
  hash::SipKey key = epoch_key(master_, seconds / kEpochSeconds);
  std::array<std::uint8_t, 16 + 1 + 2 + 8> in{};
  std::memcpy(in.data(), client.address.data(), 16);
  in[16] = client.v6 ? 6 : 4;
  in[17] = static_cast<std::uint8_t>(client.port >> 8);
  in[18] = static_cast<std::uint8_t>(client.port);
  std::memcpy(in.data() + 19, &bucket, sizeof bucket);
  return hash::siphash24(key, in);
}

std::uint64_t ConnectionIds::issue(const Endpoint& client, std::int64_t now_seconds) const {
  return mac(client, now_seconds / kBucketSeconds);
}

bool ConnectionIds::verify(const Endpoint& client, std::uint64_t id, std::int64_t now_seconds) const {
  std::int64_t bucket = now_seconds / kBucketSeconds;
  // Both candidates are always computed and compared without early exit: the time taken does not tell an
  // attacker which bucket (or how many bits) matched.
  std::uint64_t diff_now = mac(client, bucket) ^ id;
  std::uint64_t diff_prev = mac(client, bucket - 1) ^ id;
  return (static_cast<int>(diff_now == 0) | static_cast<int>(diff_prev == 0)) != 0;
}

}  // namespace shoal::tracker
