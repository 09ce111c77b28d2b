// The RPC server's security rules as a pure decision over what a request says about itself; the HTTP layer
// (rpc/http_server) only gathers the facts and sends what the verdict says.
//
// In order: a Host header naming a foreign host -> 421 (DNS rebinding, CVE-2018-5702: a web page must not
// reach the daemon through a name it controls); too many requests from one address -> 429; missing or wrong
// Basic credentials when a password is configured -> 401; for the RPC endpoint, a missing or stale
// X-Transmission-Session-Id -> 409 carrying the right id (the CSRF handshake every Transmission client does).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace shoal::rpc {

struct GuardConfig {
  // Host names (port stripped, lower case) allowed besides IP literals and localhost.
  std::vector<std::string> host_allow_list;
  bool host_check = true;
  std::string username;             // empty with an empty password_hash: no authentication
  std::string password_hash;        // see rpc/password_hash.hpp
  double requests_per_second = 50;  // per client address, sustained
  double burst = 200;               // per client address
};

struct RequestFacts {
  std::string remote_address;  // the peer's IP
  std::string host;            // the Host header, as sent
  std::string authorization;   // the Authorization header, as sent
  std::string session_id;      // the X-Transmission-Session-Id header, as sent
  bool is_rpc = false;         // the RPC endpoint (CSRF token needed); not static files or metrics
};

struct Verdict {
  int status = 200;    // 200: go on
  std::string reason;  // for the response body and the log
};

class RequestGuard {
 public:
  // `session_id`: the CSRF token, random and fresh for each daemon run.
  RequestGuard(GuardConfig config, std::string session_id);

  // `now_ms`: a monotonic clock in milliseconds (a parameter: the guard reads no clock).
  Verdict check(const RequestFacts& request, std::int64_t now_ms);
  const std::string& session_id() const { return session_id_; }
  void set_config(GuardConfig config);

 private:
  bool host_allowed(const std::string& host) const;
  bool credentials_ok(const std::string& authorization);
  bool take_token(const std::string& address, std::int64_t now_ms);

  struct Bucket {
    double tokens = 0;
    std::int64_t last_ms = 0;
  };
  static constexpr std::size_t kMaxBuckets = 4096;  // distinct addresses remembered at once

  GuardConfig config_;
  std::string session_id_;
  std::map<std::string, Bucket> buckets_;
  // PBKDF2 is slow on purpose; a browser sends the same header with every request, so the last accepted one
  // is remembered (as a SHA-256 digest) and compared in constant time.
  std::string accepted_digest_;
};

// A fresh random session id (48 characters from [A-Za-z0-9]).
std::string make_session_id();

}  // namespace shoal::rpc
