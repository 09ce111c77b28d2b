#include "net/udp_tracker_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <random>

#include "net/asio_endpoint.hpp"

namespace shoal::net {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
using namespace asio::experimental::awaitable_operators;
constexpr auto kToken = asio::as_tuple(asio::use_awaitable);

// "udp://host:port/anything" -> host, port. Brackets around IPv6 literals.
bool split_url(const std::string& url, std::string& host, std::string& port) {
  constexpr std::string_view kScheme = "udp://";
  if (url.rfind(kScheme, 0) != 0) return false;
  std::string rest = url.substr(kScheme.size());
  rest = rest.substr(0, rest.find('/'));
  if (!rest.empty() && rest[0] == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos || close + 1 >= rest.size() || rest[close + 1] != ':') return false;
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    auto colon = rest.rfind(':');
    if (colon == std::string::npos) return false;
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  return !host.empty() && !port.empty();
}

// BEP 15: requests carry their transaction id at bytes 12-15, replies at bytes 4-7.
std::optional<std::uint32_t> read_u32(std::span<const std::uint8_t> packet, std::size_t offset) {
  if (packet.size() < offset + 4) return std::nullopt;
  return (std::uint32_t{packet[offset]} << 24) | (std::uint32_t{packet[offset + 1]} << 16) |
         (std::uint32_t{packet[offset + 2]} << 8) | std::uint32_t{packet[offset + 3]};
}

// The addresses of a udp://host:port URL's host.
asio::awaitable<Expected<udp::resolver::results_type, std::string>> resolve_tracker(const std::string& url) {
  std::string host, port;
  if (!split_url(url, host, port)) co_return unexpected(std::string("not a udp://host:port URL"));
  udp::resolver resolver(co_await asio::this_coro::executor);
  auto [ec, results] = co_await resolver.async_resolve(host, port, kToken);
  if (ec || results.empty()) co_return unexpected("cannot resolve " + host + ": " + ec.message());
  co_return results;
}

}  // namespace

asio::awaitable<Expected<tracker::udp::Response, std::string>> udp_tracker_request(
    std::string url, std::variant<tracker::udp::AnnounceRequest, std::vector<Sha1Digest>> request,
    tracker::udp::ConnectionCache& cache, UdpTrackerOptions options) {
  using tracker::udp::UdpExchange;
  auto executor = co_await asio::this_coro::executor;
  auto results = co_await resolve_tracker(url);
  if (!results) co_return unexpected(results.error());
  udp::endpoint target = results->begin()->endpoint();
  udp::socket socket(executor);
  boost::system::error_code ec;
  socket.open(target.protocol(), ec);
  if (ec) co_return unexpected("udp socket: " + ec.message());
  if (cache.valid(UdpExchange::Clock::now()) && cache.local_port != 0) {
    // Same source port as when the id was issued; if it is taken now, connect afresh.
    boost::system::error_code bind_ec;
    socket.bind(udp::endpoint(target.protocol(), cache.local_port), bind_ec);
    if (bind_ec) cache = {};
  }
  socket.connect(target, ec);  // only the tracker's own replies reach us (binds an ephemeral port if unbound)
  if (ec) co_return unexpected("udp socket: " + ec.message());
  std::uint16_t local_port = socket.local_endpoint(ec).port();

  UdpExchange exchange(std::move(request), cache, target.address().is_v6(), std::random_device{}(),
                       options.max_attempts, options.base_timeout);
  auto step = exchange.start(UdpExchange::Clock::now());
  std::vector<std::uint8_t> buffer(tracker::udp::kMaxPacketSize * 2);
  asio::steady_timer timer(executor);
  for (;;) {
    if (auto* failed = std::get_if<UdpExchange::Failed>(&step)) co_return unexpected(failed->reason);
    if (auto* done = std::get_if<UdpExchange::Done>(&step)) co_return std::move(done->response);
    auto& send = std::get<UdpExchange::Send>(step);
    co_await socket.async_send(asio::buffer(send.packet), kToken);  // a lost send is just a timeout
    timer.expires_at(send.deadline);
    for (;;) {
      auto result = co_await (socket.async_receive(asio::buffer(buffer), kToken) || timer.async_wait(kToken));
      if (result.index() == 1) {
        step = exchange.on_timeout(UdpExchange::Clock::now());
        break;
      }
      auto [recv_ec, n] = std::get<0>(result);
      if (recv_ec) {
        // ICMP port unreachable surfaces here: nobody listens there. Waiting out the back-off changes
        // nothing.
        if (recv_ec == asio::error::connection_refused) co_return unexpected("connection refused");
        continue;
      }
      auto next = exchange.on_packet(std::span(buffer.data(), n), UdpExchange::Clock::now());
      cache.local_port = local_port;
      if (next) {
        step = std::move(*next);
        break;
      }
    }
  }
}

