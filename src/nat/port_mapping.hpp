// The life of one port mapping on a home router (UPnP IGD or NAT-PMP), as a pure state machine: when to ask
// for it, when to renew its lease, how long to wait after a failure, and when to remove it. It never talks to
// a router itself: a driver polls it for the next action, performs it (a blocking library call on a worker
// thread) and hands the outcome back. Time is a parameter.
//
// Phases:  idle ──request──▶ requesting ──ok──▶ mapped ──half the lease──▶ requesting (renewal)
//                                 │ fail                      │ stop()
//                                 ▼                           ▼
//                          waiting_retry ──backoff──▶ requesting      removing ──▶ removed
// Invariants: at most one action is outstanding (requesting or removing) at any time; a mapping that was
// never granted is not removed (stop() goes straight to removed); a result that arrives when no action is
// outstanding is ignored.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace shoal::nat {

using Clock = std::chrono::steady_clock;

enum class Protocol : std::uint8_t { tcp, udp };

const char* to_string(Protocol protocol);

enum class MappingPhase : std::uint8_t { idle, requesting, mapped, waiting_retry, removing, removed };

// What is asked of the router.
struct MappingRequest {
  Protocol protocol = Protocol::tcp;
  std::uint16_t internal_port = 0;
  std::uint16_t external_port = 0;  // wanted; 0: the same as internal_port
  std::uint32_t lease_seconds = 3600;
};

// What the router answered to a request (or a renewal).
struct MappingResult {
  bool ok = false;
  std::uint16_t external_port = 0;  // as granted (NAT-PMP may give another one)
  std::uint32_t lease_seconds = 0;  // as granted; 0: permanent (some UPnP routers grant only those)
  std::string external_address;     // the router's public address, when it said; may be empty
  std::string error;                // when !ok, for people
};

// How long to wait between failures and when to look again at a permanent mapping.
struct RetryPolicy {
  std::chrono::seconds first_retry{5};
  std::chrono::seconds max_retry{15 * 60};
  // A permanent (lease 0) mapping is asked for again this often: routers reboot and forget.
  std::chrono::seconds permanent_recheck{20 * 60};
  // Never renew sooner than this after a grant, however short the lease (a router granting 1 s leases would
  // otherwise be asked in a loop).
  std::chrono::seconds min_renew{30};
};

class PortMapping {
 public:
  enum class ActionKind : std::uint8_t { request, remove };
  struct Action {
    ActionKind kind = ActionKind::request;
    MappingRequest request;           // for request: what to ask for
    std::uint16_t external_port = 0;  // for remove: the port that was granted
  };
  // What changed with the last result, so the driver can tell its user once, not on every renewal.
  enum class Change : std::uint8_t { none, mapped, port_changed, failed, lost };

  explicit PortMapping(MappingRequest request, RetryPolicy policy = {});

  // The action due at `now`, if any; taking it moves the phase to requesting or removing.
  std::optional<Action> poll(Clock::time_point now);
  // The outcome of the last request action.
  Change on_request_result(Clock::time_point now, const MappingResult& result);
  // The outcome of the remove action (success or not, the mapping is forgotten: its lease runs out anyway).
  void on_removed();
  // Stop: a granted mapping is removed at the next poll; otherwise the mapping ends at once.
  void stop();

  // When poll() next has something to do; nullopt: nothing until a result comes back (or ever, once removed).
  std::optional<Clock::time_point> next_wakeup() const;

  MappingPhase phase() const { return phase_; }
  bool is_mapped() const { return granted_port_ != 0; }
  std::uint16_t external_port() const { return granted_port_; }
  const std::string& external_address() const { return external_address_; }
  const std::string& last_error() const { return last_error_; }
  int failures() const { return failures_; }
  const MappingRequest& request() const { return request_; }

 private:
  std::chrono::seconds backoff() const;

  MappingRequest request_;
  RetryPolicy policy_;
  MappingPhase phase_ = MappingPhase::idle;
  bool stop_wanted_ = false;
  Clock::time_point due_{};  // when the next request is due (waiting_retry, mapped)
  std::uint16_t granted_port_ = 0;
  std::string external_address_;
  std::string last_error_;
  int failures_ = 0;  // in a row
};

}  // namespace shoal::nat
