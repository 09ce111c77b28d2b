// DhtNode beyond BEP 5: IPv6 (BEP 32), scrapes (BEP 33), read-only nodes (BEP 43), an id taken from the
// external address at run time (BEP 42), and replies kept within a multiple of their query.
#include <gtest/gtest.h>

#include <set>

#include "../../sim/dht_network.hpp"
#include "dht/dht_node.hpp"
#include "dht/external_ip_votes.hpp"
#include "dht/node_id.hpp"

namespace shoal::dht {
namespace {

using namespace std::chrono_literals;

NodeId id_of(std::uint8_t first, std::uint8_t last = 0) {
  NodeId id{};
  id.bytes[0] = first;
  id.bytes[19] = last;
  return id;
}

// Sends one query to `node` and returns what came back (nothing: monostate).
std::variant<std::monostate, Response, ErrorReply> ask(DhtNode& node, const Query& q, const std::string& from,
                                                       Clock::time_point now, std::size_t* size = nullptr) {
  std::vector<Outgoing> out;
  node.on_packet(encode(q), *Endpoint::parse(from), now, out);
  if (out.empty()) return std::monostate{};
  if (size) *size = out[0].packet.size();
  auto m = decode(out[0].packet);
  if (auto* r = std::get_if<Response>(&*m)) return *r;
  return std::get<ErrorReply>(*m);
}

// An address as a vote names it: port 0 (which Endpoint::parse refuses).
Endpoint address_of(const std::string& text) {
  auto e = *Endpoint::parse(text + ":1");
  e.port = 0;
  return e;
}

Query query(Method method, const NodeId& sender, const NodeId& target = {}) {
  Query q;
  q.transaction = "tx";
  q.method = method;
  q.sender = sender;
  q.target = target;
  return q;
}

void announce(DhtNode& node, const NodeId& hash, const std::string& from, std::uint16_t port, bool seed,
              Clock::time_point now) {
  // Read-only (BEP 43), so the announcer stays out of the node's table and the tests see only their nodes.
  auto gp = query(Method::get_peers, id_of(0x40), hash);
  gp.read_only = true;
  auto token = std::get<Response>(ask(node, gp, from, now)).token;
  auto q = query(Method::announce_peer, id_of(0x40), hash);
  q.read_only = true;
  q.token = *token;
  q.port = port;
  q.seed = seed;
  ASSERT_TRUE(std::holds_alternative<Response>(ask(node, q, from, now)));
}

TEST(DhtNodeScrape, AnswersWithBloomFiltersAndPrefersDownloadersOnNoseed) {
  DhtNode node(id_of(1), {}, 3);
  Clock::time_point now{5h};
  auto hash = id_of(0x77);
  announce(node, hash, "10.0.0.1:1000", 6001, true, now);
  announce(node, hash, "10.0.0.2:1000", 6002, false, now);
  announce(node, hash, "10.0.0.2:1000", 6003, false, now);  // the same host again: replaces, not adds
  EXPECT_EQ(node.stored_peers(), 2u);

  auto gp = query(Method::get_peers, id_of(0x41), hash);
  gp.scrape = true;
  auto r = std::get<Response>(ask(node, gp, "10.0.0.9:1", now));
  ASSERT_TRUE(r.bloom_seeds && r.bloom_peers);
  EXPECT_NEAR(ScrapeBloom::from_bytes(*r.bloom_seeds)->estimate(), 1, 0.01);
  EXPECT_NEAR(ScrapeBloom::from_bytes(*r.bloom_peers)->estimate(), 1, 0.01);

  gp.scrape = false;
  gp.noseed = true;
  r = std::get<Response>(ask(node, gp, "10.0.0.9:1", now));
  ASSERT_EQ(r.values.size(), 2u);
  EXPECT_EQ(r.values[0], *Endpoint::parse("10.0.0.2:6003"));  // the downloader first
  EXPECT_FALSE(r.bloom_seeds);                                // no scrape asked, no filters

  // A hash nobody announced: no filters, just nodes and a token.
  r = std::get<Response>(ask(node, query(Method::get_peers, id_of(0x41), id_of(0x78)), "10.0.0.9:1", now));
  EXPECT_FALSE(r.bloom_seeds);
}

TEST(DhtNodeScrape, ALookupCountsSeedsAndPeersAcrossTheNetwork) {
  sim::Network net(7, 0.0, 20ms);
  net.grow_and_join(120, 10s);
  NodeId hash;
  hash.bytes.fill(0x5a);
  for (std::size_t i = 10; i < 30; ++i) {
    net.act(i, [&](DhtNode& n, Clock::time_point now, std::vector<Outgoing>& out) {
      n.get_peers(hash, PeerSearch{7000, /*seed=*/i < 15, false}, nullptr, now, out);
    });
  }
  net.run_for(10s);
  std::optional<DhtNode::LookupResult> result;
  net.act(100, [&](DhtNode& n, Clock::time_point now, std::vector<Outgoing>& out) {
    n.get_peers(
        hash, PeerSearch{std::nullopt, false, true}, [&](const auto& r) { result = r; }, now, out);
  });
  net.run_for(10s);
  ASSERT_TRUE(result);
  EXPECT_GT(result->scrape_replies, 0);
  EXPECT_NEAR(result->bloom_seeds.estimate(), 5, 1.0);
  EXPECT_NEAR(result->bloom_peers.estimate(), 15, 1.5);
}

TEST(DhtNodeSample, AWalkCollectsTheHashesStoredAlongIt) {
  sim::Network net(11, 0.0, 20ms);
  net.grow_and_join(100, 10s);
  std::vector<NodeId> hashes;
  for (std::size_t i = 10; i < 20; ++i) {
    NodeId h;
    h.bytes.fill(static_cast<std::uint8_t>(i * 17));
    hashes.push_back(h);
    net.act(i, [&](DhtNode& n, Clock::time_point now, std::vector<Outgoing>& out) {
      n.get_peers(h, 7000, nullptr, now, out);
    });
  }
  net.run_for(10s);
  // A walk towards each hash meets the nodes that store it, and they include it in their samples.
  for (const auto& h : hashes) {
    std::optional<DhtNode::LookupResult> result;
    net.act(90, [&](DhtNode& n, Clock::time_point now, std::vector<Outgoing>& out) {
      n.sample_infohashes(
          h, [&](const auto& r) { result = r; }, now, out);
    });
    net.run_for(10s);
    ASSERT_TRUE(result);
    EXPECT_NE(std::find(result->samples.begin(), result->samples.end(), h), result->samples.end());
    EXPECT_GT(result->queries, 0);
  }
}

TEST(DhtNodeIpv6, KeepsATablePerFamilyAndAnswersWhatIsWanted) {
  DhtConfig config;
  config.enforce_node_id = false;
  DhtNode node(id_of(1), config, 3);
  Clock::time_point now{1h};
  for (std::uint8_t i = 1; i <= 5; ++i) {
    ask(node, query(Method::ping, id_of(static_cast<std::uint8_t>(0x10 + i))),
        "10.1.0." + std::to_string(i) + ":6881", now);
    ask(node, query(Method::ping, id_of(static_cast<std::uint8_t>(0x20 + i))),
        "[2001:db8::" + std::to_string(i) + "]:6881", now);
  }
  EXPECT_EQ(node.table(false).size(), 5u);
  EXPECT_EQ(node.table(true).size(), 5u);
  auto families = [](const Response& r) {
    int v4 = 0, v6 = 0;
    for (const auto& n : r.nodes)
      ++(n.endpoint.v6 ? v6 : v4);
    return std::pair{v4, v6};
  };
  auto fn = query(Method::find_node, id_of(0x30), id_of(0x31));
  fn.read_only = true;  // so the asker is not counted among the nodes
  EXPECT_EQ(families(std::get<Response>(ask(node, fn, "10.2.0.1:1", now))), std::pair(5, 0));
  EXPECT_EQ(families(std::get<Response>(ask(node, fn, "[2001:db8::99]:1", now))), std::pair(0, 5));
  fn.want4 = fn.want6 = true;
  EXPECT_EQ(families(std::get<Response>(ask(node, fn, "10.2.0.1:1", now))), std::pair(5, 5));
  fn.want4 = false;
  EXPECT_EQ(families(std::get<Response>(ask(node, fn, "10.2.0.1:1", now))), std::pair(0, 5));
}

TEST(DhtNodeIpv6, LookupsWalkEachFamilyAndMergeWhatTheyFind) {
  // Three nodes: A knows B over IPv4 and C over IPv6; B and C both hold a peer for the hash.
  DhtConfig config;
  config.enforce_node_id = false;
  config.routing.one_node_per_ip = false;
  DhtNode a(id_of(1), config, 1), b(id_of(2), config, 2), c(id_of(3), config, 3);
  Clock::time_point now{1h};
  auto ea = *Endpoint::parse("10.0.0.1:1"), eb = *Endpoint::parse("10.0.0.2:1"),
       ec = *Endpoint::parse("[fd00::3]:1");
  auto hash = id_of(0x66);
  announce(b, hash, "10.9.9.9:5", 4444, false, now);
  announce(c, hash, "[fd00::9]:5", 6666, false, now);
  // A hears from B and C (their pings put them in A's tables).
  ask(a, query(Method::ping, b.id()), "10.0.0.2:1", now);
  ask(a, query(Method::ping, c.id()), "[fd00::3]:1", now);
  std::optional<DhtNode::LookupResult> result;
  std::vector<Outgoing> out;
  a.get_peers(
      hash, std::nullopt, [&](const auto& r) { result = r; }, now, out);
  // Deliver until quiet: A's queries to B and C, and their answers.
  for (int round = 0; round < 10 && !out.empty(); ++round) {
    std::vector<Outgoing> next;
    for (const auto& o : out) {
      if (o.to == eb) b.on_packet(o.packet, ea, now, next);
      if (o.to == ec) c.on_packet(o.packet, *Endpoint::parse("[fd00::1]:1"), now, next);
    }
    out.clear();
    for (const auto& o : next) {
      if (o.to == ea)
        a.on_packet(o.packet, eb, now, out);
      else if (o.to.v6)
        a.on_packet(o.packet, ec, now, out);
    }
  }
  ASSERT_TRUE(result);
  EXPECT_EQ(result->peers.size(), 2u);  // 10.9.9.9:4444 from the IPv4 walk, [fd00::9]:6666 from the IPv6 one
}

TEST(DhtNodeReplies, StayWithinTheFactorOfTheirQuery) {
  for (std::size_t factor : {std::size_t{8}, std::size_t{100}}) {
    DhtConfig config;
    config.enforce_node_id = false;
    config.max_reply_factor = factor;
    DhtNode node(id_of(1), config, 3);
    Clock::time_point now{1h};
    auto hash = id_of(0x55);
    for (int i = 0; i < 60; ++i) {
      std::string host = "10.3." + std::to_string(i / 200) + "." + std::to_string(i % 200 + 1);
      announce(node, hash, host + ":1", static_cast<std::uint16_t>(2000 + i), i % 2 == 0, now);
      ask(node, query(Method::ping, id_of(static_cast<std::uint8_t>(i + 2), 1)), host + ":6881", now);
      ask(node, query(Method::ping, id_of(static_cast<std::uint8_t>(i + 2), 2)),
          "[2001:db8::" + std::to_string(i + 1) + "]:6881", now);
    }
    auto gp = query(Method::get_peers, id_of(0x42), hash);
    gp.want4 = gp.want6 = gp.scrape = true;
    std::size_t reply_size = 0;
    auto reply = std::get<Response>(ask(node, gp, "10.9.0.1:1", now, &reply_size));
    std::size_t query_size = encode(gp).size();
    if (factor == 8) {
      EXPECT_LE(reply_size, 8 * query_size);
      EXPECT_EQ(node.stats().replies_trimmed, 1u);
      EXPECT_TRUE(reply.token);  // what makes the reply useful stays
      EXPECT_TRUE(reply.bloom_seeds);
    } else {
      EXPECT_GT(reply_size, 8 * query_size);  // untrimmed, the same reply would amplify
      EXPECT_EQ(node.stats().replies_trimmed, 0u);
    }
  }
}

TEST(DhtNodeReadOnly, AnswersNobodyAndStaysOutOfTables) {
  DhtConfig ro;
  ro.read_only = true;
  DhtNode quiet(id_of(1), ro, 1);
  Clock::time_point now{1h};
  EXPECT_TRUE(
      std::holds_alternative<std::monostate>(ask(quiet, query(Method::ping, id_of(2)), "10.0.0.2:1", now)));
  std::vector<Outgoing> out;
  quiet.bootstrap(*Endpoint::parse("10.0.0.2:1"), now, out);
  ASSERT_EQ(out.size(), 1u);
  auto q = std::get<Query>(*decode(out[0].packet));
  EXPECT_TRUE(q.read_only);  // says so in every query

  DhtNode normal(id_of(3), {}, 2);
  std::vector<Outgoing> replies;
  normal.on_packet(out[0].packet, *Endpoint::parse("10.0.0.1:1"), now, replies);
  EXPECT_EQ(replies.size(), 1u);       // answered
  EXPECT_EQ(normal.node_count(), 0u);  // but not taken into the table
}

TEST(DhtNodeExternalId, AnIdThatDoesNotFitTheAddressIsReplacedOnceThreeAgree) {
  DhtConfig config;
  config.enforce_node_id = false;
  DhtNode node(id_of(0xAB), config, 9);
  Clock::time_point now{1h};
  auto external = address_of("65.23.51.170");
  ASSERT_FALSE(node_id_valid(node.id(), external));
  for (int i = 1; i <= 3; ++i) {
    auto responder = *Endpoint::parse("93.184." + std::to_string(i) + ".1:6881");  // three networks
    std::vector<Outgoing> out;
    node.bootstrap(responder, now, out);
    ASSERT_FALSE(out.empty());
    auto q = std::get<Query>(*decode(out[0].packet));
    Response r;
    r.transaction = q.transaction;
    r.sender = id_of(static_cast<std::uint8_t>(0x10 * i));
    r.your_ip = external;
    out.clear();
    node.on_packet(encode(r), responder, now, out);
    EXPECT_EQ(node.stats().id_changes, i < 3 ? 0u : 1u);
  }
  EXPECT_TRUE(node_id_valid(node.id(), external));
  EXPECT_EQ(node.node_count(), 3u);  // the nodes we knew are kept, in buckets around the new id
  // Our next queries carry the new id.
  std::vector<Outgoing> out;
  node.bootstrap(*Endpoint::parse("93.184.216.9:6881"), now, out);
  EXPECT_EQ(std::get<Query>(*decode(out[0].packet)).sender, node.id());
}

// One answer to a query of ours from `responder`, saying our address is `external`.
void vote(DhtNode& node, const std::string& responder, const Endpoint& external, Clock::time_point now) {
  auto from = *Endpoint::parse(responder);
  std::vector<Outgoing> out;
  node.bootstrap(from, now, out);
  ASSERT_FALSE(out.empty());
  Response r;
  r.transaction = std::get<Query>(*decode(out[0].packet)).transaction;
  r.sender = id_of(0x10);
  r.your_ip = external;
  out.clear();
  node.on_packet(encode(r), from, now, out);
}

DhtConfig lenient() {
  DhtConfig config;
  config.enforce_node_id = false;
  return config;
}

TEST(DhtNodeExternalId, OneNetworkCannotChooseOurId) {
  DhtNode node(id_of(0xAB), lenient(), 9);
  Clock::time_point now{1h};
  auto chosen = address_of("65.23.51.170");
  for (int i = 0; i < 20; ++i)  // one address answering many times
    vote(node, "6.6.6.6:6881", chosen, now);
  for (int i = 1; i < 200; ++i)  // every address of one /24
    vote(node, "6.6.6." + std::to_string(i) + ":" + std::to_string(1000 + i), chosen, now);
  EXPECT_EQ(node.stats().id_changes, 0u);
  EXPECT_FALSE(node.external_ip());
  // Two more networks agreeing make three: now it is a majority of networks, not of packets.
  vote(node, "7.7.7.7:6881", chosen, now);
  EXPECT_EQ(node.stats().id_changes, 0u);
  vote(node, "8.8.8.8:6881", chosen, now);
  EXPECT_EQ(node.stats().id_changes, 1u);
}

TEST(DhtNodeExternalId, OneIpv6NetworkIsOneVoter) {
  DhtNode node(id_of(0xAB), lenient(), 9);
  Clock::time_point now{1h};
  auto chosen = address_of("[2001:db8:1::5]");
  for (int i = 1; i < 50; ++i)  // different addresses in one /64
    vote(node, "[2001:db8:6::" + std::to_string(i) + "]:6881", chosen, now);
  EXPECT_FALSE(node.external_ip());
}

TEST(DhtNodeExternalId, OneNetworkCannotFreezeTheVotes) {
  DhtNode node(id_of(0xAB), lenient(), 9);
  Clock::time_point now{1h};
  // A flood of different claims from one /24: each replaces the last, the table keeps one vote for it.
  for (int i = 1; i < 250; ++i)
    vote(node, "6.6.6." + std::to_string(i) + ":6881", address_of("1.2.3." + std::to_string(i)), now);
  auto external = address_of("65.23.51.170");
  for (int i = 1; i <= 3; ++i)
    vote(node, "93.184." + std::to_string(i) + ".1:6881", external, now);
  EXPECT_EQ(node.external_ip(), external);
  EXPECT_EQ(node.stats().id_changes, 1u);
  EXPECT_TRUE(node_id_valid(node.id(), external));
}

TEST(DhtNodeExternalId, VotesExpire) {
  DhtNode node(id_of(0xAB), lenient(), 9);
  Clock::time_point start{1h};
  auto external = address_of("65.23.51.170");
  vote(node, "93.184.1.1:6881", external, start);
  vote(node, "93.184.2.1:6881", external, start);
  vote(node, "93.184.3.1:6881", external, start + 31min);  // the first two are gone by now
  EXPECT_FALSE(node.external_ip());
  EXPECT_EQ(node.stats().id_changes, 0u);
  vote(node, "93.184.4.1:6881", external, start + 32min);
  vote(node, "93.184.5.1:6881", external, start + 33min);
  EXPECT_EQ(node.external_ip(), external);
}

TEST(ExternalIpVotes, TableIsBoundedAndEvictsTheOldest) {
  ExternalIpVotes votes;
  Clock::time_point now{1h};
  auto a = address_of("65.23.51.170");
  auto b = address_of("65.23.51.171");
  auto voter = [](int i) {
    return *Endpoint::parse("10." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ".1:1");
  };
  for (int i = 0; i < 300; ++i)
    votes.record(voter(i), a, now);
  EXPECT_EQ(votes.voters(), ExternalIpVotes::kMaxVoters);
  EXPECT_EQ(votes.winner(), a);
  // Later voters push the oldest out: the table keeps learning.
  for (int i = 1000; i < 1000 + static_cast<int>(ExternalIpVotes::kMaxVoters); ++i)
    votes.record(voter(i), b, now + 1s);
  EXPECT_EQ(votes.voters(), ExternalIpVotes::kMaxVoters);
  EXPECT_EQ(votes.winner(), b);
}

TEST(ExternalIpVotes, ATieDecidesNothing) {
  ExternalIpVotes votes;
  Clock::time_point now{1h};
  auto a = address_of("65.23.51.170");
  auto b = address_of("65.23.51.171");
  for (int i = 1; i <= 3; ++i) {
    votes.record(*Endpoint::parse("20.0." + std::to_string(i) + ".1:1"), a, now);
    votes.record(*Endpoint::parse("30.0." + std::to_string(i) + ".1:1"), b, now);
  }
  EXPECT_FALSE(votes.winner());
  votes.record(*Endpoint::parse("40.0.0.1:1"), b, now);
  EXPECT_EQ(votes.winner(), b);
}

}  // namespace
}  // namespace shoal::dht

