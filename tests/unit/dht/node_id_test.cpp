#include "dht/node_id.hpp"

#include <gtest/gtest.h>

namespace shoal::dht {
namespace {

TEST(NodeId, Crc32cKnownAnswer) {
  const char* text = "123456789";
  EXPECT_EQ(crc32c(reinterpret_cast<const std::uint8_t*>(text), 9), 0xE3069283u);
}

// BEP 42's table: IP, rand -> the id's first three bytes (high 21 bits) and last byte.
TEST(NodeId, MatchesTheBep42Examples) {
  struct Case {
    const char* ip;
    std::uint8_t r;
    std::uint32_t prefix;  // first 3 bytes; the low 3 bits of byte 2 are random
  } cases[] = {{"124.31.75.21:1", 1, 0x5fbfbf},
               {"21.75.31.124:1", 86, 0x5a3ce9},
               {"65.23.51.170:1", 22, 0xa5d432},
               {"84.124.73.14:1", 65, 0x1b0321},
               {"43.213.53.83:1", 90, 0xe56f6c}};
  std::array<std::uint8_t, 20> random{};
  for (const auto& c : cases) {
    auto ip = *Endpoint::parse(c.ip);
    auto id = node_id_for(ip, c.r, random);
    std::uint32_t prefix =
        (std::uint32_t{id.bytes[0]} << 16) | (std::uint32_t{id.bytes[1]} << 8) | id.bytes[2];
    EXPECT_EQ(prefix >> 3, c.prefix >> 3) << c.ip;
    EXPECT_EQ(id.bytes[19], c.r);
    EXPECT_TRUE(node_id_valid(id, ip)) << c.ip;
    auto other = *Endpoint::parse("8.8.8.8:1");
    EXPECT_FALSE(node_id_valid(id, other)) << c.ip;
  }
}

TEST(NodeId, LocalAddressesAreExempt) {
  NodeId any{};
  any.bytes[0] = 0x42;
  for (const char* ip :
       {"127.0.0.1:1", "10.1.2.3:1", "192.168.0.1:1", "172.16.5.4:1", "169.254.1.1:1", "[::1]:1"})
    EXPECT_TRUE(node_id_valid(any, *Endpoint::parse(ip))) << ip;
  EXPECT_FALSE(node_id_valid(any, *Endpoint::parse("1.2.3.4:1")));
  EXPECT_FALSE(exempt_address(*Endpoint::parse("172.32.0.1:1")));
}

}  // namespace
}  // namespace shoal::dht

#include "dht/dht_node.hpp"

namespace shoal::dht {
namespace {

TEST(NodeId, EnforcedInTheRoutingTableAndRelaxable) {
  Clock::time_point now{std::chrono::hours(1)};
  auto public_ip = *Endpoint::parse("65.23.51.170:6881");
  NodeId forged{};
  forged.bytes[0] = 0x01;
  Query ping;
  ping.transaction = "t";
  ping.sender = forged;
  std::vector<Outgoing> out;
  DhtNode strict(NodeId{}, DhtConfig{}, 1);
  strict.on_packet(encode(ping), public_ip, now, out);
  EXPECT_EQ(out.size(), 1u);             // still answered
  EXPECT_EQ(strict.table().size(), 0u);  // but not trusted with a place in the table
  std::array<std::uint8_t, 20> random{};
  ping.sender = node_id_for(public_ip, 22, random);
  strict.on_packet(encode(ping), public_ip, now, out);
  EXPECT_EQ(strict.table().size(), 1u);
  DhtConfig relaxed;
  relaxed.enforce_node_id = false;
  DhtNode lax(NodeId{}, relaxed, 1);
  ping.sender = forged;
  lax.on_packet(encode(ping), public_ip, now, out);
  EXPECT_EQ(lax.table().size(), 1u);
}

}  // namespace
}  // namespace shoal::dht
