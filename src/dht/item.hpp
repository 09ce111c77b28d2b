// BEP 44 items: immutable ones stored under SHA-1 of their bencoded value, mutable ones under SHA-1 of an
// Ed25519 public key and a salt, signed over "4:salt<len>:<salt>3:seqi<seq>e1:v<value>". Targets, the
// signature buffer, signing from a 32-byte seed and verification (OpenSSL EVP). Pure: no I/O, no state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dht/item_fields.hpp"
#include "dht/krpc.hpp"
#include "shoal/expected.hpp"

namespace shoal::dht {

using KeySeed = Digest<32>;  // the Ed25519 private key as RFC 8032 defines it: 32 random bytes

enum class ItemError {
  not_bencoded,       // the value is not one canonical bencoded value
  value_too_big,      // more than kMaxItemValue bytes
  salt_too_big,       // more than kMaxItemSalt bytes
  negative_seq,       // sequence numbers start at 0
  invalid_signature,  // the signature does not verify under the key
  crypto_failure,     // OpenSSL refused (out of memory, or a key it cannot use)
};
const char* to_string(ItemError e);

NodeId immutable_target(std::string_view value);
NodeId mutable_target(const PublicKey& key, std::string_view salt);
// The bytes a mutable item's signature covers; the salt part only when the salt is not empty.
std::string signature_buffer(std::string_view salt, std::int64_t seq, std::string_view value);

Expected<PublicKey, ItemError> public_key_of(const KeySeed& seed);
Expected<Signature, ItemError> sign(const KeySeed& seed, std::string_view salt, std::int64_t seq,
                                    std::string_view value);
bool verify(const PublicKey& key, const Signature& signature, std::string_view salt, std::int64_t seq,
            std::string_view value);

// The mutable part of an item: who signed it, which version, under which salt.
struct MutableInfo {
  PublicKey key;
  Signature signature;
  std::int64_t seq = 0;
  std::string salt;
  bool operator==(const MutableInfo&) const = default;
};

// An item as a node stores it and a client puts or gets it. Built only through the checked factories below.
struct Item {
  std::string value;  // exact bencoding of "v"
  std::optional<MutableInfo> mutable_info;

  NodeId target() const;
  bool operator==(const Item&) const = default;
};

// The value must be one canonical bencoded value of at most kMaxItemValue bytes.
Expected<Item, ItemError> make_immutable_item(std::string value);
// Signs value under the seed's key.
Expected<Item, ItemError> make_mutable_item(const KeySeed& seed, std::string value, std::string salt,
                                            std::int64_t seq);
// From fields someone sent: checks sizes and, for mutable items, the signature.
Expected<Item, ItemError> item_from_fields(const ItemFields& fields);
// The fields that carry the item in a put or a get response.
ItemFields to_fields(const Item& item);

// A bencoded string holding text (what the CLI stores): "5:hello" for "hello".
std::string bencoded_string(std::string_view text);

}  // namespace shoal::dht
