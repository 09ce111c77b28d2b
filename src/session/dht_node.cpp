// The public shoal::DhtNode: a net::DhtService on a network thread of its own.
#include "shoal/dht_node.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <thread>

#include "net/dht_service.hpp"

namespace shoal {

struct DhtNode::Impl {
  explicit Impl(DhtNodeSettings s) : settings(std::move(s)), work(io.get_executor()) {}

  // Runs fn on the network thread (or here once it has ended) and returns its result.
  template <class F>
  auto call(F&& fn) -> decltype(fn()) {
    if (!thread.joinable()) return fn();
    std::packaged_task<decltype(fn())()> task(std::forward<F>(fn));
    auto result = task.get_future();
    boost::asio::post(io, [&task] { task(); });
    return result.get();
  }

  DhtNodeSettings settings;
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work;
  std::unique_ptr<net::DhtService> service;
  std::thread thread;
  std::uint16_t port = 0;
};

DhtNode::DhtNode(DhtNodeSettings settings) : impl_(std::make_unique<Impl>(std::move(settings))) {}

DhtNode::~DhtNode() {
  stop();
}

Expected<void, std::string> DhtNode::start() {
  const auto& s = impl_->settings;
  net::DhtServiceOptions options;
  options.bind_address = s.bind_address;
  options.bind_address6 = s.bind_address6;
  options.port = s.port;
  options.bootstrap = s.bootstrap;
  if (options.bootstrap.empty() && s.use_public_routers)
    options.bootstrap.assign(net::kPublicDhtRouters.begin(), net::kPublicDhtRouters.end());
  options.state_file = s.state_file;
  options.config.max_queries_per_ip = s.max_queries_per_ip;
  options.config.routing.one_node_per_ip = !s.allow_same_ip;
  options.config.enforce_node_id = s.enforce_node_ids;
  impl_->service = std::make_unique<net::DhtService>(impl_->io, options);
  auto port = impl_->service->start();  // before the thread: nothing else runs yet
  if (!port) {
    impl_->service.reset();
    return unexpected(port.error());
  }
  impl_->port = *port;
  impl_->thread = std::thread([this] { impl_->io.run(); });
  return {};
}

DhtNodeStats DhtNode::stats() const {
  return impl_->call([this] {
    DhtNodeStats st;
    if (!impl_->service) return st;
    const auto& node = impl_->service->node();
    st.node_id = node.id().to_hex();
    st.port = impl_->port;
    st.ipv6 = impl_->service->ipv6();
    st.nodes = node.node_count();
    st.stored_peers = node.stored_peers();
    st.stored_items = node.items().immutable_count() + node.items().mutable_count();
    st.queries_answered = node.stats().queries_in;
    return st;
  });
}

void DhtNode::stop() {
  if (!impl_->thread.joinable()) return;
  impl_->call([this] { impl_->service->stop(); });
  impl_->work.reset();
  impl_->io.stop();
  impl_->thread.join();
}

}  // namespace shoal
