// One way of asking a home router for a port mapping (UPnP IGD, NAT-PMP). Every call blocks (network round
// trips with the library's own timeouts): the PortMapper makes them on its worker thread only, one at a time.
#pragma once

#include <cstdint>
#include <string>

#include "nat/port_mapping.hpp"

namespace shoal::net {

class MappingBackend {
 public:
  virtual ~MappingBackend() = default;
  virtual const char* name() const = 0;  // "UPnP", "NAT-PMP": for events and logs
  // Finds the router when needed (and again after a failure), then asks for the mapping.
  virtual nat::MappingResult add(const nat::MappingRequest& request) = 0;
  // Best effort: the lease ends the mapping anyway.
  virtual void remove(nat::Protocol protocol, std::uint16_t internal_port, std::uint16_t external_port) = 0;
};

}  // namespace shoal::net
