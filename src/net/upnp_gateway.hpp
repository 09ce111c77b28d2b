// UPnP IGD port mapping through miniupnpc: SSDP discovery on the local network, then SOAP calls to the
// router's WANIPConnection (AddPortMapping, DeletePortMapping, GetExternalIPAddress). Worker thread only.
#pragma once

#include <memory>
#include <string>

#include "net/mapping_backend.hpp"

namespace shoal::net {

class UpnpGateway final : public MappingBackend {
 public:
  // description: the mapping's name on the router's page.
  explicit UpnpGateway(std::string description);
  ~UpnpGateway() override;
  const char* name() const override { return "UPnP"; }
  nat::MappingResult add(const nat::MappingRequest& request) override;
  void remove(nat::Protocol protocol, std::uint16_t internal_port, std::uint16_t external_port) override;

 private:
  struct Router;  // miniupnpc's URLs and service data of the router found
  // Empty on success, else why no router could be used.
  std::string discover();

  std::string description_;
  std::unique_ptr<Router> router_;
};

}  // namespace shoal::net
