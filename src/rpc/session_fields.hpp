// session-get's and session-set's arguments (Transmission RPC spec 17, section 4.1): SessionValues to JSON
// and back. Pure.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "rpc/backend.hpp"
#include "rpc/path_policy.hpp"
#include "shoal/expected.hpp"

namespace shoal::rpc {

inline constexpr int kRpcVersion = 17;
inline constexpr int kRpcVersionMinimum = 14;

// Every session field; `session_id` is the CSRF token the HTTP layer hands out.
nlohmann::json session_arguments(const SessionValues& values, std::uint16_t peer_port,
                                 const std::string& session_id);
// The arguments session-set accepts, with their values: what the daemon stores to keep settings changed over
// RPC across restarts (read back with apply_session_arguments).
nlohmann::json mutable_session_arguments(const SessionValues& values);
// `values` with the arguments applied, or the reason the request is refused (a wrong type, a path outside the
// allowed roots, a setting that cannot be changed over RPC). Unknown keys are ignored, as Transmission does.
Expected<SessionValues, std::string> apply_session_arguments(SessionValues values, const nlohmann::json& args,
                                                             const PathPolicy& paths);

}  // namespace shoal::rpc
