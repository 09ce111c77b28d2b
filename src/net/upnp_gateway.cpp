#include "net/upnp_gateway.hpp"

#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <miniupnpc/upnperrors.h>

#include <array>
#include <string>

namespace shoal::net {
namespace {

// How long discovery waits for routers to answer the SSDP search.
constexpr int kDiscoveryMs = 2000;
// UPnP error codes (WANIPConnection:1) that change what we ask.
constexpr int kConflictInMappingEntry = 718;
constexpr int kOnlyPermanentLeasesSupported = 725;
// On a conflict (another host holds the port), the next ports are tried before giving up for this round.
constexpr int kConflictAttempts = 4;

std::string upnp_error(int code) {
  const char* text = strupnperror(code);
  return std::to_string(code) + " " + (text ? text : "unknown error");
}

}  // namespace

struct UpnpGateway::Router {
  UPNPUrls urls{};
  IGDdatas data{};
  std::array<char, 64> lan_address{};
  ~Router() { FreeUPNPUrls(&urls); }
};

UpnpGateway::UpnpGateway(std::string description) : description_(std::move(description)) {}
UpnpGateway::~UpnpGateway() = default;

std::string UpnpGateway::discover() {
  int error = 0;
  UPNPDev* devices = upnpDiscover(kDiscoveryMs, nullptr, nullptr, UPNP_LOCAL_PORT_ANY, 0, 2, &error);
  if (!devices) return "no UPnP device answered on the local network";
  auto router = std::make_unique<Router>();
  const int found = UPNP_GetValidIGD(devices, &router->urls, &router->data, router->lan_address.data(),
                                     static_cast<int>(router->lan_address.size()));
  freeUPNPDevlist(devices);
  if (found != 1) {
    // 2: an IGD that says it is not connected; 3: a UPnP device that is no gateway. Neither maps ports.
    if (found != 0) FreeUPNPUrls(&router->urls);
    router->urls = {};
    return found == 2 ? "the UPnP gateway is not connected" : "no UPnP Internet gateway on the local network";
  }
  router_ = std::move(router);
  return {};
}

nat::MappingResult UpnpGateway::add(const nat::MappingRequest& request) {
  nat::MappingResult result;
  if (!router_) {
    if (auto why = discover(); !why.empty()) {
      result.error = why;
      return result;
    }
  }
  const char* control = router_->urls.controlURL;
  const char* service = router_->data.first.servicetype;
  const std::string internal = std::to_string(request.internal_port);
  std::string lease = std::to_string(request.lease_seconds);
  int code = 0;
  std::uint16_t external = request.external_port;
  for (int attempt = 0; attempt < kConflictAttempts; ++attempt) {
    const std::string port = std::to_string(external);
    code =
        UPNP_AddPortMapping(control, service, port.c_str(), internal.c_str(), router_->lan_address.data(),
                            description_.c_str(), nat::to_string(request.protocol), nullptr, lease.c_str());
    if (code == kOnlyPermanentLeasesSupported && lease != "0") {
      lease = "0";
      code =
          UPNP_AddPortMapping(control, service, port.c_str(), internal.c_str(), router_->lan_address.data(),
                              description_.c_str(), nat::to_string(request.protocol), nullptr, "0");
    }
    if (code != kConflictInMappingEntry) break;
    external = static_cast<std::uint16_t>(external == 65535 ? 1024 : external + 1);
  }
  if (code != UPNPCOMMAND_SUCCESS) {
    result.error = "AddPortMapping: " + upnp_error(code);
    // The router may have changed (rebooted, another address): look for it again next time.
    if (code < 0) router_.reset();
    return result;
  }
  result.ok = true;
  result.external_port = external;
  result.lease_seconds = static_cast<std::uint32_t>(std::stoul(lease));
  std::array<char, 64> address{};
  if (UPNP_GetExternalIPAddress(control, service, address.data()) == UPNPCOMMAND_SUCCESS)
    result.external_address = address.data();
  return result;
}

void UpnpGateway::remove(nat::Protocol protocol, std::uint16_t, std::uint16_t external_port) {
  if (!router_) return;
  const std::string port = std::to_string(external_port);
  UPNP_DeletePortMapping(router_->urls.controlURL, router_->data.first.servicetype, port.c_str(),
                         nat::to_string(protocol), nullptr);
}

}  // namespace shoal::net
