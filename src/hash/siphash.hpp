// SipHash-2-4 (Aumasson & Bernstein): a fast keyed hash for short inputs. Shoal uses it where a secret key
// must make outputs unpredictable to a remote party (UDP tracker connection ids, DHT tokens), not for
// integrity of data at rest (that is SHA-1/SHA-256).
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace shoal::hash {

using SipKey = std::array<std::uint64_t, 2>;

std::uint64_t siphash24(const SipKey& key, std::span<const std::uint8_t> data);

}  // namespace shoal::hash
