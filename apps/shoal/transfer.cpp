#include "transfer.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <cmath>
#include <functional>
#include <map>

#include "net/dht_service.hpp"
#include "progress.hpp"
#include "session/torrent_session.hpp"

namespace shoal::cli {
namespace {

namespace asio = boost::asio;

const char* state_name(session::TorrentState s) {
  switch (s) {
    case session::TorrentState::checking:
      return "checking";
    case session::TorrentState::downloading:
      return "downloading";
    case session::TorrentState::seeding:
      return "seeding";
    case session::TorrentState::stopped:
      return "stopped";
    case session::TorrentState::error:
      return "error";
  }
  return "";
}

std::string status_line(const session::TorrentStats& s, std::int64_t total_size) {
  if (s.state == session::TorrentState::checking) {
    double pct =
        total_size > 0 ? 100.0 * static_cast<double>(s.checked) / static_cast<double>(total_size) : 0;
    return fmt::format("checking {:5.1f}%", pct);
  }
  double pct = s.total_wanted > 0
                   ? 100.0 * static_cast<double>(s.have_wanted) / static_cast<double>(s.total_wanted)
                   : 100;
  std::string eta = "--:--";
  if (s.download_rate > 1 && s.have_wanted < s.total_wanted) {
    eta = format_duration(static_cast<double>(s.total_wanted - s.have_wanted) / s.download_rate);
  }
  return fmt::format("{} {:5.1f}%  {} / {}  down {}  up {}  peers {} ({} seeds)  ETA {}", state_name(s.state),
                     pct, format_bytes(s.have_wanted), format_bytes(s.total_wanted),
                     format_rate(s.download_rate), format_rate(s.upload_rate), s.peers, s.seeds, eta);
}

}  // namespace

std::optional<std::int64_t> parse_rate(const std::string& text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || value < 0) return std::nullopt;
  std::string suffix(end, text.data() + text.size());
  double scale = 1;
  if (suffix == "K" || suffix == "k" || suffix == "KiB") {
    scale = 1024;
  } else if (suffix == "M" || suffix == "m" || suffix == "MiB") {
    scale = 1024 * 1024;
  } else if (suffix == "G" || suffix == "GiB") {
    scale = 1024.0 * 1024 * 1024;
  } else if (!suffix.empty() && suffix != "B") {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(std::llround(value * scale));
}

std::optional<std::string> parse_peers(const std::vector<std::string>& texts, std::vector<Endpoint>& out) {
  for (const auto& t : texts) {
    std::string text = t;
    if (text.rfind("localhost:", 0) == 0) text = "127.0.0.1:" + text.substr(10);
    auto e = Endpoint::parse(text);
    if (!e) return "invalid --peer '" + t + "' (expected IP:PORT or [IPv6]:PORT)";
    out.push_back(*e);
  }
  return std::nullopt;
}

void add_dht_join_options(CLI::App& cmd, DhtCliOptions& dht) {
  cmd.add_option("--dht-bootstrap", dht.bootstrap,
                 "Join the DHT through this node (HOST:PORT, repeatable) instead of the public routers");
  cmd.add_option("--dht-port", dht.port, "UDP port for the DHT (default: any free port)");
  cmd.add_flag("--dht-allow-same-ip", dht.allow_same_ip,
               "Keep many DHT nodes of one address (private test networks on one host)");
}

void add_dht_options(CLI::App& cmd, DhtCliOptions& dht) {
  add_dht_join_options(cmd, dht);
  cmd.add_flag("--dht-read-only", dht.read_only,
               "Use the DHT without serving it (BEP 43), e.g. behind a metered or firewalled link");
  cmd.add_flag("--no-dht", dht.no_dht, "Do not use the DHT");
}

net::DhtServiceOptions dht_service_options(const DhtCliOptions& dht, std::filesystem::path state_file) {
  net::DhtServiceOptions options;
  options.port = dht.port;
  options.bootstrap = dht.bootstrap;
  if (options.bootstrap.empty())
    options.bootstrap.assign(net::kPublicDhtRouters.begin(), net::kPublicDhtRouters.end());
  options.config.routing.one_node_per_ip = !dht.allow_same_ip;
  options.config.read_only = dht.read_only;
  options.state_file = std::move(state_file);
  return options;
}

int run_transfer(TransferRequest request) {
  asio::io_context io(1);
  session::TorrentSession torrent(io, std::move(request.info), std::move(request.options));
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  int exit_code = 1;
  bool finished = false;
  std::string error;

  asio::steady_timer status_timer(io);
  std::map<std::string, std::string> tracker_reports;  // what was last said about each tracker
  auto print_status = [&](bool final_line) {
    if (request.quiet) return;
    auto stats = torrent.stats();
    // Tracker failures and warnings are said once each, when they change, above the status line.
    for (const auto& t : stats.trackers) {
      std::string report = !t.last_error.empty() ? t.last_error
                           : t.warning.empty()   ? ""
                                                 : "warning: " + t.warning;
      auto& last = tracker_reports[t.url];
      if (report != last && !report.empty()) {
        fmt::print(stderr, "{}tracker {}: {}\n", tty ? "\r\033[K" : "", t.url, report);
      }
      last = report;
    }
    auto line = status_line(stats, torrent.info().total_size);
    if (tty) {
      fmt::print(stderr, "\r\033[K{}{}", line, final_line ? "\n" : "");
    } else {
      fmt::print(stderr, "{}\n", line);
    }
    std::fflush(stderr);
  };
  std::function<void()> schedule_status = [&] {
    status_timer.expires_after(tty ? std::chrono::milliseconds(250) : std::chrono::seconds(2));
    status_timer.async_wait([&](boost::system::error_code ec) {
      if (ec || finished) return;
      print_status(false);
      schedule_status();
    });
  };

  auto finish = [&](int code) {
    if (finished) return;
    finished = true;
    exit_code = code;
    status_timer.cancel();
    torrent.stop([&] {
      print_status(true);
      io.stop();
    });
  };

  torrent.on_complete = [&] {
    if (!request.quiet) {
      print_status(true);
      fmt::print(stderr, "{}: all wanted data verified\n", request.command);
    }
    if (request.exit_when_complete) finish(0);
  };
  if (request.verbose) {
    torrent.on_log = [&](const std::string& line) {
      fmt::print(stderr, "{}{}\n", tty ? "\r\033[K" : "", line);
    };
  }
  torrent.on_error = [&](const std::string& message) {
    error = message;
    finish(1);
  };

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    if (!request.quiet) fmt::print(stderr, "\n{}: stopping (resume data saved)\n", request.command);
    // An interrupted download is not a success; an interrupted seeder stopped as asked.
    finish(request.exit_when_complete ? 130 : 0);
  });

  try {
    torrent.start();
  } catch (const std::exception& e) {
    fmt::print(stderr, "shoal {}: cannot listen: {}\n", request.command, e.what());
    return 1;
  }
  if (!request.quiet) {
    fmt::print(stderr, "{}: {} ({}), listening on port {}\n", request.command, torrent.info().name,
               torrent.info().info_hash.to_hex(), torrent.listen_port());
  }
  // DHT: find peers for the torrent and announce our port, now and every 15 minutes.
  std::unique_ptr<net::DhtService> dht;
  // Private torrents find peers through their trackers only (BEP 27).
  if (!request.dht.no_dht && !torrent.info().is_private) {
    dht = std::make_unique<net::DhtService>(
        io, dht_service_options(request.dht, request.options.save_dir / ".shoal" / "dht.state"));
    auto port = dht->start();
    if (!port) {
      fmt::print(stderr, "shoal {}: {}\n", request.command, port.error());
      return 1;
    }
    if (request.verbose) fmt::print(stderr, "dht: udp port {}\n", *port);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          asio::steady_timer next(io);
          while (!finished) {
            // BEP 33: a seed says so, so that DHT scrapes count it as one.
            bool seeding = torrent.stats().state == session::TorrentState::seeding;
            auto found = co_await dht->search(torrent.info().info_hash,
                                              dht::PeerSearch{torrent.listen_port(), seeding, false},
                                              std::chrono::seconds(10));
            auto& peers = found.peers;
            if (finished) co_return;
            if (request.verbose) fmt::print(stderr, "dht: {} peers for this torrent\n", peers.size());
            for (const auto& p : peers)
              torrent.add_peer(p, swarm::PeerSource::dht);
            // Quickly again while we have nobody, then at the usual re-announce interval.
            next.expires_after(peers.empty() ? std::chrono::seconds(5) : std::chrono::minutes(15));
            co_await next.async_wait(asio::as_tuple(asio::use_awaitable));
          }
        },
        asio::detached);
  }
  // LSD: peers on the local network, announced now and every 5 minutes.
  auto say = [&](const std::string& line) { fmt::print(stderr, "{}{}\n", tty ? "\r\033[K" : "", line); };
  auto lsd = start_local_discovery(io, request.lsd, torrent, say, request.verbose);
  schedule_status();
  io.run();
  if (dht) dht->stop();
  if (lsd) lsd->stop();
  if (!error.empty()) fmt::print(stderr, "shoal {}: {}\n", request.command, error);
  return exit_code;
}

}  // namespace shoal::cli
