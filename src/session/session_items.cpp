// The session's BEP 44 calls for embedders (Session::dht_get_mutable_item, dht_put_mutable_item): checked at
// once on the network thread, then run as coroutines on the session's DHT node, answered by events. What BEP
// 46 feeds (shoal publish, shoal get --follow) are built on.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "session/session_core.hpp"

namespace shoal {

Expected<std::uint64_t, std::string> Session::dht_get_mutable_item(const std::string& public_key,
                                                                   const std::string& salt) {
  return core_->call([&] { return core_->dht_get_mutable(public_key, salt); });
}

Expected<std::uint64_t, std::string> Session::dht_put_mutable_item(const std::string& key_seed,
                                                                   const std::string& salt,
                                                                   const std::string& value,
                                                                   std::int64_t seq) {
  return core_->call([&] { return core_->dht_put_mutable(key_seed, salt, value, seq); });
}

namespace detail {
namespace {

namespace asio = boost::asio;

// The wait for a first DHT contact before a lookup goes out, as for torrents' searches.
constexpr auto kItemJoinWait = std::chrono::seconds(10);

}  // namespace

Expected<std::uint64_t, std::string> SessionCore::dht_get_mutable(const std::string& public_key,
                                                                  const std::string& salt) {
  if (!settings_.dht.enabled) return unexpected(std::string("the DHT is disabled"));
  auto key = public_key.size() == 64 ? dht::PublicKey::from_hex(public_key) : std::nullopt;
  if (!key) return unexpected(std::string("a public key is 64 hex digits"));
  if (salt.size() > dht::kMaxItemSalt) return unexpected(std::string("the salt is longer than 64 bytes"));
  start_dht();
  if (!dht_) return unexpected(std::string("the DHT could not start"));
  auto request = next_item_request_++;
  asio::co_spawn(io_, item_get(request, *key, salt), asio::detached);
  return request;
}

Expected<std::uint64_t, std::string> SessionCore::dht_put_mutable(const std::string& key_seed,
                                                                  const std::string& salt,
                                                                  const std::string& value,
                                                                  std::int64_t seq) {
  if (!settings_.dht.enabled) return unexpected(std::string("the DHT is disabled"));
  auto seed = dht::KeySeed::from_raw(key_seed);
  if (!seed) return unexpected(std::string("an Ed25519 seed is 32 bytes"));
  auto item = dht::make_mutable_item(*seed, value, salt, seq);
  if (!item) return unexpected(std::string(dht::to_string(item.error())));
  start_dht();
  if (!dht_) return unexpected(std::string("the DHT could not start"));
  auto request = next_item_request_++;
  asio::co_spawn(io_, item_put(request, std::move(*item)), asio::detached);
  return request;
}

asio::awaitable<void> SessionCore::item_get(std::uint64_t request, dht::PublicKey key, std::string salt) {
  auto result = co_await dht_->get_item(dht::mutable_target(key, salt), key, salt, kItemJoinWait);
  if (shut_down_) co_return;
  DhtMutableItemReceived event;
  event.request = request;
  event.public_key = key.to_hex();
  event.salt = std::move(salt);
  event.queries = result.queries;
  if (result.item && result.item->mutable_info) {
    event.found = true;
    event.seq = result.item->mutable_info->seq;
    event.value = result.item->value;
    event.signature = result.item->mutable_info->signature.to_hex();
  }
  push_event(std::move(event));
}

asio::awaitable<void> SessionCore::item_put(std::uint64_t request, dht::Item item) {
  auto target = item.target().to_hex();
  auto result = co_await dht_->put_item(std::move(item), kItemJoinWait);
  if (shut_down_) co_return;
  push_event(DhtItemStored{request, target, result.acknowledged, result.sent});
}

}  // namespace detail
}  // namespace shoal
