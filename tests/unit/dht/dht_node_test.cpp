#include "dht/dht_node.hpp"

#include <gtest/gtest.h>

#include "../../sim/dht_network.hpp"

namespace shoal::dht {
namespace {

using namespace std::chrono_literals;

TEST(DhtNode, AnswersQueriesAndRefusesBadTokens) {
  NodeId id{};
  id.bytes[0] = 1;
  DhtNode node(id, {}, 7);
  Clock::time_point now{std::chrono::hours(5)};
  std::vector<Outgoing> out;
  auto from = *Endpoint::parse("10.0.0.9:4000");
  Query ping;
  ping.transaction = "t1";
  ping.sender.bytes[0] = 2;
  node.on_packet(encode(ping), from, now, out);
  ASSERT_EQ(out.size(), 1u);
  auto reply = std::get<Response>(*decode(out[0].packet));
  EXPECT_EQ(reply.transaction, "t1");
  EXPECT_EQ(reply.sender, id);
  EXPECT_EQ(reply.your_ip, from);

  Query gp = ping;
  gp.method = Method::get_peers;
  gp.target.bytes[0] = 9;
  out.clear();
  node.on_packet(encode(gp), from, now, out);
  auto token = std::get<Response>(*decode(out[0].packet)).token;
  ASSERT_TRUE(token);

  Query ann = gp;
  ann.method = Method::announce_peer;
  ann.port = 5555;
  ann.token = "forged";
  out.clear();
  node.on_packet(encode(ann), from, now, out);
  EXPECT_EQ(std::get<ErrorReply>(*decode(out[0].packet)).code, 203);
  ann.token = *token;
  out.clear();
  node.on_packet(encode(ann), *Endpoint::parse("10.0.0.10:4000"), now, out);  // token of another address
  EXPECT_TRUE(std::holds_alternative<ErrorReply>(*decode(out[0].packet)));
  out.clear();
  node.on_packet(encode(ann), from, now + 6min, out);  // still valid in the next epoch
  EXPECT_TRUE(std::holds_alternative<Response>(*decode(out[0].packet)));
  EXPECT_EQ(node.stored_peers(), 1u);
  out.clear();
  node.on_packet(encode(gp), from, now + 7min, out);
  auto values = std::get<Response>(*decode(out[0].packet)).values;
  ASSERT_EQ(values.size(), 1u);
  EXPECT_EQ(values[0].port, 5555);

  out.clear();
  node.on_packet("d1:ad2:id20:abcdefghij0123456789e1:q4:fly!1:t2:aa1:y1:qe", from, now, out);
  EXPECT_EQ(std::get<ErrorReply>(*decode(out[0].packet)).code, 204);
  out.clear();
  node.on_packet("garbage", from, now, out);
  EXPECT_TRUE(out.empty());
}

TEST(DhtNode, FloodingAddressesAreIgnored) {
  DhtConfig config;
  config.max_queries_per_ip = 10;
  DhtNode node(NodeId{}, config, 1);
  Clock::time_point now{std::chrono::hours(1)};
  std::vector<Outgoing> out;
  Query ping;
  ping.transaction = "t";
  ping.sender.bytes[0] = 5;
  for (int i = 0; i < 100; ++i)
    node.on_packet(encode(ping), *Endpoint::parse("10.0.0.1:1"), now, out);
  EXPECT_EQ(out.size(), 20u);  // the burst, then silence
  EXPECT_EQ(node.stats().rate_limited, 80u);
}

TEST(DhtNode, SmallNetworkFindsAnnouncedPeers) {
  sim::Network net(42, 0.0, 20ms);
  net.grow_and_join(150, 10s);
  NodeId hash;
  hash.bytes.fill(0x77);
  net.act(5, [&](DhtNode& n, Clock::time_point now, std::vector<Outgoing>& out) {
    n.get_peers(hash, 7777, nullptr, now, out);
  });
  net.run_for(10s);
  std::vector<Endpoint> found;
  bool done = false;
  net.act(100, [&](DhtNode& n, Clock::time_point now, std::vector<Outgoing>& out) {
    n.get_peers(
        hash, std::nullopt,
        [&](const DhtNode::LookupResult& r) {
          found = r.peers;
          done = true;
        },
        now, out);
  });
  net.run_for(10s);
  ASSERT_TRUE(done);
  Endpoint expected = net.endpoint(5);
  expected.port = 7777;
  EXPECT_NE(std::find(found.begin(), found.end(), expected), found.end());
}

}  // namespace
}  // namespace shoal::dht
