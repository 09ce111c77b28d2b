// Session::dht_get_mutable_item and dht_put_mutable_item (BEP 44 for embedders, what BEP 46 feeds use): two
// sessions whose DHT nodes know only each other on 127.0.0.1; one stores a signed item, and reads it back
// from the other.
#include <netinet/in.h>
#include <sys/socket.h>

#include "dht/feed.hpp"
#include "dht/item.hpp"
#include "session_test_util.hpp"

namespace shoal::test {
namespace {

using namespace std::chrono_literals;

// A UDP port free right now on 127.0.0.1.
std::uint16_t free_udp_port() {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  auto port = bind_loopback(fd);
  ::close(fd);
  return port;
}

class SessionDhtItemsTest : public SessionTestBase {
 protected:
  SessionSettings dht_settings(const std::string& state, std::uint16_t port, std::uint16_t other) {
    auto s = loopback_settings(root_ / state);
    s.dht.enabled = true;
    s.dht.port = port;
    s.dht.allow_same_ip = true;
    s.dht.bootstrap = {"127.0.0.1:" + std::to_string(other)};
    return s;
  }

  template <class E>
  static std::optional<E> wait_answer(EventLog& log, std::uint64_t request) {
    std::optional<E> got;
    bool seen = log.wait(
        [&](const Event& e) {
          const auto* v = std::get_if<E>(&e);
          if (!v || v->request != request) return false;
          got = *v;
          return true;
        },
        60s);
    EXPECT_TRUE(seen);
    return got;
  }
};

TEST_F(SessionDhtItemsTest, StoresASignedItemAndReadsItBack) {
  auto pa = free_udp_port();
  auto pb = free_udp_port();
  Session a(dht_settings("a", pa, pb));
  Session b(dht_settings("b", pb, pa));
  EventLog log_a(a);
  EventLog log_b(b);
  // b's node starts first, so that a's finds it when it joins.
  auto warm = b.dht_get_mutable_item(std::string(64, 'a'), "");
  ASSERT_TRUE(warm) << warm.error();

  dht::KeySeed seed;
  seed.bytes.fill(9);
  auto key = dht::public_key_of(seed)->to_hex();
  Sha1Digest ih;
  ih.bytes.fill(0x42);
  std::string value = dht::encode_feed_value(ih);
  auto put = a.dht_put_mutable_item(std::string(seed.raw()), "feed", value, 5);
  ASSERT_TRUE(put) << put.error();
  auto stored = wait_answer<DhtItemStored>(log_a, *put);
  ASSERT_TRUE(stored);
  EXPECT_GE(stored->stored_on, 1);
  EXPECT_EQ(stored->target, dht::mutable_target(*dht::PublicKey::from_hex(key), "feed").to_hex());

  // a's own node does not hold what it put: the answer comes from b's.
  auto get = a.dht_get_mutable_item(key, "feed");
  ASSERT_TRUE(get) << get.error();
  auto got = wait_answer<DhtMutableItemReceived>(log_a, *get);
  ASSERT_TRUE(got);
  ASSERT_TRUE(got->found);
  EXPECT_EQ(got->seq, 5);
  EXPECT_EQ(got->value, value);
  EXPECT_EQ(got->public_key, key);
  EXPECT_EQ(got->salt, "feed");
  EXPECT_TRUE(dht::verify(*dht::PublicKey::from_hex(key), *dht::Signature::from_hex(got->signature), "feed",
                          5, value));

  // Under another salt there is nothing.
  auto other = a.dht_get_mutable_item(key, "other");
  ASSERT_TRUE(other);
  auto none = wait_answer<DhtMutableItemReceived>(log_a, *other);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->found);
}

TEST_F(SessionDhtItemsTest, RefusesWhatCannotBeAsked) {
  Session off(loopback_settings(root_ / "off"));
  EXPECT_FALSE(off.dht_get_mutable_item(std::string(64, 'a'), ""));
  EXPECT_FALSE(off.dht_put_mutable_item(std::string(32, 's'), "", "i1e", 1));

  auto port = free_udp_port();
  Session on(dht_settings("on", port, port));
  EXPECT_FALSE(on.dht_get_mutable_item(std::string(63, 'a'), ""));                     // short key
  EXPECT_FALSE(on.dht_get_mutable_item(std::string(64, 'g'), ""));                     // not hex
  EXPECT_FALSE(on.dht_get_mutable_item(std::string(64, 'a'), std::string(65, 's')));   // salt too long
  EXPECT_FALSE(on.dht_put_mutable_item(std::string(31, 's'), "", "i1e", 1));           // short seed
  EXPECT_FALSE(on.dht_put_mutable_item(std::string(32, 's'), "", "not bencoded", 1));  // not one value
  EXPECT_FALSE(on.dht_put_mutable_item(std::string(32, 's'), "", "i1e", -1));          // negative seq
  EXPECT_FALSE(on.dht_put_mutable_item(std::string(32, 's'), std::string(65, 's'), "i1e", 1));
}

}  // namespace
}  // namespace shoal::test
