// DhtService's BEP 44 calls: get and put of items, as callbacks on the network thread or as coroutines.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

#include "net/dht_service.hpp"

namespace shoal::net {
namespace {

namespace asio = boost::asio;
constexpr auto kToken = asio::as_tuple(asio::use_awaitable);

// Runs a node operation that reports through a callback, and waits for that report on a timer that the
// callback cancels (the operation may also report before it returns).
template <class Result, class Start>
asio::awaitable<Result> await_callback(asio::io_context& io, Start start) {
  auto result = std::make_shared<std::optional<Result>>();
  auto done = std::make_shared<asio::steady_timer>(io, asio::steady_timer::time_point::max());
  start([result, done](const Result& r) {
    *result = r;
    done->cancel();
  });
  if (!*result) co_await done->async_wait(kToken);
  co_return result->value_or(Result{});
}

}  // namespace

asio::awaitable<void> DhtService::await_some_nodes(std::chrono::seconds limit) {
  asio::steady_timer wait(io_);
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!stopped_ && node_->node_count() == 0 && std::chrono::steady_clock::now() < deadline) {
    wait.expires_after(std::chrono::milliseconds(100));
    co_await wait.async_wait(kToken);
  }
}

void DhtService::get_item(const dht::NodeId& target, std::optional<dht::PublicKey> key, std::string salt,
                          dht::DhtNode::GetItemDone done) {
  std::vector<dht::Outgoing> out;
  node_->get_item(target, key, std::move(salt), std::move(done), dht::Clock::now(), out);
  flush(out);
}

void DhtService::put_item(dht::Item item, dht::DhtNode::PutItemDone done) {
  std::vector<dht::Outgoing> out;
  node_->put_item(std::move(item), std::move(done), dht::Clock::now(), out);
  flush(out);
}

asio::awaitable<dht::DhtNode::GetItemResult> DhtService::get_item(dht::NodeId target,
                                                                  std::optional<dht::PublicKey> key,
                                                                  std::string salt,
                                                                  std::chrono::seconds wait_limit) {
  co_await await_some_nodes(wait_limit);
  if (stopped_) co_return dht::DhtNode::GetItemResult{};
  co_return co_await await_callback<dht::DhtNode::GetItemResult>(
      io_, [&](dht::DhtNode::GetItemDone done) { get_item(target, key, salt, std::move(done)); });
}

asio::awaitable<dht::DhtNode::PutItemResult> DhtService::put_item(dht::Item item,
                                                                  std::chrono::seconds wait_limit) {
  co_await await_some_nodes(wait_limit);
  if (stopped_) co_return dht::DhtNode::PutItemResult{};
  co_return co_await await_callback<dht::DhtNode::PutItemResult>(
      io_, [&](dht::DhtNode::PutItemDone done) { put_item(std::move(item), std::move(done)); });
}

}  // namespace shoal::net
