#include "net/natpmp_gateway.hpp"

#include <arpa/inet.h>
// strnatpmperr() is declared only on request.
#define ENABLE_STRNATPMPERR 1
#include <natpmp.h>
#include <poll.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace shoal::net {
namespace {

// libnatpmp retries 9 times, doubling from 250 ms (over two minutes in all); a router that has not answered
// within this much is taken to have no NAT-PMP, and the PortMapper's backoff tries again later.
constexpr auto kGiveUpAfter = std::chrono::milliseconds(3000);

// Closes the socket whatever path is taken.
struct Handle {
  natpmp_t n{};
  bool open = false;
  ~Handle() {
    if (open) closenatpmp(&n);
  }
};

std::string natpmp_error(int code) {
  const char* text = strnatpmperr(code);
  return std::to_string(code) + " " + (text ? text : "unknown error");
}

// Waits for the answer to the request just sent; 0 on success. libnatpmp hands back whatever datagram comes
// next, and a router may answer a retransmitted request twice: a late answer to the address request, or to
// the other protocol's mapping of the same port, would otherwise be read as this mapping's answer (its union
// read as the wrong fields, announcing a wrong external port). So only an answer of the expected type (and,
// for a mapping, the same internal port) is taken; anything else is dropped and the wait goes on.
int await_response(natpmp_t& n, natpmpresp_t& response, std::uint16_t expected_type,
                   std::uint16_t internal_port = 0) {
  const auto deadline = std::chrono::steady_clock::now() + kGiveUpAfter;
  for (;;) {
    int r = readnatpmpresponseorretry(&n, &response);
    if (r == 0 && (response.type != expected_type ||
                   (internal_port != 0 && response.pnu.newportmapping.privateport != internal_port)))
      r = NATPMP_TRYAGAIN;
    if (r != NATPMP_TRYAGAIN) return r;
    timeval tv{};
    getnatpmprequesttimeout(&n, &tv);
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return NATPMP_ERR_NOGATEWAYSUPPORT;
    auto wait = std::chrono::milliseconds(tv.tv_sec * 1000 + tv.tv_usec / 1000);
    if (wait > left) wait = left;
    pollfd fd{n.s, POLLIN, 0};
    ::poll(&fd, 1, static_cast<int>(wait.count()) + 1);
  }
}

int protocol_of(nat::Protocol p) {
  return p == nat::Protocol::tcp ? NATPMP_PROTOCOL_TCP : NATPMP_PROTOCOL_UDP;
}

std::uint16_t response_type_of(nat::Protocol p) {
  return p == nat::Protocol::tcp ? NATPMP_RESPTYPE_TCPPORTMAPPING : NATPMP_RESPTYPE_UDPPORTMAPPING;
}

}  // namespace

nat::MappingResult NatPmpGateway::add(const nat::MappingRequest& request) {
  nat::MappingResult result;
  Handle h;
  if (int r = initnatpmp(&h.n, 0, 0); r < 0) {
    result.error = "NAT-PMP: no default gateway (" + natpmp_error(r) + ")";
    return result;
  }
  h.open = true;
  natpmpresp_t response{};
  std::string address;
  if (sendpublicaddressrequest(&h.n) >= 0 &&
      await_response(h.n, response, NATPMP_RESPTYPE_PUBLICADDRESS) == 0) {
    char text[INET_ADDRSTRLEN] = {};
    if (inet_ntop(AF_INET, &response.pnu.publicaddress.addr, text, sizeof text)) address = text;
  }
  int r = sendnewportmappingrequest(&h.n, protocol_of(request.protocol), request.internal_port,
                                    request.external_port, request.lease_seconds);
  if (r < 0 ||
      (r = await_response(h.n, response, response_type_of(request.protocol), request.internal_port)) != 0) {
    result.error = "NAT-PMP: " + natpmp_error(r);
    return result;
  }
  result.ok = true;
  result.external_port = response.pnu.newportmapping.mappedpublicport;
  result.lease_seconds = response.pnu.newportmapping.lifetime;
  result.external_address = address;
  return result;
}

void NatPmpGateway::remove(nat::Protocol protocol, std::uint16_t internal_port, std::uint16_t) {
  Handle h;
  if (initnatpmp(&h.n, 0, 0) < 0) return;
  h.open = true;
  natpmpresp_t response{};
  // Lifetime 0 deletes the mapping of this internal port (RFC 6886 3.4).
  if (sendnewportmappingrequest(&h.n, protocol_of(protocol), internal_port, 0, 0) >= 0)
    await_response(h.n, response, response_type_of(protocol), internal_port);
}

}  // namespace shoal::net
