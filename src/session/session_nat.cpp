// The session's port mappings on the home router (SessionSettings::upnp, natpmp, pcp): started with the
// session, reported as events, and the router's external TCP port announced to trackers and the DHT in place
// of the listen port while a mapping holds it.
#include <boost/asio/ip/address.hpp>

#include "net/natpmp_gateway.hpp"
#include "net/pcp_gateway.hpp"
#include "net/upnp_gateway.hpp"
#include "session/session_core.hpp"
#include "shoal/version.hpp"

namespace shoal::detail {

namespace {

// A session that listens on loopback only cannot be reached from outside whatever the router does.
bool listens_on_loopback(const std::string& address) {
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address(address, ec);
  return !ec && a.is_loopback();
}

}  // namespace

void SessionCore::start_port_mapping(std::uint16_t udp_port) {
  if (!settings_.upnp && !settings_.natpmp && !settings_.pcp) return;
  if (listens_on_loopback(settings_.listen_address)) {
    log("", "port mapping: off (listening on loopback " + settings_.listen_address + ")");
    return;
  }
  std::vector<std::unique_ptr<net::MappingBackend>> backends;
  if (settings_.upnp)
    backends.push_back(std::make_unique<net::UpnpGateway>("Shoal " + std::string(shoal::version())));
  // PCP and NAT-PMP share the router's port 5351 and its mappings: one backend speaks whichever it answers.
  std::unique_ptr<net::MappingBackend> natpmp;
  if (settings_.natpmp) natpmp = std::make_unique<net::NatPmpGateway>();
  if (settings_.pcp) natpmp = std::make_unique<net::PcpGateway>(std::move(natpmp));
  if (natpmp) backends.push_back(std::move(natpmp));
  port_mapper_ = std::make_unique<net::PortMapper>(
      io_, std::move(backends), [this](const net::PortMapper::Report& r) { on_port_mapping(r); });
  port_mapper_->start(context_.listen_port, udp_port);
}

void SessionCore::on_port_mapping(const net::PortMapper::Report& r) {
  using Change = nat::PortMapping::Change;
  const std::string protocol = nat::to_string(r.protocol);
  if (r.change == Change::mapped || r.change == Change::port_changed) {
    push_event(PortMapped{r.backend, protocol, r.internal_port, r.external_port, r.external_address});
    log("", "port mapping: " + r.backend + " " + protocol + " " + std::to_string(r.internal_port) + " -> " +
                (r.external_address.empty() ? "?" : r.external_address) + ":" +
                std::to_string(r.external_port));
  } else {
    push_event(PortMappingError{r.backend, protocol, r.internal_port, r.error});
    log("", "port mapping: " + r.backend + " " + protocol + " " + std::to_string(r.internal_port) + ": " +
                r.error);
  }
  if (r.protocol != nat::Protocol::tcp) return;
  // Another backend may still hold a mapping when this one lost its own.
  const auto port = port_mapper_ ? port_mapper_->external_tcp_port() : std::uint16_t{0};
  if (port == context_.mapped_port) return;
  context_.mapped_port = port;
  for (auto& [hex, entry] : torrents_) {
    if (entry->torrent) entry->torrent->set_announce_port(context_.announced_port());
  }
}

}  // namespace shoal::detail
