#include "daemon/daemon.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fstream>
#include <memory>
#include <sstream>

#include "daemon/hook_runner.hpp"
#include "daemon/logger.hpp"
#include "daemon/session_backend.hpp"
#include "daemon/state_store.hpp"
#include "daemon/watch_dir.hpp"
#include "rpc/dispatcher.hpp"
#include "rpc/http_server.hpp"
#include "rpc/session_fields.hpp"
#include "shoal/session.hpp"

namespace shoal::daemon {

namespace {

namespace asio = boost::asio;

constexpr auto kTickInterval = std::chrono::seconds(5);
constexpr auto kWatchInterval = std::chrono::seconds(2);

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::filesystem::path default_web_root() {
  std::error_code ec;
  if (std::filesystem::exists(SHOAL_INSTALLED_WEB_ROOT, ec)) return SHOAL_INSTALLED_WEB_ROOT;
  return SHOAL_SOURCE_WEB_ROOT;
}

rpc::GuardConfig guard_config(const DaemonConfig& c) {
  rpc::GuardConfig g;
  g.host_check = c.host_whitelist_enabled;
  for (auto h : c.host_whitelist) {
    std::transform(h.begin(), h.end(), h.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    g.host_allow_list.push_back(h);
  }
  g.username = c.rpc_username;
  g.password_hash = c.rpc_password_hash;
  g.requests_per_second = c.rpc_requests_per_second;
  g.burst = c.rpc_burst;
  return g;
}

// Session settings: defaults, then the download dir, then what RPC stored, then the config file's "session".
Expected<rpc::SessionValues, std::string> session_values(const DaemonConfig& c, StateStore& store) {
  rpc::SessionValues v;
  v.download_dir = c.download_dir.string();
  v.config_dir = c.config_dir.string();
  v.dht_enabled = c.dht_enabled;
  v.lpd_enabled = c.lpd_enabled;
  v.port_forwarding_enabled = c.port_forwarding_enabled;
  v.done_script = c.done_hook.empty() ? std::string() : c.done_hook.front();
  v.done_script_enabled = !c.done_hook.empty();
  rpc::PathPolicy anywhere({"/"});  // the store and the file are the owner's, not a remote client's
  auto stored = store.settings();
  if (!stored) return unexpected(stored.error());
  nlohmann::json saved = nlohmann::json::object();
  for (const auto& [k, text] : *stored) {
    auto value = nlohmann::json::parse(text, nullptr, false);
    if (!value.is_discarded()) saved[k] = value;
  }
  auto with_saved = rpc::apply_session_arguments(v, saved, anywhere);
  if (with_saved) v = *with_saved;
  auto with_file = rpc::apply_session_arguments(v, c.session, anywhere);
  if (!with_file) return unexpected("settings.json session: " + with_file.error());
  return *with_file;
}

class Daemon {
 public:
  Daemon(DaemonOptions options, DaemonConfig config, Logger& log)
      : options_(std::move(options)),
        config_(std::move(config)),
        log_(log),
        signals_(io_),
        tick_(io_),
        watch_(io_),
        hooks_(io_) {}

  int run();

 private:
  void drain_events();
  void schedule_tick();
  void schedule_watch();
  void scan_watch_dir();
  void wait_signals();
  void reload();
  void stop(const char* why);
  void run_hook(rpc::TorrentId id, const std::string& hash, const std::string& name, const std::string& dir);
  std::string handle_rpc(std::string_view body);

  DaemonOptions options_;
  DaemonConfig config_;
  Logger& log_;
  asio::io_context io_;
  asio::signal_set signals_;
  asio::steady_timer tick_;
  asio::steady_timer watch_;
  HookRunner hooks_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<Session> session_;
  std::unique_ptr<SessionBackend> backend_;
  std::unique_ptr<rpc::RequestGuard> guard_;
  std::unique_ptr<rpc::Dispatcher> dispatcher_;
  std::unique_ptr<rpc::HttpServer> http_;
  std::atomic<bool> drain_posted_{false};
  bool stopping_ = false;
  bool signals_added_ = false;
};

int Daemon::run() {
  std::error_code ec;
  std::filesystem::create_directories(config_.config_dir, ec);
  std::filesystem::create_directories(config_.download_dir, ec);
  auto store = StateStore::open(config_.config_dir / "state.sqlite");
  if (!store) {
    log_.error("state-open-failed", {{"error", store.error()}});
    return 1;
  }
  store_ = std::move(*store);
  auto values = session_values(config_, *store_);
  if (!values) {
    log_.error("config-invalid", {{"error", values.error()}});
    return 1;
  }

  SessionSettings settings;
  // Resume data goes into the SQLite store with everything else (ResumeDataSaved events); the engine's own
  // directory keeps only the DHT routing table and the edge pieces of skipped files.
  settings.state_dir = config_.config_dir / "engine";
  settings.resume_data_events = true;
  settings.listen_address = config_.listen_address;
  settings.listen_port = config_.peer_port;
  settings.dht.enabled = values->dht_enabled;
  settings.lsd.enabled = values->lpd_enabled;
  settings.upnp = settings.natpmp = settings.pcp = values->port_forwarding_enabled;
  settings.transport = values->utp_enabled ? Transport::both : Transport::tcp;
  try {
    session_ = std::make_unique<Session>(settings);
  } catch (const std::exception& e) {
    log_.error("session-start-failed", {{"error", e.what()}});
    return 1;
  }
  session_->set_wakeup([this] {
    // On the session's network thread: hand over to the daemon's, once per burst of events.
    if (!drain_posted_.exchange(true)) asio::post(io_, [this] { drain_events(); });
  });

  backend_ = std::make_unique<SessionBackend>(*session_, *store_, log_, *values);
  backend_->begin(unix_now());
  backend_->on_finished = [this](rpc::TorrentId id, const std::string& hash, const std::string& name,
                                 const std::string& dir) { run_hook(id, hash, name, dir); };
  backend_->on_close = [this] {
    // After the answer is written: stop on the next turn of the loop, not inside the request.
    auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(200));
    timer->async_wait([this, timer](const boost::system::error_code&) { stop("session-close"); });
  };
  int restored = backend_->restore();

  guard_ = std::make_unique<rpc::RequestGuard>(guard_config(config_), rpc::make_session_id());
  dispatcher_ = std::make_unique<rpc::Dispatcher>(*backend_, rpc::PathPolicy(effective_roots(config_)));
  rpc::HttpHandlers handlers;
  handlers.rpc = [this](std::string_view body) { return handle_rpc(body); };
  handlers.metrics = [this] { return backend_->metrics_text(); };
  handlers.web_root = config_.web_root.empty() ? default_web_root() : config_.web_root;
  http_ = std::make_unique<rpc::HttpServer>(io_, handlers, *guard_);
  auto bound = http_->listen(config_.rpc_address, config_.rpc_port);
  if (!bound) {
    log_.error("rpc-listen-failed", {{"error", bound.error()}});
    session_->shutdown(std::chrono::seconds(2));
    return 1;
  }
  std::ostringstream where;
  where << *bound;
  log_.info("rpc-listening", {{"address", where.str()},
                              {"port", std::to_string(bound->port())},
                              {"torrents", std::to_string(restored)},
                              {"peer-port", std::to_string(session_->stats().listen_port)},
                              {"web-root", handlers.web_root.string()}});
  if (config_.rpc_password_hash.empty() && !bound->address().is_loopback())
    log_.warn("rpc-without-password", {{"address", where.str()}});

  wait_signals();
  schedule_tick();
  schedule_watch();
  drain_events();
  io_.run();

  // SIGTERM: trackers told "stopped", resume data saved, then out.
  session_->set_wakeup({});
  session_->shutdown(std::chrono::seconds(5));
  drain_events();  // the resume data saved on the way out
  log_.info("stopped");
  return 0;
}

std::string Daemon::handle_rpc(std::string_view body) {
  backend_->count_rpc_request();
  return dispatcher_->handle_text(body, unix_now(), guard_->session_id());
}

void Daemon::drain_events() {
  drain_posted_ = false;
  auto now = unix_now();
  for (const auto& e : session_->pop_events())
    backend_->on_event(e, now);
  backend_->flush_resume_data();
}

void Daemon::schedule_tick() {
  tick_.expires_after(kTickInterval);
  tick_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    auto now = unix_now();
    std::time_t t = static_cast<std::time_t>(now);
    std::tm tm{};
    localtime_r(&t, &tm);
    backend_->tick(now, tm.tm_wday, tm.tm_hour * 60 + tm.tm_min);
    schedule_tick();
  });
}

