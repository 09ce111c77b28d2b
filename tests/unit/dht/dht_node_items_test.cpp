// BEP 44 in the node: the put rules as a storing node applies them, the store's bounds and expiry, and the
// client's get and put lookups across a small network on virtual time.
#include <gtest/gtest.h>

#include "../../sim/dht_network.hpp"
#include "dht/dht_node.hpp"
#include "dht/item.hpp"
#include "dht/verified_addresses.hpp"

namespace shoal::dht {
namespace {

using namespace std::chrono_literals;

KeySeed seed_of(std::uint8_t fill) {
  KeySeed s;
  s.bytes.fill(fill);
  return s;
}

// One node and one asker at a fixed address, talking packet by packet.
struct Conversation {
  explicit Conversation(DhtConfig config = {}) : node(own_id(), unlimited(config), 7) {}
  static DhtConfig unlimited(DhtConfig config) {
    config.max_queries_per_ip = 0;  // one asker sends many queries at one instant here
    return config;
  }
  static NodeId own_id() {
    NodeId id;
    id.bytes.fill(0x10);
    return id;
  }

  Message ask(Query q) {
    q.transaction = "t" + std::to_string(++count);
    q.sender.bytes.fill(0x20);
    std::vector<Outgoing> out;
    node.on_packet(encode(q), from, now, out);
    if (out.empty()) return ErrorReply{"", -1, "no answer"};
    return *decode(out.back().packet);
  }
  std::string token() {
    Query q;
    q.method = Method::get;
    q.target.bytes.fill(0x99);
    return *std::get<Response>(ask(q)).token;
  }
  // A put of the item's fields with a good token (fields may be changed after to_fields()).
  Message put(ItemFields fields, std::optional<std::string> with_token = std::nullopt) {
    Query q;
    q.method = Method::put;
    q.token = with_token ? *with_token : token();
    q.item = std::move(fields);
    return ask(q);
  }
  ItemFields get(const NodeId& target, std::optional<std::int64_t> seq = std::nullopt) {
    Query q;
    q.method = Method::get;
    q.target = target;
    q.item.seq = seq;
    return std::get<Response>(ask(q)).item;
  }

