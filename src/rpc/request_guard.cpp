#include "rpc/request_guard.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>

#include "rpc/base64.hpp"
#include "rpc/password_hash.hpp"

namespace shoal::rpc {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// "name:port", "[v6]:port", "v4" -> the host part.
std::string strip_port(const std::string& host) {
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    return close == std::string::npos ? host : host.substr(1, close - 1);
  }
  auto colon = host.find(':');
  if (colon != std::string::npos && host.find(':', colon + 1) == std::string::npos)
    return host.substr(0, colon);
  return host;  // no port, or a bare IPv6 address
}

std::string sha256(const std::string& s) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  return std::string(reinterpret_cast<const char*>(d), sizeof d);
}

}  // namespace

std::string make_session_id() {
  static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char bytes[48];
  RAND_bytes(bytes, sizeof bytes);
  std::string id;
  for (unsigned char b : bytes)
    id.push_back(kChars[b % 62]);
  return id;
}

RequestGuard::RequestGuard(GuardConfig config, std::string session_id)
    : config_(std::move(config)), session_id_(std::move(session_id)) {}

void RequestGuard::set_config(GuardConfig config) {
  config_ = std::move(config);
  accepted_digest_.clear();
}

bool RequestGuard::host_allowed(const std::string& header) const {
  if (!config_.host_check) return true;
  if (header.empty()) return false;  // HTTP/1.1 requires Host; a request without one is refused
  auto host = lower(strip_port(header));
  if (!host.empty() && host.back() == '.') host.pop_back();
  if (host == "localhost") return true;
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  if (!ec) return true;  // an IP literal cannot be rebound
  return std::find(config_.host_allow_list.begin(), config_.host_allow_list.end(), host) !=
         config_.host_allow_list.end();
}

bool RequestGuard::credentials_ok(const std::string& authorization) {
  if (config_.password_hash.empty() && config_.username.empty()) return true;
  if (authorization.size() < 6 || lower(authorization.substr(0, 6)) != "basic ") return false;
  auto digest = sha256(authorization);
  if (!accepted_digest_.empty() && CRYPTO_memcmp(digest.data(), accepted_digest_.data(), digest.size()) == 0)
    return true;
  auto decoded = base64_decode(authorization.substr(6));
  if (!decoded) return false;
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return false;
  auto user = decoded->substr(0, colon);
  auto password = decoded->substr(colon + 1);
  bool user_ok = user.size() == config_.username.size() &&
                 CRYPTO_memcmp(user.data(), config_.username.data(), user.size()) == 0;
  bool password_ok = verify_password(password, config_.password_hash);
  if (!user_ok || !password_ok) return false;
  accepted_digest_ = digest;
  return true;
}

bool RequestGuard::take_token(const std::string& address, std::int64_t now_ms) {
  auto it = buckets_.find(address);
  if (it == buckets_.end()) {
    if (buckets_.size() >= kMaxBuckets) {
      // Forget the address idle longest (full buckets are the same as new ones).
      auto oldest = std::min_element(buckets_.begin(), buckets_.end(), [](const auto& a, const auto& b) {
        return a.second.last_ms < b.second.last_ms;
      });
      buckets_.erase(oldest);
    }
    it = buckets_.emplace(address, Bucket{config_.burst, now_ms}).first;
  }
  auto& b = it->second;
  double elapsed = static_cast<double>(std::max<std::int64_t>(0, now_ms - b.last_ms)) / 1000.0;
  b.tokens = std::min(config_.burst, b.tokens + elapsed * config_.requests_per_second);
  b.last_ms = now_ms;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

Verdict RequestGuard::check(const RequestFacts& r, std::int64_t now_ms) {
  if (!host_allowed(r.host))
    return {421,
            "Misdirected Request: the Host header names a host this daemon does not serve (add it to "
            "rpc-host-whitelist)"};
  if (!take_token(r.remote_address, now_ms)) return {429, "Too Many Requests"};
  if (!credentials_ok(r.authorization)) return {401, "Unauthorized"};
  if (r.is_rpc && (r.session_id.size() != session_id_.size() ||
                   CRYPTO_memcmp(r.session_id.data(), session_id_.data(), session_id_.size()) != 0))
    return {409, "Conflict: send the X-Transmission-Session-Id header given here"};
  return {};
}

}  // namespace shoal::rpc
