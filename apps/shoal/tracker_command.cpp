// shoal tracker: an HTTP and UDP BitTorrent tracker that can stand in for opentracker.
#include <fmt/core.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include "commands.hpp"
#include "shoal/endpoint.hpp"
#include "shoal/tracker_server.hpp"

namespace shoal::cli {
namespace {

struct TrackerOptions {
  std::string http = "0.0.0.0:6969";
  std::string udp = "0.0.0.0:6969";
  std::string whitelist;
  std::int64_t interval = 1800;
  unsigned threads = 0;
  std::uint32_t max_requests_per_ip = 100;
  bool no_http = false;
  bool no_udp = false;
  bool verbose = false;
  std::size_t max_http_connections = TrackerServerSettings{}.max_http_connections;
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
  TrackerServerSettings settings;
  settings.http_bind = opt.http;
  settings.udp_bind = opt.udp;
  settings.serve_http = !opt.no_http;
  settings.serve_udp = !opt.no_udp;
  settings.whitelist = opt.whitelist;
  settings.interval = opt.interval;
  settings.udp_threads = opt.threads != 0 ? opt.threads : std::max(1u, std::thread::hardware_concurrency());
  settings.max_requests_per_ip = opt.max_requests_per_ip;
  settings.log_drops = opt.verbose;
  settings.max_http_connections = opt.max_http_connections;
  if (!settings.serve_http && !settings.serve_udp)
    return fail("nothing to serve: both --no-http and --no-udp given");

  // Signals are taken synchronously below; every thread started from here on inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  TrackerServer server(settings);
  if (auto started = server.start(); !started) return fail(started.error());
  std::int64_t whitelist_mtime = -1;
  if (!opt.whitelist.empty()) {
    whitelist_mtime = mtime_of(opt.whitelist);
    fmt::print("whitelist: {} info-hashes from {}\n", server.whitelist_size(), opt.whitelist);
  }
  auto shown = [](const std::string& bind, std::uint16_t port) {
    auto e = Endpoint::parse(bind);
    if (!e) return bind;
    e->port = port;
    return e->to_string();
  };
  if (settings.serve_udp) {
    fmt::print("udp: udp://{}/announce ({} threads)\n", shown(opt.udp, server.udp_port()),
               settings.udp_threads);
  }
  if (settings.serve_http) fmt::print("http: http://{}/announce\n", shown(opt.http, server.http_port()));
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
      server.expire();
      last_expire = now;
    }
    if (!opt.whitelist.empty()) {
      auto mtime = mtime_of(opt.whitelist);
      if (mtime != whitelist_mtime && mtime >= 0) {
        whitelist_mtime = mtime;
        if (auto size = server.reload_whitelist()) {
          fmt::print("whitelist: reloaded, {} info-hashes\n", *size);
        } else {
          // A half-written or broken file keeps the old list: better stale than open to everything.
          fmt::print(stderr, "shoal tracker: whitelist not reloaded: {}\n", size.error());
        }
        std::fflush(stdout);
      }
    }
  }
  fmt::print("shutting down\n");
  server.stop();
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
