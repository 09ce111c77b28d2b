#include "lsd/lsd_state.hpp"

#include <algorithm>

namespace shoal::lsd {
namespace {

// A host that multicasts before it has an address (or over a route without one) sends from 0.0.0.0; an
// IPv6 host with only a link-local address sends from fe80::/10, which means nothing without the interface
// it came in on. Neither names a peer we could dial.
bool connectable(const Endpoint& source) {
  bool unspecified =
      std::all_of(source.address.begin(), source.address.end(), [](std::uint8_t b) { return b == 0; });
  bool link_local_v6 = source.v6 && source.address[0] == 0xfe && (source.address[1] & 0xc0) == 0x80;
  return !unspecified && !link_local_v6;
}

}  // namespace

std::string Rejection::message() const {
  switch (reason) {
    case Ignored::malformed:
      return describe(decode_error);
    case Ignored::own_announce:
      return "our own announce";
    case Ignored::rate_limited:
      return "sender rate-limited";
    case Ignored::unknown_torrents:
      return "announce for torrents we do not have";
    case Ignored::unusable_source:
      return "sender has no address we can connect to (0.0.0.0, :: or IPv6 link-local)";
    case Ignored::not_to_group:
      return "sent to our address, not to the LSD multicast group (a unicast announce is not from our link)";
  }
  return "ignored";
}

LsdState::LsdState(std::string cookie, LsdConfig config)
    : cookie_(std::move(cookie)),
      config_(config),
      limiter_(config.source_burst, config.source_refill, config.max_sources) {}

TimePoint LsdState::earliest_allowed(const Torrent& t, TimePoint now) const {
  if (!t.last_sent) return now;
  return std::max(now, *t.last_sent + config_.min_interval);
}

void LsdState::add_torrent(const Sha1Digest& info_hash, std::uint16_t port, TimePoint now) {
  auto& t = torrents_[info_hash];
  t.port = port;
  t.next_due = earliest_allowed(t, now);
}

void LsdState::remove_torrent(const Sha1Digest& info_hash) {
  torrents_.erase(info_hash);
}

void LsdState::announce_soon(const Sha1Digest& info_hash, TimePoint now) {
  auto it = torrents_.find(info_hash);
  if (it == torrents_.end()) return;
  it->second.next_due = std::min(it->second.next_due, earliest_allowed(it->second, now));
}

std::vector<Announce> LsdState::due(TimePoint now) {
  // Ports with at least one torrent due now.
  std::vector<std::uint16_t> ports;
  for (const auto& [ih, t] : torrents_) {
    if (t.next_due <= now && std::find(ports.begin(), ports.end(), t.port) == ports.end())
      ports.push_back(t.port);
  }
  std::vector<Announce> out;
  for (auto port : ports) {
    std::vector<Sha1Digest> batch;
    for (auto& [ih, t] : torrents_) {
      if (t.port != port || t.next_due > now + config_.pack_ahead || earliest_allowed(t, now) > now) continue;
      batch.push_back(ih);
      t.last_sent = now;
      t.next_due = now + std::max(config_.announce_interval, config_.min_interval);
    }
    auto packets = pack(Group::v4, port, batch, cookie_);
    out.insert(out.end(), packets.begin(), packets.end());
  }
  return out;
}

std::optional<TimePoint> LsdState::next_due() const {
  std::optional<TimePoint> next;
  for (const auto& [ih, t] : torrents_) {
    if (!next || t.next_due < *next) next = t.next_due;
  }
  return next;
}

Expected<std::vector<LsdPeer>, Rejection> LsdState::on_packet(std::string_view packet, const Endpoint& source,
                                                              const Endpoint& destination, TimePoint now) {
  if (!is_group_address(destination)) return unexpected(Rejection{Ignored::not_to_group});
  auto announce = decode(packet);
  if (!announce) return unexpected(Rejection{Ignored::malformed, announce.error()});
  if (announce->cookie == cookie_) return unexpected(Rejection{Ignored::own_announce});
  if (!connectable(source)) return unexpected(Rejection{Ignored::unusable_source});
  std::vector<LsdPeer> peers;
  for (const auto& ih : announce->info_hashes) {
    if (!torrents_.contains(ih)) continue;
    Endpoint peer = source;
    peer.port = announce->port;
    peers.push_back({ih, peer});
  }
  if (peers.empty()) return unexpected(Rejection{Ignored::unknown_torrents});
  // Only announces that would make us dial count against their sender: a busy neighbour announcing
  // hundreds of torrents we do not have costs a decode each and never crowds out the one we want.
  if (!limiter_.allow(source, now)) return unexpected(Rejection{Ignored::rate_limited});
  return peers;
}

}  // namespace shoal::lsd
