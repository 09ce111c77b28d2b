#include "nat/port_mapping.hpp"

#include <algorithm>

namespace shoal::nat {

const char* to_string(Protocol protocol) {
  return protocol == Protocol::tcp ? "TCP" : "UDP";
}

PortMapping::PortMapping(MappingRequest request, RetryPolicy policy) : request_(request), policy_(policy) {
  if (request_.external_port == 0) request_.external_port = request_.internal_port;
}

std::optional<PortMapping::Action> PortMapping::poll(Clock::time_point now) {
  switch (phase_) {
    case MappingPhase::idle:
      phase_ = MappingPhase::requesting;
      return Action{ActionKind::request, request_, 0};
    case MappingPhase::mapped:
      if (stop_wanted_) {
        phase_ = MappingPhase::removing;
        return Action{ActionKind::remove, request_, granted_port_};
      }
      if (now < due_) return std::nullopt;
      phase_ = MappingPhase::requesting;
      return Action{ActionKind::request, request_, 0};
    case MappingPhase::waiting_retry:
      if (now < due_) return std::nullopt;
      phase_ = MappingPhase::requesting;
      return Action{ActionKind::request, request_, 0};
    case MappingPhase::requesting:
    case MappingPhase::removing:
    case MappingPhase::removed:
      return std::nullopt;
  }
  return std::nullopt;
}

PortMapping::Change PortMapping::on_request_result(Clock::time_point now, const MappingResult& result) {
  if (phase_ != MappingPhase::requesting) return Change::none;  // nothing was asked: a stray answer
  if (result.ok && result.external_port != 0) {
    const auto before = granted_port_;
    granted_port_ = result.external_port;
    // Renewals ask for the port we hold, so that peers who learnt it keep reaching us.
    request_.external_port = granted_port_;
    if (!result.external_address.empty()) external_address_ = result.external_address;
    failures_ = 0;
    last_error_.clear();
    phase_ = MappingPhase::mapped;
    if (result.lease_seconds == 0) {
      due_ = now + policy_.permanent_recheck;
    } else {
      due_ = now + std::max<std::chrono::seconds>(std::chrono::seconds(result.lease_seconds / 2),
                                                  policy_.min_renew);
    }
    if (before == 0) return Change::mapped;
    return before == granted_port_ ? Change::none : Change::port_changed;
  }
  ++failures_;
  last_error_ = result.ok ? "the router granted no port" : result.error;
  const bool was_mapped = granted_port_ != 0;
  // A failed renewal: the router may still forward until the lease ends, but we cannot count on it.
  granted_port_ = 0;
  if (stop_wanted_) {
    phase_ = MappingPhase::removed;
  } else {
    phase_ = MappingPhase::waiting_retry;
    due_ = now + backoff();
  }
  if (was_mapped) return Change::lost;
  return failures_ == 1 ? Change::failed : Change::none;
}

void PortMapping::on_removed() {
  if (phase_ != MappingPhase::removing) return;
  phase_ = MappingPhase::removed;
  granted_port_ = 0;
}

void PortMapping::stop() {
  switch (phase_) {
    case MappingPhase::idle:
    case MappingPhase::waiting_retry:
      phase_ = MappingPhase::removed;
      break;
    case MappingPhase::requesting:
    case MappingPhase::mapped:
      stop_wanted_ = true;
      break;
    case MappingPhase::removing:
    case MappingPhase::removed:
      break;
  }
}

std::optional<Clock::time_point> PortMapping::next_wakeup() const {
  switch (phase_) {
    case MappingPhase::idle:
      return Clock::time_point::min();
    case MappingPhase::mapped:
      return stop_wanted_ ? Clock::time_point::min() : due_;
    case MappingPhase::waiting_retry:
      return due_;
    case MappingPhase::requesting:
    case MappingPhase::removing:
    case MappingPhase::removed:
      return std::nullopt;
  }
  return std::nullopt;
}

std::chrono::seconds PortMapping::backoff() const {
  // first_retry, doubling with each failure in a row, capped (no overflow: the shift stops at 16).
  const int shift = std::min(failures_ - 1, 16);
  const auto wait = policy_.first_retry * (1LL << std::max(shift, 0));
  return std::min<std::chrono::seconds>(wait, policy_.max_retry);
}

}  // namespace shoal::nat
