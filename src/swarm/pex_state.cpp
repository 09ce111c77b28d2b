#include "swarm/pex_state.hpp"

#include <algorithm>

namespace shoal::swarm {

std::optional<wire::PexMessage> PexState::next_message(Clock::time_point now,
                                                       const std::vector<wire::PexPeer>& current) {
  if (now < next_send_) return std::nullopt;
  next_send_ = now + kSendInterval;
  std::set<Endpoint> now_connected;
  for (const auto& p : current)
    now_connected.insert(p.endpoint);
  wire::PexMessage message;
  for (const auto& p : current) {
    if (message.added.size() >= wire::kMaxPexPeersPerMessage) break;
    if (!advertised_.count(p.endpoint) &&
        std::none_of(message.added.begin(), message.added.end(),
                     [&](const wire::PexPeer& a) { return a.endpoint == p.endpoint; })) {
      message.added.push_back(p);
    }
  }
  for (const auto& e : advertised_) {
    if (message.dropped.size() >= wire::kMaxPexPeersPerMessage) break;
    if (!now_connected.count(e)) message.dropped.push_back(e);
  }
  if (message.added.empty() && message.dropped.empty()) return std::nullopt;
  for (const auto& p : message.added)
    advertised_.insert(p.endpoint);
  for (const auto& e : message.dropped)
    advertised_.erase(e);
  return message;
}

bool PexState::accept_incoming(Clock::time_point now) {
  if (last_incoming_ && now - *last_incoming_ < kMinIncomingGap) return false;
  last_incoming_ = now;
  return true;
}

}  // namespace shoal::swarm
