#include "net/udp_tracker_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <random>

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

}  // namespace

asio::awaitable<Expected<tracker::udp::Response, std::string>> udp_tracker_request(
    std::string url, std::variant<tracker::udp::AnnounceRequest, std::vector<Sha1Digest>> request,
    tracker::udp::ConnectionCache& cache, UdpTrackerOptions options) {
  using tracker::udp::UdpExchange;
  auto executor = co_await asio::this_coro::executor;
  std::string host, port;
  if (!split_url(url, host, port)) co_return unexpected("not a udp://host:port URL");
  udp::resolver resolver(executor);
  auto [rec, results] = co_await resolver.async_resolve(host, port, kToken);
  if (rec || results.empty()) co_return unexpected("cannot resolve " + host + ": " + rec.message());
  udp::endpoint target = results.begin()->endpoint();
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

}  // namespace shoal::net
