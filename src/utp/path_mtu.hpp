// Packetization-layer path MTU discovery for one uTP connection (in the spirit of RFC 4821/8899): the largest
// datagram the path carries, found by probing rather than trusted from ICMP, which firewalls often eat.
//
// Sizes are uTP packet sizes (the UDP payload: header + data). The search keeps a floor (a size the path has
// carried, used for every ordinary DATA packet) and a ceiling (the largest size that might pass: what the
// driver read off the route or the interface, lowered by each probe that fails). A probe is one DATA packet
// of the size halfway between them; its acknowledgement raises the floor, its loss (`attempts` times in a
// row, so one random loss does not cost a size) lowers the ceiling. When the two meet the search stops; it
// starts again after reprobe_interval_us (a route may have grown), and at once from the minimum when the path
// stops carrying the floor (a black hole after a route change) or the network says a packet was too big.
//
// Pure: time is a parameter. The connection decides what a probe is and when one was lost.
#pragma once

#include <cstddef>
#include <cstdint>

namespace shoal::utp {

// The largest UDP payload IPv4 can carry.
inline constexpr std::size_t kMaxPacketSize = 65507;

struct PathMtuConfig {
  // Every IPv6 path carries 1280 bytes (RFC 8200): less 40 of IPv6 and 8 of UDP header. Never probed below.
  std::size_t min_packet_size = 1232;
  // The ceiling to start from; the driver sets it from the route's MTU. Equal to the minimum: no probing.
  std::size_t max_packet_size = 1452;  // Ethernet's 1500 less IPv6 and UDP headers
  std::int64_t reprobe_interval_us = 600'000'000;
  int attempts = 2;
};

class PathMtu {
 public:
  explicit PathMtu(const PathMtuConfig& config = {});

  // What ordinary packets use: the largest size known to pass.
  std::size_t packet_size() const { return floor_; }
  std::size_t ceiling() const { return ceiling_; }
  // The size to probe with now, 0 when no probe is due.
  std::size_t probe_size(std::int64_t now_us) const;
  // A probe of `size` was acknowledged (sent once, so it passed as one datagram) or was lost.
  void on_probe_acked(std::size_t size, std::int64_t now_us);
  void on_probe_lost(std::size_t size, std::int64_t now_us);
  // Packets of packet_size() stopped arriving (repeated timeouts): back to the minimum, search below.
  void on_black_hole(std::int64_t now_us);
  // The network (ICMP "fragmentation needed" / "packet too big", or EMSGSIZE from the socket) says at most
  // `limit` bytes of UDP payload pass; 0 when it did not say how many.
  void on_too_big(std::size_t limit, std::int64_t now_us);
  // The driver learned a new route ceiling.
  void set_max(std::size_t max_packet_size, std::int64_t now_us);

  bool searching() const { return floor_ < ceiling_; }
  std::uint32_t probes_acked() const { return probes_acked_; }
  std::uint32_t probes_lost() const { return probes_lost_; }

 private:
  void finish_if_done(std::int64_t now_us);

  PathMtuConfig config_;
  std::size_t floor_;
  std::size_t ceiling_;
  int failures_ = 0;                 // losses in a row at the current probe size
  std::int64_t next_search_us_ = 0;  // when a finished search starts again
  std::uint32_t probes_acked_ = 0;
  std::uint32_t probes_lost_ = 0;
};

}  // namespace shoal::utp
