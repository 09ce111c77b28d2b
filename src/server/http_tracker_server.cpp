#include "server/http_tracker_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <utility>

#include "bencode/value.hpp"
#include "net/asio_endpoint.hpp"
#include "tracker/http_query.hpp"

namespace shoal::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
constexpr auto kToken = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kHeaderLimit = 8192;
constexpr auto kIdleTimeout = std::chrono::seconds(15);

std::string failure(std::string_view reason) {
  bencode::Value::Dict d;
  d["failure reason"] = std::string(reason);
  return bencode::encode(bencode::Value(std::move(d)));
}

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Holds one of the server's connection slots for as long as a connection is served.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(HttpTrackerServer::ConnectionCount& count) : count_(&count) { ++count_->open; }
  ConnectionSlot(ConnectionSlot&& other) noexcept : count_(std::exchange(other.count_, nullptr)) {}
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(ConnectionSlot&&) = delete;
  ~ConnectionSlot() {
    if (count_) --count_->open;
  }

 private:
  HttpTrackerServer::ConnectionCount* count_;
};

// Out of descriptors or kernel memory: the pending connection stays queued and the listen socket readable,
// so retrying at once would spin.
bool resource_exhausted(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system ||
         ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
}

asio::awaitable<void> serve(HttpTrackerServer& server, tcp::socket socket, ConnectionSlot slot) {
  (void)slot;
  boost::system::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  if (ec) co_return;
  Endpoint source = net::to_endpoint(remote);
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer(kHeaderLimit);
  for (;;) {
    http::request_parser<http::empty_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(0);
    stream.expires_after(kIdleTimeout);
    auto [read_ec, n] = co_await http::async_read(stream, buffer, parser, kToken);
    if (read_ec == http::error::header_limit) {
      // Say why before hanging up: a client with an absurd request line deserves to know.
      http::response<http::string_body> too_large{http::status::request_header_fields_too_large, 11};
      too_large.body() = failure("request too long");
      too_large.keep_alive(false);
      too_large.prepare_payload();
      co_await http::async_write(stream, too_large, kToken);
      co_return;
    }
    if (read_ec) co_return;  // closed, timed out, or not HTTP we accept: just hang up
    const auto& request = parser.get();
    http::response<http::string_body> response;
    response.version(request.version());
    response.keep_alive(request.keep_alive());
    response.set(http::field::server, "Shoal tracker");
    if (request.method() != http::verb::get) {
      response.result(http::status::method_not_allowed);
    } else {
      auto reply = server.respond(std::string_view(request.target().data(), request.target().size()), source);
      response.result(static_cast<http::status>(reply.status));
      response.set(http::field::content_type, reply.content_type);
      response.body() = std::move(reply.body);
    }
    response.prepare_payload();
    auto [write_ec, m] = co_await http::async_write(stream, response, kToken);
    if (write_ec || !response.keep_alive()) co_return;
  }
}

asio::awaitable<void> accept_loop(HttpTrackerServer& server, tcp::acceptor& acceptor,
                                  HttpTrackerServer::ConnectionCount& connections) {
  asio::steady_timer backoff(acceptor.get_executor());
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kToken);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (resource_exhausted(ec)) {
        backoff.expires_after(HttpTrackerServer::kAcceptBackoff);
        co_await backoff.async_wait(kToken);
      }
      continue;
    }
    if (connections.open >= connections.max) {
      boost::system::error_code ignored;
      socket.close(ignored);  // full: hang up now rather than let it wait in the backlog
      continue;
    }
    asio::co_spawn(acceptor.get_executor(), serve(server, std::move(socket), ConnectionSlot(connections)),
                   asio::detached);
  }
}

}  // namespace

HttpTrackerServer::HttpTrackerServer(TrackerState& state, Endpoint bind, std::uint32_t max_requests_per_ip,
                                     std::size_t max_connections)
    : state_(state),
      bind_(bind),
      acceptor_(io_),
      limiter_(max_requests_per_ip, TrackerState::random_key()),
      connections_{0, std::max<std::size_t>(1, max_connections)} {}

HttpTrackerServer::~HttpTrackerServer() {
  stop();
}

Expected<std::uint16_t, std::string> HttpTrackerServer::start() {
  boost::system::error_code ec;
  asio::ip::address address;
  if (bind_.v6) {
    asio::ip::address_v6::bytes_type b;
    std::copy(bind_.address.begin(), bind_.address.end(), b.begin());
    address = asio::ip::address_v6(b);
  } else {
    asio::ip::address_v4::bytes_type b;
    std::copy(bind_.address.begin(), bind_.address.begin() + 4, b.begin());
    address = asio::ip::address_v4(b);
  }
  tcp::endpoint endpoint(address, bind_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return unexpected("cannot listen on http " + bind_.to_string() + ": " + ec.message());
  auto port = acceptor_.local_endpoint().port();
  asio::co_spawn(io_, accept_loop(*this, acceptor_, connections_), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
  return port;
}

void HttpTrackerServer::stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    io_.stop();
  });
  thread_.join();
}

