// BEP 55 holepunch, all three roles in one torrent core:
// - initiator: a dial to an address learnt through PEX failed (the peer is behind NAT): ask the peer that
// told
//   us of it (the relay, connected to both) for a rendezvous;
// - relay: forward a rendezvous as `connect` to both sides, or answer with an error code;
// - target (and initiator again): on `connect`, dial the named peer at once (Dial::holepunch), while it dials
// us.
#include <string_view>

#include "torrent/torrent.hpp"

namespace shoal::torrent {

namespace {

bool unspecified(const Endpoint& e) {
  const std::size_t n = e.v6 ? 16 : 4;
  for (std::size_t i = 0; i < n; ++i) {
    if (e.address[i] != 0) return false;
  }
  return true;
}

}  // namespace

void Torrent::send_holepunch(PeerId id, Peer& peer, const wire::HolepunchMessage& message) {
  auto ext = peer.protocol.ut_holepunch_id();
  if (!ext) return;
  send_extended(peer, *ext, wire::encode_holepunch(message));
  wake(id, peer);
}

void Torrent::on_holepunch(PeerId id, Peer& peer, std::span<const std::uint8_t> payload,
                           Clock::time_point now) {
  if (params_.is_private) return;  // never offered for a private torrent (BEP 27: no peers from peers)
  auto m = wire::decode_holepunch({reinterpret_cast<const char*>(payload.data()), payload.size()});
  if (!m) {
    log(peer.remote.to_string() + " sent a malformed ut_holepunch message: " + m.error().message());
    return;
  }
  switch (m->type) {
    case wire::HolepunchType::rendezvous:
      relay_rendezvous(id, peer, m->endpoint);
      return;
    case wire::HolepunchType::connect:
      log("holepunch: " + peer.remote.to_string() + " says dial " + m->endpoint.to_string());
      holepunch_dial(m->endpoint, now);
      return;
    case wire::HolepunchType::error:
      log("holepunch: " + peer.remote.to_string() + " cannot put us in touch with " +
          m->endpoint.to_string() + ": " + wire::to_string(m->error));
      return;
  }
}

void Torrent::relay_rendezvous(PeerId id, Peer& initiator, const Endpoint& target) {
  // Over the cap: dropped without an answer (a flood gets nothing back, not even errors).
  if (holepunch_relays_this_tick_ >= kMaxHolepunchRelaysPerTick) return;
  ++holepunch_relays_this_tick_;
  auto refuse = [&](wire::HolepunchError code) {
    log("holepunch: no rendezvous for " + initiator.remote.to_string() + " with " + target.to_string() +
        ": " + wire::to_string(code));
    send_holepunch(id, initiator, {wire::HolepunchType::error, target, code});
  };
  const auto initiator_endpoint = listen_endpoint(initiator);
  if (target.port == 0 || unspecified(target) || target == initiator.remote || target == initiator_endpoint)
    return refuse(wire::HolepunchError::no_such_peer);
  if (banned_self_.count(target)) return refuse(wire::HolepunchError::no_self);
  PeerId target_id = swarm::kNoPeer;
  for (const auto& [other_id, other] : peers_) {
    if (other_id != id && (other.remote == target || listen_endpoint(other) == target)) {
      target_id = other_id;
      break;
    }
  }
  auto* other = find(target_id);
  if (!other) return refuse(wire::HolepunchError::not_connected);
  if (!other->protocol.ut_holepunch_id()) return refuse(wire::HolepunchError::no_support);
  // The target dials where the initiator listens; one that never said its port is dialled where it came from
  // (a NAT that keeps source ports maps that one).
  const Endpoint back = initiator_endpoint ? *initiator_endpoint : initiator.remote;
  log("holepunch: relaying a rendezvous between " + back.to_string() + " and " + target.to_string());
  send_holepunch(target_id, *other, {wire::HolepunchType::connect, back, wire::HolepunchError::none});
  send_holepunch(id, initiator, {wire::HolepunchType::connect, target, wire::HolepunchError::none});
}

void Torrent::holepunch_dial(const Endpoint& endpoint, Clock::time_point now) {
  if (!active() || holepunch_dials_this_tick_ >= kMaxHolepunchDialsPerTick) return;
  // An ordinary dial in flight to the same address does not stop the punch (see holepunch_dialling_).
  if (endpoint.port == 0 || unspecified(endpoint) || is_banned(endpoint) || banned_self_.count(endpoint) ||
      holepunch_dialling_.count(endpoint))
    return;
  int same_address = 0;
  for (const auto& [id, p] : peers_) {
    if (p.remote == endpoint || listen_endpoint(p) == endpoint) return;  // already connected
    same_address += p.remote.address == endpoint.address ? 1 : 0;
  }
  if (!swarm::PeerList::address_allowed(endpoint, same_address)) return;
  if (static_cast<int>(peers_.size() + connecting_.size() + holepunch_dialling_.size()) >= connection_limit())
    return;
  if (!mediator_.try_dial(endpoint)) return;
  ++holepunch_dials_this_tick_;
  holepunch_dialling_.insert(endpoint);
  now_ = std::max(now_, now);
  emit(Dial{endpoint, true});
}

void Torrent::request_rendezvous(const Endpoint& endpoint) {
  if (params_.is_private || !active() || rendezvous_asked_.size() >= kMaxRendezvousAsked) return;
  const PeerId via = peer_list_.via_of(endpoint);
  auto* relay = find(via);
  if (!relay || !relay->protocol.ut_holepunch_id()) return;
  if (!rendezvous_asked_.insert(endpoint).second) return;  // asked once already
  log("holepunch: " + endpoint.to_string() + " cannot be dialled; asking " + relay->remote.to_string() +
      " for a rendezvous");
  send_holepunch(via, *relay, {wire::HolepunchType::rendezvous, endpoint, wire::HolepunchError::none});
}

}  // namespace shoal::torrent
