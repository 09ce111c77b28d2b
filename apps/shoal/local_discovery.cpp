#include "local_discovery.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace shoal::cli {

namespace asio = boost::asio;

void add_lsd_options(CLI::App& cmd, LsdCliOptions& lsd) {
  cmd.add_flag("--no-lsd", lsd.no_lsd, "Do not look for peers on the local network (BEP 14 multicast)");
  cmd.add_option("--lsd-interface", lsd.interface_address,
                 "Discover local peers on the interface with this IPv4 address (IPv4 group only)");
}

std::unique_ptr<net::LsdService> start_local_discovery(asio::io_context& io, const LsdCliOptions& options,
                                                       session::TorrentSession& torrent,
                                                       const std::function<void(const std::string&)>& say,
                                                       bool verbose) {
  if (options.no_lsd || torrent.info().is_private) return nullptr;
  net::LsdServiceOptions service_options;
  service_options.interface_address = options.interface_address;
  // The interface is named by an IPv4 address; the IPv6 group would be joined wherever routing says, which
  // is not what was asked for: IPv4 only then.
  service_options.ipv6 = options.interface_address.empty();
  auto lsd = std::make_unique<net::LsdService>(io, service_options);
  lsd->on_peer = [&torrent](const lsd::LsdPeer& peer) {
    torrent.add_peer(peer.endpoint, swarm::PeerSource::lsd);
  };
  lsd->on_warning = say;
  if (verbose) lsd->on_log = say;
  if (auto started = lsd->start(); !started) {
    say(started.error() + " (going on without local peer discovery)");
    return nullptr;
  }
  if (verbose) {
    say(std::string("lsd: on ") + (lsd->ipv4_active() && lsd->ipv6_active() ? "IPv4 and IPv6"
                                   : lsd->ipv4_active()                     ? "IPv4 only"
                                                                            : "IPv6 only"));
  }
  const auto info_hash = torrent.info().info_hash;
  lsd->add_torrent(info_hash, torrent.listen_port());
  // While nobody is connected, announce again as soon as the once-a-minute rule allows: a peer that
  // started after our last announce hears of us within a minute instead of five.
  asio::co_spawn(
      io,
      [&io, &torrent, service = lsd.get(), info_hash]() -> asio::awaitable<void> {
        asio::steady_timer next(io);
        while (service->running()) {
          next.expires_after(std::chrono::seconds(15));
          co_await next.async_wait(asio::as_tuple(asio::use_awaitable));
          if (!service->running()) co_return;
          if (torrent.stats().peers == 0) service->announce_soon(info_hash);
        }
      },
      asio::detached);
  return lsd;
}

}  // namespace shoal::cli
