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
  std::set<PeerId> keep;
  if (upload_slots <= 0) {
    optimistic_ = kNoPeer;
    return keep;
  }
  // The optimistic slot is one of the `upload_slots`: with a single slot it is the only one, so that every
  // interested peer gets its turn (a regular slot alone would stay with whoever holds it).
  auto regular = static_cast<std::size_t>(upload_slots - 1);
  for (std::size_t i = 0; i < candidates.size() && i < regular; ++i)
    keep.insert(candidates[i]->id);

  // A peer no longer interested (or gone) gives the optimistic slot up at once.
  bool optimistic_interested = std::any_of(candidates.begin(), candidates.end(),
                                           [this](const auto* p) { return p->id == optimistic_; });
  if (tick % kTicksPerOptimistic == 0 || !optimistic_interested || keep.count(optimistic_)) {
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
