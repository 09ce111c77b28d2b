#include <gtest/gtest.h>

#include "hash/sha.hpp"
#include "wire/extension_handshake.hpp"
#include "wire/ut_metadata.hpp"

namespace shoal::wire {
namespace {

TEST(ExtensionHandshake, RoundTrip) {
  ExtensionHandshake h;
  h.m = {{"ut_metadata", 2}, {"ut_pex", 1}};
  h.client = "Shoal 0.1.0";
  h.listen_port = 6881;
  h.reqq = 500;
  h.yourip = std::string("\x7f\x00\x00\x01", 4);
  h.metadata_size = 12345;
  auto back = decode_extension_handshake(encode_extension_handshake(h));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id_of("ut_metadata"), 2);
  EXPECT_EQ(back->id_of("ut_pex"), 1);
  EXPECT_FALSE(back->id_of("lt_donthave"));
  EXPECT_EQ(back->client, "Shoal 0.1.0");
  EXPECT_EQ(back->listen_port, 6881);
  EXPECT_EQ(back->reqq, 500u);
  EXPECT_EQ(back->metadata_size, 12345);
}

TEST(ExtensionHandshake, RealWorldLibtorrentShape) {
  using namespace std::string_literals;  // the payload holds NUL bytes
  std::string payload =
      "d12:complete_agoi-1e1:md11:lt_donthavei7e10:share_modei8e11:upload_onlyi3e12:ut_holepunchi4e11:ut_"
      "metadatai2e"
      "6:ut_pexi1ee13:metadata_sizei4235e4:reqqi500e11:upload_onlyi0e1:v18:libTorrent "
      "2.0.8.06:yourip4:\x7f\x00\x00\x01"
      "e"s;
  auto h = decode_extension_handshake(payload);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->id_of("ut_metadata"), 2);
  EXPECT_EQ(h->metadata_size, 4235);
  EXPECT_EQ(h->client, "libTorrent 2.0.8.0");
  EXPECT_EQ(h->yourip->size(), 4u);
}

TEST(ExtensionHandshake, Rejects) {
  EXPECT_EQ(decode_extension_handshake("not bencode").error().code, Errc::bad_extension_payload);
  EXPECT_EQ(decode_extension_handshake("le").error().code, Errc::bad_extension_payload);
  EXPECT_EQ(decode_extension_handshake("d1:mi1ee").error().code, Errc::bad_extension_payload);
  EXPECT_EQ(decode_extension_handshake("d1:md1:ai300eee").error().code, Errc::bad_extension_payload);
  EXPECT_EQ(decode_extension_handshake("d13:metadata_sizei-5ee").error().code, Errc::bad_extension_payload);
  std::string many = "d1:md";
  std::vector<std::string> names;
  for (int i = 0; i < 100; ++i) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "n%03d", i);
    names.emplace_back(buf);
  }
  for (const auto& n : names)
    many += "4:" + n + "i1e";
  many += "ee";
  EXPECT_EQ(decode_extension_handshake(many).error().code, Errc::too_many_entries);
}

TEST(UtMetadata, MessagesRoundTrip) {
  MetadataMessage request;
  request.type = MetadataMessage::Type::request;
  request.piece = 3;
  auto bytes = encode_metadata_message(request);
  auto back = decode_metadata_message({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  ASSERT_TRUE(back);
  EXPECT_EQ(back->type, MetadataMessage::Type::request);
  EXPECT_EQ(back->piece, 3u);

  std::vector<std::uint8_t> data(100, 7);
  MetadataMessage d;
  d.type = MetadataMessage::Type::data;
  d.piece = 0;
  d.total_size = 100;
  d.data = data;
  bytes = encode_metadata_message(d);
  back = decode_metadata_message({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  ASSERT_TRUE(back);
  EXPECT_EQ(back->total_size, 100);
  EXPECT_EQ(back->data.size(), 100u);
}

TEST(UtMetadata, RejectsMalformed) {
  auto decode = [](std::string s) {
    return decode_metadata_message({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
  };
  EXPECT_FALSE(decode("garbage"));
  EXPECT_FALSE(decode("d8:msg_typei7e5:piecei0ee"));
  EXPECT_FALSE(decode("d8:msg_typei0e5:piecei-1ee"));
  EXPECT_FALSE(decode("d8:msg_typei0e5:piecei0eetrailing"));
  EXPECT_FALSE(decode("d8:msg_typei1e5:piecei0e10:total_sizei5ee" + std::string(16385, 'x')));
}

TEST(MetadataAssembler, AssemblesAndVerifies) {
  std::string metadata(40000, 'm');
  auto hash = hash::sha1(metadata);
  auto a = MetadataAssembler::create(static_cast<std::int64_t>(metadata.size()), hash);
  ASSERT_TRUE(a);
  std::vector<std::uint32_t> asked;
  while (auto p = a->next_request())
    asked.push_back(*p);
  EXPECT_EQ(asked, (std::vector<std::uint32_t>{0, 1, 2}));
  auto piece = [&](std::uint32_t i) {
    auto off = i * 16384u;
    auto len = std::min<std::size_t>(16384, metadata.size() - off);
    return std::span(reinterpret_cast<const std::uint8_t*>(metadata.data()) + off, len);
  };
  EXPECT_EQ(*a->on_data(0, piece(0)), false);
  EXPECT_EQ(*a->on_data(2, piece(2)), false);
  EXPECT_FALSE(a->on_data(1, piece(2)));  // wrong size for piece 1
  EXPECT_EQ(*a->on_data(1, piece(1)), true);
  EXPECT_EQ(a->metadata(), metadata);
}

TEST(MetadataAssembler, AV2InfoHashIsTheTruncatedSha256) {
  std::string metadata(100, 'v');
  auto full = hash::sha256(metadata);
  Sha1Digest truncated;
  std::copy_n(full.bytes.begin(), 20, truncated.bytes.begin());
  auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(metadata.data()), metadata.size());
  auto a = MetadataAssembler::create(100, truncated);
  ASSERT_TRUE(a);
  EXPECT_EQ(*a->on_data(0, bytes), true);
  // The last 20 bytes of the SHA-256 name nothing.
  Sha1Digest tail;
  std::copy_n(full.bytes.begin() + 12, 20, tail.bytes.begin());
  auto b = MetadataAssembler::create(100, tail);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->on_data(0, bytes).error().code, Errc::metadata_mismatch);
}

TEST(MetadataAssembler, WrongHashResetsAndAbsurdSizesAreRefused) {
  std::string metadata(100, 'x');
  auto a = MetadataAssembler::create(100, hash::sha1("something else"));
  ASSERT_TRUE(a);
  auto r = a->on_data(0, {reinterpret_cast<const std::uint8_t*>(metadata.data()), metadata.size()});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::metadata_mismatch);
  EXPECT_EQ(a->next_request(), 0u);  // can be fetched again from someone else
  EXPECT_EQ(MetadataAssembler::create(kMaxMetadataSize + 1, {}).error().code, Errc::metadata_too_large);
  EXPECT_EQ(MetadataAssembler::create(0, {}).error().code, Errc::metadata_too_large);
  EXPECT_EQ(MetadataAssembler::create(-5, {}).error().code, Errc::metadata_too_large);
}

}  // namespace
}  // namespace shoal::wire
