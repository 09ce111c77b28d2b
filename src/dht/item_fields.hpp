// BEP 44 fields as they travel in KRPC `get` and `put` messages (and in `get` responses): the value's raw
// bencoding and, for mutable items, the key, signature, sequence number, CAS and salt. Types and limits only;
// the codec is in krpc_item.cpp, the cryptography in item.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "shoal/digest.hpp"

namespace shoal::dht {

using PublicKey = Digest<32>;  // Ed25519 public key ("k")
using Signature = Digest<64>;  // Ed25519 signature ("sig")

inline constexpr std::size_t kMaxItemValue =
    1000;                                        // bytes of the bencoded "v" (BEP 44: nodes MAY refuse more)
inline constexpr std::size_t kMaxItemSalt = 64;  // BEP 44: the salt MUST NOT be longer

struct ItemFields {
  // "v": the exact bencoded bytes as they appeared (hashes and signatures are over these bytes).
  std::optional<std::string> value;
  std::optional<PublicKey> key;
  std::optional<Signature> signature;
  // put and get responses: the item's sequence number; get queries: "only send v if yours is newer".
  std::optional<std::int64_t> seq;
  std::optional<std::int64_t> cas;  // put: the sequence number the writer expects to replace
  std::string salt;                 // empty means none (BEP 44: the same as absent)

  bool is_mutable() const { return key.has_value(); }
  bool operator==(const ItemFields&) const = default;
};

}  // namespace shoal::dht
