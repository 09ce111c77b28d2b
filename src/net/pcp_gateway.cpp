#include "net/pcp_gateway.hpp"

#include <arpa/inet.h>
#include <natpmp.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <string>

namespace shoal::net {
namespace {

// RFC 6887 8.1.1 retransmits from 3 s up to 1024 s; a port mapping that does not come within a few seconds
// is retried later by the PortMapper's backoff instead, as NAT-PMP is (natpmp_gateway.cpp).
constexpr auto kFirstRetransmit = std::chrono::milliseconds(250);
constexpr auto kGiveUpAfter = std::chrono::milliseconds(3000);

// The default gateway (IPv4): libnatpmp already reads it from the routing table.
std::optional<in_addr_t> default_gateway() {
  natpmp_t n{};
  if (initnatpmp(&n, 0, 0) < 0) return std::nullopt;
  in_addr_t gateway = n.gateway;
  closenatpmp(&n);
  return gateway;
}

// A UDP socket connected to the gateway's PCP port: the kernel then delivers only the gateway's datagrams,
// and its local address is the client address PCP wants in the request.
struct GatewaySocket {
  int fd = -1;
  nat::PcpAddress client{};
  ~GatewaySocket() {
    if (fd >= 0) ::close(fd);
  }
  bool open(in_addr_t gateway, std::string& error) {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(nat::kPcpServerPort);
    to.sin_addr.s_addr = gateway;
    sockaddr_in local{};
    socklen_t length = sizeof local;
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) {
      error = std::string("cannot reach the gateway: ") + std::strerror(errno);
      return false;
    }
    std::array<std::uint8_t, 4> v4{};
    std::memcpy(v4.data(), &local.sin_addr.s_addr, 4);
    client = nat::pcp_address_v4(v4);
    return true;
  }
};

enum class Outcome { answered, nat_pmp_only, no_answer, failed };

// Sends the request (again at growing intervals) until an answer to it comes or time is up.
Outcome exchange(GatewaySocket& socket, const nat::PcpMapRequest& request, nat::MappingResult& result) {
  const auto bytes = nat::encode_map_request(request);
  const auto deadline = std::chrono::steady_clock::now() + kGiveUpAfter;
  auto interval = kFirstRetransmit;
  for (;;) {
    if (::send(socket.fd, bytes.data(), bytes.size(), 0) < 0) {
      result.error = std::string("PCP: cannot send: ") + std::strerror(errno);
      return Outcome::failed;
    }
    const auto resend_at = std::chrono::steady_clock::now() + interval;
    interval *= 2;
    for (;;) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return Outcome::no_answer;
      if (now >= resend_at) break;
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(std::min(resend_at, deadline) - now);
      pollfd fd{socket.fd, POLLIN, 0};
      if (::poll(&fd, 1, static_cast<int>(wait.count()) + 1) <= 0) continue;
      std::array<std::uint8_t, 1100> in{};  // RFC 6887 7: messages are at most 1100 bytes
      ssize_t n = ::recv(socket.fd, in.data(), in.size(), 0);
      if (n < 0) {
        // ECONNREFUSED: an ICMP port unreachable, nothing listens on 5351.
        if (errno == ECONNREFUSED) return Outcome::no_answer;
        continue;
      }
      nat::PcpMapResponse refused;
      auto response = nat::read_map_response({in.data(), static_cast<std::size_t>(n)}, &refused);
      if (!response) {
        if (response.error() == nat::PcpError::server_speaks_only_nat_pmp) return Outcome::nat_pmp_only;
        if (response.error() == nat::PcpError::refused && nat::answers(refused, request)) {
          result.error = std::string("PCP: refused: ") + nat::to_string(refused.result) + " (" +
                         std::to_string(refused.raw_result) + ")";
          return Outcome::failed;
        }
        continue;  // garbage, or an answer to something else: keep waiting
      }
      if (!nat::answers(*response, request)) continue;
      result.ok = true;
      result.external_port = response->external_port;
      result.lease_seconds = response->lifetime_seconds;
      result.external_address = nat::to_string(response->external_address);
      return Outcome::answered;
    }
  }
}

}  // namespace

const char* PcpGateway::name() const {
  return router_speaks_only_fallback_ && fallback_ ? fallback_->name() : "PCP";
}

nat::MappingResult PcpGateway::add(const nat::MappingRequest& request) {
  if (router_speaks_only_fallback_ && fallback_) return fallback_->add(request);
  nat::MappingResult result;
  auto gateway = default_gateway();
  GatewaySocket socket;
  if (!gateway) {
    result.error = "PCP: no default gateway";
    return result;
  }
  if (!socket.open(*gateway, result.error)) {
    result.error = "PCP: " + result.error;
    return result;
  }
  auto key = std::make_pair(request.protocol, request.internal_port);
  auto nonce = nonces_.find(key);
  if (nonce == nonces_.end()) {
    nat::PcpNonce fresh{};
    if (RAND_bytes(fresh.data(), static_cast<int>(fresh.size())) != 1) {
      result.error = "PCP: no randomness for the nonce";
      return result;
    }
    nonce = nonces_.emplace(key, fresh).first;
  }
  nat::PcpMapRequest map;
  map.client = socket.client;
  map.nonce = nonce->second;
  map.protocol = request.protocol;
  map.internal_port = request.internal_port;
  map.suggested_external_port = request.external_port != 0 ? request.external_port : request.internal_port;
  map.lifetime_seconds = request.lease_seconds;
  switch (exchange(socket, map, result)) {
    case Outcome::answered:
    case Outcome::failed:
      return result;
    case Outcome::nat_pmp_only:
      if (!fallback_) {
        result.error = "PCP: the router speaks only NAT-PMP";
        return result;
      }
      router_speaks_only_fallback_ = true;
      return fallback_->add(request);
    case Outcome::no_answer:
      // A router with neither answers nothing; one with NAT-PMP only may drop what it cannot read.
      if (fallback_) {
        auto fallback = fallback_->add(request);
        if (fallback.ok) router_speaks_only_fallback_ = true;
        if (fallback.ok) return fallback;
      }
      result.error = "PCP: no answer from the gateway";
      return result;
  }
  return result;
}

void PcpGateway::remove(nat::Protocol protocol, std::uint16_t internal_port, std::uint16_t external_port) {
  if (router_speaks_only_fallback_ && fallback_) {
    fallback_->remove(protocol, internal_port, external_port);
    return;
  }
  auto nonce = nonces_.find(std::make_pair(protocol, internal_port));
  auto gateway = default_gateway();
  GatewaySocket socket;
  std::string error;
  if (nonce == nonces_.end() || !gateway || !socket.open(*gateway, error)) return;
  // Lifetime 0 with the creating nonce deletes the mapping (RFC 6887 15).
  nat::PcpMapRequest map;
  map.client = socket.client;
  map.nonce = nonce->second;
  map.protocol = protocol;
  map.internal_port = internal_port;
  map.lifetime_seconds = 0;
  nat::MappingResult ignored;
  exchange(socket, map, ignored);
  nonces_.erase(nonce);
}

}  // namespace shoal::net
