// PCP (Port Control Protocol, RFC 6887), the MAP opcode only: the bytes of a request asking the router to
// forward an external port to ours, and the checked reading of its answer. Pure: no sockets, no clock.
//
// A PCP server listens on the same UDP port (5351) as NAT-PMP (RFC 6886) and tells a NAT-PMP-only router
// by its answer: version 0 with result "unsupported version" (RFC 6887 Appendix A); read_map_response says
// so with PcpError::server_speaks_only_nat_pmp, and the caller falls back to NAT-PMP.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "nat/port_mapping.hpp"
#include "shoal/expected.hpp"

namespace shoal::nat {

inline constexpr std::uint16_t kPcpServerPort = 5351;
inline constexpr std::size_t kPcpMapMessageSize = 60;  // 24-byte common header + 36-byte MAP body

// PCP result codes (RFC 6887 7.4). Anything else a server sends is "unknown".
enum class PcpResult : std::uint8_t {
  success = 0,
  unsupported_version = 1,
  not_authorized = 2,
  malformed_request = 3,
  unsupported_opcode = 4,
  unsupported_option = 5,
  malformed_option = 6,
  network_failure = 7,
  no_resources = 8,
  unsupported_protocol = 9,
  user_exceeded_quota = 10,
  cannot_provide_external = 11,
  address_mismatch = 12,
  excessive_remote_peers = 13,
};
const char* to_string(PcpResult result);

// Why an answer is not a usable MAP answer.
enum class PcpError {
  too_short = 1,               // shorter than a MAP answer
  server_speaks_only_nat_pmp,  // version 0: a NAT-PMP router (fall back to NAT-PMP)
  wrong_version,               // neither 2 nor 0
  not_a_response,              // the R bit is clear: a request, perhaps our own echoed
  wrong_opcode,                // not MAP
  refused,                     // a result code other than success (see PcpMapResponse::result)
};
const std::error_category& pcp_category();
std::error_code make_error_code(PcpError e);

// IPv6 form of an address as PCP carries it (IPv4 as ::ffff:a.b.c.d).
using PcpAddress = std::array<std::uint8_t, 16>;
PcpAddress pcp_address_v4(std::array<std::uint8_t, 4> v4);
// "a.b.c.d" for an IPv4-mapped address, else the IPv6 text.
std::string to_string(const PcpAddress& address);

using PcpNonce = std::array<std::uint8_t, 12>;

struct PcpMapRequest {
  PcpAddress client{};  // our address as the router sees it (the source address of the request)
  PcpNonce nonce{};     // random, and the same for renewals and the deletion of this mapping
  Protocol protocol = Protocol::tcp;
  std::uint16_t internal_port = 0;
  std::uint16_t suggested_external_port = 0;  // 0: any
  std::uint32_t lifetime_seconds = 0;         // 0 deletes the mapping
};

std::array<std::uint8_t, kPcpMapMessageSize> encode_map_request(const PcpMapRequest& request);

struct PcpMapResponse {
  PcpResult result = PcpResult::success;
  std::uint8_t raw_result = 0;
  std::uint32_t lifetime_seconds = 0;
  std::uint32_t epoch_seconds = 0;  // the server's clock: a jump back means it lost its mappings
  PcpNonce nonce{};
  std::uint8_t protocol_number = 0;  // IANA: 6 TCP, 17 UDP
  std::uint16_t internal_port = 0;
  std::uint16_t external_port = 0;
  PcpAddress external_address{};
};

// Reads a MAP answer. A refusal (result code not success) comes back as PcpError::refused; `refused`, when
// given, then receives the answer so the caller can tell why.
Expected<PcpMapResponse, std::error_code> read_map_response(std::span<const std::uint8_t> bytes,
                                                            PcpMapResponse* refused = nullptr);

// Whether an answer belongs to this request (same nonce, protocol and internal port): a late answer to an
// earlier request, or one for another mapping, is not this one's.
bool answers(const PcpMapResponse& response, const PcpMapRequest& request);

}  // namespace shoal::nat

template <>
struct std::is_error_code_enum<shoal::nat::PcpError> : std::true_type {};
