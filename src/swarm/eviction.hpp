// Which connected peer to close so that a newcomer gets a connection slot when every slot is taken. Pure:
// the driver passes the facts about each peer.
//
// Without it a swarm whose members all hold max_connections turns every newcomer away: it dials, is refused
// everywhere, and waits for connections to end by themselves (minutes). Room is made at the expense of the
// least useful peer (as libtorrent's peer disconnect policy does):
//  - a peer that exchanges data with us now (it sends us blocks, or holds one of our upload slots) is kept;
//  - so is a peer connected for less than kMinConnectedForEviction: a newcomer must get its chance (an
//    optimistic unchoke, its first pieces) before it can be judged, and two newcomers must not evict each
//    other in turn;
//  - of the rest, first a peer with which neither side is interested, then the one that moved the fewest
//    bytes lately, then the one connected longest (it had its chances; newcomers go last).
#pragma once

#include <chrono>
#include <span>

#include "swarm/piece_picker.hpp"

namespace shoal::swarm {

inline constexpr auto kMinConnectedForEviction = std::chrono::seconds(10);

struct EvictionCandidate {
  PeerId id = kNoPeer;
  std::chrono::steady_clock::duration connected_for{};
  bool am_interested = false;    // it has pieces we want
  bool peer_interested = false;  // it wants ours
  bool serving_us = false;       // it unchoked us and our requests are in flight to it
  bool served = false;           // it holds one of our upload slots
  double download_rate = 0;      // bytes/s from it
  double upload_rate = 0;        // bytes/s to it
};

// The peer to close for a newcomer, or kNoPeer when every peer is worth keeping.
PeerId least_useful(std::span<const EvictionCandidate> peers);

}  // namespace shoal::swarm
