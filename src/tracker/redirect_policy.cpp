#include "tracker/redirect_policy.hpp"

namespace shoal::tracker {
namespace {

bool local_v4(const std::uint8_t* a) {
  return a[0] == 0 || a[0] == 10 || a[0] == 127 ||   // this network, private, loopback
         (a[0] == 100 && (a[1] & 0xc0) == 64) ||     // shared address space (carrier NAT)
         (a[0] == 169 && a[1] == 254) ||             // link-local
         (a[0] == 172 && (a[1] & 0xf0) == 16) ||     // private
         (a[0] == 192 && a[1] == 168) ||             // private
         (a[0] == 192 && a[1] == 0 && a[2] == 0) ||  // IETF protocol assignments
         (a[0] == 198 && (a[1] & 0xfe) == 18) ||     // benchmarking
         a[0] >= 224;                                // multicast, reserved, broadcast
}

}  // namespace

bool is_local_address(const Endpoint& e) {
  const auto& a = e.address;
  if (!e.v6) return local_v4(a.data());
  bool mapped = true;
  for (int i = 0; i < 10; ++i)
    mapped = mapped && a[i] == 0;
  if (mapped && a[10] == 0xff && a[11] == 0xff) return local_v4(a.data() + 12);
  bool zero_prefix = true;  // :: and ::1
  for (int i = 0; i < 15; ++i)
    zero_prefix = zero_prefix && a[i] == 0;
  if (zero_prefix && a[15] <= 1) return true;
  return (a[0] & 0xfe) == 0xfc ||                    // unique local fc00::/7
         (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||  // link-local fe80::/10
         a[0] == 0xff;                               // multicast
}

std::optional<std::string> check_redirect(const RedirectHop& hop) {
  const std::string url(hop.to_url);
  bool to_https = hop.to_url.rfind("https://", 0) == 0;
  if (!to_https && hop.to_url.rfind("http://", 0) != 0)
    return "redirect to " + url + " refused: only http:// and https:// are followed";
  if (hop.from_https && !to_https) return "redirect from https to " + url + " refused: it would drop TLS";
  if (!hop.origin_local) {
    for (const Endpoint& e : hop.to_addresses) {
      if (is_local_address(e))
        return "redirect to " + url + " (" + e.address_string() +
               ") refused: a tracker on a public address may not send us to a local one";
    }
  }
  return std::nullopt;
}

}  // namespace shoal::tracker
