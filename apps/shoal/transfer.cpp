#include "transfer.hpp"

#include <fmt/core.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>

#include "progress.hpp"
#include "shoal/endpoint.hpp"
#include "shoal/session.hpp"
#include "shoal/terminal_text.hpp"
#include "shoal/torrent_file.hpp"
#include "torrent_notes.hpp"

namespace shoal::cli {
namespace {

constexpr int kBarWidth = 20;
constexpr std::size_t kNameWidth = 28;

std::string bar(double fraction) {
  auto filled = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * kBarWidth + 0.5);
  return "[" + std::string(static_cast<std::size_t>(filled), '#') +
         std::string(static_cast<std::size_t>(kBarWidth - filled), '-') + "]";
}

std::string status_line(const TorrentStatus& s) {
  if (s.state == TorrentState::checking) {
    return fmt::format("checking {:5.1f}% {}", 100.0 * s.progress, bar(s.progress));
  }
  double pct = 100.0 * (s.total_wanted > 0 ? s.progress : 1.0);
  std::string eta = "--:--";
  if (s.download_rate > 1 && s.have_wanted < s.total_wanted) {
    eta = format_duration(static_cast<double>(s.total_wanted - s.have_wanted) / s.download_rate);
  }
  // Web seeds only where the torrent has any: "web seeds 1/2" (fetching / in use), banned ones named.
  std::string web;
  if (s.web_seeds + s.web_seeds_banned > 0) {
    web = fmt::format("  web seeds {}/{}", s.web_seeds_fetching, s.web_seeds);
    if (s.web_seeds_banned > 0) web += fmt::format(" ({} banned)", s.web_seeds_banned);
  }
  return fmt::format("{} {:5.1f}% {}  {} / {}  down {}  up {}  peers {} ({} seeds){}  ETA {}",
                     to_string(s.state), pct, bar(pct / 100.0), format_bytes(s.have_wanted),
                     format_bytes(s.total_wanted), format_rate(s.download_rate), format_rate(s.upload_rate),
                     s.peers, s.seeds, web, eta);
}

std::string short_name(const std::string& name) {
  if (name.size() <= kNameWidth) return name + std::string(kNameWidth - name.size(), ' ');
  return name.substr(0, kNameWidth - 3) + "...";
}

// The status block: one line per torrent, redrawn in place on a terminal, printed every few seconds
// otherwise.
class StatusBlock {
 public:
  explicit StatusBlock(bool tty) : tty_(tty) {}

  void draw(const std::vector<std::string>& lines, bool final_lines) {
    if (!tty_) {
      for (const auto& l : lines)
        fmt::print(stderr, "{}\n", l);
      std::fflush(stderr);
      return;
    }
    erase();
    for (std::size_t i = 0; i < lines.size(); ++i)
      fmt::print(stderr, "{}{}", lines[i], i + 1 < lines.size() || final_lines ? "\n" : "");
    drawn_ = final_lines ? 0 : static_cast<int>(lines.size());
    std::fflush(stderr);
  }
  // A message above the block: the block is erased first and drawn again at the next update.
  void say(const std::string& text) {
    erase();
    fmt::print(stderr, "{}\n", text);
    std::fflush(stderr);
  }

 private:
  void erase() {
    if (!tty_ || drawn_ == 0) return;
    fmt::print(stderr, "\r");
    for (int i = 1; i < drawn_; ++i)
      fmt::print(stderr, "\033[F");
    fmt::print(stderr, "\033[J");
    drawn_ = 0;
  }

  bool tty_;
  int drawn_ = 0;
};

struct Tracked {
  TorrentHandle handle;
  std::string name;
  bool announced = false;  // the "listening" line was said
  bool finished = false;
  bool stopped = false;
  std::string error;
  std::map<std::string, std::string> tracker_reports;  // what was last said about each tracker
};

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

sigset_t block_stop_signals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  return stop_signals;
}

