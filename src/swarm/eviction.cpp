#include "swarm/eviction.hpp"

#include <tuple>

namespace shoal::swarm {

PeerId least_useful(std::span<const EvictionCandidate> peers) {
  const EvictionCandidate* worst = nullptr;
  // Smaller is less useful.
  auto key = [](const EvictionCandidate& p) {
    bool some_interest = p.am_interested || p.peer_interested;
    return std::make_tuple(some_interest, p.download_rate + p.upload_rate, -p.connected_for);
  };
  for (const auto& p : peers) {
    if (p.serving_us || p.served || p.connected_for < kMinConnectedForEviction) continue;
    if (!worst || key(p) < key(*worst)) worst = &p;
  }
  return worst ? worst->id : kNoPeer;
}

}  // namespace shoal::swarm
