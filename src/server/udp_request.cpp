#include "server/udp_request.hpp"

#include <cstdio>

#include "tracker/udp_protocol.hpp"

namespace shoal::server {
namespace {

namespace udp = tracker::udp;

}  // namespace

std::size_t answer_udp_request(UdpRequestContext& context, std::span<const std::uint8_t> packet,
                               const Endpoint& source, std::int64_t now_ms, std::span<std::uint8_t> out) {
  TrackerState& state = context.state;
  const tracker::ConnectionIds& ids = context.ids;
  auto& counters = state.counters;
  auto drop = [&](const char* why) -> std::size_t {
    counters.dropped.fetch_add(1, std::memory_order_relaxed);
    if (context.log_drops) std::fprintf(stderr, "udp %s: dropped (%s)\n", source.to_string().c_str(), why);
    return 0;
  };
  // Counts a request whose source is unproven against its address; false: over the limit, no reply.
  auto unverified_allowed = [&] {
    if (!context.limiter.enabled() || context.limiter.allow(source, now_ms)) return true;
    counters.rate_limited.fetch_add(1, std::memory_order_relaxed);
    return false;
  };
  auto parsed = udp::parse_request(packet);
  if (!parsed.request) {
    if (*parsed.error == udp::ParseError::too_short) return drop("too short");
    if (*parsed.error == udp::ParseError::bad_magic) return drop("connect without the protocol id");
    if (!unverified_allowed()) return 0;
    counters.errors_sent.fetch_add(1, std::memory_order_relaxed);
    return udp::write_error(out, parsed.transaction_id,
                            *parsed.error == udp::ParseError::bad_event ? "invalid event" : "invalid action");
  }
  std::int64_t now = state.now();
  if (const auto* c = std::get_if<udp::ConnectRequest>(&*parsed.request)) {
    if (!unverified_allowed()) return 0;
    counters.connects.fetch_add(1, std::memory_order_relaxed);
    return udp::write_connect_response(out, c->transaction_id, ids.issue(source, now));
  }
  if (const auto* a = std::get_if<udp::AnnounceRequest>(&*parsed.request)) {
    // An id that is not ours for this address: a spoofed or stale source. Silence, so we amplify nothing;
    // it still counts against the address, as a connect would.
    if (!ids.verify(source, a->connection_id, now)) {
      if (!unverified_allowed()) return 0;
      return drop("announce with an unknown or expired connection id");
    }
    if (a->port == 0) {
      counters.errors_sent.fetch_add(1, std::memory_order_relaxed);
      return udp::write_error(out, a->transaction_id, "invalid port");
    }
    if (!state.allowed(a->info_hash)) {
      counters.not_whitelisted.fetch_add(1, std::memory_order_relaxed);
      return udp::write_error(out, a->transaction_id, "torrent not on this tracker's whitelist");
    }
    counters.announces.fetch_add(1, std::memory_order_relaxed);
    tracker::SwarmAnnounce sa;
    sa.info_hash = a->info_hash;
    sa.peer = source;
    sa.peer.port = a->port;  // the source address, never a client-supplied IP; the port it listens on
    sa.seed = a->left == 0;
    sa.numwant = a->num_want;
    switch (a->event) {
      case udp::Event::started:
        sa.kind = tracker::AnnounceKind::started;
        break;
      case udp::Event::completed:
        sa.kind = tracker::AnnounceKind::completed;
        break;
      case udp::Event::stopped:
        sa.kind = tracker::AnnounceKind::stopped;
        break;
      case udp::Event::none:
        break;
    }
    auto body = out.subspan(udp::kAnnounceHeaderSize);
    std::size_t max_peers = std::min<std::size_t>(udp::kMaxPeersPerReply, body.size() / (source.v6 ? 18 : 6));
    auto room = body.first(max_peers * (source.v6 ? 18 : 6));
    auto reply = source.v6 ? state.announce(sa, {}, room) : state.announce(sa, room, {});
    std::size_t n = udp::write_announce_header(
        out, {a->transaction_id, static_cast<std::uint32_t>(state.limits().interval), reply.counts.leechers,
              reply.counts.seeders});
    return n + reply.v4_bytes + reply.v6_bytes;
  }
  const auto& s = std::get<udp::ScrapeRequest>(*parsed.request);
  if (!ids.verify(source, s.connection_id, now)) {
    if (!unverified_allowed()) return 0;
    return drop("scrape with an unknown or expired connection id");
  }
  counters.scrapes.fetch_add(1, std::memory_order_relaxed);
  std::size_t n = udp::write_scrape_header(out, s.transaction_id);
  for (std::size_t i = 0; i < s.count() && n + 12 <= out.size(); ++i) {
    auto hash = Sha1Digest::from_bytes(std::span<const std::uint8_t, 20>(s.hashes.data() + 20 * i, 20));
    auto c = state.scrape(hash);
    n += udp::write_scrape_entry(out.subspan(n), c.seeders, c.completed, c.leechers);
  }
  return n;
}

}  // namespace shoal::server