  DhtNode node;
  Endpoint from = *Endpoint::parse("10.0.0.9:4000");
  Clock::time_point now{std::chrono::hours(5)};
  int count = 0;
};

int error_code(const Message& m) {
  auto* e = std::get_if<ErrorReply>(&m);
  return e ? e->code : 0;
}

TEST(DhtNodeItems, ImmutablePutThenGet) {
  Conversation c;
  auto item = *make_immutable_item("5:hello");
  EXPECT_TRUE(std::holds_alternative<Response>(c.put(to_fields(item))));
  auto got = c.get(item.target());
  EXPECT_EQ(got.value, "5:hello");
  EXPECT_FALSE(got.key);
  EXPECT_EQ(c.node.items().immutable_count(), 1u);
  // Nothing under another target.
  NodeId other;
  other.bytes.fill(0x55);
  EXPECT_FALSE(c.get(other).value);
}

TEST(DhtNodeItems, PutNeedsAGoodToken) {
  Conversation c;
  auto item = *make_immutable_item("5:hello");
  EXPECT_EQ(error_code(c.put(to_fields(item), std::string("forged"))), 203);
  auto token = c.token();
  c.from = *Endpoint::parse("10.0.0.10:4000");  // another address cannot use it
  EXPECT_EQ(error_code(c.put(to_fields(item), token)), 203);
  EXPECT_EQ(c.node.items().immutable_count(), 0u);
}

TEST(DhtNodeItems, MutablePutRules) {
  Conversation c;
  auto v1 = *make_mutable_item(seed_of(1), "2:v1", "salt", 5);
  auto target = v1.target();
  EXPECT_TRUE(std::holds_alternative<Response>(c.put(to_fields(v1))));
  auto got = c.get(target);
  EXPECT_EQ(got.value, "2:v1");
  EXPECT_EQ(got.seq, 5);
  EXPECT_EQ(got.key, v1.mutable_info->key);
  EXPECT_EQ(got.signature, v1.mutable_info->signature);
  EXPECT_TRUE(got.salt.empty());  // not repeated

  // 206: a signature that does not cover what is sent.
  auto forged = to_fields(*make_mutable_item(seed_of(1), "2:v2", "salt", 6));
  forged.value = "2:v3";
  EXPECT_EQ(error_code(c.put(forged)), 206);
  // 207 and 205 come from the codec, before anything is looked at.
  auto big_salt = to_fields(v1);
  big_salt.salt = std::string(65, 's');
  EXPECT_EQ(error_code(c.put(big_salt)), 207);
  auto big_value = to_fields(v1);
  big_value.value = bencoded_string(std::string(1200, 'x'));
  EXPECT_EQ(error_code(c.put(big_value)), 205);
  // 302: going back.
  auto older = *make_mutable_item(seed_of(1), "2:v0", "salt", 4);
  EXPECT_EQ(error_code(c.put(to_fields(older))), 302);
  // Same seq: the same value refreshes, another value is refused.
  EXPECT_TRUE(std::holds_alternative<Response>(c.put(to_fields(v1))));
  auto fork = *make_mutable_item(seed_of(1), "2:vX", "salt", 5);
  EXPECT_EQ(error_code(c.put(to_fields(fork))), 302);
  // 301: CAS must name the seq held.
  auto v2 = to_fields(*make_mutable_item(seed_of(1), "2:v2", "salt", 6));
  v2.cas = 4;
  EXPECT_EQ(error_code(c.put(v2)), 301);
  v2.cas = 5;
  EXPECT_TRUE(std::holds_alternative<Response>(c.put(v2)));
  EXPECT_EQ(c.get(target).value, "2:v2");
  // CAS on an empty slot is ignored.
  auto fresh = to_fields(*make_mutable_item(seed_of(2), "1:z", "", 1));
  fresh.cas = 77;
  EXPECT_TRUE(std::holds_alternative<Response>(c.put(fresh)));

  // get with seq: only a newer item comes back; otherwise just the seq held.
  auto same = c.get(target, 6);
  EXPECT_FALSE(same.value);
  EXPECT_FALSE(same.key);
  EXPECT_EQ(same.seq, 6);
  EXPECT_EQ(c.get(target, 5).value, "2:v2");
  EXPECT_EQ(c.node.items().mutable_count(), 2u);
}

TEST(DhtNodeItems, StoreIsBoundedAndKeepsTheClosest) {
  DhtConfig config;
  config.items.max_immutable = 2;
  config.items.max_mutable = 1;
  Conversation c(config);
  std::vector<Item> items;
  for (int i = 0; i < 20; ++i)
    items.push_back(*make_immutable_item("i" + std::to_string(i) + "e"));
  for (const auto& item : items)
    EXPECT_TRUE(std::holds_alternative<Response>(c.put(to_fields(item))));  // acknowledged, kept or not
  EXPECT_EQ(c.node.items().immutable_count(), 2u);
  // The two kept are the two closest to the node's id.
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return closer(Conversation::own_id(), a.target(), b.target());
  });
  EXPECT_TRUE(c.get(items[0].target()).value);
  EXPECT_TRUE(c.get(items[1].target()).value);
  EXPECT_FALSE(c.get(items[2].target()).value);
  c.put(to_fields(*make_mutable_item(seed_of(1), "1:a", "", 1)));
  c.put(to_fields(*make_mutable_item(seed_of(2), "1:b", "", 1)));
  EXPECT_EQ(c.node.items().mutable_count(), 1u);
}

TEST(DhtNodeItems, ItemsExpireTwoHoursAfterTheLastPut) {
  Conversation c;
  auto a = *make_immutable_item("1:a");
  auto b = *make_immutable_item("1:b");
  c.put(to_fields(a));
  c.put(to_fields(b));
  c.now += 90min;
  c.put(to_fields(b));  // refreshed
  c.now += 40min;       // a is 130 minutes old, b 40
  EXPECT_FALSE(c.get(a.target()).value);
  EXPECT_TRUE(c.get(b.target()).value);
  std::vector<Outgoing> out;
  c.node.tick(c.now, out);  // maintenance drops what expired
  EXPECT_EQ(c.node.items().immutable_count(), 1u);
}

