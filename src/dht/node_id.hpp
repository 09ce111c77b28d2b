// BEP 42: node ids bound to the node's external IP address, so one machine cannot place itself at will in the
// id space (Sybil attacks on a target). Derivation for our own id and the check applied to others; addresses
// in local and private ranges are exempt, as the BEP says.
#pragma once

#include <array>
#include <cstdint>

#include "dht/krpc.hpp"

namespace shoal::dht {

std::uint32_t crc32c(const std::uint8_t* data, std::size_t size);

// `r` is the random byte that ends up as the id's last byte; `random` fills the free bits.
NodeId node_id_for(const Endpoint& external_ip, std::uint8_t r, const std::array<std::uint8_t, 20>& random);

// True when the id is one the address could have derived, or the address is local/private (exempt).
bool node_id_valid(const NodeId& id, const Endpoint& address);
bool exempt_address(const Endpoint& address);

}  // namespace shoal::dht