HttpTrackerServer::Reply HttpTrackerServer::respond(std::string_view target, const Endpoint& source) {
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  auto& counters = state_.counters;
  Reply reply;
  if (limiter_.enabled() && !limiter_.allow(source, steady_ms())) {
    counters.rate_limited.fetch_add(1, std::memory_order_relaxed);
    reply.body = failure("too many requests from your address; slow down");
    return reply;
  }
  if (path == "/announce") {
    auto parsed = tracker::parse_announce_query(query);
    if (!parsed) {
      counters.errors_sent.fetch_add(1, std::memory_order_relaxed);
      reply.body = failure(tracker::describe(parsed.error()));
      return reply;
    }
    if (!state_.allowed(parsed->info_hash)) {
      counters.not_whitelisted.fetch_add(1, std::memory_order_relaxed);
      reply.body = failure("torrent not on this tracker's whitelist");
      return reply;
    }
    counters.announces.fetch_add(1, std::memory_order_relaxed);
    tracker::SwarmAnnounce a;
    a.info_hash = parsed->info_hash;
    a.peer = source;
    a.peer.port = parsed->port;  // the connection's address, never a client-supplied ip=
    a.kind = parsed->event;
    a.seed = parsed->left == 0;
    a.numwant = parsed->numwant;
    std::array<std::uint8_t, 6 * 200> v4{};
    std::array<std::uint8_t, 18 * 200> v6{};
    auto r = state_.announce(a, v4, v6);
    bencode::Value::Dict d;
    d["complete"] = static_cast<std::int64_t>(r.counts.seeders);
    d["incomplete"] = static_cast<std::int64_t>(r.counts.leechers);
    d["downloaded"] = static_cast<std::int64_t>(r.counts.completed);
    d["interval"] = state_.limits().interval;
    d["min interval"] = state_.limits().interval / 2;
    if (parsed->compact) {
      d["peers"] = std::string(reinterpret_cast<const char*>(v4.data()), r.v4_bytes);
      if (r.v6_bytes > 0) d["peers6"] = std::string(reinterpret_cast<const char*>(v6.data()), r.v6_bytes);
    } else {
      bencode::Value::List list;
      auto add = [&](std::span<const std::uint8_t> bytes, std::size_t stride) {
        for (std::size_t i = 0; i + stride <= bytes.size(); i += stride) {
          auto e = Endpoint::from_compact(bytes.subspan(i, stride));
          bencode::Value::Dict peer;
          peer["ip"] = e->address_string();
          peer["port"] = static_cast<std::int64_t>(e->port);
          list.emplace_back(std::move(peer));
        }
      };
      add(std::span(v4.data(), r.v4_bytes), 6);
      add(std::span(v6.data(), r.v6_bytes), 18);
      d["peers"] = std::move(list);
    }
    reply.body = bencode::encode(bencode::Value(std::move(d)));
    return reply;
  }
  if (path == "/scrape") {
    auto parsed = tracker::parse_scrape_query(query);
    if (!parsed) {
      counters.errors_sent.fetch_add(1, std::memory_order_relaxed);
      reply.body = failure(tracker::describe(parsed.error()));
      return reply;
    }
    if (parsed->info_hashes.empty()) {
      reply.body = failure("full scrape is disabled: name torrents with info_hash");
      return reply;
    }
    counters.scrapes.fetch_add(1, std::memory_order_relaxed);
    bencode::Value::Dict files;
    for (const auto& h : parsed->info_hashes) {
      auto c = state_.scrape(h);
      bencode::Value::Dict entry;
      entry["complete"] = static_cast<std::int64_t>(c.seeders);
      entry["downloaded"] = static_cast<std::int64_t>(c.completed);
      entry["incomplete"] = static_cast<std::int64_t>(c.leechers);
      files[std::string(reinterpret_cast<const char*>(h.bytes.data()), 20)] = std::move(entry);
    }
    bencode::Value::Dict d;
    d["files"] = std::move(files);
    reply.body = bencode::encode(bencode::Value(std::move(d)));
    return reply;
  }
  if (path == "/stats") {
    auto load = [](const std::atomic<std::uint64_t>& a) {
      return std::to_string(a.load(std::memory_order_relaxed));
    };
    reply.content_type = "application/json";
    reply.body = "{\"swarms\":" + std::to_string(state_.swarms()) +
                 ",\"peers\":" + std::to_string(state_.peers()) + ",\"connects\":" + load(counters.connects) +
                 ",\"announces\":" + load(counters.announces) + ",\"scrapes\":" + load(counters.scrapes) +
                 ",\"errors_sent\":" + load(counters.errors_sent) + ",\"dropped\":" + load(counters.dropped) +
                 ",\"rate_limited\":" + load(counters.rate_limited) +
                 ",\"not_whitelisted\":" + load(counters.not_whitelisted) + "}\n";
    return reply;
  }
  reply.status = 404;
  reply.body = "not found\n";
  return reply;
}

}  // namespace shoal::server
