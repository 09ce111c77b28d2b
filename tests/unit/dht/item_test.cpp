#include "dht/item.hpp"

#include <gtest/gtest.h>

namespace shoal::dht {
namespace {

// BEP 44 test vectors (its private key is in the expanded 64-byte form, which OpenSSL does not take: the
// vectors are checked through verification, signing through round trips with seeds of our own).
const auto kVectorKey =
    *PublicKey::from_hex("77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548");
const std::string kHelloWorld = "12:Hello World!";

KeySeed seed_of(std::uint8_t fill) {
  KeySeed s;
  s.bytes.fill(fill);
  return s;
}

TEST(Item, TargetsMatchTheBep44Vectors) {
  EXPECT_EQ(mutable_target(kVectorKey, "").to_hex(), "4a533d47ec9c7d95b1ad75f576cffc641853b750");
  EXPECT_EQ(mutable_target(kVectorKey, "foobar").to_hex(), "411eba73b6f087ca51a3795d9c8c938d365e32c1");
  EXPECT_EQ(immutable_target(kHelloWorld).to_hex(), "e5f96f6f38320f0f33959cb4d3d656452117aadb");
}

TEST(Item, SignatureBufferOmitsAnEmptySalt) {
  EXPECT_EQ(signature_buffer("", 1, kHelloWorld), "3:seqi1e1:v12:Hello World!");
  EXPECT_EQ(signature_buffer("foobar", 1, kHelloWorld), "4:salt6:foobar3:seqi1e1:v12:Hello World!");
  EXPECT_EQ(signature_buffer("", 0, "i-5e"), "3:seqi0e1:vi-5e");
}

TEST(Item, Bep44SignaturesVerify) {
  auto sig1 = *Signature::from_hex(
      "305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff"
      "1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01");
  auto sig2 = *Signature::from_hex(
      "6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17d"
      "df9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08");
  EXPECT_TRUE(verify(kVectorKey, sig1, "", 1, kHelloWorld));
  EXPECT_TRUE(verify(kVectorKey, sig2, "foobar", 1, kHelloWorld));
  // Any change to what was signed breaks it.
  EXPECT_FALSE(verify(kVectorKey, sig1, "", 2, kHelloWorld));
  EXPECT_FALSE(verify(kVectorKey, sig1, "foobar", 1, kHelloWorld));
  EXPECT_FALSE(verify(kVectorKey, sig2, "", 1, kHelloWorld));
  EXPECT_FALSE(verify(kVectorKey, sig1, "", 1, "12:Hello World?"));
  auto flipped = sig1;
  flipped.bytes[10] ^= 1;
  EXPECT_FALSE(verify(kVectorKey, flipped, "", 1, kHelloWorld));
}

TEST(Item, Rfc8032KeyFromSeed) {
  // RFC 8032 section 7.1, test 1: the seed and the public key it gives.
  auto seed = *KeySeed::from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  EXPECT_EQ(public_key_of(seed)->to_hex(),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
}

TEST(Item, SignedItemsVerifyAndCarryTheirTarget) {
  auto item = make_mutable_item(seed_of(7), "5:hello", "salt", 42);
  ASSERT_TRUE(item);
  ASSERT_TRUE(item->mutable_info);
  const auto& m = *item->mutable_info;
  EXPECT_EQ(m.key, *public_key_of(seed_of(7)));
  EXPECT_TRUE(verify(m.key, m.signature, "salt", 42, "5:hello"));
  EXPECT_EQ(item->target(), mutable_target(m.key, "salt"));
  auto back = item_from_fields(to_fields(*item));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, *item);

  auto plain = make_immutable_item("li1ei2ee");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->target(), immutable_target("li1ei2ee"));
  EXPECT_EQ(*item_from_fields(to_fields(*plain)), *plain);
}

TEST(Item, BadItemsAreRefusedWithTheirReason) {
  EXPECT_EQ(make_immutable_item("5:hell").error(), ItemError::not_bencoded);
  EXPECT_EQ(make_immutable_item("").error(), ItemError::not_bencoded);
  EXPECT_EQ(make_immutable_item("i01e").error(), ItemError::not_bencoded);  // not canonical
  EXPECT_EQ(make_immutable_item("d1:bi1e1:ai2ee").error(), ItemError::not_bencoded);
  EXPECT_EQ(make_immutable_item(bencoded_string(std::string(997, 'x'))).error(), ItemError::value_too_big);
  EXPECT_TRUE(make_immutable_item(bencoded_string(std::string(996, 'x'))));  // 1000 bytes exactly
  EXPECT_EQ(make_mutable_item(seed_of(1), "1:x", std::string(65, 's'), 1).error(), ItemError::salt_too_big);
  EXPECT_TRUE(make_mutable_item(seed_of(1), "1:x", std::string(64, 's'), 1));
  EXPECT_EQ(make_mutable_item(seed_of(1), "1:x", "", -1).error(), ItemError::negative_seq);

  auto fields = to_fields(*make_mutable_item(seed_of(1), "1:x", "a", 3));
  auto wrong_seq = fields;
  wrong_seq.seq = 4;
  EXPECT_EQ(item_from_fields(wrong_seq).error(), ItemError::invalid_signature);
  auto wrong_salt = fields;
  wrong_salt.salt = "b";
  EXPECT_EQ(item_from_fields(wrong_salt).error(), ItemError::invalid_signature);
  auto wrong_key = fields;
  wrong_key.key = *public_key_of(seed_of(2));
  EXPECT_EQ(item_from_fields(wrong_key).error(), ItemError::invalid_signature);
  auto no_sig = fields;
  no_sig.signature.reset();
  EXPECT_EQ(item_from_fields(no_sig).error(), ItemError::invalid_signature);
  ItemFields no_value;
  EXPECT_EQ(item_from_fields(no_value).error(), ItemError::not_bencoded);
}

TEST(Item, BencodedStrings) {
  EXPECT_EQ(bencoded_string("hello"), "5:hello");
  EXPECT_EQ(bencoded_string(""), "0:");
}

}  // namespace
}  // namespace shoal::dht