// A full-size item to a small get is what was asked for: it travels with the nodes beside it, outside the
// reply budget that keeps other answers within 8x their query.
TEST(DhtNodeItems, BigItemsTravelWithTheirNodes) {
  Conversation c;
  for (int i = 0; i < 8; ++i) {  // queries from eight nodes put them in the table
    Query ping;
    ping.transaction = "p";
    ping.sender.bytes.fill(static_cast<std::uint8_t>(0x30 + i));
    std::vector<Outgoing> out;
    c.node.on_packet(encode(ping), *Endpoint::parse("10.0.1." + std::to_string(i + 1) + ":6881"), c.now, out);
  }
  auto big = *make_immutable_item(bencoded_string(std::string(996, 'x')));
  ASSERT_TRUE(std::holds_alternative<Response>(c.put(to_fields(big))));
  Query q;
  q.method = Method::get;
  q.target = big.target();
  auto reply = std::get<Response>(c.ask(q));
  EXPECT_EQ(reply.item.value, big.value);
  EXPECT_EQ(reply.nodes.size(), 8u);
}

// A get spoofed from a victim's address (one that never answered us nor showed our token) must not be turned
// into a reply of many times its size by a large stored item: the item is withheld, the reply stays within
// max_reply_factor. Once the address has answered a query of ours, it gets the item.
TEST(DhtNodeItems, LargeItemsGoOnlyToVerifiedAskers) {
  Conversation c;
  auto big = *make_immutable_item(bencoded_string(std::string(996, 'x')));
  auto small = *make_immutable_item(bencoded_string(std::string(200, 's')));
  ASSERT_TRUE(std::holds_alternative<Response>(c.put(to_fields(big))));
  ASSERT_TRUE(std::holds_alternative<Response>(c.put(to_fields(small))));
  auto victim = *Endpoint::parse("10.0.7.7:6881");
  auto get = [&](const Item& item, std::size_t* query_size = nullptr) {
    Query q;
    q.transaction = "sp";
    q.method = Method::get;
    q.target = item.target();
    q.sender.bytes.fill(0x21);
    auto packet = encode(q);
    if (query_size) *query_size = packet.size();
    std::vector<Outgoing> out;
    c.node.on_packet(packet, victim, c.now, out);
    EXPECT_EQ(out.size(), 1u);
    return out.empty() ? std::string() : out.back().packet;
  };
  std::size_t query_size = 0;
  auto spoofed = get(big, &query_size);
  EXPECT_LE(spoofed.size(), 8 * query_size);
  auto reply = std::get<Response>(*decode(spoofed));
  EXPECT_FALSE(reply.item.value);
  EXPECT_FALSE(reply.item.signature);
  EXPECT_FALSE(reply.item.seq);
  EXPECT_TRUE(reply.token);  // the asker can still put
  EXPECT_EQ(c.node.stats().items_withheld, 1u);
  // An item that fits the budget is answered to anyone.
  auto fits = get(small, &query_size);
  EXPECT_LE(fits.size(), 8 * query_size);
  EXPECT_EQ(std::get<Response>(*decode(fits)).item.value, small.value);

  // The victim's address answers a query of ours: it is not spoofed, and gets the large item.
  std::vector<Outgoing> out;
  c.node.bootstrap(victim, c.now, out);
  ASSERT_EQ(out.size(), 1u);
  Response hello;
  hello.transaction = std::get<Query>(*decode(out[0].packet)).transaction;
  hello.sender.bytes.fill(0x21);
  out.clear();
  c.node.on_packet(encode(hello), victim, c.now, out);
  EXPECT_EQ(std::get<Response>(*decode(get(big))).item.value, big.value);
  // A proof lasts the token lifetime, no longer.
  c.now += VerifiedAddresses::kLifetime;
  EXPECT_FALSE(std::get<Response>(*decode(get(big))).item.value);
}

