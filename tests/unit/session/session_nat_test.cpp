// Port mapping and the session: never tried when the session listens on loopback (so tests that turn it on by
// mistake still stay on the machine), and off unless asked for.
#include <gtest/gtest.h>

#include <string>

#include "shoal/session.hpp"

namespace shoal {
namespace {

SessionSettings loopback_only(bool upnp, bool natpmp) {
  SessionSettings s;
  s.listen_address = "127.0.0.1";
  s.dht.enabled = false;
  s.lsd.enabled = false;
  s.upnp = upnp;
  s.natpmp = natpmp;
  return s;
}

// The port-mapping lines and events the session queued at start.
std::vector<std::string> port_mapping_news(Session& session) {
  std::vector<std::string> out;
  for (const auto& e : session.pop_events()) {
    if (const auto* line = std::get_if<LogLine>(&e); line && line->text.rfind("port mapping", 0) == 0)
      out.push_back(line->text);
    if (std::holds_alternative<PortMapped>(e)) out.push_back("PortMapped");
    if (std::holds_alternative<PortMappingError>(e)) out.push_back("PortMappingError");
  }
  return out;
}

TEST(SessionNat, OffByDefault) {
  SessionSettings defaults;
  EXPECT_FALSE(defaults.upnp);
  EXPECT_FALSE(defaults.natpmp);
  Session session(loopback_only(false, false));
  EXPECT_TRUE(port_mapping_news(session).empty());
}

TEST(SessionNat, NeverTriedWhenListeningOnLoopback) {
  Session session(loopback_only(true, true));
  EXPECT_EQ(port_mapping_news(session),
            std::vector<std::string>{"port mapping: off (listening on loopback 127.0.0.1)"});
}

}  // namespace
}  // namespace shoal
