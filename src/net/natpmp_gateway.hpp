// NAT-PMP (RFC 6886) port mapping through libnatpmp: requests to the default gateway on UDP 5351. PCP (RFC
// 6887, its successor) is not spoken: routers that have PCP also answer NAT-PMP. Worker thread only.
#pragma once

#include "net/mapping_backend.hpp"

namespace shoal::net {

class NatPmpGateway final : public MappingBackend {
 public:
  const char* name() const override { return "NAT-PMP"; }
  nat::MappingResult add(const nat::MappingRequest& request) override;
  void remove(nat::Protocol protocol, std::uint16_t internal_port, std::uint16_t external_port) override;
};

}  // namespace shoal::net
