// shoal tracker: an HTTP and UDP BitTorrent tracker that can stand in for opentracker.
#include <fmt/core.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include "commands.hpp"
#include "server/http_tracker_server.hpp"
#include "server/tracker_state.hpp"
#include "server/udp_tracker_server.hpp"
#include "server/whitelist.hpp"

namespace shoal::cli {
namespace {

struct TrackerOptions {
  std::string http = "0.0.0.0:6969";
  std::string udp = "0.0.0.0:6969";
  std::string whitelist;
  std::int64_t interval = 1800;
  unsigned threads = 0;
  std::uint32_t max_requests_per_ip = 100;
  std::size_t max_http_connections = server::HttpTrackerServer::kMaxConnections;
  bool no_http = false;
  bool no_udp = false;
  bool verbose = false;
};

std::int64_t mtime_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

int run_tracker(const TrackerOptions& opt) {
  auto fail = [](const std::string& message) {
    fmt::print(stderr, "shoal tracker: {}\n", message);
    return 1;
  };
  tracker::SwarmLimits limits;
  limits.interval = opt.interval;
  // One secret per run keys every table indexed by bytes a remote party chooses.
  const hash::SipKey key = server::TrackerState::random_key();
  server::TrackerState state(limits, key);

  std::int64_t whitelist_mtime = -1;
  if (!opt.whitelist.empty()) {
    auto list = server::load_whitelist(opt.whitelist, key);
    if (!list) return fail(list.error());
    whitelist_mtime = mtime_of(opt.whitelist);
    fmt::print("whitelist: {} info-hashes from {}\n", list->size(), opt.whitelist);
    state.set_whitelist(std::make_shared<const server::Whitelist>(std::move(*list)));
  }

  // Signals are taken synchronously below; every thread started from here on inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::unique_ptr<server::UdpTrackerServer> udp;
  std::unique_ptr<server::HttpTrackerServer> http;
  if (!opt.no_udp) {
    auto bind = Endpoint::parse(opt.udp);
    if (!bind) return fail("invalid --udp '" + opt.udp + "' (expected ADDR:PORT)");
    server::UdpServerOptions u;
    u.bind = *bind;
    u.threads = opt.threads != 0 ? opt.threads : std::max(1u, std::thread::hardware_concurrency());
    u.max_requests_per_ip = opt.max_requests_per_ip;
    u.log_drops = opt.verbose;
    udp = std::make_unique<server::UdpTrackerServer>(state, u);
    auto port = udp->start();
    if (!port) return fail(port.error());
    bind->port = *port;
    fmt::print("udp: udp://{}/announce ({} threads)\n", bind->to_string(), u.threads);
  }
  if (!opt.no_http) {
    auto bind = Endpoint::parse(opt.http);
    if (!bind) return fail("invalid --http '" + opt.http + "' (expected ADDR:PORT)");
    http = std::make_unique<server::HttpTrackerServer>(state, *bind, opt.max_requests_per_ip,
                                                       opt.max_http_connections);
    auto port = http->start();
    if (!port) return fail(port.error());
    bind->port = *port;
    fmt::print("http: http://{}/announce\n", bind->to_string());
  }
  if (!udp && !http) return fail("nothing to serve: both --no-http and --no-udp given");
  std::fflush(stdout);

  // Housekeeping until SIGINT/SIGTERM: expire silent peers, reload the whitelist when its file changes.
  auto last_expire = std::chrono::steady_clock::now();
  auto expire_every = std::chrono::seconds(std::clamp<std::int64_t>(opt.interval / 4, 1, 300));
  for (;;) {
    timespec wait{1, 0};
    int sig = sigtimedwait(&signals, nullptr, &wait);
    if (sig == SIGINT || sig == SIGTERM) break;
    auto now = std::chrono::steady_clock::now();
    if (now - last_expire >= expire_every) {
      state.expire();
      last_expire = now;
    }
    if (!opt.whitelist.empty()) {
      auto mtime = mtime_of(opt.whitelist);
      if (mtime != whitelist_mtime && mtime >= 0) {
        whitelist_mtime = mtime;
        auto list = server::load_whitelist(opt.whitelist, key);
        if (list) {
          fmt::print("whitelist: reloaded, {} info-hashes\n", list->size());
          state.set_whitelist(std::make_shared<const server::Whitelist>(std::move(*list)));
        } else {
          // A half-written or broken file keeps the old list: better stale than open to everything.
          fmt::print(stderr, "shoal tracker: whitelist not reloaded: {}\n", list.error());
        }
        std::fflush(stdout);
      }
    }
  }
  fmt::print("shutting down\n");
  if (http) http->stop();
  if (udp) udp->stop();
  return 0;
}

}  // namespace

CommandRunner add_tracker_command(CLI::App& app) {
  auto opt = std::make_shared<TrackerOptions>();
  auto* cmd = app.add_subcommand("tracker", "Run an HTTP and UDP BitTorrent tracker (BEP 3, 15, 23, 48)");
  cmd->add_option("--http", opt->http, "HTTP listen address (default 0.0.0.0:6969)");
  cmd->add_option("--udp", opt->udp, "UDP listen address (default 0.0.0.0:6969)");
  cmd->add_flag("--no-http", opt->no_http, "Do not serve HTTP");
  cmd->add_flag("--no-udp", opt->no_udp, "Do not serve UDP");
  cmd->add_option("--whitelist", opt->whitelist,
                  "Serve only these info-hashes (hex, one per line; reloaded on change)");
  cmd->add_option("--interval", opt->interval, "Seconds between announces asked of clients (default 1800)")
      ->check(CLI::Range(10, 86400));
  cmd->add_option("--threads", opt->threads, "UDP threads (default: one per core)");
  cmd->add_option("--max-requests-per-ip", opt->max_requests_per_ip,
                  "Per address and second: HTTP requests, and UDP connects or requests without a valid "
                  "connection id, before more are ignored (default 100, 0 = no limit)");
  cmd->add_option("--max-http-connections", opt->max_http_connections,
                  "Open HTTP connections at most; more are closed at once (default 512)")
      ->check(CLI::Range(1, 1'000'000));
  cmd->add_flag("-v,--verbose", opt->verbose, "Say why UDP packets get no reply");
  return [opt] { return run_tracker(*opt); };
}

}  // namespace shoal::cli
