// BEP 11 bookkeeping for one connection, with no I/O: which of our peers we have told it about, the next
// message to send (a diff of at most 50 added and 50 dropped), and the rate limit on messages it sends us.
#pragma once

#include <chrono>
#include <optional>
#include <set>
#include <vector>

#include "wire/ut_pex.hpp"

namespace shoal::swarm {

class PexState {
 public:
  using Clock = std::chrono::steady_clock;
  // BEP 11: no more than one message a minute. We accept a little faster (clocks and timers drift), and never
  // more than one per kMinIncomingGap.
  static constexpr auto kSendInterval = std::chrono::seconds(60);
  static constexpr auto kFirstSendDelay = std::chrono::seconds(2);
  static constexpr auto kMinIncomingGap = std::chrono::seconds(45);

  // Starts the clock when the peer's extension handshake says it speaks ut_pex.
  explicit PexState(Clock::time_point now) : next_send_(now + kFirstSendDelay) {}

  // When it is time, the message that brings the peer from what we told it before to `current` (our other
  // connected peers), and records it as told. Nothing when it is not time or nothing changed.
  std::optional<wire::PexMessage> next_message(Clock::time_point now,
                                               const std::vector<wire::PexPeer>& current);
  // Whether next_message(now, ...) would consider sending (the minute is up), whatever it then finds.
  bool due(Clock::time_point now) const { return now >= next_send_; }

  // True when a message from the peer arriving now is within the rate limit (and records it); false means
  // ignore it.
  bool accept_incoming(Clock::time_point now);

  const std::set<Endpoint>& advertised() const { return advertised_; }

 private:
  Clock::time_point next_send_;
  std::optional<Clock::time_point> last_incoming_;
  std::set<Endpoint> advertised_;
};

}  // namespace shoal::swarm
