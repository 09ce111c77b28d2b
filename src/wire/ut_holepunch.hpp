// BEP 55 ut_holepunch: a peer behind NAT (the initiator) asks a peer it is connected to (the relay) to put it
// in touch with another peer the relay is connected to (the target). The relay sends `connect` to both,
// naming the other, and both dial each other at once, so that each NAT sees an outgoing connection and lets
// the other's packets in.
//
// Payload (binary, not bencoded):  msg_type u8 | addr_type u8 | addr (4 or 16 bytes) | port u16 | err_code
// u32 all integers big-endian; err_code is 0 except in `error`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "shoal/endpoint.hpp"
#include "shoal/expected.hpp"
#include "wire/wire_error.hpp"

namespace shoal::wire {

inline constexpr std::string_view kUtHolepunchName = "ut_holepunch";

enum class HolepunchType : std::uint8_t {
  rendezvous = 0x00,  // initiator -> relay: connect me to this endpoint
  connect = 0x01,     // relay -> both: dial this endpoint now
  error = 0x02,       // relay -> initiator: the rendezvous to this endpoint failed, see the code
};

// BEP 55 error codes, sent by the relay in `error`.
enum class HolepunchError : std::uint32_t {
  none = 0,
  no_such_peer = 0x01,   // the target endpoint is invalid
  not_connected = 0x02,  // the relay is not connected to the target
  no_support = 0x03,     // the target does not speak ut_holepunch
  no_self = 0x04,        // the target endpoint is the relay's own
};

const char* to_string(HolepunchError code);

struct HolepunchMessage {
  HolepunchType type = HolepunchType::rendezvous;
  Endpoint endpoint;  // the target (rendezvous, error) or the peer to dial (connect)
  HolepunchError error = HolepunchError::none;
  bool operator==(const HolepunchMessage&) const = default;
};

// 12 bytes for IPv4, 24 for IPv6.
std::string encode_holepunch(const HolepunchMessage& message);
// Errors: shorter than its address type needs, longer (trailing bytes), an unknown msg_type or addr_type, an
// error code outside BEP 55's in an `error` message, or a non-zero code in another type. A zero port is not a
// decoding error: the relay answers it with no_such_peer.
Expected<HolepunchMessage, WireError> decode_holepunch(std::string_view payload);

}  // namespace shoal::wire
