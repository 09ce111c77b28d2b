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

DhtService::DhtService(asio::io_context& io, DhtServiceOptions options)
    : io_(io), options_(std::move(options)), socket_(io), timer_(io) {}

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
        if (auto nodes = doc->root().find_string("nodes"); nodes && nodes->size() % 26 == 0) {
          for (std::size_t i = 0; i < nodes->size(); i += 26) {
            dht::NodeInfo n;
            n.id = *dht::NodeId::from_raw(nodes->substr(i, 20));
            auto e = Endpoint::from_compact(
                std::span(reinterpret_cast<const std::uint8_t*>(nodes->data()) + i + 20, 6));
            if (e) {
              n.endpoint = *e;
              saved_nodes_.push_back(n);
            }
          }
        }
      }
    }
  }
  std::random_device rd;
  node_ = std::make_unique<dht::DhtNode>(id, options_.config, (std::uint64_t{rd()} << 32) | rd());
  boost::system::error_code ec;
  auto address = asio::ip::make_address(options_.bind_address, ec);
  if (ec) return unexpected("invalid DHT bind address " + options_.bind_address);
  udp::endpoint bind(address, options_.port);
  socket_.open(bind.protocol(), ec);
  if (!ec) {
    // Bursts of queries must not overflow the default ~200 KiB receive buffer.
    boost::system::error_code ignored;
    socket_.set_option(asio::socket_base::receive_buffer_size(4 * 1024 * 1024), ignored);
    socket_.bind(bind, ec);
  }
  if (ec)
    return unexpected("cannot listen for the DHT on udp " + options_.bind_address + ":" +
                      std::to_string(options_.port) + ": " + ec.message());
  asio::co_spawn(io_, receive_loop(), asio::detached);
  asio::co_spawn(io_, tick_loop(), asio::detached);
  asio::co_spawn(io_, bootstrap_all(), asio::detached);
  return socket_.local_endpoint().port();
}

void DhtService::stop() {
  if (stopped_ || !node_) return;
  stopped_ = true;
  save_state();
  boost::system::error_code ignored;
  socket_.close(ignored);
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
  std::string nodes;
  for (const auto& n : node_->table().all()) {
    if (n.endpoint.v6) continue;
    nodes += n.id.raw();
    nodes += n.endpoint.to_compact();
  }
  d["nodes"] = std::move(nodes);
  std::error_code ec;
  std::filesystem::create_directories(options_.state_file.parent_path(), ec);
  runtime::write_file_atomically(options_.state_file, bencode::encode(bencode::Value(std::move(d))));
}

void DhtService::flush(std::vector<dht::Outgoing>& out) {
  for (auto& o : out) {
    boost::system::error_code ignored;
    socket_.send_to(asio::buffer(o.packet), to_asio<udp>(o.to), 0,
                    ignored);  // UDP: best effort, never blocks long
  }
  out.clear();
}

asio::awaitable<void> DhtService::receive_loop() {
  std::vector<char> buffer(4096);
  std::vector<dht::Outgoing> out;
  udp::endpoint from;
  while (!stopped_) {
    auto [ec, n] = co_await socket_.async_receive_from(asio::buffer(buffer), from, kToken);
    if (stopped_) co_return;
    if (ec) continue;
    node_->on_packet(std::string_view(buffer.data(), n), to_endpoint(from), dht::Clock::now(), out);
    flush(out);
  }
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
    for (const auto& r : results) {
      node_->bootstrap(to_endpoint(r.endpoint()), dht::Clock::now(), out);
      break;
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

asio::awaitable<std::vector<Endpoint>> DhtService::lookup(dht::NodeId info_hash,
                                                          std::optional<std::uint16_t> announce_port,
                                                          std::chrono::seconds wait_for_nodes) {
  asio::steady_timer wait(io_);
  auto deadline = std::chrono::steady_clock::now() + wait_for_nodes;
  while (!stopped_ && node_->table().size() == 0 && std::chrono::steady_clock::now() < deadline) {
    wait.expires_after(std::chrono::milliseconds(100));
    co_await wait.async_wait(kToken);
  }
  if (stopped_) co_return std::vector<Endpoint>{};
  auto result = std::make_shared<std::optional<std::vector<Endpoint>>>();
  auto done = std::make_shared<asio::steady_timer>(io_, asio::steady_timer::time_point::max());
  get_peers(info_hash, announce_port, [result, done](const dht::DhtNode::LookupResult& r) {
    *result = r.peers;
    done->cancel();
  });
  if (!*result) co_await done->async_wait(kToken);
  co_return result->value_or(std::vector<Endpoint>{});
}

}  // namespace shoal::net