void Daemon::schedule_watch() {
  if (config_.watch_dir.empty()) return;
  watch_.expires_after(kWatchInterval);
  watch_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    scan_watch_dir();
    schedule_watch();
  });
}

void Daemon::scan_watch_dir() {
  for (const auto& f : daemon::scan_watch_dir(config_.watch_dir)) {
    std::ifstream in(f.path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    rpc::AddRequest req;
    if (f.magnet) {
      auto text = s.str();
      text.erase(text.find_last_not_of(" \r\n\t") + 1);
      req.magnet = text;
    } else {
      req.metainfo = s.str();
    }
    req.paused = !backend_->session().start_added_torrents;
    auto added = backend_->add(req);
    std::error_code ec;
    auto renamed = f.path;
    renamed += added ? ".added" : ".invalid";
    std::filesystem::rename(f.path, renamed, ec);
    if (!added) log_.warn("watch-dir-invalid", {{"file", f.path.string()}, {"error", added.error()}});
  }
}

void Daemon::wait_signals() {
  if (!signals_added_) {
    signals_.add(SIGTERM);
    signals_.add(SIGINT);
    signals_.add(SIGHUP);
    signals_added_ = true;
  }
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    if (signo == SIGHUP) {
      reload();
      wait_signals();
      return;
    }
    stop(signo == SIGTERM ? "SIGTERM" : "SIGINT");
  });
}

