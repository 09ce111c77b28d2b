// The public shoal::TrackerServer: the tracker state and its HTTP and UDP front ends behind one handle.
#include "shoal/tracker_server.hpp"

#include <algorithm>
#include <thread>

#include "server/http_tracker_server.hpp"
#include "server/tracker_state.hpp"
#include "server/udp_tracker_server.hpp"
#include "server/whitelist.hpp"
#include "shoal/endpoint.hpp"

namespace shoal {
namespace {

// "ADDR:PORT" where PORT may be 0 (any free port), which Endpoint::parse refuses for peers.
std::optional<Endpoint> parse_bind(const std::string& text) {
  if (text.size() > 2 && text.ends_with(":0")) {
    auto e = Endpoint::parse(text.substr(0, text.size() - 1) + "1");
    if (e) e->port = 0;
    return e;
  }
  return Endpoint::parse(text);
}

}  // namespace

struct TrackerServer::Impl {
  // One secret per server keys every table indexed by bytes a remote party chooses.
  explicit Impl(TrackerServerSettings s)
      : settings(std::move(s)), key(server::TrackerState::random_key()), state(limits_of(settings), key) {}
  static tracker::SwarmLimits limits_of(const TrackerServerSettings& s) {
    tracker::SwarmLimits limits;
    limits.interval = s.interval;
    return limits;
  }

  TrackerServerSettings settings;
  hash::SipKey key;
  server::TrackerState state;
  std::unique_ptr<server::UdpTrackerServer> udp;
  std::unique_ptr<server::HttpTrackerServer> http;
  std::uint16_t http_port = 0;
  std::uint16_t udp_port = 0;
  std::size_t whitelist_size = 0;
};

TrackerServer::TrackerServer(TrackerServerSettings settings)
    : impl_(std::make_unique<Impl>(std::move(settings))) {}

TrackerServer::~TrackerServer() {
  stop();
}

Expected<void, std::string> TrackerServer::start() {
  auto& s = impl_->settings;
  if (!s.serve_http && !s.serve_udp) return unexpected(std::string("nothing to serve: neither HTTP nor UDP"));
  if (!s.whitelist.empty()) {
    auto size = reload_whitelist();
    if (!size) return unexpected(size.error());
  }
  if (s.serve_udp) {
    auto bind = parse_bind(s.udp_bind);
    if (!bind) return unexpected("invalid UDP address '" + s.udp_bind + "' (expected ADDR:PORT)");
    server::UdpServerOptions u;
    u.bind = *bind;
    u.threads = s.udp_threads != 0 ? s.udp_threads : std::max(1u, std::thread::hardware_concurrency());
    u.max_requests_per_ip = s.max_requests_per_ip;
    u.log_drops = s.log_drops;
    impl_->udp = std::make_unique<server::UdpTrackerServer>(impl_->state, u);
    auto port = impl_->udp->start();
    if (!port) {
      impl_->udp.reset();
      return unexpected(port.error());
    }
    impl_->udp_port = *port;
  }
  if (s.serve_http) {
    auto bind = parse_bind(s.http_bind);
    if (!bind) {
      stop();
      return unexpected("invalid HTTP address '" + s.http_bind + "' (expected ADDR:PORT)");
    }
    impl_->http = std::make_unique<server::HttpTrackerServer>(impl_->state, *bind, s.max_requests_per_ip,
                                                              s.max_http_connections);
    auto port = impl_->http->start();
    if (!port) {
      impl_->http.reset();
      stop();
      return unexpected(port.error());
    }
    impl_->http_port = *port;
  }
  return {};
}

std::uint16_t TrackerServer::http_port() const {
  return impl_->http_port;
}

std::uint16_t TrackerServer::udp_port() const {
  return impl_->udp_port;
}

std::size_t TrackerServer::whitelist_size() const {
  return impl_->whitelist_size;
}

void TrackerServer::expire() {
  impl_->state.expire();
}

Expected<std::size_t, std::string> TrackerServer::reload_whitelist() {
  auto list = server::load_whitelist(impl_->settings.whitelist, impl_->key);
  if (!list) return unexpected(list.error());
  impl_->whitelist_size = list->size();
  impl_->state.set_whitelist(std::make_shared<const server::Whitelist>(std::move(*list)));
  return impl_->whitelist_size;
}

TrackerServerStats TrackerServer::stats() const {
  return {impl_->state.swarms(), impl_->state.peers()};
}

void TrackerServer::stop() {
  if (impl_->http) impl_->http->stop();
  if (impl_->udp) impl_->udp->stop();
  impl_->http.reset();
  impl_->udp.reset();
}

}  // namespace shoal
