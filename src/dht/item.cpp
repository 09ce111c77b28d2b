#include "dht/item.hpp"

#include <openssl/evp.h>

#include <memory>

#include "bencode/decoder.hpp"
#include "hash/sha.hpp"

namespace shoal::dht {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

PkeyPtr private_key(const KeySeed& seed) {
  return PkeyPtr(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.bytes.data(), seed.bytes.size()));
}

bool canonical_bencoding(std::string_view value) {
  return !value.empty() && bencode::decode(value).has_value();
}

}  // namespace

const char* to_string(ItemError e) {
  switch (e) {
    case ItemError::not_bencoded:
      return "value is not bencoded";
    case ItemError::value_too_big:
      return "value too big";
    case ItemError::salt_too_big:
      return "salt too big";
    case ItemError::negative_seq:
      return "negative sequence number";
    case ItemError::invalid_signature:
      return "invalid signature";
    case ItemError::crypto_failure:
      return "Ed25519 operation failed";
  }
  return "item error";
}

NodeId immutable_target(std::string_view value) {
  return hash::sha1(value);
}

NodeId mutable_target(const PublicKey& key, std::string_view salt) {
  hash::Sha1Hasher h;
  h.update(key.raw());
  h.update(salt);
  return h.finish();
}

std::string signature_buffer(std::string_view salt, std::int64_t seq, std::string_view value) {
  std::string out;
  if (!salt.empty()) {
    out += "4:salt";
    out += std::to_string(salt.size());
    out += ':';
    out += salt;
  }
  out += "3:seqi";
  out += std::to_string(seq);
  out += "e1:v";
  out += value;
  return out;
}

Expected<PublicKey, ItemError> public_key_of(const KeySeed& seed) {
  auto key = private_key(seed);
  PublicKey pk;
  std::size_t len = pk.bytes.size();
  if (!key || EVP_PKEY_get_raw_public_key(key.get(), pk.bytes.data(), &len) != 1 || len != pk.bytes.size())
    return unexpected(ItemError::crypto_failure);
  return pk;
}

Expected<Signature, ItemError> sign(const KeySeed& seed, std::string_view salt, std::int64_t seq,
                                    std::string_view value) {
  auto key = private_key(seed);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!key || !ctx) return unexpected(ItemError::crypto_failure);
  auto message = signature_buffer(salt, seq, value);
  Signature sig;
  std::size_t len = sig.bytes.size();
  // Ed25519 hashes internally: no digest is given, and the one-shot call is the only one it supports.
  if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig.bytes.data(), &len, bytes(message), message.size()) != 1 ||
      len != sig.bytes.size())
    return unexpected(ItemError::crypto_failure);
  return sig;
}

bool verify(const PublicKey& key, const Signature& signature, std::string_view salt, std::int64_t seq,
            std::string_view value) {
  PkeyPtr pk(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.bytes.data(), key.bytes.size()));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!pk || !ctx) return false;
  auto message = signature_buffer(salt, seq, value);
  return EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pk.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), signature.bytes.data(), signature.bytes.size(), bytes(message),
                          message.size()) == 1;
}

NodeId Item::target() const {
  return mutable_info ? mutable_target(mutable_info->key, mutable_info->salt) : immutable_target(value);
}

Expected<Item, ItemError> make_immutable_item(std::string value) {
  if (value.size() > kMaxItemValue) return unexpected(ItemError::value_too_big);
  if (!canonical_bencoding(value)) return unexpected(ItemError::not_bencoded);
  return Item{std::move(value), std::nullopt};
}

Expected<Item, ItemError> make_mutable_item(const KeySeed& seed, std::string value, std::string salt,
                                            std::int64_t seq) {
  if (value.size() > kMaxItemValue) return unexpected(ItemError::value_too_big);
  if (salt.size() > kMaxItemSalt) return unexpected(ItemError::salt_too_big);
  if (seq < 0) return unexpected(ItemError::negative_seq);
  if (!canonical_bencoding(value)) return unexpected(ItemError::not_bencoded);
  auto key = public_key_of(seed);
  if (!key) return unexpected(key.error());
  auto sig = sign(seed, salt, seq, value);
  if (!sig) return unexpected(sig.error());
  return Item{std::move(value), MutableInfo{*key, *sig, seq, std::move(salt)}};
}

Expected<Item, ItemError> item_from_fields(const ItemFields& fields) {
  if (!fields.value) return unexpected(ItemError::not_bencoded);
  const auto& value = *fields.value;
  if (value.size() > kMaxItemValue) return unexpected(ItemError::value_too_big);
  if (fields.salt.size() > kMaxItemSalt) return unexpected(ItemError::salt_too_big);
  if (!canonical_bencoding(value)) return unexpected(ItemError::not_bencoded);
  if (!fields.key) return Item{value, std::nullopt};
  if (!fields.signature || !fields.seq) return unexpected(ItemError::invalid_signature);
  if (*fields.seq < 0) return unexpected(ItemError::negative_seq);
  if (!verify(*fields.key, *fields.signature, fields.salt, *fields.seq, value))
    return unexpected(ItemError::invalid_signature);
  return Item{value, MutableInfo{*fields.key, *fields.signature, *fields.seq, fields.salt}};
}

ItemFields to_fields(const Item& item) {
  ItemFields f;
  f.value = item.value;
  if (item.mutable_info) {
    f.key = item.mutable_info->key;
    f.signature = item.mutable_info->signature;
    f.seq = item.mutable_info->seq;
    f.salt = item.mutable_info->salt;
  }
  return f;
}

std::string bencoded_string(std::string_view text) {
  return std::to_string(text.size()) + ":" + std::string(text);
}

}  // namespace shoal::dht