void Daemon::reload() {
  auto fresh = make_config(options_);
  if (!fresh) {
    log_.error("reload-failed", {{"error", fresh.error()}});
    return;
  }
  if (fresh->rpc_address != config_.rpc_address || fresh->rpc_port != config_.rpc_port)
    log_.warn("reload-needs-restart", {{"setting", "rpc address"}});
  config_ = std::move(*fresh);
  guard_->set_config(guard_config(config_));
  dispatcher_ = std::make_unique<rpc::Dispatcher>(*backend_, rpc::PathPolicy(effective_roots(config_)));
  http_->set_web_root(config_.web_root.empty() ? default_web_root() : config_.web_root);
  auto values = session_values(config_, *store_);
  if (values) (void)backend_->set_session(*values);
  watch_.cancel();
  schedule_watch();
  log_.info("reloaded");
}

void Daemon::stop(const char* why) {
  if (stopping_) return;
  stopping_ = true;
  log_.info("stopping", {{"reason", why}});
  http_->stop();
  signals_.cancel();
  tick_.cancel();
  watch_.cancel();
  io_.stop();
}

void Daemon::run_hook(rpc::TorrentId id, const std::string& hash, const std::string& name,
                      const std::string& dir) {
  if (config_.done_hook.empty()) return;
  HookTorrent t{id, hash, name, dir};
  auto program = config_.done_hook.front();
  hooks_.run(config_.done_hook, t, std::chrono::seconds(config_.done_hook_timeout_seconds),
             [this, id, program](const HookRunner::Outcome& o) {
               if (!o.error.empty())
                 log_.error("hook-failed", {{"id", std::to_string(id)}, {"error", o.error}});
               else if (o.timed_out)
                 log_.warn("hook-timed-out", {{"id", std::to_string(id)}, {"hook", program}});
               else
                 log_.info("hook-done", {{"id", std::to_string(id)}, {"exit", std::to_string(o.exit_code)}});
             });
}

void daemonize() {
  pid_t pid = ::fork();
  if (pid < 0) return;  // stay in the foreground rather than not run
  if (pid > 0) ::_exit(0);
  ::setsid();
  int null = ::open("/dev/null", O_RDWR);
  if (null >= 0) ::dup2(null, STDIN_FILENO);
}

}  // namespace

Expected<DaemonConfig, std::string> make_config(const DaemonOptions& o) {
  DaemonConfig base;
  base.config_dir = o.config_dir;
  base.download_dir = o.config_dir / "downloads";
  auto c = load_config(base);
  if (!c) return c;
  if (o.download_dir) c->download_dir = *o.download_dir;
  if (o.rpc_address) c->rpc_address = *o.rpc_address;
  if (o.rpc_port) c->rpc_port = *o.rpc_port;
  if (o.web_root) c->web_root = *o.web_root;
  if (o.peer_port) c->peer_port = *o.peer_port;
  if (o.no_dht) c->dht_enabled = false;
  if (o.no_lsd) c->lpd_enabled = false;
  if (o.no_port_forwarding) c->port_forwarding_enabled = false;
  std::error_code ec;
  c->config_dir = std::filesystem::absolute(c->config_dir, ec);
  c->download_dir = std::filesystem::absolute(c->download_dir, ec);
  return c;
}

int run_daemon(const DaemonOptions& options) {
  auto log = Logger::for_stderr();
  auto config = make_config(options);
  if (!config) {
    log.error("config-invalid", {{"error", config.error()}});
    return 2;
  }
  // Before any thread exists: fork() keeps only the calling thread.
  if (!options.foreground) daemonize();
  Daemon daemon(options, std::move(*config), log);
  return daemon.run();
}

}  // namespace shoal::daemon
