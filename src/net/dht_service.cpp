#include "net/dht_service.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <random>

#include "bencode/decoder.hpp"
#include "bencode/value.hpp"
#include "dht/node_id.hpp"
#include "net/asio_endpoint.hpp"
#include "runtime/file_io.hpp"

namespace shoal::net {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
constexpr auto kToken = asio::as_tuple(asio::use_awaitable);

dht::NodeId random_id() {
  std::random_device rd;
  dht::NodeId id;
  for (auto& b : id.bytes)
    b = static_cast<std::uint8_t>(rd());
  return id;
}

}  // namespace

DhtService::DhtService(asio::io_context& io, DhtServiceOptions options, UdpMux* shared)
    : io_(io),
      options_(std::move(options)),
      own_mux_(shared ? nullptr : std::make_unique<UdpMux>(io)),
      mux_(shared ? shared : own_mux_.get()),
      timer_(io) {}

DhtService::~DhtService() {
  stop();
}

Expected<std::uint16_t, std::string> DhtService::start() {
  // The saved state: our id (so other nodes' tables stay right about us) and the nodes we knew.
  dht::NodeId id = random_id();
  if (!options_.state_file.empty()) {
    if (auto bytes = runtime::read_file(options_.state_file, 1 << 20)) {
      if (auto doc = bencode::decode(*bytes); doc && doc->root().is_dict()) {
        if (auto saved = doc->root().find_string("id"); saved && saved->size() == 20)
          id = *dht::NodeId::from_raw(*saved);
        for (auto [key, stride] : {std::pair{"nodes", 26}, std::pair{"nodes6", 38}}) {
          auto nodes = doc->root().find_string(key);
          if (!nodes || nodes->size() % stride != 0) continue;
          for (std::size_t i = 0; i < nodes->size(); i += stride) {
            dht::NodeInfo n;
            n.id = *dht::NodeId::from_raw(nodes->substr(i, 20));
            auto e = Endpoint::from_compact(std::span(
                reinterpret_cast<const std::uint8_t*>(nodes->data()) + i + 20, std::size_t(stride - 20)));
            if (e) {
              n.endpoint = *e;
              saved_nodes_.push_back(n);
            }
          }
        }
      }
    }
  }
  if (own_mux_) {
    auto opened = own_mux_->open(options_.bind_address, options_.bind_address6, options_.port);
    if (!opened) return unexpected("cannot listen for the DHT: " + opened.error());
  }
  auto config = options_.config;
  config.dual_stack = mux_->v4_open() && mux_->v6_open();
  std::random_device rd;
  node_ = std::make_unique<dht::DhtNode>(id, config, (std::uint64_t{rd()} << 32) | rd());
  mux_->set_handler(UdpMux::Kind::krpc, [this](std::span<const std::uint8_t> packet, const Endpoint& from) {
    on_packet(packet, from);
  });
  mux_->set_unreachable_handler(UdpMux::Kind::krpc, [this](const Endpoint& to, std::error_code) {
    if (stopped_) return;
    node_->on_unreachable(to, dht::Clock::now(), packet_out_);
    flush(packet_out_);
  });
  asio::co_spawn(io_, tick_loop(), asio::detached);
  asio::co_spawn(io_, bootstrap_all(), asio::detached);
  return mux_->port();
}

void DhtService::stop() {
  if (stopped_ || !node_) return;
  stopped_ = true;
  save_state();
  mux_->set_handler(UdpMux::Kind::krpc, {});
  mux_->set_unreachable_handler(UdpMux::Kind::krpc, {});
  if (own_mux_) own_mux_->close();
  timer_.cancel();
}

void DhtService::save_state() const {
  if (options_.state_file.empty()) return;
  bencode::Value::Dict d;
  // BEP 42: once we know our external address, the id we come back with is one derived from it.
  dht::NodeId id = node_->id();
  if (auto ip = node_->external_ip(); ip && !dht::node_id_valid(id, *ip)) {
    std::random_device rd;
    std::array<std::uint8_t, 20> random{};
    for (auto& b : random)
      b = static_cast<std::uint8_t>(rd());
    id = dht::node_id_for(*ip, random[19], random);
  }
  d["id"] = std::string(id.raw());
  for (bool v6 : {false, true}) {
    std::string nodes;
    for (const auto& n : node_->table(v6).all()) {
      nodes += n.id.raw();
      nodes += n.endpoint.to_compact();
    }
    d[v6 ? "nodes6" : "nodes"] = std::move(nodes);
  }
  std::error_code ec;
  std::filesystem::create_directories(options_.state_file.parent_path(), ec);
  runtime::write_file_atomically(options_.state_file, bencode::encode(bencode::Value(std::move(d))));
}