std::filesystem::path default_state_dir() {
  if (const char* dir = std::getenv("SHOAL_STATE_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg)
    return std::filesystem::path(xdg) / "shoal";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::filesystem::path(home) / ".local" / "state" / "shoal";
  return std::filesystem::temp_directory_path() / "shoal-state";
}

void add_common_transfer_options(CLI::App& cmd, CommonTransferOptions& opt) {
  cmd.add_option("--port", opt.port, "Listen port (default: any free port)");
  cmd.add_option("--listen", opt.listen,
                 "Listen address (default: :: = IPv6 and IPv4, or 0.0.0.0 where there is no IPv6)");
  cmd.add_option("--peer", opt.peers, "Connect to this peer too (IP:PORT, repeatable)");
  cmd.add_option("--max-up", opt.max_up, "Upload rate limit of all torrents together, e.g. 1M (bytes/s)");
  cmd.add_flag("--no-trackers", opt.no_trackers, "Do not announce to the torrents' trackers");
  add_dht_options(cmd, opt.dht);
  add_lsd_options(cmd, opt.lsd);
  add_encryption_option(cmd, opt.encryption);
  add_transport_option(cmd, opt.transport);
  add_port_mapping_options(cmd, opt.port_mapping);
  cmd.add_flag("--announce-all-tiers", opt.all_tiers,
               "Announce to one tracker of every tier, not just the first tier that answers (BEP 12)");
  cmd.add_option("--state-dir", opt.state_dir,
                 "Resume data and DHT state (default: $SHOAL_STATE_DIR, $XDG_STATE_HOME/shoal or "
                 "~/.local/state/shoal)");
  cmd.add_flag("-q,--quiet", opt.quiet, "No progress output");
  cmd.add_flag("-v,--verbose", opt.verbose, "Log connections and why they close");
  cmd.add_option("--upload-slots", opt.upload_slots, "Peers unchoked at once per torrent (default 8)")
      ->check(CLI::Range(1, 1000));
  cmd.add_option("--max-connections", opt.max_connections,
                 "Peer connections per torrent at most (default 80)")
      ->check(CLI::Range(1, 10000));
}

std::optional<std::string> apply_common_options(const CommonTransferOptions& opt, TransferRequest& request,
                                                AddTorrentParams& defaults) {
  for (const auto& p : opt.peers) {
    std::string text = p.rfind("localhost:", 0) == 0 ? "127.0.0.1:" + p.substr(10) : p;
    if (!Endpoint::parse(text)) return "invalid --peer '" + p + "' (expected IP:PORT or [IPv6]:PORT)";
    defaults.peers.push_back(text);
  }
  auto up = parse_rate(opt.max_up);
  if (!up) return "invalid --max-up '" + opt.max_up + "' (e.g. 10M, 512K)";
  auto& s = request.settings;
  s.max_upload_rate = *up;
  s.listen_address = opt.listen;
  s.listen_port = opt.port;
  s.state_dir = opt.state_dir.empty() ? default_state_dir() : std::filesystem::path(opt.state_dir);
  s.dht.enabled = !opt.dht.no_dht;
  s.dht.bootstrap = opt.dht.bootstrap;
  s.dht.port = opt.dht.port;
  s.dht.read_only = opt.dht.read_only;
  s.dht.allow_same_ip = opt.dht.allow_same_ip;
  s.lsd.enabled = !opt.lsd.no_lsd;
  s.lsd.interface_address = opt.lsd.interface_address;
  s.encryption = opt.encryption;
  s.transport = opt.transport;
  s.upnp = !opt.port_mapping.no_upnp;
  s.natpmp = !opt.port_mapping.no_natpmp;
  s.pcp = !opt.port_mapping.no_natpmp && !opt.port_mapping.no_pcp;
  s.log_events = opt.verbose;
  defaults.use_trackers = !opt.no_trackers;
  defaults.announce_to_all_tiers = opt.all_tiers;
  defaults.upload_slots = opt.upload_slots;
  defaults.max_connections = opt.max_connections;
  request.quiet = opt.quiet;
  request.verbose = opt.verbose;
  return std::nullopt;
}

int run_transfer(TransferRequest request) {
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  const bool many = request.torrents.size() > 1;
  auto say_error = [&](const std::string& message) {
    fmt::print(stderr, "shoal {}: {}\n", request.command, escape_for_terminal(message));
  };

  const sigset_t stop_signals = block_stop_signals();

  // Names too long for the file system are shortened: say so once, before any work starts.
  for (const auto& params : request.torrents) {
    constexpr std::uintmax_t kMaxTorrentFile = 64 * 1024 * 1024;
    std::error_code ec;
    // Only a regular file is read here (a FIFO would block); the session reads and checks it again anyway.
    if (params.torrent_file.empty() || !std::filesystem::is_regular_file(params.torrent_file, ec) ||
        std::filesystem::file_size(params.torrent_file, ec) > kMaxTorrentFile)
      continue;
    std::ifstream in(params.torrent_file, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (auto parsed = parse_torrent(bytes)) print_torrent_notes(request.command, parsed->shortened_names);
  }

  std::optional<Session> session;
  try {
    session.emplace(request.settings);
  } catch (const std::exception& e) {
    say_error(e.what());
    return 1;
  }
  std::vector<Tracked> torrents;
  for (auto& params : request.torrents) {
    auto added = session->add_torrent(params);
    if (!added) {
      say_error(added.error());
      return 1;
    }
    torrents.push_back({*added, {}, false, false, false, {}, {}});
  }
  auto find = [&](const std::string& hex) -> Tracked* {
    for (auto& t : torrents)
      if (t.handle.info_hash() == hex) return &t;
    return nullptr;
  };
  const auto port = session->stats().listen_port;
  StatusBlock block(tty);
  auto announce_torrent = [&](Tracked& t, const std::string& name) {
    t.name = escape_for_terminal(name);
    if (t.announced || request.quiet) return;
    t.announced = true;
    block.say(fmt::format("{}: {} ({}), listening on port {}", request.command, t.name, t.handle.info_hash(),
                          port));
  };
  auto status_lines = [&] {
    std::vector<std::string> lines;
    for (auto& t : torrents) {
      if (t.name.empty()) continue;  // a magnet still fetching its metadata
      auto st = t.handle.status();
      // Tracker failures and warnings are said once each, when they change, above the status lines.
      for (const auto& tr : st.trackers) {
        std::string report = !tr.last_error.empty() ? tr.last_error
                             : tr.warning.empty()   ? ""
                                                    : "warning: " + tr.warning;
        auto& last = t.tracker_reports[tr.url];
        if (report != last && !report.empty())
          block.say(fmt::format("tracker {}: {}", escape_for_terminal(tr.url), escape_for_terminal(report)));
        last = report;
      }
      lines.push_back((many ? short_name(t.name) + " " : "") + status_line(st));
    }
    return lines;
  };
  for (auto& t : torrents) {
    auto st = t.handle.status();
    if (!st.name.empty()) announce_torrent(t, st.name);
  }

  int exit_code = 0;
  bool interrupted = false;
  auto redraw_every = tty ? std::chrono::milliseconds(250) : std::chrono::milliseconds(2000);
  auto next_draw = std::chrono::steady_clock::now() + redraw_every;
  for (;;) {
    timespec wait{0, 100'000'000};
    int sig = sigtimedwait(&stop_signals, nullptr, &wait);
    if (sig == SIGINT || sig == SIGTERM) {
      if (!request.quiet) block.say(fmt::format("\n{}: stopping (resume data saved)", request.command));
      interrupted = true;
      break;
    }
    for (auto& event : session->pop_events()) {
      std::visit(
          [&](const auto& e) {
            using E = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<E, LogLine>) {
              if (request.verbose) block.say(escape_for_terminal(e.text));
            } else if constexpr (std::is_same_v<E, SessionWarning>) {
              block.say(escape_for_terminal(e.text));
            } else if constexpr (std::is_same_v<E, PortMapped>) {
              if (!request.quiet)
                block.say(fmt::format("port mapped: {} {} {} -> {}:{}", e.method, e.protocol, e.internal_port,
                                      escape_for_terminal(e.external_address), e.external_port));
            } else if constexpr (std::is_same_v<E, MetadataReceived>) {
              if (auto* t = find(e.info_hash); t && !e.piece_layers) announce_torrent(*t, e.name);
            } else if constexpr (std::is_same_v<E, TorrentFinished>) {
              auto* t = find(e.info_hash);
              if (!t || t->finished) return;
              t->finished = true;
              if (!request.quiet) {
                block.draw({(many ? short_name(t->name) + " " : "") + status_line(t->handle.status())}, true);
                block.say(fmt::format("{}: {}all wanted data verified", request.command,
                                      many ? t->name + ": " : ""));
              }
            } else if constexpr (std::is_same_v<E, TorrentError>) {
              if (auto* t = find(e.info_hash)) t->error = e.message;
            } else if constexpr (std::is_same_v<E, TorrentStopped>) {
              if (auto* t = find(e.info_hash)) t->stopped = true;
            } else if constexpr (std::is_same_v<E, PeerBanned>) {
              // A web seed is one per torrent and named by the user or the torrent: its ban is news.
              if (!request.quiet && e.address.rfind("web seed ", 0) == 0)
                block.say(escape_for_terminal(e.address + " banned: " + e.reason));
            }
          },
          event);
    }
    // Done when every torrent has finished (unless it keeps seeding), stopped, or failed.
    bool all_done = true;
    for (const auto& t : torrents) {
      bool done = !t.error.empty() || t.stopped || (t.finished && request.exit_when_complete);
      all_done = all_done && done;
    }
    // One torrent's error ends a single-torrent run at once, as it always has.
    if (all_done) break;
    if (!request.quiet && std::chrono::steady_clock::now() >= next_draw) {
      block.draw(status_lines(), false);
      next_draw = std::chrono::steady_clock::now() + redraw_every;
    }
  }
  bool all_finished = true;
  for (const auto& t : torrents)
    all_finished = all_finished && t.finished;
  if (!request.quiet && !all_finished) {  // finished torrents had their last line drawn when they finished
    auto lines = status_lines();
    if (!lines.empty()) block.draw(lines, true);
  }
  session->shutdown();
  // What the shutdown said (connections closing, trackers told) is still news for a verbose log.
  for (auto& event : session->pop_events()) {
    if (auto* line = std::get_if<LogLine>(&event); line && request.verbose)
      block.say(escape_for_terminal(line->text));
  }
  bool any_error = false;
  for (const auto& t : torrents) {
    if (t.error.empty()) continue;
    any_error = true;
    say_error(many && !t.name.empty() ? t.name + ": " + t.error : t.error);
  }
  if (any_error) {
    exit_code = 1;
  } else if (interrupted) {
    // An interrupted download is not a success; an interrupted seeder stopped as asked.
    bool all_complete = true;
    for (const auto& t : torrents)
      all_complete = all_complete && t.finished;
    exit_code = request.exit_when_complete && !all_complete ? 130 : 0;
  }
  return exit_code;
}

}  // namespace shoal::cli
