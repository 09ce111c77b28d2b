#include "swarm/peer_list.hpp"

#include <algorithm>

namespace shoal::swarm {
namespace {

std::size_t index_of(PeerSource s) {
  return static_cast<std::size_t>(s);
}

}  // namespace

bool PeerList::is_loopback(const Endpoint& e) {
  if (!e.v6) return e.address[0] == 127;
  static constexpr std::array<std::uint8_t, 16> kV6Loopback{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  if (e.address == kV6Loopback) return true;
  // v4-mapped 127.x.y.z
  bool mapped = std::all_of(e.address.begin(), e.address.begin() + 10, [](auto b) { return b == 0; }) &&
                e.address[10] == 0xff && e.address[11] == 0xff;
  return mapped && e.address[12] == 127;
}

Endpoint ban_key(const Endpoint& endpoint) {
  Endpoint key = endpoint;
  if (!PeerList::is_loopback(endpoint)) key.port = 0;
  return key;
}

bool PeerList::add(const Endpoint& endpoint, PeerSource source, Clock::time_point now, PeerId via) {
  if (endpoint.port == 0) return false;
  auto it = entries_.find(endpoint);
  if (it != entries_.end()) {
    it->second.seen = now;
    return true;
  }
  auto s = index_of(source);
  if (source != PeerSource::user && counts_[s] >= limits_.quota[s]) return false;
  if (source == PeerSource::pex) {
    auto& mine = pex_by_connection_[via];
    if (mine >= limits_.pex_per_connection) return false;
    ++mine;
  }
  entries_.emplace(endpoint, Entry{source, source == PeerSource::pex ? via : kNoPeer, now});
  ++counts_[s];
  return true;
}

void PeerList::erase(std::map<Endpoint, Entry>::iterator it) {
  --counts_[index_of(it->second.source)];
  if (it->second.source == PeerSource::pex) {
    auto c = pex_by_connection_.find(it->second.via);
    if (c != pex_by_connection_.end() && --c->second == 0) pex_by_connection_.erase(c);
  }
  entries_.erase(it);
}

void PeerList::remove(const Endpoint& endpoint) {
  auto it = entries_.find(endpoint);
  if (it != entries_.end()) erase(it);
}

std::vector<Endpoint> PeerList::dial_candidates(Clock::time_point now, std::size_t max,
                                                const std::function<bool(const Endpoint&)>& skip) const {
  std::vector<Endpoint> out;
  for (const auto& [e, entry] : entries_) {
    if (out.size() >= max) break;
    if (entry.connected || entry.retry_at > now || skip(e)) continue;
    out.push_back(e);
  }
  return out;
}

void PeerList::on_dial_started(const Endpoint& endpoint, Clock::time_point now) {
  auto it = entries_.find(endpoint);
  // Not dialled again before the first back-off, whatever happens to this dial.
  if (it != entries_.end()) it->second.retry_at = now + limits_.first_retry;
}

void PeerList::on_dial_failed(const Endpoint& endpoint, Clock::time_point now) {
  auto it = entries_.find(endpoint);
  if (it == entries_.end()) return;
  auto& e = it->second;
  ++e.failures;
  if (e.failures >= limits_.max_failures && e.source != PeerSource::user) {
    erase(it);
    return;
  }
  // Doubling back-off: 2 s, 4 s, 8 s... (user-given addresses keep being tried, at a shorter cap).
  auto cap = e.source == PeerSource::user ? limits_.max_user_retry : limits_.max_retry;
  auto delay = limits_.first_retry;
  for (int i = 1; i < e.failures && delay < cap; ++i)
    delay *= 2;
  e.retry_at = now + std::min(delay, cap);
}

void PeerList::on_connected(const Endpoint& endpoint, Clock::time_point now) {
  auto it = entries_.find(endpoint);
  if (it == entries_.end()) return;
  it->second.connected = true;
  it->second.failures = 0;
  it->second.seen = now;
}

void PeerList::on_disconnected(const Endpoint& endpoint, Clock::time_point now) {
  auto it = entries_.find(endpoint);
  if (it == entries_.end()) return;
  it->second.connected = false;
  it->second.seen = now;
  it->second.retry_at = now + limits_.first_retry;
}

void PeerList::expire(Clock::time_point now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto next = std::next(it);
    const auto& e = it->second;
    if (e.source != PeerSource::user && !e.connected && now - e.seen > limits_.max_age) erase(it);
    it = next;
  }
}

bool PeerList::address_allowed(const Endpoint& endpoint, int connections_from_address) {
  return is_loopback(endpoint) || connections_from_address < kMaxConnectionsPerAddress;
}

}  // namespace shoal::swarm