UdpTrackerClient::UdpTrackerClient(UdpMux& mux) : mux_(mux) {
  mux_.set_handler(UdpMux::Kind::tracker, [this](std::span<const std::uint8_t> packet, const Endpoint& from) {
    on_packet(packet, from);
  });
  mux_.set_unreachable_handler(UdpMux::Kind::tracker, [this](const Endpoint& to, std::error_code error) {
    on_unreachable(to, error);
  });
}

UdpTrackerClient::~UdpTrackerClient() {
  mux_.set_handler(UdpMux::Kind::tracker, {});
  mux_.set_unreachable_handler(UdpMux::Kind::tracker, {});
}

// The tracker's host said no (a closed port, or no route): a definite answer, unlike silence, so the request
// fails now rather than after every retransmission.
void UdpTrackerClient::on_unreachable(const Endpoint& to, std::error_code error) {
  for (auto it = waiters_.lower_bound({to, 0}); it != waiters_.end() && it->first.first == to;) {
    *it->second.unreachable = error;
    it->second.wake->cancel();
    it = waiters_.erase(it);
  }
}

void UdpTrackerClient::on_packet(std::span<const std::uint8_t> packet, const Endpoint& from) {
  auto tid = read_u32(packet, 4);
  if (!tid) return;
  auto it = waiters_.find({from, *tid});
  if (it == waiters_.end()) return;  // late, duplicated or forged: nobody asked
  it->second.packet->assign(packet.begin(), packet.end());
  *it->second.arrived = true;
  it->second.wake->cancel();
  waiters_.erase(it);
}

asio::awaitable<Expected<tracker::udp::Response, std::string>> UdpTrackerClient::request(
    std::string url, std::variant<tracker::udp::AnnounceRequest, std::vector<Sha1Digest>> request,
    tracker::udp::ConnectionCache& cache, UdpTrackerOptions options) {
  using tracker::udp::UdpExchange;
  auto executor = co_await asio::this_coro::executor;
  auto results = co_await resolve_tracker(url);
  if (!results) co_return unexpected(results.error());
  // The first address of a family we have a socket for.
  std::optional<Endpoint> target;
  for (const auto& r : *results) {
    auto e = to_endpoint(r.endpoint());
    if (e.v6 ? mux_.v6_open() : mux_.v4_open()) {
      target = e;
      break;
    }
  }
  if (!target) co_return unexpected("no UDP socket for the address family of " + url);
  // Connection ids are bound to the port they were issued to: ours never changes.
  if (cache.local_port != 0 && cache.local_port != mux_.port()) cache = {};

  UdpExchange exchange(std::move(request), cache, target->v6, std::random_device{}(), options.max_attempts,
                       options.base_timeout);
  auto step = exchange.start(UdpExchange::Clock::now());
  asio::steady_timer wake(executor);
  std::vector<std::uint8_t> reply;
  bool arrived = false;
  std::error_code unreachable;
  std::optional<std::pair<Endpoint, std::uint32_t>> key;
  // The waiter must not outlive this frame: whatever way the frame ends, it leaves the table.
  // (At shutdown the frame may be destroyed after the client: the weak token says whether it still exists.)
  struct Unregister {
    UdpTrackerClient* self;
    std::weak_ptr<bool> alive;
    std::optional<std::pair<Endpoint, std::uint32_t>>& key;
    ~Unregister() {
      if (key && !alive.expired()) self->waiters_.erase(*key);
    }
  } unregister{this, alive_, key};
  for (;;) {
    if (auto* failed = std::get_if<UdpExchange::Failed>(&step)) co_return unexpected(failed->reason);
    if (auto* done = std::get_if<UdpExchange::Done>(&step)) co_return std::move(done->response);
    auto& send = std::get<UdpExchange::Send>(step);
    auto tid = read_u32(send.packet, 12);
    if (!tid) co_return unexpected(std::string("internal error: request without a transaction id"));
    if (key) waiters_.erase(*key);
    key = std::pair{*target, *tid};
    arrived = false;
    waiters_[*key] = Waiter{&wake, &reply, &arrived, &unreachable};
    mux_.send_to(*target, send.packet);
    wake.expires_at(send.deadline);
    for (;;) {
      co_await wake.async_wait(kToken);
      if (unreachable) {
        key.reset();  // on_unreachable took it out of the table
        co_return unexpected(url + ": " + target->to_string() + " unreachable (" + unreachable.message() +
                             ")");
      }
      if (!arrived) {  // the deadline, not a reply
        waiters_.erase(*key);
        key.reset();
        step = exchange.on_timeout(UdpExchange::Clock::now());
        break;
      }
      key.reset();  // on_packet took it out of the table
      auto next = exchange.on_packet(reply, UdpExchange::Clock::now());
      cache.local_port = mux_.port();
      if (next) {
        step = std::move(*next);
        break;
      }
      // Not an answer to this step: keep listening until the deadline under the same id.
      key = std::pair{*target, *tid};
      arrived = false;
      waiters_[*key] = Waiter{&wake, &reply, &arrived, &unreachable};
    }
  }
}

}  // namespace shoal::net
