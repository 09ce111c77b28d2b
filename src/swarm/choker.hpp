// Who gets an upload slot: tit-for-tat with one optimistic slot. Pure: the driver passes the facts about each
// peer and the tick counter; randomness comes from a seed, so a test replays the same rotation.
//
// Rules (BEP 3's choking algorithm as most clients run it):
//  - the interested peers that give us most (that we give most to, when seeding) hold the regular slots;
//  - snubbed peers (they stopped sending what we asked for) and stalled peers (they stopped reading what we
//    send) sort after every other peer, so they hold a regular slot only when nobody else wants one;
//  - an interested newcomer may take the slot of a stalled peer at once, without waiting for the rechoke;
//  - one more slot goes to a random interested peer outside the regular ones, so a newcomer can prove itself;
//    it rotates every kTicksPerOptimistic ticks, or earlier when its holder leaves, loses interest or earns a
//    regular slot. With one upload slot, that slot is the optimistic one.
#pragma once

#include <cstdint>
#include <random>
#include <set>
#include <span>

#include "swarm/piece_picker.hpp"

namespace shoal::swarm {

// What the choker needs to know about one connected peer.
struct ChokeCandidate {
  PeerId id = kNoPeer;
  bool interested = false;  // the peer wants to download from us
  bool snubbed = false;
  double download_rate = 0;  // bytes/s we receive from it
  double upload_rate = 0;    // bytes/s we send to it
  bool stalled = false;      // our writes to it have made no progress for a while: it does not read
};

class Choker {
 public:
  static constexpr int kTicksPerOptimistic = 30;

  explicit Choker(std::uint64_t seed) : rng_(seed) {}

  // The peers to unchoke now; every other connected peer is to be choked. `peers` lists every connected peer
  // (interested or not); `upload_slots` counts the optimistic slot; `tick` is the driver's tick counter.
  std::set<PeerId> unchoke_set(std::span<const ChokeCandidate> peers, bool seeding, int upload_slots,
                               int tick);

  // A newcomer asks for a slot while all are taken: the unchoked peer to choke for it (the first stalled
  // one), or kNoPeer. `unchoked` lists the peers holding a slot.
  static PeerId slot_for_newcomer(std::span<const ChokeCandidate> unchoked);

  PeerId optimistic() const { return optimistic_; }

 private:
  std::mt19937_64 rng_;
  PeerId optimistic_ = kNoPeer;
};

}  // namespace shoal::swarm