TEST(DhtNodeItems, ReadOnlyNodesDoNotAnswer) {
  DhtConfig config;
  config.read_only = true;
  Conversation c(config);
  Query q;
  q.method = Method::get;
  q.target.bytes.fill(1);
  EXPECT_EQ(error_code(c.ask(q)), -1);
}

// A client node whose routing table holds one contact, which the test answers for, packet by packet.
struct OneContact {
  OneContact() : node(id_filled(0x01), {}, 3) {
    node.bootstrap(peer, now, out);
    Response hello;
    hello.transaction = std::get<Query>(*decode(out[0].packet)).transaction;
    hello.sender = peer_id;
    node.on_packet(encode(hello), peer, now, out);
  }
  static NodeId id_filled(std::uint8_t fill) {
    NodeId id;
    id.bytes.fill(fill);
    return id;
  }
  DhtNode node;
  Clock::time_point now{std::chrono::hours(1)};
  Endpoint peer = *Endpoint::parse("10.0.0.2:6881");
  NodeId peer_id = id_filled(0x02);
  std::vector<Outgoing> out;
};

// A node whose only contact answers our get with whatever the test wants it to say.
TEST(DhtNodeItems, ClientChecksWhatItGets) {
  OneContact c;
  auto& [node, now, peer, peer_id, out] = c;
  ASSERT_EQ(node.table().size(), 1u);

  auto real = *make_mutable_item(seed_of(5), "4:real", "s", 3);
  auto lookup = [&](const ItemFields& answer, std::optional<PublicKey> key) {
    std::optional<DhtNode::GetItemResult> result;
    out.clear();
    node.get_item(
        real.target(), key, "s", [&](const DhtNode::GetItemResult& r) { result = r; }, now, out);
    for (const auto& o : out) {
      auto q = std::get<Query>(*decode(o.packet));
      if (q.method != Method::get) continue;
      EXPECT_EQ(q.target, real.target());
      Response r;
      r.transaction = q.transaction;
      r.sender = peer_id;
      r.token = "tok";
      r.item = answer;
      std::vector<Outgoing> more;
      node.on_packet(encode(r), peer, now, more);
    }
    return result;
  };
  auto ok = lookup(to_fields(real), std::nullopt);
  ASSERT_TRUE(ok);
  ASSERT_TRUE(ok->item);
  EXPECT_EQ(ok->item->value, "4:real");
  EXPECT_EQ(ok->holders, 1);

  auto tampered = to_fields(real);
  tampered.value = "4:fake";
  auto bad = lookup(tampered, std::nullopt);
  ASSERT_TRUE(bad);
  EXPECT_FALSE(bad->item);

  // Signed right, but by a key other than the one asked for.
  auto stranger = *make_mutable_item(seed_of(6), "4:real", "s", 3);
  EXPECT_FALSE(lookup(to_fields(stranger), real.mutable_info->key)->item);
  // Signed right, but under another salt: another target.
  auto other_salt = *make_mutable_item(seed_of(5), "4:real", "t", 3);
  EXPECT_FALSE(lookup(to_fields(other_salt), std::nullopt)->item);
}

