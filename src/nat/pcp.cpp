#include "nat/pcp.hpp"

#include <arpa/inet.h>

#include <algorithm>

namespace shoal::nat {

namespace {

constexpr std::uint8_t kVersion = 2;
constexpr std::uint8_t kOpcodeMap = 1;
constexpr std::uint8_t kResponseBit = 0x80;
constexpr std::uint8_t kIanaTcp = 6;
constexpr std::uint8_t kIanaUdp = 17;

void put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
void put32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}
std::uint16_t get16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
std::uint32_t get32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

std::uint8_t iana_protocol(Protocol p) {
  return p == Protocol::tcp ? kIanaTcp : kIanaUdp;
}

class PcpCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "pcp"; }
  std::string message(int code) const override {
    switch (static_cast<PcpError>(code)) {
      case PcpError::too_short:
        return "PCP answer too short";
      case PcpError::server_speaks_only_nat_pmp:
        return "the router speaks NAT-PMP, not PCP";
      case PcpError::wrong_version:
        return "PCP answer of an unknown version";
      case PcpError::not_a_response:
        return "PCP message is not an answer";
      case PcpError::wrong_opcode:
        return "PCP answer to another request than MAP";
      case PcpError::refused:
        return "PCP mapping refused";
    }
    return "unknown PCP error";
  }
};

}  // namespace

const char* to_string(PcpResult result) {
  switch (result) {
    case PcpResult::success:
      return "success";
    case PcpResult::unsupported_version:
      return "unsupported version";
    case PcpResult::not_authorized:
      return "not authorized";
    case PcpResult::malformed_request:
      return "malformed request";
    case PcpResult::unsupported_opcode:
      return "unsupported opcode";
    case PcpResult::unsupported_option:
      return "unsupported option";
    case PcpResult::malformed_option:
      return "malformed option";
    case PcpResult::network_failure:
      return "network failure";
    case PcpResult::no_resources:
      return "no resources";
    case PcpResult::unsupported_protocol:
      return "unsupported protocol";
    case PcpResult::user_exceeded_quota:
      return "user exceeded quota";
    case PcpResult::cannot_provide_external:
      return "cannot provide external port";
    case PcpResult::address_mismatch:
      return "address mismatch";
    case PcpResult::excessive_remote_peers:
      return "excessive remote peers";
  }
  return "unknown result";
}

const std::error_category& pcp_category() {
  static const PcpCategory category;
  return category;
}

std::error_code make_error_code(PcpError e) {
  return {static_cast<int>(e), pcp_category()};
}

PcpAddress pcp_address_v4(std::array<std::uint8_t, 4> v4) {
  PcpAddress a{};
  a[10] = 0xff;
  a[11] = 0xff;
  std::copy(v4.begin(), v4.end(), a.begin() + 12);
  return a;
}

std::string to_string(const PcpAddress& address) {
  static constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char text[INET6_ADDRSTRLEN] = {};
  if (std::equal(std::begin(kMappedPrefix), std::end(kMappedPrefix), address.begin()))
    return inet_ntop(AF_INET, address.data() + 12, text, sizeof text) ? text : "";
  return inet_ntop(AF_INET6, address.data(), text, sizeof text) ? text : "";
}

std::array<std::uint8_t, kPcpMapMessageSize> encode_map_request(const PcpMapRequest& request) {
  std::array<std::uint8_t, kPcpMapMessageSize> m{};  // reserved fields and the suggested address stay zero
  m[0] = kVersion;
  m[1] = kOpcodeMap;
  put32(&m[4], request.lifetime_seconds);
  std::copy(request.client.begin(), request.client.end(), m.begin() + 8);
  std::copy(request.nonce.begin(), request.nonce.end(), m.begin() + 24);
  m[36] = iana_protocol(request.protocol);
  put16(&m[40], request.internal_port);
  put16(&m[42], request.suggested_external_port);
  // Suggested external address: all zeros means "any" for IPv6; for an IPv4 mapping RFC 6887 11.1 wants the
  // IPv4-mapped "any", ::ffff:0.0.0.0.
  if (std::equal(request.client.begin(), request.client.begin() + 12, pcp_address_v4({}).begin())) {
    m[54] = 0xff;
    m[55] = 0xff;
  }
  return m;
}

Expected<PcpMapResponse, std::error_code> read_map_response(std::span<const std::uint8_t> bytes,
                                                            PcpMapResponse* refused) {
  // A NAT-PMP router answers a PCP request with its own 8-byte "unsupported version" (RFC 6886 3.5).
  if (bytes.size() >= 2 && bytes[0] == 0)
    return unexpected(make_error_code(PcpError::server_speaks_only_nat_pmp));
  if (bytes.size() < kPcpMapMessageSize) return unexpected(make_error_code(PcpError::too_short));
  if (bytes[0] != kVersion) return unexpected(make_error_code(PcpError::wrong_version));
  if (!(bytes[1] & kResponseBit)) return unexpected(make_error_code(PcpError::not_a_response));
  if ((bytes[1] & ~kResponseBit) != kOpcodeMap) return unexpected(make_error_code(PcpError::wrong_opcode));
  PcpMapResponse r;
  r.raw_result = bytes[3];
  r.result = static_cast<PcpResult>(bytes[3]);
  r.lifetime_seconds = get32(&bytes[4]);
  r.epoch_seconds = get32(&bytes[8]);
  std::copy(bytes.begin() + 24, bytes.begin() + 36, r.nonce.begin());
  r.protocol_number = bytes[36];
  r.internal_port = get16(&bytes[40]);
  r.external_port = get16(&bytes[42]);
  std::copy(bytes.begin() + 44, bytes.begin() + 60, r.external_address.begin());
  // Options may follow the MAP body (RFC 6887 7.3); none are asked for, and they are not needed to read it.
  if (r.raw_result != 0) {
    if (refused) *refused = r;
    return unexpected(make_error_code(PcpError::refused));
  }
  return r;
}

bool answers(const PcpMapResponse& response, const PcpMapRequest& request) {
  return response.nonce == request.nonce && response.protocol_number == iana_protocol(request.protocol) &&
         response.internal_port == request.internal_port;
}

}  // namespace shoal::nat