namespace shoal::dht {
namespace {

// ICMP port unreachable from every node a lookup asked: the lookup ends at once (no wait for timeouts, no
// second try of a node that is not there).
TEST(DhtNodeUnreachable, ALookupWhoseNodesAreGoneEndsAtOnceWithoutAskingThemAgain) {
  auto now = Clock::time_point{} + 1h;
  DhtNode node(id_of(0x80), {}, 7);
  for (int i = 1; i <= 4; ++i) {
    auto from = "10.0.0." + std::to_string(i) + ":6881";
    ASSERT_TRUE(std::holds_alternative<Response>(
        ask(node, query(Method::ping, id_of(static_cast<std::uint8_t>(0x10 * i))), from, now)));
  }
  NodeId hash;
  hash.bytes.fill(0x77);
  bool done = false;
  std::vector<Outgoing> out;
  node.get_peers(
      hash, std::nullopt, [&](const DhtNode::LookupResult&) { done = true; }, now, out);
  std::set<Endpoint> asked;
  for (const auto& o : out)
    asked.insert(o.to);
  ASSERT_EQ(asked.size(), 4u);
  EXPECT_FALSE(done);
  out.clear();
  for (const auto& e : asked)
    node.on_unreachable(e, now, out);
  EXPECT_TRUE(done) << "the lookup waited for timeouts";
  for (const auto& o : out)
    EXPECT_EQ(asked.count(o.to), 0u) << "asked " << o.to.to_string() << " again";
}

// Only queries to the address the error names fail; the others stay in flight.
TEST(DhtNodeUnreachable, AnErrorForAnotherAddressChangesNothing) {
  auto now = Clock::time_point{} + 1h;
  DhtNode node(id_of(0x80), {}, 7);
  ASSERT_TRUE(
      std::holds_alternative<Response>(ask(node, query(Method::ping, id_of(0x10)), "10.0.0.1:6881", now)));
  NodeId hash;
  hash.bytes.fill(0x77);
  bool done = false;
  std::vector<Outgoing> out;
  node.get_peers(
      hash, std::nullopt, [&](const DhtNode::LookupResult&) { done = true; }, now, out);
  ASSERT_FALSE(out.empty());
  out.clear();
  node.on_unreachable(*Endpoint::parse("10.0.0.9:6881"), now, out);
  node.on_unreachable(*Endpoint::parse("10.0.0.1:6882"), now, out);
  EXPECT_FALSE(done);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace shoal::dht
