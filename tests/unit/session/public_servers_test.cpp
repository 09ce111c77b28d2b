// The public handles for the server roles: TrackerServer and DhtNode start on free loopback ports, report,
// and stop; bad settings give errors, not exceptions.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "shoal/dht_node.hpp"
#include "shoal/tracker_server.hpp"

namespace shoal {
namespace {

namespace fs = std::filesystem;

fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() / (name + "-" + std::to_string(std::random_device{}()));
}

TEST(PublicTrackerServer, StartsOnFreePortsAndReloadsItsWhitelist) {
  auto list = temp_file("shoal-whitelist");
  std::ofstream(list) << std::string(40, 'a') << "\n";
  TrackerServerSettings s;
  s.http_bind = "127.0.0.1:0";
  s.udp_bind = "127.0.0.1:0";
  s.udp_threads = 1;
  s.whitelist = list;
  TrackerServer server(s);
  ASSERT_TRUE(server.start());
  EXPECT_NE(server.http_port(), 0);
  EXPECT_NE(server.udp_port(), 0);
  EXPECT_EQ(server.whitelist_size(), 1u);
  std::ofstream(list) << std::string(40, 'a') << "\n" << std::string(40, 'b') << "\n";
  auto reloaded = server.reload_whitelist();
  ASSERT_TRUE(reloaded);
  EXPECT_EQ(*reloaded, 2u);
  // A broken file keeps the old list.
  std::ofstream(list) << "not a hash\n";
  EXPECT_FALSE(server.reload_whitelist());
  EXPECT_EQ(server.whitelist_size(), 2u);
  server.expire();
  EXPECT_EQ(server.stats().peers, 0u);
  server.stop();
  fs::remove(list);
}

TEST(PublicTrackerServer, BadSettingsAreErrors) {
  TrackerServerSettings none;
  none.serve_http = none.serve_udp = false;
  EXPECT_FALSE(TrackerServer(none).start());
  TrackerServerSettings bad;
  bad.serve_udp = false;
  bad.http_bind = "nonsense";
  EXPECT_FALSE(TrackerServer(bad).start());
  TrackerServerSettings missing;
  missing.serve_udp = false;
  missing.http_bind = "127.0.0.1:0";
  missing.whitelist = temp_file("shoal-missing");
  EXPECT_FALSE(TrackerServer(missing).start());
}

TEST(PublicDhtNode, StartsReportsAndStops) {
  auto state = temp_file("shoal-dht-state");
  DhtNodeSettings s;
  s.bind_address = "127.0.0.1";
  s.bind_address6 = "";
  s.port = 0;
  s.use_public_routers = false;
  s.state_file = state;
  {
    DhtNode node(s);
    ASSERT_TRUE(node.start());
    auto st = node.stats();
    EXPECT_EQ(st.node_id.size(), 40u);
    EXPECT_NE(st.port, 0);
    EXPECT_FALSE(st.ipv6);
    EXPECT_EQ(st.nodes, 0u);
  }
  EXPECT_TRUE(fs::exists(state));  // saved on stop
  fs::remove(state);
  DhtNodeSettings bad = s;
  bad.bind_address = "not an address";
  EXPECT_FALSE(DhtNode(bad).start());
}

}  // namespace
}  // namespace shoal
