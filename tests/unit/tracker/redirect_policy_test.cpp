#include "tracker/redirect_policy.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace shoal::tracker {
namespace {

Endpoint at(const char* text) {
  return *Endpoint::parse(text);
}

TEST(RedirectPolicy, LocalAddresses) {
  struct Case {
    const char* address;
    bool local;
  };
  const Case cases[] = {
      {"127.0.0.1:80", true},
      {"127.8.9.1:80", true},
      {"10.1.2.3:80", true},
      {"172.16.0.1:80", true},
      {"172.31.255.1:80", true},
      {"172.32.0.1:80", false},
      {"192.168.1.1:80", true},
      {"169.254.169.254:80", true},
      {"100.64.0.1:80", true},
      {"100.128.0.1:80", false},
      {"0.0.0.0:80", true},
      {"255.255.255.255:80", true},
      {"224.0.0.1:80", true},
      {"8.8.8.8:80", false},
      {"93.184.216.34:80", false},
      {"[::1]:80", true},
      {"[::]:80", true},
      {"[fe80::1]:80", true},
      {"[fd00::1]:80", true},
      {"[fc12::1]:80", true},
      {"[ff02::1]:80", true},
      {"[::ffff:127.0.0.1]:80", true},
      {"[::ffff:10.0.0.1]:80", true},
      {"[::ffff:8.8.8.8]:80", false},
      {"[2001:db8::1]:80", false},
      {"[2a00:1450::1]:80", false},
  };
  for (const auto& c : cases)
    EXPECT_EQ(is_local_address(at(c.address)), c.local) << c.address;
}

TEST(RedirectPolicy, Table) {
  const std::vector<Endpoint> none;
  const std::vector<Endpoint> public_v4{at("93.184.216.34:80")};
  const std::vector<Endpoint> loopback{at("127.0.0.1:80")};
  const std::vector<Endpoint> mixed{at("93.184.216.34:80"), at("[::1]:80")};
  const std::vector<Endpoint> metadata{at("169.254.169.254:80")};
  struct Case {
    const char* name;
    RedirectHop hop;
    const char* refusal;  // a word the refusal must contain; nullptr: followed
  };
  const Case cases[] = {
      {"http to http", {false, "http://b.example/announce", false, public_v4}, nullptr},
      {"http to https", {false, "https://b.example/announce", false, public_v4}, nullptr},
      {"https to https", {true, "https://b.example/announce", false, public_v4}, nullptr},
      {"https to http", {true, "http://b.example/announce", false, none}, "drop TLS"},
      {"https to http, local origin", {true, "http://127.0.0.1/announce", true, loopback}, "drop TLS"},
      {"unsupported scheme", {false, "ftp://b.example/announce", false, none}, "only http"},
      {"file scheme", {true, "file:///etc/passwd", false, none}, "only http"},
      {"public to loopback", {false, "http://127.0.0.1:9091/rpc", false, loopback}, "127.0.0.1"},
      {"public to a name resolving local", {false, "http://evil.example/", false, mixed}, "::1"},
      {"public to cloud metadata", {false, "http://169.254.169.254/latest", false, metadata}, "local"},
      {"public, not resolved yet", {false, "http://localhost/announce", false, none}, nullptr},
      {"local to loopback", {false, "http://127.0.0.1:6969/announce", true, loopback}, nullptr},
      {"local to public", {false, "http://b.example/announce", true, public_v4}, nullptr},
  };
  for (const auto& c : cases) {
    auto refusal = check_redirect(c.hop);
    if (c.refusal == nullptr) {
      EXPECT_FALSE(refusal) << c.name << ": " << refusal.value_or("");
    } else {
      ASSERT_TRUE(refusal) << c.name;
      EXPECT_NE(refusal->find(c.refusal), std::string::npos) << c.name << ": " << *refusal;
      EXPECT_NE(refusal->find(std::string(c.hop.to_url)), std::string::npos) << c.name << ": " << *refusal;
    }
  }
}

}  // namespace
}  // namespace shoal::tracker