// The put round counts what the storing nodes say: an answer is an acknowledgement, an error or silence not.
TEST(DhtNodeItems, PutRoundCountsOnlyAcknowledgements) {
  OneContact c;
  auto& [node, now, peer, peer_id, out] = c;

  auto item = *make_immutable_item("3:abc");
  // reply: the answer to the put, or nothing (the put times out).
  auto put_round = [&](const std::function<std::optional<Message>(const Query&)>& reply) {
    std::optional<DhtNode::PutItemResult> result;
    out.clear();
    node.put_item(
        item, [&](const DhtNode::PutItemResult& r) { result = r; }, now, out);
    for (std::size_t i = 0; i < out.size(); ++i) {  // grows while we answer
      auto q = std::get<Query>(*decode(out[i].packet));
      if (q.method == Method::get) {
        Response r;
        r.transaction = q.transaction;
        r.sender = peer_id;
        r.token = "tok";
        node.on_packet(encode(r), peer, now, out);
      } else if (q.method == Method::put) {
        EXPECT_EQ(q.token, "tok");
        EXPECT_EQ(q.item.value, "3:abc");
        auto answer = reply(q);
        if (!answer) continue;
        std::visit(
            [&](auto& m) {
              m.transaction = q.transaction;
              std::vector<Outgoing> more;
              node.on_packet(encode(m), peer, now, more);
            },
            *answer);
      }
    }
    if (!result) {
      std::vector<Outgoing> more;
      node.tick(now + 5s, more);
    }
    return result;
  };
  auto acknowledged = put_round([&](const Query&) -> std::optional<Message> {
    Response r;
    r.sender = peer_id;
    return r;
  });
  ASSERT_TRUE(acknowledged);
  EXPECT_EQ(acknowledged->sent, 1);
  EXPECT_EQ(acknowledged->acknowledged, 1);
  EXPECT_EQ(acknowledged->target, item.target());
  auto refused = put_round([](const Query&) -> std::optional<Message> { return ErrorReply{"", 302, "old"}; });
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->sent, 1);
  EXPECT_EQ(refused->acknowledged, 0);
  auto silent = put_round([](const Query&) -> std::optional<Message> { return std::nullopt; });
  ASSERT_TRUE(silent);
  EXPECT_EQ(silent->sent, 1);
  EXPECT_EQ(silent->acknowledged, 0);
}

TEST(DhtNodeItems, PutThenGetAcrossANetwork) {
  sim::Network net(7, 0.0, 20ms);
  net.grow_and_join(40, 10s);

  auto immutable = *make_immutable_item("d4:name5:shoale");
  auto mutable_v1 = *make_mutable_item(seed_of(9), "2:v1", "topic", 1);
  auto mutable_v2 = *make_mutable_item(seed_of(9), "2:v2", "topic", 2);
  std::vector<DhtNode::PutItemResult> puts;
  for (const auto* item : {&immutable, &mutable_v1}) {
    net.act(3, [&](DhtNode& n, Clock::time_point now, std::vector<Outgoing>& out) {
      n.put_item(
          *item, [&](const DhtNode::PutItemResult& r) { puts.push_back(r); }, now, out);
    });
    net.run_for(10s);
  }
  // A newer version from another node replaces the first everywhere it went.
  net.act(11, [&](DhtNode& n, Clock::time_point now, std::vector<Outgoing>& out) {
    n.put_item(
        mutable_v2, [&](const DhtNode::PutItemResult& r) { puts.push_back(r); }, now, out);
  });
  net.run_for(10s);
  ASSERT_EQ(puts.size(), 3u);
  for (const auto& p : puts) {
    EXPECT_EQ(p.sent, static_cast<int>(kBucketSize));
    EXPECT_EQ(p.acknowledged, p.sent);
    EXPECT_GT(p.queries, 0);
  }
  EXPECT_EQ(puts[0].target, immutable.target());

  std::optional<DhtNode::GetItemResult> got_immutable, got_mutable, got_missing;
  net.act(30, [&](DhtNode& n, Clock::time_point now, std::vector<Outgoing>& out) {
    n.get_item(
        immutable.target(), std::nullopt, "", [&](const auto& r) { got_immutable = r; }, now, out);
    n.get_item(
        mutable_v1.target(), mutable_v1.mutable_info->key, "topic", [&](const auto& r) { got_mutable = r; },
        now, out);
    NodeId nothing;
    nothing.bytes.fill(0xEE);
    n.get_item(
        nothing, std::nullopt, "", [&](const auto& r) { got_missing = r; }, now, out);
  });
  net.run_for(10s);
  ASSERT_TRUE(got_immutable && got_immutable->item);
  EXPECT_EQ(got_immutable->item->value, "d4:name5:shoale");
  EXPECT_GE(got_immutable->holders, 4);
  ASSERT_TRUE(got_mutable && got_mutable->item);
  EXPECT_EQ(got_mutable->item->value, "2:v2");
  EXPECT_EQ(got_mutable->item->mutable_info->seq, 2);
  ASSERT_TRUE(got_missing);
  EXPECT_FALSE(got_missing->item);
  EXPECT_GT(got_missing->queries, 0);
}

}  // namespace
}  // namespace shoal::dht
