#include "session/session_core.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <set>
#include <stdexcept>

#include "hash/sha.hpp"
#include "magnet/magnet_link.hpp"
#include "runtime/file_io.hpp"
#include "session/details_report.hpp"
#include "session/peer_id.hpp"
#include "session/session_state.hpp"
#include "storage/resume_data.hpp"

namespace shoal::detail {
namespace {

namespace asio = boost::asio;
constexpr auto kToken = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxTorrentFileSize = 64 * 1024 * 1024;
constexpr auto kDhtReannounce = std::chrono::minutes(15);
constexpr auto kDhtRetryWhileAlone = std::chrono::seconds(5);
constexpr int kMaxConcurrentDhtSearches = 4;
// A magnet whose peers were found late still gets this long to fetch the metadata.
constexpr auto kMetadataFetchMinimum = std::chrono::seconds(20);
constexpr auto kDhtJoinWait = std::chrono::seconds(10);

TorrentState public_state(session::TorrentState s) {
  switch (s) {
    case session::TorrentState::checking:
      return TorrentState::checking;
    case session::TorrentState::downloading:
      return TorrentState::downloading;
    case session::TorrentState::seeding:
      return TorrentState::seeding;
    case session::TorrentState::stopped:
      return TorrentState::stopped;
    case session::TorrentState::error:
      return TorrentState::error;
  }
  return TorrentState::error;
}

net::DhtServiceOptions dht_options(const SessionSettings& s) {
  net::DhtServiceOptions options;
  options.port = s.dht.port;
  options.bootstrap = s.dht.bootstrap;
  if (options.bootstrap.empty())
    options.bootstrap.assign(net::kPublicDhtRouters.begin(), net::kPublicDhtRouters.end());
  options.config.routing.one_node_per_ip = !s.dht.allow_same_ip;
  options.config.read_only = s.dht.read_only;
  if (!s.state_dir.empty()) options.state_file = s.state_dir / "dht.state";
  return options;
}

// The file-handle pool's bound: the setting, or derived from the open-file limit once it has been raised.
std::size_t open_files_bound(const SessionSettings& s) {
  storage::FilePool::raise_open_file_limit();
  return s.max_open_files > 0 ? s.max_open_files : storage::FilePool::default_bound();
}

session::ConnectionBudget::Limits budget_limits(const SessionSettings& s) {
  return {s.max_connections, s.max_half_open, s.max_dials_per_second};
}

}  // namespace

SessionCore::SessionCore(SessionSettings settings)
    : work_(io_.get_executor()),
      settings_(std::move(settings)),
      pool_(std::max(1u, settings_.disk_threads)),
      files_(open_files_bound(settings_)),
      global_down_(settings_.max_download_rate),
      global_up_(settings_.max_upload_rate),
      budget_(budget_limits(settings_)),
      checks_(settings_.max_concurrent_checks),
      context_{io_, pool_},
      tick_timer_(io_) {
  if (!settings_.state_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(settings_.state_dir / "resume", ec);
    if (ec) {
      throw std::runtime_error("cannot create the state directory " + settings_.state_dir.string() + ": " +
                               ec.message());
    }
  }
  context_.peer_id = session::make_peer_id();
  context_.global_download = &global_down_;
  context_.global_upload = &global_up_;
  context_.connections = &budget_;
  context_.checks = &checks_;
  context_.files = &files_;
  context_.active_torrents = [this] { return active_cached_; };
  context_.cached_bytes = &cached_bytes_;
  context_.cache_budget = settings_.read_cache_bytes;
  context_.unchoke_share = [this] {
    return settings_.max_unchoked > 0 ? std::max(1, settings_.max_unchoked / std::max(1, active_cached_))
                                      : 1 << 20;
  };
  listener_ = std::make_unique<session::Listener>(
      io_, [this](const wire::Handshake& h, session::PeerStream& socket, const Endpoint& remote,
                  wire::MessageReader& reader, const crypto::StreamCipher& cipher) {
        return route_incoming(h, socket, remote, reader, cipher);
      });
  listener_->set_max_handshakes(settings_.max_incoming_handshakes);
  listener_->set_encryption(settings_.encryption,
                            [this](const Sha1Digest& req2) { return find_by_req2(req2); });
  context_.encryption = settings_.encryption;
  context_.request_budget_bytes = settings_.request_budget_bytes;
  listener_->open(settings_.listen_address, settings_.listen_port);  // throws: a start-up error
  context_.listen_port = listener_->port();
  listener_->start();
  udp_ = std::make_unique<net::UdpMux>(io_);
  // uTP peers dial the port they know, the TCP one: the shared UDP socket takes it unless told otherwise.
  bool utp = settings_.transport != Transport::tcp;
  auto udp_port =
      udp_->open("0.0.0.0", "::", settings_.dht.port == 0 && utp ? listener_->port() : settings_.dht.port);
  if (!udp_port && utp && settings_.dht.port == 0) udp_port = udp_->open("0.0.0.0", "::", 0);
  if (auto port = udp_port; port) {
    if (utp) {
      // One SYN retransmission before giving up: 3 s in all on uTP alone. Transport::both falls back to TCP
      // after 0.75 s (a SYN, its repeat at 0.25 s, 0.5 s more): a peer whose UDP port is open but does not
      // speak uTP (libtorrent with uTP off, a DHT-only socket) sends no ICMP error, and 3 s of silence before
      // every such TCP connection halved libtorrent-to-Shoal throughput on 1 GiB.
      utp::ConnectionConfig config;
      config.max_syn_retries = 1;
      if (settings_.transport == Transport::both) config.syn_rto_us = 250'000;
      utp_ = std::make_unique<net::UtpSocketManager>(io_, *udp_, config);
      if (settings_.log_events) utp_->set_log_handler([this](const std::string& text) { log("", text); });
      utp_->set_accept_handler([this](std::shared_ptr<net::UtpSocket> socket) {
        auto remote = socket->remote();
        listener_->adopt(session::PeerStream(std::move(socket)), remote);
      });
      context_.utp = utp_.get();
      listener_->set_accept_tcp(settings_.transport != Transport::utp);
    }
    context_.transport = utp ? settings_.transport : Transport::tcp;
    udp_trackers_ = std::make_unique<net::UdpTrackerClient>(*udp_);
    context_.udp_trackers = udp_trackers_.get();
  } else {
    // Trackers still work (a socket per announce); the DHT will say why it cannot start.
    push_event(SessionWarning{"UDP: " + port.error()});
    udp_.reset();
  }
  start_port_mapping(udp_ ? udp_->port() : std::uint16_t{0});
  if (settings_.remember_torrents && !settings_.state_dir.empty()) restore();
  asio::co_spawn(io_, tick_loop(), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
}

SessionCore::~SessionCore() {
  shutdown(std::chrono::seconds(5));
}

void SessionCore::shutdown(std::chrono::milliseconds timeout) {
  if (!thread_.joinable()) return;
  // Every torrent stops as it would on removal (trackers told, resume data saved), all at once.
  auto all_stopped = std::make_shared<std::promise<void>>();
  auto stopped = all_stopped->get_future();
  asio::post(io_, [this, all_stopped] {
    shut_down_ = true;
    auto remaining = std::make_shared<int>(1);
    auto one_done = [remaining, all_stopped] {
      if (--*remaining == 0) all_stopped->set_value();
    };
    for (auto& [hex, entry] : torrents_) {
      if (entry->fetcher) {
        ++*remaining;
        stop_fetcher(entry, one_done);
      }
      if (!entry->torrent) continue;
      ++*remaining;
      deactivate(entry, one_done);
    }
    one_done();
  });
  stopped.wait_for(timeout);
  auto closed = std::make_shared<std::promise<void>>();
  auto closed_future = closed->get_future();
  asio::post(io_, [this, closed] {
    listener_->stop();
    if (dht_) dht_->stop();  // saves the routing table
    if (utp_) utp_->close();
    if (udp_) udp_->close();
    if (lsd_) lsd_->stop();
    if (port_mapper_) port_mapper_->stop();  // removals queued on its worker
    tick_timer_.cancel();
    closed->set_value();
  });
  closed_future.wait_for(std::chrono::seconds(2));
  work_.reset();
  io_.stop();
  thread_.join();
  thread_done_ = true;
  // Disk jobs still queued refer to their torrents: they run (their completions, posted to the stopped
  // io_context, never do) before any torrent object goes.
  pool_.stop();
  port_mapper_.reset();  // runs the removals (each bounded by its backend's timeouts)
  // Torrents that did not drain in time are destroyed with the rest; their coroutine frames go with io_,
  // and check whether the torrent still exists before touching it.
  torrents_.clear();
  draining_.clear();
}

// ---------------------------------------------------------------------------------------------------------------
// Events.

void SessionCore::push_event(Event event) {
  std::function<void()> wake;
  {
    std::lock_guard lock(events_mutex_);
    bool was_empty = events_.empty();
    if (events_.size() >= kMaxQueuedEvents) events_.pop_front();
    events_.push_back(std::move(event));
    if (was_empty) wake = wakeup_;
  }
  events_cv_.notify_all();
  if (wake) wake();
}

void SessionCore::log(const std::string& info_hash, const std::string& text) {
  push_event(LogLine{info_hash, text});
}

std::vector<Event> SessionCore::pop_events() {
  std::lock_guard lock(events_mutex_);
  std::vector<Event> out(std::make_move_iterator(events_.begin()), std::make_move_iterator(events_.end()));
  events_.clear();
  return out;
}

bool SessionCore::wait_for_events(std::chrono::milliseconds timeout) {
  std::unique_lock lock(events_mutex_);
  return events_cv_.wait_for(lock, timeout, [this] { return !events_.empty(); });
}

void SessionCore::set_wakeup(std::function<void()> wakeup) {
  std::lock_guard lock(events_mutex_);
  wakeup_ = std::move(wakeup);
}

// ---------------------------------------------------------------------------------------------------------------
// Adding and removing.

SessionCore::EntryPtr SessionCore::find(const std::string& info_hash) const {
  auto it = torrents_.find(info_hash);
  return it == torrents_.end() ? nullptr : it->second;
}

Expected<std::string, std::string> SessionCore::add(AddTorrentParams params, std::vector<bool> file_mask) {
  if (shut_down_) return unexpected(std::string("the session is shutting down"));
  auto entry = std::make_shared<Entry>();
  int sources = !params.torrent_bytes.empty() + !params.torrent_file.empty() + !params.magnet.empty();
  if (sources != 1) return unexpected(std::string("give exactly one of torrent_bytes, torrent_file, magnet"));
  for (const auto& p : params.peers) {
    std::string text = p.rfind("localhost:", 0) == 0 ? "127.0.0.1:" + p.substr(10) : p;
    auto e = Endpoint::parse(text);
    if (!e) return unexpected("invalid peer '" + p + "' (expected IP:PORT or [IPv6]:PORT)");
    entry->peers.push_back(*e);
  }
  std::vector<std::string> magnet_trackers;
  if (!params.magnet.empty()) {
    auto link = magnet::parse_magnet(params.magnet);
    if (!link) return unexpected("invalid magnet link: " + link.error().message());
    if (!link->btih && !link->btmh && link->btpk)
      return unexpected(
          std::string("a public-key magnet link (BEP 46) names no torrent until it is resolved"));
    if (!link->btih && !link->btmh) return unexpected(std::string("the magnet link names no torrent"));
    // A v2-only magnet (btmh alone): peers, trackers and the DHT know it by its SHA-256 truncated (BEP 52).
    entry->hex = link->btih ? link->btih->to_hex() : link->btmh->to_hex().substr(0, 40);
    for (const auto& p : link->peers) {
      if (auto e = Endpoint::parse(p)) entry->peers.push_back(*e);
    }
    entry->state = TorrentState::fetching_metadata;
  } else {
    std::string bytes = params.torrent_bytes;
    if (bytes.empty()) {
      auto file = runtime::read_file(params.torrent_file, kMaxTorrentFileSize);
      if (!file) return unexpected(params.torrent_file.string() + ": " + file.error().message());
      bytes.assign(file->begin(), file->end());
    }
    auto info = metainfo::parse_torrent(bytes);
    if (!info) {
      auto where = params.torrent_file.empty() ? std::string("torrent") : params.torrent_file.string();
      return unexpected(where + ": " + info.error().message());
    }
    // A hybrid runs as its v1 half (SHA-1 pieces); a v2-only torrent is verified piece by piece against its
    // merkle trees, whose piece layers the .torrent carries (metainfo/v2_pieces.hpp).
    entry->hex = info->info_hash.to_hex();
    entry->info = std::move(*info);
    if (!torrents_.count(entry->hex)) save_metainfo(*entry, bytes);
  }
  if (torrents_.count(entry->hex)) return unexpected("torrent " + entry->hex + " is in the session already");
  entry->order = next_order_++;
  entry->file_mask = std::move(file_mask);
  entry->user_paused = params.paused;
  entry->params = std::move(params);
  apply_file_paths(*entry);
  if (entry->info && !entry->params.resume_data.empty()) {
    // What the torrent had when its resume data was saved: shown (TorrentDetails::pieces) until it runs and
    // its check says what is really there.
    if (auto resume = storage::decode_resume(entry->params.resume_data, entry->info->info_hash,
                                             entry->info->num_pieces())) {
      entry->last_pieces = session::bitfield_bytes(resume->have);
    }
  }
  torrents_[entry->hex] = entry;
  push_event(TorrentAdded{entry->hex, entry->info ? entry->info->name : std::string()});
  persist();
  if (!entry->info) {
    asio::co_spawn(io_, fetch_metadata(entry), asio::detached);
  } else {
    entry->state = entry->user_paused ? TorrentState::paused : TorrentState::queued;
    if (settings_.max_active_downloads > 0 || settings_.max_active_seeds > 0) {
      schedule();
    } else if (entry->user_paused) {
      // Paused and no limit: nothing starts and nothing else changes (a pass over every torrent here made a
      // daemon's restart of 10,000 torrents, added paused then resumed, quadratic).
    } else {
      // No limit: nothing else can be waiting, so it starts now, without a pass over every torrent (which
      // made adding 10,000 torrents quadratic).
      activate(entry);
      // An estimate until the next tick recounts: one more running, unless it is the first.
      if (torrents_.size() > 1) ++active_cached_;
    }
  }
  return entry->hex;
}

void SessionCore::remove(const std::string& info_hash, RemoveMode mode) {
  auto entry = find(info_hash);
  if (!entry || entry->removed) return;
  entry->removed = true;
  if (lsd_) lsd_->remove_torrent(*Sha1Digest::from_hex(info_hash));
  auto finish = [this, entry, mode] {
    if (mode == RemoveMode::delete_data && entry->info) {
      std::error_code ec;
      for (const auto& f : entry->info->files) {
        if (f.pad) continue;
        std::filesystem::remove(entry->params.save_path / f.path, ec);
      }
      if (entry->info->multi_file) {
        // Folders the torrent made, deepest first, only when empty: nothing else of the user's goes.
        std::vector<std::filesystem::path> dirs;
        for (const auto& f : entry->info->files) {
          for (auto p = std::filesystem::path(f.path).parent_path(); !p.empty(); p = p.parent_path())
            dirs.push_back(entry->params.save_path / p);
        }
        std::sort(dirs.begin(), dirs.end(),
                  [](const auto& a, const auto& b) { return a.string().size() > b.string().size(); });
        for (const auto& d : dirs)
          std::filesystem::remove(d, ec);  // fails (kept) when not empty
      }
      std::filesystem::remove(parts_path(*entry), ec);
    }
    std::error_code ec;
    if (!settings_.state_dir.empty()) {
      std::filesystem::remove(resume_path(*entry), ec);
      std::filesystem::remove(settings_.state_dir / "torrents" / (entry->hex + ".torrent"), ec);
    }
    torrents_.erase(entry->hex);
    persist();
    push_event(TorrentRemoved{entry->hex});
    schedule();
  };
  if (entry->fetcher) {
    // A magnet still fetching its metadata: the fetch ends now.
    stop_fetcher(entry, {});
  }
  if (entry->torrent) {
    deactivate(entry, finish);
  } else {
    finish();
  }
}

std::vector<std::string> SessionCore::list() const {
  std::vector<const Entry*> sorted;
  for (const auto& [hex, e] : torrents_)
    sorted.push_back(e.get());
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->order < b->order; });
  std::vector<std::string> out;
  for (auto* e : sorted)
    out.push_back(e->hex);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Remembered torrents.

void SessionCore::persist() {
  if (!settings_.remember_torrents || settings_.state_dir.empty() || shut_down_) return;
  std::vector<session::SavedTorrent> saved;
  for (const auto& hex : list()) {
    const auto& e = *torrents_.at(hex);
    if (e.removed) continue;
    session::SavedTorrent t;
    t.info_hash = e.hex;
    t.save_path = std::filesystem::absolute(e.params.save_path).string();
    if (!e.info) t.magnet = e.params.magnet;
    t.paused = e.user_paused;
    t.sequential = e.params.sequential;
    t.seed_when_complete = e.params.seed_when_complete;
    t.seed_ratio = e.params.seed_ratio;
    t.seed_time_seconds = e.params.seed_time_seconds;
    t.only = e.params.only;
    t.file_mask = e.file_mask;
    t.max_download_rate = e.params.max_download_rate;
    t.max_upload_rate = e.params.max_upload_rate;
    t.file_paths = e.params.file_paths;
    saved.push_back(std::move(t));
  }
  if (auto ec = runtime::write_file_atomically(settings_.state_dir / "session.state",
                                               session::encode_session_state(saved))) {
    push_event(SessionWarning{"cannot save the session state: " + ec.message()});
  }
}

void SessionCore::save_metainfo(const Entry& entry, const std::string& torrent_bytes) {
  if (!settings_.remember_torrents || settings_.state_dir.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(settings_.state_dir / "torrents", ec);
  if (auto err = runtime::write_file_atomically(settings_.state_dir / "torrents" / (entry.hex + ".torrent"),
                                                torrent_bytes)) {
    push_event(SessionWarning{"cannot save the metainfo of " + entry.hex + ": " + err.message()});
  }
}

void SessionCore::restore() {
  auto bytes = runtime::read_file(settings_.state_dir / "session.state", kMaxTorrentFileSize);
  if (!bytes) return;  // a first start
  auto saved = session::decode_session_state(*bytes);
  if (!saved) {
    push_event(SessionWarning{saved.error() + " (starting with no torrents)"});
    return;
  }
  for (const auto& t : *saved) {
    AddTorrentParams p;
    auto file = settings_.state_dir / "torrents" / (t.info_hash + ".torrent");
    if (std::filesystem::exists(file)) {
      p.torrent_file = file;
    } else if (!t.magnet.empty()) {
      p.magnet = t.magnet;
    } else {
      push_event(SessionWarning{"the metainfo of " + t.info_hash + " is missing; it is not added again"});
      continue;
    }
    p.save_path = t.save_path;
    p.paused = t.paused;
    p.sequential = t.sequential;
    p.seed_when_complete = t.seed_when_complete;
    p.seed_ratio = t.seed_ratio;
    p.seed_time_seconds = t.seed_time_seconds;
    p.only = t.only;
    p.max_download_rate = t.max_download_rate;
    p.max_upload_rate = t.max_upload_rate;
    p.file_paths = t.file_paths;
    auto added = add(std::move(p), t.file_mask);
    if (!added) push_event(SessionWarning{"cannot add " + t.info_hash + " again: " + added.error()});
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Magnet links: peers from the link, the caller and the DHT; the info dictionary over ut_metadata.

asio::awaitable<void> SessionCore::fetch_metadata(EntryPtr entry) {
  if (entry->params.metadata_timeout_seconds <= 0) {
    // Never gives up (a daemon's magnet waits for peers as long as it is kept): the fetcher starts at once,
    // so incoming peers are served from the first second, and the tick's DHT searches feed it peers.
    if (settings_.dht.enabled) start_dht();
    entry->metadata_deadline = std::chrono::steady_clock::time_point::max();
    start_fetcher(entry);
    co_return;
  }
  auto info_hash = *Sha1Digest::from_hex(entry->hex);
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(entry->params.metadata_timeout_seconds);
  if (entry->peers.empty() && settings_.dht.enabled) {
    start_dht();
    if (!dht_) {
      fail_entry(entry, ErrorCode::no_dht_nodes, "the DHT could not start; give x.pe in the link or a peer");
      co_return;
    }
    log(entry->hex, "looking up " + entry->hex + " in the DHT");
    asio::steady_timer pause(io_);
    for (int round = 0; entry->peers.empty() && !entry->removed; ++round) {
      if (round > 0) {
        pause.expires_after(std::chrono::seconds(2));
        co_await pause.async_wait(kToken);
      }
      if (entry->removed || shut_down_) co_return;
      auto found = co_await dht_->lookup(info_hash, std::nullopt, kDhtJoinWait);
      if (entry->removed || shut_down_) co_return;
      entry->peers = found;
      if (dht_->node().node_count() == 0) {
        fail_entry(entry, ErrorCode::no_dht_nodes,
                   std::string("no DHT node answered within 10 s (") +
                       (settings_.dht.bootstrap.empty() ? "public routers" : "DHT bootstrap nodes") +
                       " unreachable?); give x.pe in the link or a peer");
        co_return;
      }
      if (std::chrono::steady_clock::now() >= deadline) break;
    }
  }
  if (entry->removed || shut_down_) co_return;
  auto link = magnet::parse_magnet(entry->params.magnet);
  bool trackers = link && !link->trackers.empty() && entry->params.use_trackers && settings_.use_trackers;
  if (entry->peers.empty() && !trackers) {
    fail_entry(entry, ErrorCode::metadata_not_found,
               settings_.dht.enabled
                   ? "no peer found for this magnet link (DHT searched for a minute)"
                   : "no peer to fetch metadata from: give x.pe in the link or a peer, or turn the DHT on");
    co_return;
  }
  entry->metadata_deadline = std::max(deadline, std::chrono::steady_clock::now() + kMetadataFetchMinimum);
  start_fetcher(entry);
}

// The info dictionary comes over the same peer connections as any torrent's data: a torrent object in
// fetch_metadata mode asks every peer that offers it, in parallel, and is stopped once it has it.
void SessionCore::start_fetcher(const EntryPtr& entry) {
  auto info_hash = *Sha1Digest::from_hex(entry->hex);
  metainfo::TorrentInfo stub;
  stub.info_hash = info_hash;
  stub.name = entry->hex;
  stub.piece_length = 16 * 1024;
  if (auto link = magnet::parse_magnet(entry->params.magnet)) {
    for (const auto& t : link->trackers)
      stub.trackers.push_back({t});
  }
  session::TorrentOptions options;
  options.save_dir = entry->params.save_path;
  options.peers = entry->peers;
  options.use_trackers = entry->params.use_trackers && settings_.use_trackers;
  options.max_connections = entry->params.max_connections;
  options.fetch_metadata = true;
  log(entry->hex, "fetching metadata from " + std::to_string(entry->peers.size()) + " peer(s)" +
                      (stub.trackers.empty() ? "" : " and the link's trackers"));
  entry->fetcher = std::make_unique<session::TorrentSession>(context_, std::move(stub), std::move(options));
  std::weak_ptr<Entry> weak = entry;
  entry->fetcher->on_metadata = [this, weak](const std::string& bytes) {
    // Posted: the fetcher is stopped (and destroyed) from here, not from inside its own call stack.
    asio::post(io_, [this, weak, bytes] {
      if (auto e = weak.lock(); e && e->fetcher && !e->info) on_metadata(e, bytes);
    });
  };
  if (settings_.log_events) {
    entry->fetcher->on_log = [this, hex = entry->hex](const std::string& line) { log(hex, line); };
  }
  entry->fetcher->start();
}

void SessionCore::on_metadata(const EntryPtr& entry, const std::string& info_bytes) {
  auto info = metainfo::parse_info_dict(info_bytes);
  if (!info) {
    // It hashed to the info-hash, so this is the torrent as published: unusable for us, and for good.
    stop_fetcher(entry, {});
    fail_entry(entry, ErrorCode::metadata_not_found, "the metadata is invalid: " + info.error().message());
    return;
  }
  // A v2-only info dictionary comes without its piece layers: the torrent fetches them from peers (BEP 52
  // hash requests, each checked against its file's pieces root) before it asks for any piece.
  if (auto link = magnet::parse_magnet(entry->params.magnet)) session::add_magnet_sources(*info, *link);
  stop_fetcher(entry, {});
  entry->info = std::move(*info);
  apply_file_paths(*entry);
  save_metainfo(*entry, session::torrent_file_from_info(*entry->info));
  persist();
  push_event(MetadataReceived{entry->hex, entry->info->name});
  entry->state = entry->user_paused ? TorrentState::paused : TorrentState::queued;
  schedule();
}

void SessionCore::stop_fetcher(const EntryPtr& entry, std::function<void()> then) {
  if (!entry->fetcher) {
    if (then) then();
    return;
  }
  // Kept until drained (its coroutines refer to it), then destroyed from the posted stop callback, when
  // nothing of it is on the stack.
  auto* raw = entry->fetcher.get();
  raw->on_metadata = nullptr;
  draining_[raw] = std::move(entry->fetcher);
  raw->stop([this, raw, then = std::move(then)] {
    if (then) then();
    draining_.erase(raw);
  });
}

void SessionCore::fail_entry(const EntryPtr& entry, ErrorCode code, std::string message) {
  entry->state = TorrentState::error;
  entry->error_code = code;
  entry->error = message;
  push_event(TorrentError{entry->hex, code, std::move(message)});
}

// ---------------------------------------------------------------------------------------------------------------
// Queue and torrent objects.

bool SessionCore::is_active(const Entry& e) {
  return e.torrent && !e.torrent->stopping();
}

int SessionCore::active_count() const {
  int n = 0;
  for (const auto& [hex, e] : torrents_)
    n += is_active(*e) ? 1 : 0;
  return n;
}

void SessionCore::schedule() {
  if (shut_down_) return;
  // Called on every add and every completion: one pass, and a torrent's stats only when a limit needs its
  // state (stats() of every active torrent on each of 10,000 adds made loading them quadratic: minutes).
  const bool limited = settings_.max_active_downloads > 0 || settings_.max_active_seeds > 0;
  int downloads = 0;
  int active = 0;
  std::vector<EntryPtr> seeding;
  std::vector<EntryPtr> queued;
  for (const auto& [hex, e] : torrents_) {
    if (is_active(*e)) {
      ++active;
      if (!limited || e->bypass_queue) continue;
      if (e->torrent->stats().state == session::TorrentState::seeding) {
        seeding.push_back(e);
      } else {
        ++downloads;
      }
    } else if (!e->torrent && e->state == TorrentState::queued && e->info && !e->removed) {
      queued.push_back(e);
    }
  }
  auto by_order = [](const auto& a, const auto& b) { return a->order < b->order; };
  std::sort(seeding.begin(), seeding.end(), by_order);
  std::sort(queued.begin(), queued.end(), by_order);
  int seeds = static_cast<int>(seeding.size());
  // Too many seeds (a download just finished): the newest ones wait in the queue.
  while (settings_.max_active_seeds > 0 && seeds > settings_.max_active_seeds) {
    auto e = seeding.back();
    seeding.pop_back();
    --seeds;
    --active;
    e->state = TorrentState::queued;
    deactivate(e, [] {});
  }
  for (const auto& e : queued) {
    if (e->bypass_queue) {
      activate(e);
      ++active;
      continue;
    }
    // A torrent known to be complete needs a seed slot; any other counts as a download until its check says.
    if (e->finished_told) {
      if (settings_.max_active_seeds > 0 && seeds >= settings_.max_active_seeds) continue;
      ++seeds;
    } else {
      if (settings_.max_active_downloads > 0 && downloads >= settings_.max_active_downloads) continue;
      ++downloads;
    }
    activate(e);
    ++active;
  }
  active_cached_ = std::max(1, active);
}

std::filesystem::path SessionCore::resume_path(const Entry& entry) const {
  if (settings_.state_dir.empty()) return {};
  // The save path is part of the name: the same torrent saved in two folders has two sets of resume data.
  auto where = std::filesystem::absolute(entry.params.save_path).lexically_normal().string();
  auto tag = hash::sha1(std::span(reinterpret_cast<const std::byte*>(where.data()), where.size())).to_hex();
  return settings_.state_dir / "resume" / (entry.hex + "-" + tag.substr(0, 8) + ".resume");
}

std::filesystem::path SessionCore::parts_path(const Entry& entry) const {
  if (settings_.state_dir.empty()) return entry.params.save_path / ("." + entry.hex + ".parts");
  auto resume = resume_path(entry);
  return resume.replace_extension(".parts");
}

void SessionCore::activate(const EntryPtr& entry) {
  const auto& p = entry->params;
  session::TorrentOptions options;
  options.save_dir = p.save_path;
  options.resume_file = resume_path(*entry);
  options.parts_file = parts_path(*entry);
  std::weak_ptr<Entry> weak = entry;
  if (settings_.resume_data_events) {
    options.resume_file.clear();
    options.resume_data = p.resume_data;
    options.resume_sink = [this, weak](std::string data) {
      auto e = weak.lock();
      if (!e) return;
      e->params.resume_data = data;  // a restart of the torrent in this session starts from it
      push_event(ResumeDataSaved{e->hex, std::move(data)});
    };
  }
  options.peers = entry->peers;
  options.use_trackers = p.use_trackers && settings_.use_trackers;
  options.announce_to_all_tiers = p.announce_to_all_tiers;
  options.seed_when_complete = p.seed_when_complete;
  options.seed_ratio = p.seed_ratio;
  options.seed_time_seconds = p.seed_time_seconds;
  options.sequential = p.sequential;
  options.only = p.only;
  options.file_mask = entry->file_mask;
  options.file_priorities = entry->file_priority;
  options.max_download_rate = p.max_download_rate;
  options.max_upload_rate = p.max_upload_rate;
  options.upload_slots = p.upload_slots;
  options.max_connections = p.max_connections;
  if (p.use_web_seeds) options.web_seeds = entry->info->web_seeds;
  for (const auto& url : p.web_seeds) {
    if (std::find(options.web_seeds.begin(), options.web_seeds.end(), url) == options.web_seeds.end())
      options.web_seeds.push_back(url);
  }
  entry->torrent = std::make_unique<session::TorrentSession>(context_, *entry->info, std::move(options));
  entry->state = TorrentState::checking;
  auto& t = *entry->torrent;
  const std::string hex = entry->hex;
  t.on_complete = [this, weak] {
    auto e = weak.lock();
    if (!e || e->finished_told) return;
    e->finished_told = true;
    push_event(TorrentFinished{e->hex});
    // A download slot is free, or a seed slot is now wanted.
    if (settings_.max_active_downloads > 0 || settings_.max_active_seeds > 0) schedule();
  };
  t.on_error = [this, weak](const std::string& message) {
    auto e = weak.lock();
    if (!e) return;
    auto kind = e->torrent ? e->torrent->stats().failure : session::FailureKind::file_error;
    auto code = kind == session::FailureKind::file_deleted ? ErrorCode::file_deleted : ErrorCode::file_error;
    e->error_code = code;
    e->error = message;
    push_event(TorrentError{e->hex, code, message});
    push_event(FileError{e->hex, e->params.save_path.string(), message});
  };
  t.on_piece_verified = [this, hex](std::int32_t piece) { push_event(PieceFinished{hex, piece}); };
  t.on_check_finished = [this, hex](std::int32_t have) { push_event(CheckFinished{hex, have}); };
  t.on_tracker_reply = [this, hex](const std::string& url, std::int64_t peers, const std::string& warning) {
    push_event(TrackerReply{hex, url, peers, warning});
  };
  t.on_tracker_error = [this, hex](const std::string& url, const std::string& error) {
    push_event(TrackerError{hex, url, error});
  };
  t.on_peer_banned = [this, hex](const std::string& address, const std::string& reason) {
    push_event(PeerBanned{hex, address, reason});
  };
  t.on_seeding_done = [this, weak] {
    auto e = weak.lock();
    if (!e) return;
    push_event(TorrentStopped{e->hex});
    // The torrent stopped itself: once drained, the object goes and the entry stays, stopped.
    asio::post(io_, [this, weak] {
      if (auto en = weak.lock(); en && en->torrent) {
        deactivate(en, [] {});
        en->state = TorrentState::stopped;
      }
    });
  };
  t.on_piece_layers = [this, weak](const std::map<Sha256Digest, std::string>& layers) {
    // A magnet's v2 metainfo is whole now: saved again with its layers, so that a restart can check the
    // data and serve the layers without asking anyone.
    auto e = weak.lock();
    if (!e || !e->info) return;
    e->info->piece_layers = layers;
    save_metainfo(*e, session::torrent_file_from_info(*e->info));
    push_event(MetadataReceived{e->hex, e->info->name, true});
  };
  if (settings_.log_events) t.on_log = [this, hex](const std::string& line) { log(hex, line); };
  t.start();
  bool is_public = !entry->info->is_private;
  if (is_public && settings_.dht.enabled) {
    start_dht();
    entry->next_dht = {};
  }
  if (is_public && settings_.lsd.enabled) {
    start_lsd();
    if (lsd_) lsd_->add_torrent(entry->info->info_hash, context_.listen_port);
  }
}

void SessionCore::deactivate(const EntryPtr& entry, std::function<void()> then) {
  if (!entry->torrent) {
    if (then) then();
    return;
  }
  if (then) entry->after_stop.push_back(std::move(then));
  // Asked even when a stop is under way (the torrent may have stopped itself at its seed ratio): stop() then
  // only adds this callback to the ones it runs when drained. The callback is idempotent.
  std::weak_ptr<Entry> weak = entry;
  entry->torrent->stop([this, weak] {
    auto e = weak.lock();
    if (!e || !e->torrent) return;
    auto last = e->torrent->stats();
    e->last_pieces = session::bitfield_bytes(e->torrent->core().have());
    e->downloaded_before += last.downloaded;
    e->uploaded_before += last.uploaded;
    if (last.state == session::TorrentState::error) {
      e->state = TorrentState::error;
    } else if (e->state == TorrentState::checking) {
      e->state = TorrentState::stopped;  // nobody said what comes next (queued, paused): it has stopped
    }
    e->torrent.reset();
    auto waiters = std::move(e->after_stop);
    e->after_stop.clear();
    for (auto& w : waiters)
      w();
  });
}

bool SessionCore::route_incoming(const wire::Handshake& h, session::PeerStream& socket,
                                 const Endpoint& remote, wire::MessageReader& reader,
                                 const crypto::StreamCipher& cipher) {
  auto entry = find(h.info_hash.to_hex());
  if (!entry) return false;
  auto* torrent = entry->torrent ? entry->torrent.get() : entry->fetcher.get();
  if (!torrent || torrent->stopping()) return false;
  torrent->adopt_incoming(std::move(socket), remote, std::move(reader), h, cipher);
  return true;
}

// One SHA-1 per torrent per incoming encrypted connection: cheap beside the connection's Diffie-Hellman.
std::optional<Sha1Digest> SessionCore::find_by_req2(const Sha1Digest& req2) const {
  for (const auto& [hex, entry] : torrents_) {
    auto info_hash = Sha1Digest::from_hex(hex);
    if (info_hash && crypto::mse_req2_hash(*info_hash) == req2) return info_hash;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------------------------
// Per-torrent controls.

TorrentDetails SessionCore::details(const std::string& info_hash, const DetailsQuery& query) const {
  TorrentDetails d;
  auto entry = find(info_hash);
  if (!entry) return d;
  d.info_hash = entry->hex;
  if (entry->torrent) {
    session::fill_details(entry->torrent->core(), query, d);
  } else if (query.pieces) {
    d.pieces = entry->last_pieces;
  }
  return d;
}

TorrentStatus SessionCore::status(const std::string& info_hash) const {
  TorrentStatus s;
  auto entry = find(info_hash);
  if (!entry) return s;
  s.info_hash = entry->hex;
  s.listen_port = context_.listen_port;
  if (entry->info) {
    s.name = entry->info->name;
    s.total_size = entry->info->total_size;
    s.num_pieces = entry->info->num_pieces();
  }
  s.state = entry->state;
  s.error_code = entry->error_code;
  s.error = entry->error;
  s.downloaded = entry->downloaded_before;
  s.uploaded = entry->uploaded_before;
  if (entry->torrent) {
    auto t = entry->torrent->stats();
    s.state = public_state(t.state);
    if (entry->torrent->stopping() && t.state != session::TorrentState::error)
      s.state = entry->user_paused ? TorrentState::paused : s.state;
    s.total_wanted = t.total_wanted;
    s.have_wanted = t.have_wanted;
    s.checked = t.checked;
    s.downloaded += t.downloaded;
    s.uploaded += t.uploaded;
    s.download_rate = t.download_rate;
    s.upload_rate = t.upload_rate;
    s.peers = t.peers;
    s.seeds = t.seeds;
    s.pieces_have = t.pieces_have;
    s.failed_pieces = t.failed_pieces;
    s.banned_peers = t.banned_peers;
    s.web_seeds = t.web_seeds;
    s.web_seeds_fetching = t.web_seeds_fetching;
    s.web_seeds_banned = t.web_seeds_banned;
    if (t.state == session::TorrentState::error) {
      s.error = t.error;
      s.error_code = entry->error_code == ErrorCode::none ? ErrorCode::file_error : entry->error_code;
    }
    for (const auto& tr : t.trackers) {
      TrackerStatus ts;
      ts.url = tr.url;
      ts.tier = tr.tier;
      ts.last_error = tr.last_error;
      ts.warning = tr.warning;
      ts.peers = tr.peers_returned;
      ts.seeders = tr.seeders.value_or(-1);
      ts.leechers = tr.leechers.value_or(-1);
      ts.failures = tr.failures;
      s.trackers.push_back(std::move(ts));
    }
  }
  if (s.state == TorrentState::checking) {
    s.progress = s.total_size > 0 ? static_cast<double>(s.checked) / static_cast<double>(s.total_size) : 0;
  } else {
    s.progress = s.total_wanted > 0 ? static_cast<double>(s.have_wanted) / static_cast<double>(s.total_wanted)
                 : entry->torrent   ? 1.0
                                    : 0.0;
  }
  return s;
}

void SessionCore::pause(const std::string& info_hash) {
  auto entry = find(info_hash);
  if (!entry || entry->removed || entry->user_paused) return;
  entry->user_paused = true;
  entry->bypass_queue = false;
  if (entry->state != TorrentState::fetching_metadata) entry->state = TorrentState::paused;
  persist();
  std::weak_ptr<Entry> weak = entry;
  deactivate(entry, [this, weak] {
    auto e = weak.lock();
    if (!e) return;
    if (e->state != TorrentState::error) e->state = TorrentState::paused;
    push_event(TorrentStopped{e->hex});
    schedule();
  });
}

void SessionCore::resume(const std::string& info_hash) {
  auto entry = find(info_hash);
  if (!entry || entry->removed || !entry->user_paused) return;
  entry->user_paused = false;
  persist();
  if (!entry->info) return;  // still fetching metadata
  std::weak_ptr<Entry> weak = entry;
  deactivate(entry, [this, weak] {  // a pause still draining finishes first
    auto e = weak.lock();
    if (!e || e->user_paused) return;
    e->state = TorrentState::queued;
    e->error_code = ErrorCode::none;
    e->error.clear();
    if (settings_.max_active_downloads > 0 || settings_.max_active_seeds > 0) {
      schedule();
    } else if (!e->torrent && e->info && !e->removed) {
      // No limit: nothing else waits, so it starts now, without a pass over every torrent (as add does).
      activate(e);
      if (torrents_.size() > 1) ++active_cached_;
    }
  });
}

void SessionCore::force_recheck(const std::string& info_hash) {
  auto entry = find(info_hash);
  if (!entry || entry->removed || !entry->info) return;
  std::weak_ptr<Entry> weak = entry;
  deactivate(entry, [this, weak] {
    auto e = weak.lock();
    if (!e) return;
    // Without resume data the next start hashes everything.
    std::error_code ec;
    if (auto path = resume_path(*e); !path.empty()) std::filesystem::remove(path, ec);
    e->finished_told = false;
    e->error_code = ErrorCode::none;
    e->error.clear();
    if (!e->user_paused) {
      e->state = TorrentState::queued;
      schedule();
    }
  });
}

void SessionCore::force_reannounce(const std::string& info_hash) {
  auto entry = find(info_hash);
  if (!entry) return;
  if (entry->torrent) entry->torrent->force_reannounce();
  entry->next_dht = {};
}

bool SessionCore::add_peer(const std::string& info_hash, const std::string& endpoint) {
  auto e = Endpoint::parse(endpoint);
  auto entry = find(info_hash);
  if (!e || !entry) return false;
  entry->peers.push_back(*e);
  if (entry->torrent) entry->torrent->add_peer(*e, swarm::PeerSource::user);
  if (entry->fetcher) entry->fetcher->add_peer(*e, swarm::PeerSource::user);
  return true;
}

void SessionCore::set_file_priority(const std::string& info_hash, int file, int priority) {
  auto entry = find(info_hash);
  if (!entry || !entry->info || file < 0 || static_cast<std::size_t>(file) >= entry->info->files.size())
    return;
  if (entry->file_mask.empty()) entry->file_mask.assign(entry->info->files.size(), true);
  bool wanted = priority > 0;
  if (wanted) {
    auto level = static_cast<std::uint8_t>(std::min(priority, kFilePriorityHigh));
    if (entry->file_priority.empty())
      entry->file_priority.assign(entry->info->files.size(), static_cast<std::uint8_t>(kFilePriorityNormal));
    if (entry->file_priority[static_cast<std::size_t>(file)] != level) {
      entry->file_priority[static_cast<std::size_t>(file)] = level;
      // Among wanted files the order changes at once; whether a file is wanted at all needs a restart.
      if (entry->torrent && entry->file_mask[static_cast<std::size_t>(file)])
        entry->torrent->set_file_priorities(entry->file_priority);
    }
  }
  if (entry->file_mask[static_cast<std::size_t>(file)] == wanted) return;
  entry->file_mask[static_cast<std::size_t>(file)] = wanted;
  persist();
  if (!entry->torrent) return;
  // The selection is fixed for a running torrent object: restart it (resume data keeps what is verified).
  std::weak_ptr<Entry> weak = entry;
  deactivate(entry, [this, weak] {
    auto e = weak.lock();
    if (!e || e->user_paused) return;
    e->state = TorrentState::queued;
    e->finished_told = false;
    schedule();
  });
}

void SessionCore::set_max_connections(const std::string& info_hash, int max_connections) {
  auto entry = find(info_hash);
  if (!entry || max_connections < 1) return;
  entry->params.max_connections = max_connections;
  if (entry->torrent) entry->torrent->set_max_connections(max_connections);
}

void SessionCore::force_start(const std::string& info_hash) {
  auto entry = find(info_hash);
  if (!entry || entry->removed) return;
  entry->bypass_queue = true;
  if (entry->user_paused) {
    resume(info_hash);  // it reaches schedule(), which starts it whatever the limits say
  } else if (!entry->torrent && entry->state == TorrentState::queued) {
    schedule();
  }
}

std::vector<std::int64_t> SessionCore::file_progress(const std::string& info_hash) const {
  auto entry = find(info_hash);
  if (!entry || !entry->info) return {};
  if (entry->torrent) return entry->torrent->file_progress();
  return std::vector<std::int64_t>(entry->info->files.size(), 0);
}

Expected<void, std::string> SessionCore::move_storage(const std::string& info_hash,
                                                      const std::filesystem::path& to) {
  auto entry = find(info_hash);
  if (!entry || !entry->info) return unexpected(std::string("no such torrent, or no metadata yet"));
  if (entry->torrent) return unexpected(std::string("pause the torrent before moving its data"));
  std::error_code ec;
  std::filesystem::create_directories(to, ec);
  if (ec) return unexpected("cannot create " + to.string() + ": " + ec.message());
  std::vector<std::pair<std::filesystem::path, std::filesystem::path>> moved;
  for (const auto& f : entry->info->files) {
    if (f.pad) continue;
    auto from = entry->params.save_path / f.path;
    if (!std::filesystem::exists(from)) continue;
    auto dest = to / f.path;
    std::filesystem::create_directories(dest.parent_path(), ec);
    std::filesystem::rename(from, dest, ec);
    if (ec) {  // another file system: copy, then remove
      ec.clear();
      std::filesystem::copy_file(from, dest, std::filesystem::copy_options::overwrite_existing, ec);
      if (!ec) std::filesystem::remove(from, ec);
    }
    if (ec) {
      for (auto& [a, b] : moved) {  // put back what moved: all or nothing
        std::error_code ignored;
        std::filesystem::rename(b, a, ignored);
      }
      return unexpected("cannot move " + from.string() + ": " + ec.message());
    }
    moved.emplace_back(from, dest);
  }
  auto old_resume = resume_path(*entry);
  entry->params.save_path = to;
  if (!old_resume.empty()) std::filesystem::rename(old_resume, resume_path(*entry), ec);
  persist();
  return {};
}

void SessionCore::apply_file_paths(Entry& entry) {
  if (!entry.info || entry.params.file_paths.empty()) return;
  for (const auto& skipped : metainfo::apply_file_paths(*entry.info, entry.params.file_paths))
    push_event(SessionWarning{"torrent " + entry.hex + ": a stored file name is not used: " + skipped});
}

Expected<void, std::string> SessionCore::rename_path(const std::string& info_hash, const std::string& path,
                                                     const std::string& new_name) {
  auto entry = find(info_hash);
  if (!entry || entry->removed) return unexpected(std::string("no such torrent"));
  if (!entry->info)
    return unexpected(std::string("a magnet's files cannot be renamed before its metadata arrives"));
  auto plan = metainfo::plan_rename(*entry->info, path, new_name);
  if (!plan) return unexpected(plan.error());
  if (!entry->torrent) return rename_stopped(*entry, path, new_name);
  // The running torrent object holds the old paths (and open files): stop it, rename, start it again. What
  // fails on disk by then is told as a FileError.
  std::weak_ptr<Entry> weak = entry;
  deactivate(entry, [this, weak, path, new_name] {
    auto e = weak.lock();
    if (!e || e->removed) return;
    if (auto done = rename_stopped(*e, path, new_name); !done)
      push_event(FileError{e->hex, path, "cannot rename: " + done.error()});
    if (!e->user_paused) {
      e->state = TorrentState::queued;
      schedule();
    }
  });
  return {};
}

Expected<void, std::string> SessionCore::rename_stopped(Entry& entry, const std::string& path,
                                                        const std::string& new_name) {
  auto plan = metainfo::plan_rename(*entry.info, path, new_name);
  if (!plan) return unexpected(plan.error());
  auto from = entry.params.save_path / plan->from;
  auto to = entry.params.save_path / plan->to;
  std::error_code ec;
  // Storage never follows a symbolic link below the save path (a planted link could lead outside it); nor
  // does a rename: every component from the save path down to the renamed file or folder must be real.
  auto below = entry.params.save_path;
  for (const auto& component : std::filesystem::path(plan->from)) {
    below /= component;
    if (std::filesystem::symlink_status(below, ec).type() == std::filesystem::file_type::symlink)
      return unexpected(below.string() + " is a symbolic link: not renamed");
  }
  if (std::filesystem::symlink_status(to, ec).type() != std::filesystem::file_type::not_found)
    return unexpected(to.string() + " already exists");
  // Nothing on disk yet (not downloaded, or a folder of skipped files): only the names change.
  if (std::filesystem::symlink_status(from, ec).type() != std::filesystem::file_type::not_found) {
    std::filesystem::rename(from, to, ec);
    if (ec) return unexpected("cannot rename " + from.string() + ": " + ec.message());
  }
  metainfo::apply_rename(*entry.info, *plan);
  for (const auto& [index, new_path] : plan->files)
    entry.params.file_paths[static_cast<int>(index)] = new_path;
  persist();
  return {};
}

void SessionCore::set_rate_limits(const std::string& info_hash, std::int64_t download, std::int64_t upload) {
  auto entry = find(info_hash);
  if (!entry) return;
  entry->params.max_download_rate = std::max<std::int64_t>(0, download);
  entry->params.max_upload_rate = std::max<std::int64_t>(0, upload);
  if (entry->torrent)
    entry->torrent->set_rate_limits(entry->params.max_download_rate, entry->params.max_upload_rate);
  persist();
}

std::string SessionCore::torrent_file(const std::string& info_hash) const {
  auto entry = find(info_hash);
  if (!entry || !entry->info) return {};
  return session::torrent_file_from_info(*entry->info);
}

void SessionCore::set_queue_order(const std::vector<std::string>& info_hashes) {
  std::vector<Entry*> order;
  std::set<Entry*> listed;
  for (const auto& hex : info_hashes) {
    auto it = torrents_.find(hex);
    if (it != torrents_.end() && listed.insert(it->second.get()).second) order.push_back(it->second.get());
  }
  std::vector<Entry*> rest;
  for (const auto& [hex, e] : torrents_) {
    if (!listed.count(e.get())) rest.push_back(e.get());
  }
  std::sort(rest.begin(), rest.end(), [](auto* a, auto* b) { return a->order < b->order; });
  order.insert(order.end(), rest.begin(), rest.end());
  next_order_ = 0;
  for (auto* e : order)
    e->order = next_order_++;
  persist();
  schedule();
}

void SessionCore::apply_settings(const SessionSettings& s) {
  settings_.max_download_rate = s.max_download_rate;
  settings_.max_upload_rate = s.max_upload_rate;
  global_down_.set_rate(s.max_download_rate);
  global_up_.set_rate(s.max_upload_rate);
  settings_.max_connections = s.max_connections;
  settings_.max_half_open = s.max_half_open;
  settings_.max_dials_per_second = s.max_dials_per_second;
  budget_.set_limits(budget_limits(settings_));
  settings_.max_unchoked = s.max_unchoked;
  settings_.read_cache_bytes = s.read_cache_bytes;
  context_.cache_budget = s.read_cache_bytes;
  settings_.request_budget_bytes = s.request_budget_bytes;
  context_.request_budget_bytes = s.request_budget_bytes;
  if (s.encryption != settings_.encryption) {
    settings_.encryption = s.encryption;
    context_.encryption = s.encryption;  // read by each dial
    listener_->set_encryption(s.encryption, [this](const Sha1Digest& req2) { return find_by_req2(req2); });
  }
  settings_.max_active_downloads = s.max_active_downloads;
  settings_.max_active_seeds = s.max_active_seeds;
  settings_.log_events = s.log_events;
  schedule();
}

void SessionCore::pause_all() {
  for (const auto& hex : list())
    pause(hex);
}

void SessionCore::resume_all() {
  for (const auto& hex : list())
    resume(hex);
}

void SessionCore::save_state() {
  for (const auto& [hex, e] : torrents_) {
    if (e->torrent) e->torrent->save_resume_now();
  }
}

SessionStats SessionCore::stats() const {
  SessionStats s;
  s.listen_port = context_.listen_port;
  s.torrents = static_cast<int>(torrents_.size());
  for (const auto& [hex, e] : torrents_) {
    if (!e->torrent) continue;
    auto t = e->torrent->stats();
    s.peers += t.peers;
    s.download_rate += t.download_rate;
    s.upload_rate += t.upload_rate;
  }
  s.unknown_handshakes = listener_->unknown_torrent();
  if (dht_) {
    s.dht_nodes = static_cast<std::int64_t>(dht_->node().node_count());
    s.dht_port = dht_port_;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// DHT and LSD, one each for every torrent.

void SessionCore::start_dht() {
  if (dht_tried_) return;
  dht_tried_ = true;
  auto service = std::make_unique<net::DhtService>(io_, dht_options(settings_), udp_.get());
  auto port = service->start();
  if (!port) {
    push_event(SessionWarning{"DHT: " + port.error()});
    return;
  }
  dht_port_ = *port;
  log("", "dht: udp port " + std::to_string(*port));
  dht_ = std::move(service);
}

void SessionCore::start_lsd() {
  if (lsd_tried_) return;
  lsd_tried_ = true;
  net::LsdServiceOptions options;
  options.interface_address = settings_.lsd.interface_address;
  // The interface is named by an IPv4 address; the IPv6 group would be joined wherever routing says, which
  // is not what was asked for: IPv4 only then.
  options.ipv6 = settings_.lsd.interface_address.empty();
  auto service = std::make_unique<net::LsdService>(io_, options);
  service->on_peer = [this](const lsd::LsdPeer& peer) {
    auto entry = find(peer.info_hash.to_hex());
    if (entry && entry->torrent && !entry->info->is_private)
      entry->torrent->add_peer(peer.endpoint, swarm::PeerSource::lsd);
  };
  service->on_warning = [this](const std::string& text) { push_event(SessionWarning{text}); };
  if (settings_.log_events) service->on_log = [this](const std::string& text) { log("", text); };
  if (auto started = service->start(); !started) {
    push_event(SessionWarning{started.error() + " (going on without local peer discovery)"});
    return;
  }
  log("", std::string("lsd: on ") + (service->ipv4_active() && service->ipv6_active() ? "IPv4 and IPv6"
                                     : service->ipv4_active()                         ? "IPv4 only"
                                                                                      : "IPv6 only"));
  lsd_ = std::move(service);
}

asio::awaitable<void> SessionCore::dht_search(EntryPtr entry) {
  entry->dht_searching = true;
  // BEP 33: a seed says so, so that DHT scrapes count it as one.
  bool seeding = entry->torrent && entry->torrent->stats().state == session::TorrentState::seeding;
  auto found =
      co_await dht_->search(*Sha1Digest::from_hex(entry->hex),
                            dht::PeerSearch{context_.announced_port(), seeding, false}, kDhtJoinWait);
  entry->dht_searching = false;
  if (entry->removed || shut_down_) co_return;
  log(entry->hex, "dht: " + std::to_string(found.peers.size()) + " peers for this torrent");
  if (entry->torrent) {
    for (const auto& p : found.peers)
      entry->torrent->add_peer(p, swarm::PeerSource::dht);
  } else if (entry->fetcher) {
    for (const auto& p : found.peers)
      entry->fetcher->add_peer(p, swarm::PeerSource::dht);
  }
  // Quickly again while we have nobody, then at the usual re-announce interval.
  entry->next_dht =
      std::chrono::steady_clock::now() + (found.peers.empty() ? kDhtRetryWhileAlone : kDhtReannounce);
}

asio::awaitable<void> SessionCore::tick_loop() {
  int ticks = 0;
  while (!shut_down_) {
    // On whole seconds of the steady clock.
    auto next =
        std::chrono::floor<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch()) +
        std::chrono::seconds(1);
    tick_timer_.expires_at(std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(next)));
    auto [ec] = co_await tick_timer_.async_wait(kToken);
    if (ec || shut_down_) co_return;
    ++ticks;
    auto now_tick = std::chrono::steady_clock::now();
    std::vector<EntryPtr> timed_out;
    for (const auto& [hex, e] : torrents_) {
      if (e->torrent) e->torrent->on_tick();
      if (e->fetcher) {
        e->fetcher->on_tick();
        if (now_tick >= e->metadata_deadline) timed_out.push_back(e);
      }
    }
    for (const auto& e : timed_out) {
      auto peers = e->fetcher->stats().peers;
      stop_fetcher(e, {});
      fail_entry(e, ErrorCode::metadata_not_found,
                 peers == 0 ? "no peer with the metadata could be reached"
                            : "no peer sent the metadata (" + std::to_string(peers) + " connected)");
    }
    budget_.on_second();
    active_cached_ = std::max(1, active_count());
    auto now = std::chrono::steady_clock::now();
    int searching = 0;
    for (const auto& [hex, e] : torrents_)
      searching += e->dht_searching ? 1 : 0;
    for (const auto& [hex, e] : torrents_) {
      // A magnet that waits for its metadata without a deadline looks for peers in the DHT as a torrent does.
      bool waiting_magnet = e->fetcher && !e->info && e->params.metadata_timeout_seconds <= 0;
      if (waiting_magnet && dht_ && !e->dht_searching && searching < kMaxConcurrentDhtSearches &&
          now >= e->next_dht) {
        ++searching;
        asio::co_spawn(io_, dht_search(e), asio::detached);
      }
      if (!is_active(*e) || e->info->is_private) continue;
      if (dht_ && !e->dht_searching && searching < kMaxConcurrentDhtSearches && now >= e->next_dht) {
        ++searching;
        asio::co_spawn(io_, dht_search(e), asio::detached);
      }
      // While nobody is connected, LSD announces again as soon as its once-a-minute rule allows.
      if (lsd_ && ticks % 15 == 0 && e->torrent->stats().peers == 0) lsd_->announce_soon(e->info->info_hash);
    }
  }
}

}  // namespace shoal::detail
