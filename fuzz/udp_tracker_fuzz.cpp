// What the UDP tracker server does with a packet from anyone: parse it, and for announces and scrapes run it
// through a swarm table with bounded reply buffers. Also the client side: a reply parsed against each action.
#include <array>
#include <cstddef>
#include <cstdint>
#include <variant>

#include "tracker/swarm_table.hpp"
#include "tracker/udp_protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shoal::tracker;
  std::span<const std::uint8_t> packet(data, size);
  static thread_local SwarmTable table({}, shoal::hash::SipKey{1, 2});
  auto parsed = udp::parse_request(packet);
  if (parsed.request) {
    if (auto* a = std::get_if<udp::AnnounceRequest>(&*parsed.request)) {
      SwarmAnnounce sa;
      sa.info_hash = a->info_hash;
      sa.peer.port = a->port;
      sa.peer.address[0] = static_cast<std::uint8_t>(a->key);
      sa.seed = a->left == 0;
      sa.numwant = a->num_want;
      sa.kind = static_cast<AnnounceKind>(static_cast<int>(a->event) % 4);
      std::array<std::uint8_t, 6 * 200> out{};
      auto r = table.announce(sa, a->downloaded & 0xffff, out, {});
      if (r.v4_bytes > out.size() || r.v6_bytes != 0) __builtin_trap();
    } else if (auto* s = std::get_if<udp::ScrapeRequest>(&*parsed.request)) {
      if (s->count() > udp::kMaxScrapeHashes) __builtin_trap();
    }
  }
  for (auto action : {udp::Action::connect, udp::Action::announce, udp::Action::scrape})
    for (bool v6 : {false, true})
      (void)udp::parse_response(packet,
                                size >= 8 ? (std::uint32_t{data[4]} << 24 | std::uint32_t{data[5]} << 16 |
                                             std::uint32_t{data[6]} << 8 | data[7])
                                          : 0,
                                action, v6);
  return 0;
}
