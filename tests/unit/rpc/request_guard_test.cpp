#include "rpc/request_guard.hpp"

#include <gtest/gtest.h>

#include "rpc/base64.hpp"
#include "rpc/password_hash.hpp"

namespace shoal::rpc {
namespace {

RequestFacts rpc_request(std::string host, std::string session_id = "S") {
  RequestFacts f;
  f.remote_address = "127.0.0.1";
  f.host = std::move(host);
  f.session_id = std::move(session_id);
  f.is_rpc = true;
  return f;
}

TEST(RequestGuard, ForeignHostIsMisdirected) {
  RequestGuard guard({}, "S");
  EXPECT_EQ(guard.check(rpc_request("evil.example:9091"), 0).status, 421);
  EXPECT_EQ(guard.check(rpc_request(""), 0).status, 421);
  EXPECT_EQ(guard.check(rpc_request("localhost.evil.example"), 0).status, 421);
  for (auto host :
       {"localhost:9091", "LOCALHOST", "localhost.", "127.0.0.1:9091", "[::1]:9091", "10.1.2.3", "::1"})
    EXPECT_EQ(guard.check(rpc_request(host), 0).status, 200) << host;
}

TEST(RequestGuard, AllowListedNamesPass) {
  GuardConfig c;
  c.host_allow_list = {"seedbox.lan"};
  RequestGuard guard(c, "S");
  EXPECT_EQ(guard.check(rpc_request("seedbox.lan:9091"), 0).status, 200);
  EXPECT_EQ(guard.check(rpc_request("Seedbox.LAN"), 0).status, 200);
  EXPECT_EQ(guard.check(rpc_request("other.lan"), 0).status, 421);
}

TEST(RequestGuard, MissingOrStaleSessionIdIsAConflictForRpcOnly) {
  RequestGuard guard({}, "S");
  EXPECT_EQ(guard.check(rpc_request("localhost", ""), 0).status, 409);
  EXPECT_EQ(guard.check(rpc_request("localhost", "T"), 0).status, 409);
  auto page = rpc_request("localhost", "");
  page.is_rpc = false;
  EXPECT_EQ(guard.check(page, 0).status, 200);
}

TEST(RequestGuard, BasicAuthChecksTheSaltedHash) {
  GuardConfig c;
  c.username = "admin";
  c.password_hash = make_password_hash("secret", 1000);
  RequestGuard guard(c, "S");
  auto f = rpc_request("localhost");
  EXPECT_EQ(guard.check(f, 0).status, 401);
  f.authorization = "Basic " + base64_encode("admin:wrong");
  EXPECT_EQ(guard.check(f, 0).status, 401);
  f.authorization = "Basic " + base64_encode("root:secret");
  EXPECT_EQ(guard.check(f, 0).status, 401);
  f.authorization = "Basic !!!";
  EXPECT_EQ(guard.check(f, 0).status, 401);
  f.authorization = "Basic " + base64_encode("admin:secret");
  EXPECT_EQ(guard.check(f, 0).status, 200);
  EXPECT_EQ(guard.check(f, 0).status, 200);  // the remembered header
  // Auth comes before the CSRF handshake: a client without credentials learns nothing, not even the id.
  f.authorization.clear();
  f.session_id.clear();
  EXPECT_EQ(guard.check(f, 0).status, 401);
}

TEST(RequestGuard, RequestRateIsCappedPerAddress) {
  GuardConfig c;
  c.requests_per_second = 10;
  c.burst = 5;
  RequestGuard guard(c, "S");
  auto f = rpc_request("localhost");
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(guard.check(f, 0).status, 200);
  EXPECT_EQ(guard.check(f, 0).status, 429);
  auto other = f;
  other.remote_address = "127.0.0.2";
  EXPECT_EQ(guard.check(other, 0).status, 200);
  EXPECT_EQ(guard.check(f, 100).status, 200);  // one token back after 100 ms
  EXPECT_EQ(guard.check(f, 100).status, 429);
}

TEST(PasswordHash, SaltedAndVerified) {
  auto a = make_password_hash("pw", 1000);
  auto b = make_password_hash("pw", 1000);
  EXPECT_NE(a, b);  // salted
  EXPECT_EQ(a.find("pw$"), std::string::npos);
  EXPECT_TRUE(verify_password("pw", a));
  EXPECT_FALSE(verify_password("pW", a));
  for (auto bad : {"", "pbkdf2-sha256$1000$x",
                   "md5$1$AA==$AA==", "pbkdf2-sha256$0$AA==$AA==", "pbkdf2-sha256$99999999999$AA==$AA=="})
    EXPECT_FALSE(verify_password("pw", bad)) << bad;
}

TEST(SessionId, FreshEachTime) {
  auto a = make_session_id();
  EXPECT_EQ(a.size(), 48u);
  EXPECT_NE(a, make_session_id());
}

}  // namespace
}  // namespace shoal::rpc
