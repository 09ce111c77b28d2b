// The BEP 44 part of the KRPC codec: get and put queries, get responses, and every malformed field.
#include <gtest/gtest.h>

#include "bencode/value.hpp"
#include "dht/krpc.hpp"

namespace shoal::dht {
namespace {

using bencode::Value;

const std::string kId(20, 'i');
const std::string kKey(32, 'k');
const std::string kSig(64, 's');

// A put query with the arguments of a valid mutable put, changed by `edit`.
std::string put_packet(const std::function<void(Value::Dict&)>& edit) {
  Value::Dict a;
  a["id"] = kId;
  a["token"] = "tok";
  a["v"] = "hello";
  a["k"] = kKey;
  a["sig"] = kSig;
  a["seq"] = 4;
  edit(a);
  Value::Dict d;
  d["t"] = "tt";
  d["y"] = "q";
  d["q"] = "put";
  d["a"] = std::move(a);
  return bencode::encode(Value(std::move(d)));
}

// A get response with a valid mutable item, changed by `edit`.
std::string response_packet(const std::function<void(Value::Dict&)>& edit) {
  Value::Dict r;
  r["id"] = kId;
  r["token"] = "tok";
  r["v"] = "hello";
  r["k"] = kKey;
  r["sig"] = kSig;
  r["seq"] = 4;
  edit(r);
  Value::Dict d;
  d["t"] = "tt";
  d["y"] = "r";
  d["r"] = std::move(r);
  return bencode::encode(Value(std::move(d)));
}

TEST(KrpcItem, ValidMutablePutDecodes) {
  auto m = decode(put_packet([](Value::Dict& a) {
    a["salt"] = "pepper";
    a["cas"] = 3;
  }));
  ASSERT_TRUE(m);
  const auto& q = std::get<Query>(*m);
  EXPECT_EQ(q.method, Method::put);
  EXPECT_EQ(q.token, "tok");
  EXPECT_EQ(q.item.value, "5:hello");
  EXPECT_EQ(q.item.key->raw(), kKey);
  EXPECT_EQ(q.item.signature->raw(), kSig);
  EXPECT_EQ(q.item.seq, 4);
  EXPECT_EQ(q.item.cas, 3);
  EXPECT_EQ(q.item.salt, "pepper");
}

TEST(KrpcItem, ValueKeepsItsExactBytes) {
  // v is a dictionary inside the arguments: what comes out is the bencoding as it was in the packet.
  std::string packet = "d1:ad2:id20:" + kId + "5:token3:tok1:vd1:ali1ei2ee1:b1:cee1:q3:put1:t2:tt1:y1:qe";
  auto m = decode(packet);
  ASSERT_TRUE(m) << m.error().detail;
  const auto& q = std::get<Query>(*m);
  EXPECT_EQ(q.item.value, "d1:ali1ei2ee1:b1:ce");
  EXPECT_FALSE(q.item.is_mutable());
  // And it goes out the same way.
  EXPECT_EQ(encode(q), packet);
}

TEST(KrpcItem, GetAndPutRoundTrip) {
  Query get;
  get.transaction = "g1";
  get.method = Method::get;
  get.sender = *NodeId::from_raw(kId);
  get.target.bytes.fill(0x42);
  get.item.seq = 9;
  auto gb = std::get<Query>(*decode(encode(get)));
  EXPECT_EQ(gb.method, Method::get);
  EXPECT_EQ(gb.target, get.target);
  EXPECT_EQ(gb.item.seq, 9);

  Query put = get;
  put.method = Method::put;
  put.token = "write";
  put.item.value = "li1ei-2e3:abce";
  put.item.key = *PublicKey::from_raw(kKey);
  put.item.signature = *Signature::from_raw(kSig);
  put.item.seq = 10;
  put.item.cas = 9;
  put.item.salt = "s";
  auto pb = std::get<Query>(*decode(encode(put)));
  EXPECT_EQ(pb.item, put.item);
  EXPECT_EQ(pb.token, "write");

  Query immutable = put;
  immutable.item = {};
  immutable.item.value = "i7e";
  EXPECT_EQ(std::get<Query>(*decode(encode(immutable))).item, immutable.item);

  Response r;
  r.transaction = "g1";
  r.sender = get.sender;
  r.token = "tok";
  r.item = put.item;
  r.item.cas.reset();
  r.item.salt.clear();  // neither travels in responses
  auto rb = std::get<Response>(*decode(encode(r)));
  EXPECT_EQ(rb.item, r.item);
  EXPECT_EQ(rb.token, "tok");

  Response seq_only = r;
  seq_only.item = {};
  seq_only.item.seq = 12;
  EXPECT_EQ(std::get<Response>(*decode(encode(seq_only))).item.seq, 12);
  EXPECT_FALSE(std::get<Response>(*decode(encode(seq_only))).item.value);
}

struct BadPut {
  const char* name;
  std::function<void(Value::Dict&)> edit;
  ErrorCode code;
};

TEST(KrpcItem, EveryBadPutArgumentGetsItsErrorCode) {
  const std::vector<BadPut> cases = {
      {"no token", [](Value::Dict& a) { a.erase("token"); }, ErrorCode::protocol},
      {"token not a string", [](Value::Dict& a) { a["token"] = 5; }, ErrorCode::protocol},
      {"token too long", [](Value::Dict& a) { a["token"] = std::string(kMaxTokenLength + 1, 't'); },
       ErrorCode::protocol},
      {"no v", [](Value::Dict& a) { a.erase("v"); }, ErrorCode::protocol},
      {"v too big", [](Value::Dict& a) { a["v"] = std::string(997, 'x'); }, ErrorCode::value_too_big},
      {"salt not a string", [](Value::Dict& a) { a["salt"] = 1; }, ErrorCode::protocol},
      {"salt too big", [](Value::Dict& a) { a["salt"] = std::string(65, 's'); }, ErrorCode::salt_too_big},
      {"k too short", [](Value::Dict& a) { a["k"] = std::string(31, 'k'); }, ErrorCode::protocol},
      {"k too long", [](Value::Dict& a) { a["k"] = std::string(33, 'k'); }, ErrorCode::protocol},
      {"k not a string", [](Value::Dict& a) { a["k"] = 1; }, ErrorCode::protocol},
      {"sig too short", [](Value::Dict& a) { a["sig"] = std::string(63, 's'); }, ErrorCode::protocol},
      {"sig not a string", [](Value::Dict& a) { a["sig"] = Value::List{}; }, ErrorCode::protocol},
      {"seq not an integer", [](Value::Dict& a) { a["seq"] = "4"; }, ErrorCode::protocol},
      {"seq negative", [](Value::Dict& a) { a["seq"] = -1; }, ErrorCode::protocol},
      {"cas not an integer", [](Value::Dict& a) { a["cas"] = "3"; }, ErrorCode::protocol},
      {"k without sig", [](Value::Dict& a) { a.erase("sig"); }, ErrorCode::protocol},
      {"k without seq", [](Value::Dict& a) { a.erase("seq"); }, ErrorCode::protocol},
      {"sig without k", [](Value::Dict& a) { a.erase("k"); }, ErrorCode::protocol},
      {"seq without k",
       [](Value::Dict& a) {
         a.erase("k");
         a.erase("sig");
       },
       ErrorCode::protocol},
      {"salt without k",
       [](Value::Dict& a) {
         a.erase("k");
         a.erase("sig");
         a.erase("seq");
         a["salt"] = "s";
       },
       ErrorCode::protocol},
      {"cas without k",
       [](Value::Dict& a) {
         a.erase("k");
         a.erase("sig");
         a.erase("seq");
         a["cas"] = 1;
       },
       ErrorCode::protocol},
  };
  for (const auto& c : cases) {
    auto m = decode(put_packet(c.edit));
    ASSERT_FALSE(m) << c.name;
    EXPECT_EQ(m.error().code, c.code) << c.name;
    EXPECT_TRUE(m.error().answerable) << c.name;
    EXPECT_EQ(m.error().transaction, "tt") << c.name;
  }
  // The limits themselves are allowed.
  EXPECT_TRUE(decode(put_packet([](Value::Dict& a) { a["v"] = std::string(996, 'x'); })));
  EXPECT_TRUE(decode(put_packet([](Value::Dict& a) { a["salt"] = std::string(64, 's'); })));
  EXPECT_TRUE(decode(put_packet([](Value::Dict& a) { a["seq"] = 0; })));
}

TEST(KrpcItem, BadGetQueries) {
  auto get = [](const std::string& args) {
    return decode("d1:ad2:id20:" + kId + args + "e1:q3:get1:t2:tt1:y1:qe");
  };
  EXPECT_TRUE(get("3:seqi1e6:target20:" + std::string(20, 'x')));
  auto no_target = get("");
  ASSERT_FALSE(no_target);
  EXPECT_EQ(no_target.error().code, ErrorCode::protocol);
  EXPECT_TRUE(no_target.error().answerable);
  EXPECT_FALSE(get("6:target19:" + std::string(19, 'x')));
  auto bad_seq = get("3:seq1:16:target20:" + std::string(20, 'x'));
  ASSERT_FALSE(bad_seq);
  EXPECT_EQ(bad_seq.error().code, ErrorCode::protocol);
  EXPECT_TRUE(bad_seq.error().answerable);
}

TEST(KrpcItem, BadItemResponsesAreRefused) {
  const std::vector<std::pair<const char*, std::function<void(Value::Dict&)>>> cases = {
      {"k too short", [](Value::Dict& r) { r["k"] = std::string(31, 'k'); }},
      {"sig too long", [](Value::Dict& r) { r["sig"] = std::string(65, 's'); }},
      {"seq not an integer", [](Value::Dict& r) { r["seq"] = "4"; }},
      {"k without v", [](Value::Dict& r) { r.erase("v"); }},
      {"k without sig", [](Value::Dict& r) { r.erase("sig"); }},
      {"k without seq", [](Value::Dict& r) { r.erase("seq"); }},
      {"sig without k", [](Value::Dict& r) { r.erase("k"); }},
      {"v too big", [](Value::Dict& r) { r["v"] = std::string(997, 'x'); }},
  };
  for (const auto& [name, edit] : cases)
    EXPECT_FALSE(decode(response_packet(edit))) << name;
  EXPECT_TRUE(decode(response_packet([](Value::Dict&) {})));
  // Immutable answers carry v alone; "I have nothing newer" carries seq alone.
  EXPECT_TRUE(decode(response_packet([](Value::Dict& r) {
    r.erase("k");
    r.erase("sig");
    r.erase("seq");
  })));
  EXPECT_TRUE(decode(response_packet([](Value::Dict& r) {
    r.erase("k");
    r.erase("sig");
    r.erase("v");
  })));
}

TEST(KrpcItem, ErrorCodesOfBep44TravelAsIs) {
  for (int code : {205, 206, 207, 301, 302}) {
    auto e = decode(encode(ErrorReply{"tt", code, "x"}));
    ASSERT_TRUE(e);
    EXPECT_EQ(std::get<ErrorReply>(*e).code, code);
  }
  EXPECT_STREQ(method_name(Method::get), "get");
  EXPECT_STREQ(method_name(Method::put), "put");
}

}  // namespace
}  // namespace shoal::dht
