#include "dht/krpc.hpp"

#include <gtest/gtest.h>

namespace shoal::dht {
namespace {

NodeId id_of(char c) {
  return *NodeId::from_raw(std::string(20, c));
}

TEST(Krpc, DecodesTheBep5Examples) {
  auto ping = decode("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe");
  ASSERT_TRUE(ping);
  const auto& q = std::get<Query>(*ping);
  EXPECT_EQ(q.method, Method::ping);
  EXPECT_EQ(q.transaction, "aa");
  EXPECT_EQ(q.sender.raw(), "abcdefghij0123456789");

  auto announce = decode(
      "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:"
      "token8:"
      "aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe");
  ASSERT_TRUE(announce);
  const auto& a = std::get<Query>(*announce);
  EXPECT_EQ(a.method, Method::announce_peer);
  EXPECT_TRUE(a.implied_port);
  EXPECT_EQ(a.port, 6881);
  EXPECT_EQ(a.token, "aoeusnth");
  EXPECT_EQ(a.target.raw(), "mnopqrstuvwxyz123456");

  auto values =
      decode("d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re");
  ASSERT_TRUE(values);
  const auto& r = std::get<Response>(*values);
  EXPECT_EQ(r.values.size(), 2u);
  EXPECT_EQ(r.token, "aoeusnth");

  auto error = decode("d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee");
  ASSERT_TRUE(error);
  EXPECT_EQ(std::get<ErrorReply>(*error).code, 201);
  EXPECT_EQ(std::get<ErrorReply>(*error).message, "A Generic Error Ocurred");
}

TEST(Krpc, RoundTripsEveryMessage) {
  Query q;
  q.transaction = "xy";
  q.method = Method::get_peers;
  q.sender = id_of('a');
  q.target = id_of('b');
  q.want4 = q.want6 = true;
  q.read_only = true;
  auto back = std::get<Query>(*decode(encode(q, "SH01")));
  EXPECT_EQ(back.target, q.target);
  EXPECT_TRUE(back.want4 && back.want6 && back.read_only);

  Response r;
  r.transaction = "xy";
  r.sender = id_of('c');
  r.nodes = {{id_of('d'), *Endpoint::parse("10.0.0.1:6881")},
             {id_of('e'), *Endpoint::parse("[2001:db8::1]:1")}};
  r.values = {*Endpoint::parse("10.0.0.2:80")};
  r.token = "tok";
  r.your_ip = *Endpoint::parse("1.2.3.4:5");
  r.samples = {id_of('f'), id_of('g')};
  r.num = 7;
  r.interval = 21600;
  auto rb = std::get<Response>(*decode(encode(r)));
  EXPECT_EQ(rb.nodes, r.nodes);
  EXPECT_EQ(rb.values, r.values);
  EXPECT_EQ(rb.token, r.token);
  EXPECT_EQ(rb.your_ip, r.your_ip);
  EXPECT_EQ(rb.samples, r.samples);
  EXPECT_EQ(rb.num, 7);

  ErrorReply e{"xy", 204, "Method Unknown"};
  auto eb = std::get<ErrorReply>(*decode(encode(e)));
  EXPECT_EQ(eb.code, 204);
}

TEST(Krpc, BadQueriesSayWhichErrorToSend) {
  auto unknown = decode("d1:ad2:id20:abcdefghij0123456789e1:q4:fly!1:t2:aa1:y1:qe");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::method_unknown);
  EXPECT_TRUE(unknown.error().answerable);
  EXPECT_EQ(unknown.error().transaction, "aa");

  auto short_id = decode("d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe");
  ASSERT_FALSE(short_id);
  EXPECT_EQ(short_id.error().code, ErrorCode::protocol);
  EXPECT_TRUE(short_id.error().answerable);

  auto no_token = decode(
      "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti1ee1:q13:"
      "announce_peer1:t2:aa1:y1:qe");
  ASSERT_FALSE(no_token);
  EXPECT_TRUE(no_token.error().answerable);

  auto bad_port = decode(
      "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti0e5:token1:x"
      "e1:q13:announce_peer1:t2:aa1:y1:qe");
  EXPECT_FALSE(bad_port);

  EXPECT_FALSE(decode("garbage"));
  EXPECT_FALSE(decode("de").error().answerable);  // no transaction id: nothing to answer
  EXPECT_FALSE(decode("d1:t" + std::to_string(kMaxTransactionId + 1) + ":" +
                      std::string(kMaxTransactionId + 1, 'x') + "1:y1:qe"));
  EXPECT_FALSE(decode("d1:rd2:id20:abcdefghij01234567895:nodes5:abcdee1:t2:aa1:y1:re"));  // not 26 per node
  EXPECT_FALSE(decode(std::string(5000, 'x')));
}

}  // namespace
}  // namespace shoal::dht

namespace shoal::dht {
namespace {

TEST(Krpc, CarriesScrapeFields) {
  Query q;
  q.transaction = "s1";
  q.method = Method::get_peers;
  q.sender = *NodeId::from_raw(std::string(20, 'a'));
  q.scrape = q.noseed = true;
  auto back = std::get<Query>(*decode(encode(q)));
  EXPECT_TRUE(back.scrape && back.noseed);
  q.method = Method::announce_peer;
  q.port = 1;
  q.token = "tok";
  q.seed = true;
  EXPECT_TRUE(std::get<Query>(*decode(encode(q))).seed);

  Response r;
  r.transaction = "s1";
  r.sender = q.sender;
  r.bloom_seeds = std::string(kScrapeBloomSize, '\x01');
  r.bloom_peers = std::string(kScrapeBloomSize, '\x02');
  auto reply = std::get<Response>(*decode(encode(r)));
  EXPECT_EQ(reply.bloom_seeds, r.bloom_seeds);
  EXPECT_EQ(reply.bloom_peers, r.bloom_peers);
  r.bloom_peers = std::string(100, '\x02');  // a filter of the wrong size is a broken reply
  auto bad = decode(encode(r));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().transaction, "s1");
}

}  // namespace
}  // namespace shoal::dht