void DhtService::flush(std::vector<dht::Outgoing>& out) {
  for (auto& o : out) {
    mux_->send_to(o.to, std::span(reinterpret_cast<const std::uint8_t*>(o.packet.data()), o.packet.size()));
  }
  out.clear();
}

void DhtService::on_packet(std::span<const std::uint8_t> packet, const Endpoint& from) {
  if (stopped_) return;
  node_->on_packet(std::string_view(reinterpret_cast<const char*>(packet.data()), packet.size()), from,
                   dht::Clock::now(), packet_out_);
  flush(packet_out_);
}

asio::awaitable<void> DhtService::tick_loop() {
  std::vector<dht::Outgoing> out;
  while (!stopped_) {
    timer_.expires_after(std::chrono::milliseconds(100));
    auto [ec] = co_await timer_.async_wait(kToken);
    if (ec || stopped_) co_return;
    node_->tick(dht::Clock::now(), out);
    flush(out);
  }
}

asio::awaitable<void> DhtService::bootstrap_all() {
  std::vector<dht::Outgoing> out;
  for (const auto& n : saved_nodes_)
    node_->bootstrap(n.endpoint, dht::Clock::now(), out);
  udp::resolver resolver(io_);
  for (const auto& text : options_.bootstrap) {
    auto colon = text.rfind(':');
    if (colon == std::string::npos) continue;
    std::string host = text.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    auto [ec, results] = co_await resolver.async_resolve(host, text.substr(colon + 1), kToken);
    if (ec || stopped_) continue;
    // The first address of each family we speak: a router is usually in both DHTs.
    bool asked[2] = {false, false};
    for (const auto& r : results) {
      auto e = to_endpoint(r.endpoint());
      if (asked[e.v6] || !(e.v6 ? mux_->v6_open() : mux_->v4_open())) continue;
      asked[e.v6] = true;
      node_->bootstrap(e, dht::Clock::now(), out);
    }
  }
  flush(out);
}

void DhtService::get_peers(const dht::NodeId& info_hash, std::optional<std::uint16_t> announce_port,
                           dht::DhtNode::LookupDone done) {
  std::vector<dht::Outgoing> out;
  node_->get_peers(info_hash, announce_port, std::move(done), dht::Clock::now(), out);
  flush(out);
}

asio::awaitable<dht::DhtNode::LookupResult> DhtService::walk(
    std::function<void(dht::DhtNode::LookupDone, std::vector<dht::Outgoing>&)> start,
    std::chrono::seconds wait_for_nodes) {
  asio::steady_timer wait(io_);
  auto deadline = std::chrono::steady_clock::now() + wait_for_nodes;
  while (!stopped_ && node_->node_count() == 0 && std::chrono::steady_clock::now() < deadline) {
    wait.expires_after(std::chrono::milliseconds(100));
    co_await wait.async_wait(kToken);
  }
  if (stopped_) co_return dht::DhtNode::LookupResult{};
  auto result = std::make_shared<std::optional<dht::DhtNode::LookupResult>>();
  auto done = std::make_shared<asio::steady_timer>(io_, asio::steady_timer::time_point::max());
  std::vector<dht::Outgoing> out;
  start(
      [result, done](const dht::DhtNode::LookupResult& r) {
        *result = r;
        done->cancel();
      },
      out);
  flush(out);
  if (!*result) co_await done->async_wait(kToken);
  co_return result->value_or(dht::DhtNode::LookupResult{});
}

asio::awaitable<dht::DhtNode::LookupResult> DhtService::search(dht::NodeId info_hash, dht::PeerSearch search,
                                                               std::chrono::seconds wait_for_nodes) {
  co_return co_await walk(
      [&](dht::DhtNode::LookupDone done, std::vector<dht::Outgoing>& out) {
        node_->get_peers(info_hash, search, std::move(done), dht::Clock::now(), out);
      },
      wait_for_nodes);
}

asio::awaitable<dht::DhtNode::LookupResult> DhtService::sample(dht::NodeId target,
                                                               std::chrono::seconds wait_for_nodes) {
  co_return co_await walk(
      [&](dht::DhtNode::LookupDone done, std::vector<dht::Outgoing>& out) {
        node_->sample_infohashes(target, std::move(done), dht::Clock::now(), out);
      },
      wait_for_nodes);
}

asio::awaitable<std::vector<Endpoint>> DhtService::lookup(dht::NodeId info_hash,
                                                          std::optional<std::uint16_t> announce_port,
                                                          std::chrono::seconds wait_for_nodes) {
  auto result = co_await search(info_hash, dht::PeerSearch{announce_port}, wait_for_nodes);
  co_return std::move(result.peers);
}

}  // namespace shoal::net
