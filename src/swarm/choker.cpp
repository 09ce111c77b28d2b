#include "swarm/choker.hpp"

#include <algorithm>
#include <vector>

namespace shoal::swarm {

std::set<PeerId> Choker::unchoke_set(std::span<const ChokeCandidate> peers, bool seeding, int upload_slots,
                                     int tick) {
  std::vector<const ChokeCandidate*> candidates;
  for (const auto& p : peers) {
    if (p.interested) candidates.push_back(&p);
  }
  // Stable: among equal rates, the driver's order (oldest connection first) decides.
  std::stable_sort(candidates.begin(), candidates.end(), [seeding](const auto* a, const auto* b) {
    bool a_bad = a->snubbed || a->stalled, b_bad = b->snubbed || b->stalled;
    if (a_bad != b_bad) return !a_bad;
    return seeding ? a->upload_rate > b->upload_rate : a->download_rate > b->download_rate;
  });
  auto regular = static_cast<std::size_t>(std::max(1, upload_slots - 1));
  std::set<PeerId> keep;
  for (std::size_t i = 0; i < candidates.size() && i < regular; ++i)
    keep.insert(candidates[i]->id);

  bool optimistic_connected =
      std::any_of(peers.begin(), peers.end(), [this](const auto& p) { return p.id == optimistic_; });
  if (tick % kTicksPerOptimistic == 0 || !optimistic_connected || keep.count(optimistic_)) {
    std::vector<PeerId> rest;
    for (const auto* p : candidates) {
      if (!keep.count(p->id)) rest.push_back(p->id);
    }
    optimistic_ =
        rest.empty() ? kNoPeer : rest[std::uniform_int_distribution<std::size_t>(0, rest.size() - 1)(rng_)];
  }
  if (optimistic_ != kNoPeer) keep.insert(optimistic_);
  return keep;
}

PeerId Choker::slot_for_newcomer(std::span<const ChokeCandidate> unchoked) {
  for (const auto& p : unchoked) {
    if (p.stalled) return p.id;
  }
  return kNoPeer;
}

}  // namespace shoal::swarm
