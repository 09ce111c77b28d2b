// PCP (RFC 6887) port mapping: MAP requests to the default gateway on UDP 5351, falling back to NAT-PMP
// (RFC 6886, the `fallback` backend) when the router answers as a NAT-PMP-only one or not at all (RFC 6887
// Appendix A). The codec is nat/pcp.hpp; this is the socket around it. Worker thread only: PortMapper makes
// one call at a time.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <utility>

#include "nat/pcp.hpp"
#include "net/mapping_backend.hpp"

namespace shoal::net {

class PcpGateway final : public MappingBackend {
 public:
  // `fallback` may be null: PCP only.
  explicit PcpGateway(std::unique_ptr<MappingBackend> fallback) : fallback_(std::move(fallback)) {}

  // "PCP", or the fallback's name once the router turned out to speak only that.
  const char* name() const override;
  nat::MappingResult add(const nat::MappingRequest& request) override;
  void remove(nat::Protocol protocol, std::uint16_t internal_port, std::uint16_t external_port) override;

 private:
  std::unique_ptr<MappingBackend> fallback_;
  std::atomic<bool> router_speaks_only_fallback_{false};
  // RFC 6887 11.1: renewals and the deletion of a mapping carry the nonce that created it.
  std::map<std::pair<nat::Protocol, std::uint16_t>, nat::PcpNonce> nonces_;
};

}  // namespace shoal::net
