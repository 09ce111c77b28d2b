#include "session/torrent_session.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <random>
#include <thread>

#include "hash/sha.hpp"
#include "net/asio_endpoint.hpp"
#include "net/http_client.hpp"
#include "net/udp_tracker_client.hpp"
#include "runtime/file_io.hpp"
#include "session/peer_id.hpp"
#include "shoal/version.hpp"
#include "storage/piece_checker.hpp"
#include "storage/resume_data.hpp"
#include "wire/extension_handshake.hpp"
#include "wire/ut_metadata.hpp"
#include "wire/ut_pex.hpp"

namespace shoal::session {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using net::to_endpoint;
constexpr auto kToken = asio::as_tuple(asio::use_awaitable);

constexpr std::size_t kReadChunk = 256 * 1024;
constexpr auto kConnectTimeout = std::chrono::seconds(5);
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
constexpr std::uint32_t kOurReqq = 2000;
constexpr std::int64_t kReadCacheBudget = 64 * 1024 * 1024;
constexpr int kTicksPerRechoke = 10;
constexpr int kTicksPerResumeSave = 30;
constexpr int kTicksPerDeletedCheck = 2;
constexpr int kTicksPerIdleDeletedCheck = 30;
constexpr std::size_t kMaxParkedIncoming = 16;  // incoming peers kept waiting while we check
constexpr int kMaxDialsPerTick = 10;            // outgoing connection attempts started per second
constexpr std::size_t kMaxHalfOpen = 16;        // dials in progress at once
constexpr int kTicksPerPeerListExpiry = 60;
constexpr std::size_t kMaxSendBatch = 64;
constexpr std::int64_t kLonelyReannounce = 5;   // seconds
constexpr std::int32_t kMaxWritesInFlight = 4;  // pieces handed to the disk pool and not yet written
// Pieces being read to serve peers at once: each holds a piece-sized buffer outside the read cache.
constexpr std::size_t kMaxReadsInFlight = 4;
// Distinct pieces among a peer's oldest queued requests that one serve_peer call looks at.
constexpr std::size_t kServeLookahead = 8;

asio::mutable_buffer as_buffer(std::span<std::uint8_t> s) {
  return {s.data(), s.size()};
}

double ema(double old_rate, std::int64_t bytes_this_second) {
  return old_rate * 0.6 + static_cast<double>(bytes_this_second) * 0.4;
}

std::vector<storage::FileSpec> file_specs(const metainfo::TorrentInfo& info) {
  std::vector<storage::FileSpec> specs;
  specs.reserve(info.files.size());
  for (const auto& f : info.files)
    specs.push_back({f.path, f.length, f.pad});
  return specs;
}

}  // namespace

TorrentSession::TorrentSession(TorrentContext& context, metainfo::TorrentInfo info, TorrentOptions options)
    : context_(context),
      io_(context.io),
      info_(std::move(info)),
      options_(std::move(options)),
      peer_id_(context.peer_id),
      pool_(context.pool),
      picker_(info_.num_pieces(), info_.piece_length, info_.total_size, std::random_device{}()),
      choker_(std::random_device{}()),
      check_slot_(context.io),
      listen_port_(context.listen_port),
      down_limit_(options_.max_download_rate),
      up_limit_(options_.max_upload_rate),
      trackers_(info_.trackers, std::random_device{}(), options_.announce_to_all_tiers) {
  if (options_.parts_file.empty()) {
    options_.parts_file = options_.save_dir / ("." + info_.info_hash.to_hex() + ".parts");
  }
  apply_file_selection();
  storage_ =
      std::make_unique<storage::PieceStorage>(storage::FileLayout(file_specs(info_), info_.piece_length),
                                              options_.save_dir, file_wanted_, options_.parts_file);
  picker_.set_sequential(options_.sequential);
  tracker_key_ = std::random_device{}();
  for (const auto& p : options_.peers)
    peer_list_.add(p, swarm::PeerSource::user, Clock::now());
}

// The session destroys a torrent only once stop() has drained it: no coroutine or disk job refers to it.
TorrentSession::~TorrentSession() = default;

void TorrentSession::spawn(asio::awaitable<void> work, const char* failure) {
  ++coroutines_;
  asio::co_spawn(io_, std::move(work), [this, failure](std::exception_ptr error) {
    --coroutines_;
    if (error) {
      // An exception (a file-system error, say) stops the torrent with an error: it must never leave it
      // stuck, e.g. "checking" forever.
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        fail(std::string(failure) + e.what());
      } catch (...) {
        fail(std::string(failure) + "unknown error");
      }
    }
    maybe_drained();
  });
}

void TorrentSession::submit(std::function<void()> job) {
  ++jobs_;
  pool_.submit(std::move(job));
}

void TorrentSession::job_done() {
  --jobs_;
  maybe_drained();
}

void TorrentSession::apply_file_selection() {
  file_wanted_.assign(info_.files.size(), true);
  if (options_.only.empty() && options_.file_mask.empty()) return;
  std::vector<bool> piece_wanted(static_cast<std::size_t>(info_.num_pieces()), false);
  for (std::size_t i = 0; i < info_.files.size(); ++i) {
    const auto& f = info_.files[i];
    bool match = false;
    for (const auto& pattern : options_.only) {
      // Match the path below the torrent folder, or just the file name, so "*.mkv" works at any depth.
      std::string relative = info_.multi_file ? f.path.substr(info_.name.size() + 1) : f.path;
      std::string name =
          relative.substr(relative.rfind('/') == std::string::npos ? 0 : relative.rfind('/') + 1);
      if (fnmatch(pattern.c_str(), relative.c_str(), 0) == 0 ||
          fnmatch(pattern.c_str(), name.c_str(), 0) == 0) {
        match = true;
      }
    }
    if (options_.only.empty()) match = true;
    if (i < options_.file_mask.size() && !options_.file_mask[i]) match = false;
    file_wanted_[i] = match && !f.pad;
    if (file_wanted_[i] && f.length > 0) {
      auto first = f.offset / info_.piece_length;
      auto last = (f.offset + f.length - 1) / info_.piece_length;
      for (auto p = first; p <= last; ++p)
        piece_wanted[static_cast<std::size_t>(p)] = true;
    }
  }
  for (std::int32_t p = 0; p < info_.num_pieces(); ++p) {
    if (!piece_wanted[static_cast<std::size_t>(p)]) picker_.set_piece_priority(p, 0);
  }
}

void TorrentSession::start() {
  spawn(check_then_run(), "start-up failed: ");
}

TorrentStats TorrentSession::stats() const {
  TorrentStats s;
  s.state = state_;
  s.error = error_;
  s.checked = checked_bytes_;
  for (std::int32_t p = 0; p < info_.num_pieces(); ++p) {
    if (picker_.priority(p) == 0) continue;
    s.total_wanted += info_.piece_size(PieceIndex(p));
    if (picker_.has(p)) s.have_wanted += info_.piece_size(PieceIndex(p));
  }
  s.downloaded = downloaded_;
  s.uploaded = uploaded_;
  s.download_rate = down_rate_;
  s.upload_rate = up_rate_;
  for (const auto& [id, peer] : peers_) {
    ++s.peers;
    if (peer->protocol.is_seed()) ++s.seeds;
  }
  s.pieces_have = picker_.num_have();
  s.num_pieces = info_.num_pieces();
  s.failed_pieces = failed_pieces_;
  s.banned_peers = static_cast<std::int32_t>(banned_.size() + banned_loopback_.size());
  s.trackers = trackers_.all();
  s.failure = failure_;
  return s;
}

int TorrentSession::upload_slots() const {
  return std::min(options_.upload_slots, context_.unchoke_share());
}

void TorrentSession::force_reannounce() {
  if (stopping_ || state_ == TorrentState::checking) return;
  next_announce_ = Clock::now();
}

void TorrentSession::set_rate_limits(std::int64_t download, std::int64_t upload) {
  down_limit_.set_rate(download);
  up_limit_.set_rate(upload);
}

std::vector<std::int64_t> TorrentSession::file_progress() const {
  std::vector<std::int64_t> out(info_.files.size(), 0);
  for (std::size_t i = 0; i < info_.files.size(); ++i) {
    const auto& f = info_.files[i];
    if (f.pad || f.length == 0) continue;
    auto first = f.offset / info_.piece_length;
    auto last = (f.offset + f.length - 1) / info_.piece_length;
    for (auto p = first; p <= last; ++p) {
      if (!picker_.has(static_cast<std::int32_t>(p))) continue;
      auto begin = std::max(f.offset, p * info_.piece_length);
      auto end = std::min(f.offset + f.length, (p + 1) * info_.piece_length);
      out[i] += end - begin;
    }
  }
  return out;
}

void TorrentSession::add_peer(const Endpoint& endpoint, swarm::PeerSource source, swarm::PeerId via) {
  if (is_banned(endpoint)) return;
  peer_list_.add(endpoint, source, Clock::now(), via);
}

// ---------------------------------------------------------------------------------------------------------------
// Start-up: resume data or a full recheck, then the network.

asio::awaitable<void> TorrentSession::check_then_run() {
  if (auto refused = storage_->check_paths()) co_return fail(refused->message());
  if (options_.resume_file.empty() || !load_resume()) co_await recheck();
  if (stopping_ || state_ == TorrentState::error) co_return;
  if (auto ec = storage_->create_empty_files()) {
    fail("cannot create files in " + options_.save_dir.string() + ": " + ec.message());
    co_return;
  }
  state_ = picker_.is_complete() ? TorrentState::seeding : TorrentState::downloading;
  if (on_check_finished) on_check_finished(picker_.num_have());
  if (state_ == TorrentState::seeding) check_complete();
  running_ = true;  // the session's ticks reach tick() from now on
  auto parked = std::move(parked_);
  parked_.clear();
  for (auto& p : parked)
    adopt_incoming(std::move(p.socket), p.remote, std::move(p.reader), p.handshake);
  if (options_.use_trackers && !info_.trackers.empty()) spawn(announce(tracker::AnnounceEvent::started));
  connect_more();
}

bool TorrentSession::load_resume() {
  auto bytes = runtime::read_file(options_.resume_file, 64 * 1024 * 1024);
  if (!bytes) return false;
  auto data = storage::decode_resume(*bytes, info_.info_hash, info_.num_pieces());
  if (!data) return false;
  auto stamps = storage::collect_file_stamps(options_.save_dir, storage_->layout());
  if (data->files != stamps) return false;
  auto have = swarm::Bitfield::from_wire(data->have, info_.num_pieces());
  if (!have) return false;
  // Matching stamps are not enough: a file that is missing or short now (it may have been deleted before the
  // save) cannot hold the pieces the bitfield claims for it.
  const auto& files = storage_->layout().files();
  for (std::size_t i = 0; i < files.size() && i < stamps.size(); ++i) {
    if (files[i].pad || files[i].length == 0 || !file_wanted_[i] || stamps[i].size == files[i].length)
      continue;
    auto [first, last] = storage_->layout().file_pieces(static_cast<std::int32_t>(i));
    for (std::int32_t p = first; p <= last; ++p) {
      if (have->test(p)) return false;
    }
  }
  for (std::int32_t p = 0; p < info_.num_pieces(); ++p) {
    if (have->test(p)) picker_.mark_have(p);
  }
  downloaded_before_ = data->downloaded;
  uploaded_before_ = data->uploaded;
  return true;
}

asio::awaitable<void> TorrentSession::recheck() {
  state_ = TorrentState::checking;
  bool any_file = false;
  for (std::size_t i = 0; i < info_.files.size(); ++i) {
    if (!info_.files[i].pad && std::filesystem::exists(storage_->path_of(static_cast<std::int32_t>(i)))) {
      any_file = true;
    }
  }
  if (!any_file) co_return;  // nothing on disk yet: nothing to check

  // One full check at a time per session (by default): the others wait their turn here.
  check_slot_.expires_at(Clock::time_point::max());
  bool granted = false;
  check_ticket_ = context_.checks->acquire([this, &granted] {
    granted = true;
    holds_check_slot_ = true;
    check_slot_.cancel();
  });
  if (!granted) co_await check_slot_.async_wait(kToken);
  if (!granted || stopping_) {
    context_.checks->cancel(check_ticket_);
    if (granted && holds_check_slot_) {
      holds_check_slot_ = false;
      context_.checks->release();
    }
    co_return;
  }
  // The check runs on its own threads (all cores) from one pool job; the result comes back by post.
  asio::steady_timer done(io_, Clock::time_point::max());
  // Progress for the status line while the check runs; the result wakes it at once (a small torrent's check
  // must not take a whole progress period: with one check at a time, 10,000 of them would take 1,000 s).
  asio::steady_timer progress(io_);
  auto checked = std::make_shared<std::atomic<std::int64_t>>(0);
  auto cancel = check_cancel_;
  std::vector<bool> result;
  bool check_done = false;
  auto check_error = std::make_shared<std::optional<storage::FileError>>();
  submit([this, checked, cancel, &result, &done, &progress, &check_done, check_error] {
    storage::CheckOptions check;
    check.threads = std::max(2u, std::thread::hardware_concurrency());
    check.bytes_checked = checked.get();
    check.cancel = cancel.get();
    check.error = check_error.get();
    auto have = storage::check_pieces(*storage_, info_.piece_hashes, check);
    asio::post(io_, [this, &result, &done, &progress, &check_done, have = std::move(have)]() mutable {
      result = std::move(have);
      check_done = true;
      done.cancel();
      progress.cancel();
      job_done();
    });
  });
  while (!check_done) {
    progress.expires_after(std::chrono::milliseconds(100));
    co_await progress.async_wait(kToken);
    checked_bytes_ = checked->load();
    if (check_done || stopping_) break;
  }
  // The job refers to this frame's locals: wait for it even when stopping (the cancel flag ends it early).
  while (!check_done)
    co_await done.async_wait(kToken);
  holds_check_slot_ = false;
  context_.checks->release();
  // A cancelled check knows only part of the answer: saving it as resume data would hide pieces that are
  // there.
  if (stopping_) co_return;
  if (*check_error) co_return fail((*check_error)->message());
  for (std::int32_t p = 0; p < info_.num_pieces(); ++p) {
    if (result[static_cast<std::size_t>(p)]) picker_.mark_have(p);
  }
  checked_bytes_ = checked->load();
  storage_->close_all();  // reopen for writing later; read-only descriptors are not enough
  resume_dirty_ = true;
}

// ---------------------------------------------------------------------------------------------------------------
// Connections.

void TorrentSession::connect_more() {
  if (stopping_ || state_ == TorrentState::checking || state_ == TorrentState::error) return;
  if (peer_list_.size() == 0) return;  // nobody to dial (most idle seeds): no work, no allocation
  auto now = Clock::now();
  std::set<Endpoint> connected;
  std::map<std::array<std::uint8_t, 16>, int> per_address;
  for (const auto& [id, p] : peers_) {
    connected.insert(p->remote);
    ++per_address[p->remote.address];
    if (auto e = listen_endpoint(*p)) connected.insert(*e);  // an incoming peer's own listen address
  }
  for (const auto& e : connecting_)
    ++per_address[e.address];
  int limit =
      std::min(options_.max_connections, context_.connections->fair_share(context_.active_torrents()));
  int free_slots = limit - static_cast<int>(peers_.size() + connecting_.size());
  int dials = std::min({free_slots, kMaxDialsPerTick - dials_this_tick_,
                        static_cast<int>(kMaxHalfOpen) - static_cast<int>(connecting_.size())});
  if (dials <= 0) return;
  auto candidates = peer_list_.dial_candidates(now, static_cast<std::size_t>(dials), [&](const Endpoint& e) {
    return connected.count(e) || connecting_.count(e) || is_banned(e) || banned_self_.count(e) ||
           context_.connections->handshaking_with(e) ||
           // Two seeds have nothing to say to each other.
           (state_ == TorrentState::seeding && known_seeds_.count(e)) ||
           !swarm::PeerList::address_allowed(e, per_address[e.address]);
  });
  for (const auto& e : candidates) {
    if (!context_.connections->may_dial()) break;  // the session's half-open and dial-rate caps
    if (!swarm::PeerList::address_allowed(e, per_address[e.address]++)) continue;
    connecting_.insert(e);
    ++dials_this_tick_;
    peer_list_.on_dial_started(e, now);
    context_.connections->dial_started();
    context_.connections->handshake_started(e);
    spawn(connect_to(e));
  }
}

asio::awaitable<void> TorrentSession::connect_to(Endpoint endpoint) {
  auto peer = std::make_shared<Peer>(tcp::socket(io_));
  peer->remote = endpoint;
  peer->outgoing = true;
  dialling_.insert(peer);
  // The frame may be destroyed without resuming when the session shuts down after this torrent is gone:
  // the weak token says whether `self` still exists.
  struct Undial {
    TorrentSession* self;
    std::weak_ptr<bool> alive;
    std::shared_ptr<Peer> peer;
    bool half_open = true;
    bool handshaking = true;
    void connected() {
      if (half_open && !alive.expired()) self->context_.connections->dial_ended();
      half_open = false;
    }
    void handshake_done() {
      if (handshaking && !alive.expired()) self->context_.connections->handshake_ended(peer->remote);
      handshaking = false;
    }
    ~Undial() {
      connected();
      handshake_done();
      if (!alive.expired()) self->dialling_.erase(peer);
    }
  } undial{this, alive_, peer};
  asio::steady_timer timeout(io_);
  timeout.expires_after(kConnectTimeout);
  timeout.async_wait([peer](boost::system::error_code ec) {
    if (!ec) peer->socket.close();
  });
  auto [ec] = co_await peer->socket.async_connect(net::to_asio<tcp>(endpoint), kToken);
  timeout.cancel();
  undial.connected();
  if (ec || stopping_) {
    connecting_.erase(endpoint);
    peer_list_.on_dial_failed(endpoint, Clock::now());
    co_return;
  }
  peer->socket.set_option(tcp::no_delay(true));
  send_handshake(*peer);
  spawn(write_loop(peer));
  auto features = co_await read_handshake(*peer);
  undial.handshake_done();
  connecting_.erase(endpoint);
  if (!features) {
    peer_list_.on_dial_failed(endpoint, Clock::now());
    close_peer(*peer, "handshake failed");
    co_return;
  }
  peer_list_.on_connected(endpoint, Clock::now());
  co_await run_peer(peer, *features);
}

void TorrentSession::adopt_incoming(tcp::socket socket, Endpoint remote, wire::MessageReader reader,
                                    const wire::Handshake& handshake) {
  boost::system::error_code ignored;
  // Before the check has finished we have nothing to say (the bitfield is unknown yet): a few such peers wait
  // for it, answered once it is over, as a listen backlog would have kept them.
  if (state_ == TorrentState::checking && !stopping_ && parked_.size() < kMaxParkedIncoming) {
    parked_.push_back({std::move(socket), remote, std::move(reader), handshake});
    return;
  }
  int limit =
      std::min(options_.max_connections, context_.connections->fair_share(context_.active_torrents()));
  if (stopping_ || state_ == TorrentState::checking || state_ == TorrentState::error ||
      static_cast<int>(peers_.size()) >= limit || !context_.connections->may_connect() ||
      banned_.count(remote.address)) {
    socket.close(ignored);
    return;
  }
  if (handshake.peer_id == peer_id_) {
    // We dialled ourselves (our own address came back from a tracker): never again. The dialling side was us,
    // at our listen address.
    Endpoint self = remote;
    self.port = listen_port_;
    banned_self_.insert(self);
    socket.close(ignored);
    return;
  }
  auto peer = std::make_shared<Peer>(std::move(socket));
  peer->remote = remote;
  peer->reader = std::move(reader);
  peer->socket.set_option(tcp::no_delay(true), ignored);
  send_handshake(*peer);
  spawn(write_loop(peer));
  spawn(run_peer(peer, swarm::PeerFeatures{handshake.supports_fast(), handshake.supports_extensions()}));
}

void TorrentSession::send_handshake(Peer& peer) {
  wire::Handshake h;
  h.info_hash = info_.info_hash;
  h.peer_id = peer_id_;
  h.set_extensions(true);
  h.set_fast(true);
  auto bytes = wire::encode_handshake(h);
  peer.out.insert(peer.out.end(), bytes.begin(), bytes.end());
  signal_writer(peer);
}

// Reads the peer's 68-byte handshake (bytes after it stay buffered for the message reader) and returns what
// both sides support. A handshake for another torrent, or from ourselves, fails.
asio::awaitable<std::optional<swarm::PeerFeatures>> TorrentSession::read_handshake(Peer& peer) {
  asio::steady_timer timeout(io_);
  timeout.expires_after(kHandshakeTimeout);
  auto* socket = &peer.socket;
  timeout.async_wait([socket](boost::system::error_code ec) {
    if (!ec) socket->close();
  });
  std::optional<std::span<const std::uint8_t>> bytes;
  while (!(bytes = peer.reader.take(wire::kHandshakeSize))) {
    auto [ec, n] = co_await peer.socket.async_read_some(as_buffer(peer.reader.prepare(kReadChunk)), kToken);
    if (ec) co_return std::nullopt;
    peer.reader.commit(n);
  }
  timeout.cancel();
  auto h = wire::decode_handshake(*bytes);
  if (!h || h->info_hash != info_.info_hash) co_return std::nullopt;
  if (h->peer_id == peer_id_) {
    // We dialled ourselves (our own address came back from a tracker): never again.
    Endpoint self = peer.remote;
    if (!peer.outgoing) self.port = listen_port_;  // the dialling side was us, at our listen address
    banned_self_.insert(self);
    co_return std::nullopt;
  }
  co_return swarm::PeerFeatures{h->supports_fast(), h->supports_extensions()};
}

void TorrentSession::send_greeting(Peer& peer) {
  const auto& features = peer.protocol.features();
  if (features.extensions) {
    swarm::OurExtensions ours;
    ours.is_private = info_.is_private;  // BEP 27: no ut_metadata, no ut_pex
    ours.metadata_size = static_cast<std::int64_t>(info_.info_bytes.size());
    ours.client = "Shoal " + std::string(shoal::version());
    ours.listen_port = listen_port_;
    ours.reqq = kOurReqq;
    if (!peer.remote.v6)
      ours.yourip = std::string(reinterpret_cast<const char*>(peer.remote.address.data()), 4);
    std::string payload = wire::encode_extension_handshake(swarm::our_extension_handshake(ours));
    send_message(peer,
                 wire::Extended{0, {reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()}});
  }
  const auto& have = picker_.have();
  if (features.fast && have.all()) {
    send_message(peer, wire::HaveAll{});
  } else if (features.fast && have.none()) {
    send_message(peer, wire::HaveNone{});
  } else if (!have.none()) {
    send_message(peer, wire::Bitfield{have.wire()});
  }
}

asio::awaitable<void> TorrentSession::run_peer(PeerPtr peer, swarm::PeerFeatures features) {
  if (stopping_) {
    close_peer(*peer, "stopping");
    co_return;
  }
  if (is_banned(peer->remote)) {
    close_peer(*peer, "banned");
    co_return;
  }
  // A cap on connections from one address (loopback exempt, see PeerList), for incoming and outgoing alike.
  int same_address = 0;
  for (const auto& [id, p] : peers_)
    same_address += p->remote.address == peer->remote.address ? 1 : 0;
  if (!swarm::PeerList::address_allowed(peer->remote, same_address)) {
    close_peer(*peer, "too many connections from one address");
    co_return;
  }
  peer->protocol.start({next_peer_id_++, info_.num_pieces(), features, !info_.is_private, !info_.is_private});
  peers_[peer->id()] = peer;
  context_.connections->connection_opened();
  if (on_log)
    on_log(peer->remote.to_string() + (peer->outgoing ? " connected (outgoing)" : " connected (incoming)"));
  send_greeting(*peer);

  // Bytes that arrived with the handshake are already buffered.
  bool ok = true;
  while (ok && !peer->closed) {
    for (;;) {
      auto message = peer->reader.next();
      if (!message) {
        close_peer(*peer, message.error().message());
        ok = false;
        break;
      }
      if (!*message) break;
      if (!handle_message(*peer, **message)) {
        ok = false;
        break;
      }
    }
    if (!ok || peer->closed) break;
    serve_peer(*peer);
    request_more(*peer);
    // Back-pressure: a peer whose queue is full is not read (it cannot ask for more) until the queue drains.
    while (!peer->closed && peer->protocol.reading_paused(peer->queued_bytes(), peer->send_capacity())) {
      peer->read_paused = true;
      peer->read_signal.expires_at(Clock::time_point::max());
      co_await peer->read_signal.async_wait(kToken);
    }
    peer->read_paused = false;
    if (peer->closed) break;
    auto [ec, n] = co_await peer->socket.async_read_some(as_buffer(peer->reader.prepare(kReadChunk)), kToken);
    if (ec) {
      close_peer(*peer, ec == asio::error::eof ? "closed by peer" : ec.message());
      break;
    }
    peer->reader.commit(n);
    if (!down_limit_.unlimited()) co_await down_limit_.consume(static_cast<std::int64_t>(n));
    if (!context_.global_download->unlimited())
      co_await context_.global_download->consume(static_cast<std::int64_t>(n));
  }
  close_peer(*peer, "done");
}

asio::awaitable<void> TorrentSession::write_loop(PeerPtr peer) {
  std::vector<std::uint8_t> sending;
  std::vector<asio::const_buffer> buffers;
  std::vector<swarm::SendQueue::Block> batch;
  while (!peer->closed) {
    if (peer->out.empty() && peer->sends.empty()) {
      peer->write_signal.expires_at(Clock::time_point::max());
      co_await peer->write_signal.async_wait(kToken);
      continue;
    }
    sending.clear();
    sending.swap(peer->out);
    batch.clear();
    std::int64_t payload = 0;
    while (!peer->sends.empty() && batch.size() < kMaxSendBatch) {
      batch.push_back(peer->sends.pop_front());
      payload += batch.back().request.length;
    }
    buffers.clear();
    if (!sending.empty()) buffers.emplace_back(asio::buffer(sending));
    peer->writing_bytes = sending.size();
    for (const auto& s : batch) {
      buffers.emplace_back(asio::buffer(s.message));
      peer->writing_bytes += s.message.size();
    }
    if (!up_limit_.unlimited() && payload > 0) co_await up_limit_.consume(payload);
    if (!context_.global_upload->unlimited() && payload > 0)
      co_await context_.global_upload->consume(payload);
    if (peer->closed) break;
    // Written piecewise so that progress is seen: a peer that stops reading is noticed by the stall timeout
    // (PeerProtocol::on_tick), however large the batch.
    peer->protocol.on_write_started(Clock::now());
    boost::beast::buffers_suffix<std::vector<asio::const_buffer>> rest(buffers);
    boost::system::error_code ec;
    while (asio::buffer_size(rest) > 0) {
      auto [wec, n] = co_await peer->socket.async_write_some(rest, kToken);
      if (wec) {
        ec = wec;
        break;
      }
      rest.consume(n);
      peer->protocol.on_bytes_sent(Clock::now());
    }
    peer->protocol.on_write_done();
    peer->writing_bytes = 0;
    batch.clear();
    if (ec) {
      close_peer(*peer, "write failed: " + ec.message());
      break;
    }
    peer->uploaded += payload;
    peer->up_this_tick += payload;
    uploaded_ += payload;
    up_tick_ += payload;
    if (payload > 0) resume_dirty_ = true;
    // Room again: serve what it asked for meanwhile and read what it says next.
    serve_peer(*peer);
    wake_reader(*peer);
  }
}

void TorrentSession::signal_writer(Peer& peer) {
  peer.write_signal.cancel();
}

void TorrentSession::wake_reader(Peer& peer) {
  if (peer.read_paused) peer.read_signal.cancel();
}

void TorrentSession::close_peer(Peer& peer, std::string reason) {
  if (peer.closed) return;
  peer.closed = true;
  peer.close_reason = std::move(reason);
  boost::system::error_code ignored;
  peer.socket.shutdown(tcp::socket::shutdown_both, ignored);
  peer.socket.close(ignored);
  peer.write_signal.cancel();
  peer.read_signal.cancel();
  const auto& client = peer.protocol.client();
  if (peer.protocol.is_seed() && peer.outgoing) known_seeds_.insert(peer.remote);
  if (peer.outgoing) peer_list_.on_disconnected(peer.remote, Clock::now());
  if (on_log) {
    on_log(peer.remote.to_string() + (client.empty() ? "" : " (" + client + ")") +
           " closed: " + peer.close_reason + "; got " + std::to_string(peer.downloaded) + " B, sent " +
           std::to_string(peer.uploaded) + " B");
  }
  if (peer.id() == swarm::kNoPeer) return;
  peer.protocol.release(picker_);
  if (peers_.erase(peer.id())) context_.connections->connection_closed();
}

// ---------------------------------------------------------------------------------------------------------------
// Protocol: swarm::PeerProtocol decides; this sends what it queues and does what its events ask.

swarm::TorrentView TorrentSession::torrent_view() {
  return {picker_, state_ == TorrentState::downloading, state_ == TorrentState::seeding};
}

void TorrentSession::send_message(Peer& peer, const wire::Message& message) {
  wire::encode(message, peer.out);
  signal_writer(peer);
}

void TorrentSession::flush(Peer& peer) {
  auto messages = peer.protocol.outbox();
  if (messages.empty()) return;
  for (const auto& m : messages)
    wire::encode(m, peer.out);
  peer.protocol.clear_outbox();
  signal_writer(peer);
}

bool TorrentSession::handle_message(Peer& peer, const wire::Message& message) {
  auto event = peer.protocol.on_message(message, Clock::now(), torrent_view());
  drop_unsent(peer);  // a not-interested chokes it
  flush(peer);
  return std::visit(
      [&](const auto& e) -> bool {
        using E = std::decay_t<decltype(e)>;
        using P = swarm::PeerProtocol;
        if constexpr (std::is_same_v<E, P::Close>) {
          close_peer(peer, std::string(e.reason));
          return false;
        } else if constexpr (std::is_same_v<E, P::PeerInterested>) {
          on_interested(peer);
        } else if constexpr (std::is_same_v<E, P::BlockReceived>) {
          on_block(peer, e.block, e.data);
        } else if constexpr (std::is_same_v<E, P::ServeRequest>) {
          // Served once the messages that arrived together are handled (run_peer): one pass for many.
        } else if constexpr (std::is_same_v<E, P::RequestCancelled>) {
          peer.sends.cancel(e.block);
        } else if constexpr (std::is_same_v<E, P::ExtensionMessage>) {
          on_extended(peer, e.id, e.payload);
        }
        return true;
      },
      event);
}

// An interested peer gets a free slot at once, or the slot of a peer that wastes it (does not read what we
// send, or asks for nothing).
void TorrentSession::on_interested(Peer& peer) {
  if (!peer.protocol.am_choking()) return;
  auto now = Clock::now();
  std::vector<swarm::ChokeCandidate> unchoked;
  for (const auto& [id, p] : peers_) {
    if (p->protocol.am_choking() || p->closed) continue;
    unchoked.push_back({id, p->protocol.peer_interested(), p->protocol.snubbed(), p->down_rate, p->up_rate,
                        p->protocol.wastes_slot(now)});
  }
  if (static_cast<int>(unchoked.size()) < upload_slots()) {
    unchoke(peer);
    return;
  }
  auto stalled = peers_.find(swarm::Choker::slot_for_newcomer(unchoked));
  if (stalled == peers_.end()) return;
  choke(*stalled->second);
  unchoke(peer);
}

void TorrentSession::update_interest(Peer& peer) {
  peer.protocol.update_interest(torrent_view());
  flush(peer);
}

void TorrentSession::request_more(Peer& peer) {
  if (peer.closed) return;
  // Back-pressure: while the disk is behind, stop asking for more; memory stays bounded by the pieces in
  // flight.
  if (writes_in_flight_ >= kMaxWritesInFlight) return;
  peer.protocol.request_blocks(torrent_view(), peer.down_rate);
  flush(peer);
}

// A block we asked for: account for it, copy it into its piece, cancel it elsewhere in end-game.
void TorrentSession::on_block(Peer& peer, const swarm::BlockRequest& r, std::span<const std::uint8_t> data) {
  auto bytes = static_cast<std::int64_t>(data.size());
  peer.downloaded += bytes;
  peer.down_this_tick += bytes;
  downloaded_ += bytes;
  down_tick_ += bytes;

  auto result = picker_.on_block_received(peer.id(), r);
  if (!result.accepted) return;
  auto& buffer = assembling_[r.piece];
  if (buffer.empty()) buffer = take_buffer(static_cast<std::size_t>(info_.piece_size(PieceIndex(r.piece))));
  std::memcpy(buffer.data() + r.begin, data.data(), data.size());
  for (auto other : result.cancel_from) {
    auto op = peers_.find(other);
    if (op == peers_.end()) continue;
    if (op->second->protocol.cancel_request(r)) flush(*op->second);
  }
  if (result.piece_complete) piece_complete(r.piece, peer.id());
}

void TorrentSession::on_extended(Peer& peer, std::uint8_t id, std::span<const std::uint8_t> payload) {
  if (id == swarm::kOurUtPexId) {
    on_pex(peer, {reinterpret_cast<const char*>(payload.data()), payload.size()});
    return;
  }
  if (id == swarm::kOurUtMetadataId) {
    auto m = wire::decode_metadata_message(payload);
    auto peer_metadata_id = peer.protocol.ut_metadata_id();
    if (!m || m->type != wire::MetadataMessage::Type::request || !peer_metadata_id) return;
    auto answer = peer.protocol.on_metadata_request(Clock::now(), peer.has_send_room());
    if (answer == swarm::PeerProtocol::MetadataAnswer::ignore) return;
    auto size = static_cast<std::int64_t>(info_.info_bytes.size());
    wire::MetadataMessage reply;
    reply.piece = m->piece;
    auto offset = static_cast<std::int64_t>(m->piece) * wire::kMetadataPieceSize;
    if (offset >= size || answer == swarm::PeerProtocol::MetadataAnswer::reject) {
      reply.type = wire::MetadataMessage::Type::reject;
    } else {
      reply.type = wire::MetadataMessage::Type::data;
      reply.total_size = size;
      auto len = std::min<std::int64_t>(wire::kMetadataPieceSize, size - offset);
      reply.data = {reinterpret_cast<const std::uint8_t*>(info_.info_bytes.data()) + offset,
                    static_cast<std::size_t>(len)};
    }
    std::string bytes = wire::encode_metadata_message(reply);
    send_message(peer, wire::Extended{*peer_metadata_id,
                                      {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}});
  }
}

void TorrentSession::on_pex(Peer& peer, std::string_view payload) {
  auto* pex = peer.protocol.pex();
  if (info_.is_private || !pex) return;
  if (!pex->accept_incoming(Clock::now())) {
    if (on_log) on_log(peer.remote.to_string() + " pex: ignored, faster than the rate limit");
    return;
  }
  auto m = wire::decode_pex(payload);
  if (!m) {
    if (on_log) on_log(peer.remote.to_string() + " pex: " + m.error().message());
    return;
  }
  std::size_t before = peer_list_.size();
  std::size_t taken = 0;
  for (const auto& p : m->added) {
    if (taken++ >= wire::kMaxPexPeersPerMessage) break;
    add_peer(p.endpoint, swarm::PeerSource::pex, peer.id());
  }
  if (on_log) {
    on_log(peer.remote.to_string() + " pex: " + std::to_string(m->added.size()) + " added, " +
           std::to_string(m->dropped.size()) + " dropped, " + std::to_string(peer_list_.size() - before) +
           " new");
  }
  connect_more();
}

std::optional<Endpoint> TorrentSession::listen_endpoint(const Peer& peer) const {
  if (peer.outgoing) return peer.remote;
  auto port = peer.protocol.listen_port();
  if (!port) return std::nullopt;  // it dialled us from an ephemeral port: not dialable
  Endpoint e = peer.remote;
  e.port = *port;
  return e;
}

void TorrentSession::send_pex(Peer& peer, Clock::time_point now) {
  auto* pex = peer.protocol.pex();
  auto pex_id = peer.protocol.ut_pex_id();
  if (!pex || !pex_id || peer.closed) return;
  std::vector<wire::PexPeer> current;
  for (const auto& [id, other] : peers_) {
    if (other.get() == &peer || other->closed) continue;
    auto e = listen_endpoint(*other);
    if (!e) continue;
    std::uint8_t flags = 0;
    if (other->protocol.is_seed()) flags |= wire::PexFlags::seed;
    if (other->outgoing) flags |= wire::PexFlags::reachable;
    current.push_back({*e, flags});
  }
  auto message = pex->next_message(now, current);
  if (!message) return;
  std::string bytes = wire::encode_pex(*message);
  send_message(peer,
               wire::Extended{*pex_id, {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}});
}

void TorrentSession::choke(Peer& peer) {
  peer.protocol.choke();
  drop_unsent(peer);
  flush(peer);
}

// Blocks queued for a peer we now choke are not sent; a fast-extension peer is told so (BEP 6).
void TorrentSession::drop_unsent(Peer& peer) {
  if (!peer.protocol.am_choking() || peer.sends.empty()) return;
  std::vector<swarm::BlockRequest> dropped;
  peer.sends.clear(dropped);
  peer.protocol.reject_unsent(dropped);
}

void TorrentSession::unchoke(Peer& peer) {
  peer.protocol.unchoke(Clock::now());
  flush(peer);
}

// Who holds an upload slot is the pure swarm::Choker's decision; this applies it.
void TorrentSession::rechoke() {
  auto now = Clock::now();
  std::vector<swarm::ChokeCandidate> candidates;
  candidates.reserve(peers_.size());
  for (const auto& [id, p] : peers_) {
    if (p->closed) continue;
    candidates.push_back({id, p->protocol.peer_interested(), p->protocol.snubbed(), p->down_rate, p->up_rate,
                          p->protocol.wastes_slot(now)});
  }
  auto keep = choker_.unchoke_set(candidates, state_ == TorrentState::seeding, upload_slots(), ticks_);
  for (auto& [id, p] : peers_) {
    if (keep.count(id)) {
      unchoke(*p);
    } else {
      choke(*p);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Disk: verify and write complete pieces; read pieces to serve.

std::vector<std::uint8_t> TorrentSession::take_buffer(std::size_t size) {
  if (!free_buffers_.empty()) {
    auto buffer = std::move(free_buffers_.back());
    free_buffers_.pop_back();
    buffer.resize(size);
    return buffer;
  }
  return std::vector<std::uint8_t>(size);
}

void TorrentSession::piece_complete(std::int32_t piece, swarm::PeerId) {
  auto node = assembling_.extract(piece);
  if (node.empty()) return;
  auto expected = info_.piece_hash(PieceIndex(piece));
  // Who sent each block, by address, taken now: they may be gone when the hash is known.
  auto suppliers = picker_.block_suppliers(piece);
  std::vector<swarm::SmartBan::Block> blocks(suppliers.size());
  for (std::size_t i = 0; i < suppliers.size(); ++i) {
    auto it = peers_.find(suppliers[i]);
    if (it == peers_.end()) continue;
    blocks[i].known = true;
    blocks[i].from = swarm::ban_key(it->second->remote);
  }
  bool compare = smart_ban_.recorded(piece);  // it failed before: the good blocks are the evidence
  ++writes_in_flight_;
  submit([this, piece, expected, compare, blocks = std::move(blocks),
          buffer = std::move(node.mapped())]() mutable {
    bool ok =
        hash::sha1(std::span(reinterpret_cast<const std::byte*>(buffer.data()), buffer.size())) == expected;
    if (!ok || compare) {
      for (std::size_t i = 0; i < blocks.size(); ++i) {
        auto begin = i * static_cast<std::size_t>(swarm::kBlockSize);
        auto length = std::min<std::size_t>(swarm::kBlockSize, buffer.size() - begin);
        blocks[i].hash =
            hash::sha1(std::span(reinterpret_cast<const std::byte*>(buffer.data() + begin), length)).bytes;
      }
    } else {
      blocks.clear();
    }
    std::error_code ec;
    if (ok) ec = storage_->write_piece(piece, buffer);
    asio::post(io_, [this, piece, ok, ec, buffer = std::move(buffer), blocks = std::move(blocks)]() mutable {
      on_piece_written(piece, ok, ec, std::move(buffer), std::move(blocks));
      job_done();
    });
  });
}

void TorrentSession::on_piece_written(std::int32_t piece, bool hash_ok, std::error_code ec,
                                      std::vector<std::uint8_t> buffer,
                                      std::vector<swarm::SmartBan::Block> blocks) {
  --writes_in_flight_;
  if (free_buffers_.size() < static_cast<std::size_t>(kMaxWritesInFlight))
    free_buffers_.push_back(std::move(buffer));
  if (state_ == TorrentState::error || state_ == TorrentState::stopped) return;
  if (ec) {
    picker_.on_piece_failed(piece);
    fail("cannot write " + info_.name + ": " + ec.message());
    return;
  }
  if (!hash_ok) {
    ++failed_pieces_;
    // Smart ban (swarm::SmartBan): a sole supplier is convicted now; several are judged block by block when
    // the piece passes from the fetch that follows.
    picker_.on_piece_failed(piece);
    ban(smart_ban_.on_piece_failed(piece, blocks));
    return;
  }
  if (!blocks.empty()) {
    std::vector<swarm::SmartBan::Digest> good;
    good.reserve(blocks.size());
    for (const auto& b : blocks)
      good.push_back(b.hash);
    ban(smart_ban_.on_piece_passed(piece, good));
  }
  picker_.on_piece_verified(piece);
  resume_dirty_ = true;
  if (on_piece_verified) on_piece_verified(piece);
  if (writes_in_flight_ + 1 == kMaxWritesInFlight) {
    for (auto& [id, p] : peers_)
      request_more(*p);
  }
  for (auto& [id, p] : peers_) {
    if (!p->protocol.has().test(piece)) send_message(*p, wire::Have{static_cast<std::uint32_t>(piece)});
  }
  check_complete();
  if (state_ == TorrentState::seeding) {
    for (auto& [id, p] : peers_)
      update_interest(*p);
  }
}

void TorrentSession::ban(const std::vector<swarm::SmartBan::Address>& addresses) {
  for (const auto& key : addresses) {
    if (swarm::PeerList::is_loopback(key)) {
      banned_loopback_.insert(key);
    } else {
      banned_.insert(key.address);
    }
    if (on_peer_banned) on_peer_banned(key.to_string(), "sent data that failed the hash check");
    std::vector<Peer*> from;
    for (auto& [id, p] : peers_) {
      if (swarm::ban_key(p->remote) == key) from.push_back(p.get());
    }
    for (auto* p : from)
      close_peer(*p, "sent data that failed the hash check");
  }
}

bool TorrentSession::is_banned(const Endpoint& endpoint) const {
  return banned_.count(endpoint.address) || banned_loopback_.count(endpoint);
}

void TorrentSession::check_complete() {
  if (!picker_.is_complete() || complete_notified_) return;
  if (state_ == TorrentState::downloading) state_ = TorrentState::seeding;
  if (state_ != TorrentState::seeding) return;
  complete_notified_ = true;
  // Loaded complete from resume data and nothing new since: what is on disk says so already (three fsyncs
  // per torrent on the network thread made 10,000 seeds take minutes to start).
  if (resume_needs_saving()) save_resume(true);
  // Seeds among our peers have nothing more for us.
  std::vector<Peer*> seeds;
  for (auto& [id, p] : peers_) {
    if (p->protocol.is_seed()) seeds.push_back(p.get());
  }
  for (auto* p : seeds)
    close_peer(*p, "both seeding");
  if (options_.use_trackers && !info_.trackers.empty() && downloaded_ > 0) {
    spawn(announce(tracker::AnnounceEvent::completed));
  }
  if (on_complete) on_complete();
}

void TorrentSession::read_piece(std::int32_t piece) {
  // A few reads at a time: each holds a whole piece until it lands in the cache; when one lands, the peers
  // are served again and the next reads start.
  if (reads_in_flight_.count(piece) || reads_in_flight_.size() >= kMaxReadsInFlight) return;
  reads_in_flight_.insert(piece);
  submit([this, piece] {
    auto buffer = std::make_shared<std::vector<std::uint8_t>>(
        static_cast<std::size_t>(info_.piece_size(PieceIndex(piece))));
    auto ec = storage_->read(piece, 0, *buffer);
    asio::post(io_, [this, piece, ec, buffer] {
      struct Done {
        TorrentSession* self;
        ~Done() { self->job_done(); }
      } done{this};
      reads_in_flight_.erase(piece);
      if (closing_) return;
      if (ec) {
        fail("cannot read " + info_.name + ": " + ec.message());
        return;
      }
      if (!cache_.count(piece)) {
        cache_[piece] = buffer;
        cache_lru_.push_back(piece);
      }
      // Queued blocks are copies, so the cache alone holds pieces: this bound is the whole of it.
      std::int64_t budget = std::max<std::int64_t>(kReadCacheBudget, 2 * info_.piece_length);
      while (static_cast<std::int64_t>(cache_lru_.size()) * info_.piece_length > budget) {
        cache_.erase(cache_lru_.front());
        cache_lru_.pop_front();
      }
      serve_requests(piece);
    });
  });
}

void TorrentSession::serve_requests(std::int32_t) {
  for (auto& [id, p] : peers_)
    serve_peer(*p);
}

// Moves the peer's queued requests whose pieces are cached into its send queue, oldest pieces first, while
// the queue has room; starts reads for the pieces that are not cached.
void TorrentSession::serve_peer(Peer& peer) {
  if (peer.closed || peer.protocol.am_choking()) return;
  const auto& queued = peer.protocol.queued_requests();
  std::vector<std::int32_t> pieces;
  for (const auto& r : queued) {
    if (std::find(pieces.begin(), pieces.end(), r.piece) != pieces.end()) continue;
    pieces.push_back(r.piece);
    if (pieces.size() >= kServeLookahead) break;
  }
  bool queued_any = false;
  for (auto piece : pieces) {
    if (!peer.has_send_room()) break;
    auto cached = cache_.find(piece);
    if (cached == cache_.end()) {
      read_piece(piece);
      continue;
    }
    std::size_t room = (peer.send_capacity() - peer.queued_bytes()) / swarm::kBlockSize + 1;
    ready_.clear();
    peer.protocol.take_queued_requests(piece, ready_, room);
    for (const auto& r : ready_) {
      auto header =
          wire::encode_piece_header(static_cast<std::uint32_t>(r.piece), static_cast<std::uint32_t>(r.begin),
                                    static_cast<std::uint32_t>(r.length));
      std::vector<std::uint8_t> message(header.size() + static_cast<std::size_t>(r.length));
      std::memcpy(message.data(), header.data(), header.size());
      std::memcpy(message.data() + header.size(), cached->second->data() + r.begin,
                  static_cast<std::size_t>(r.length));
      queued_any |= peer.sends.push(r, std::move(message));
    }
  }
  if (queued_any) signal_writer(peer);
}

bool TorrentSession::resume_needs_saving() const {
  std::error_code ec;
  return resume_dirty_ || !std::filesystem::exists(options_.resume_file, ec);
}

void TorrentSession::save_resume(bool sync) {
  if (options_.resume_file.empty()) return;
  storage::ResumeData data;
  data.info_hash = info_.info_hash;
  auto wire = picker_.have().wire();
  data.have.assign(wire.begin(), wire.end());
  data.downloaded = downloaded_before_ + downloaded_;
  data.uploaded = uploaded_before_ + uploaded_;
  // Stamps are taken after the data is flushed, so they describe exactly what the bitfield claims.
  if (sync) storage_->sync();
  data.files = storage::collect_file_stamps(options_.save_dir, storage_->layout());
  std::error_code ec;
  std::filesystem::create_directories(options_.resume_file.parent_path(), ec);
  runtime::write_file_atomically(options_.resume_file, storage::encode_resume(data));
  resume_dirty_ = false;
}

void TorrentSession::fail(const std::string& message) {
  if (state_ == TorrentState::error) return;
  bool checking = state_ == TorrentState::checking;
  state_ = TorrentState::error;
  boost::system::error_code ignored;
  for (auto& p : parked_)
    p.socket.close(ignored);
  parked_.clear();
  error_ = message;
  if (failure_ == FailureKind::none) failure_ = FailureKind::file_error;
  // What is verified stays verified: record it before anything else can go wrong. A check that failed knows
  // only part of the answer (like a cancelled one): saving it would hide pieces that are there.
  if (!checking) save_resume(false);
  std::vector<Peer*> all;
  for (auto& [id, p] : peers_)
    all.push_back(p.get());
  for (auto* p : all)
    close_peer(*p, "torrent stopped: " + message);
  if (on_error) on_error(message);
}

// ---------------------------------------------------------------------------------------------------------------
// Time.

// The session's one-second timer drives every torrent: 10,000 torrents cost one timer, not 10,000 coroutines
// and timers each waking up once a second.
void TorrentSession::on_tick() {
  if (!running_ || stopping_) return;
  tick();
}

void TorrentSession::tick() {
  ++ticks_;
  auto now = Clock::now();
  down_rate_ = ema(down_rate_, down_tick_);
  up_rate_ = ema(up_rate_, up_tick_);
  down_tick_ = up_tick_ = 0;
  dials_this_tick_ = 0;
  std::vector<std::pair<Peer*, std::string_view>> to_close;
  bool slot_wasted =
      false;  // an upload slot is held by a peer that does not read or asks nothing: rechoke now
  for (auto& [id, p] : peers_) {
    p->down_rate = ema(p->down_rate, p->down_this_tick);
    p->up_rate = ema(p->up_rate, p->up_this_tick);
    p->down_this_tick = p->up_this_tick = 0;
    send_pex(*p, now);
    // A message held up by our own back-pressure is not the peer's delay.
    bool partial = p->reader.partial() && !p->read_paused;
    if (auto reason = p->protocol.on_tick(now, picker_, partial)) to_close.emplace_back(p.get(), *reason);
    slot_wasted |= !p->protocol.am_choking() && p->protocol.wastes_slot(now);
    flush(*p);
    request_more(*p);
    wake_reader(*p);  // it may owe us blocks now, or its rate (and so its queue's room) changed
  }
  for (auto [p, reason] : to_close)
    close_peer(*p, std::string(reason));
  // A file deleted under us matters at once while data moves; an idle seed is looked at less often (one stat
  // per file: 10,000 idle torrents must not cost 10,000 stats a second).
  bool idle = peers_.empty() && state_ == TorrentState::seeding;
  if (ticks_ % (idle ? kTicksPerIdleDeletedCheck : kTicksPerDeletedCheck) == 0) {
    if (auto gone = storage_->find_deleted_file()) {
      failure_ = FailureKind::file_deleted;
      fail(gone->string() + " was deleted while the torrent was running");
      return;
    }
  }
  if ((ticks_ % kTicksPerRechoke == 0 || slot_wasted) && !peers_.empty()) rechoke();
  if (ticks_ % kTicksPerPeerListExpiry == 0) peer_list_.expire(now);
  if (resume_dirty_ && ticks_ % kTicksPerResumeSave == 0 && state_ != TorrentState::error) save_resume(true);
  if (options_.use_trackers && !announcing_ && now >= next_announce_) {
    spawn(announce(tracker::AnnounceEvent::none));
  }
  if (state_ == TorrentState::seeding && seeding_since_ == Clock::time_point::max()) seeding_since_ = now;
  bool ratio_reached =
      options_.seed_ratio && static_cast<double>(uploaded_before_ + uploaded_) >=
                                 *options_.seed_ratio * static_cast<double>(info_.total_size);
  bool time_reached =
      options_.seed_time_seconds && now - seeding_since_ >= std::chrono::seconds(*options_.seed_time_seconds);
  if (state_ == TorrentState::seeding && (ratio_reached || time_reached)) {
    if (on_seeding_done) on_seeding_done();
    stop();
    return;
  }
  connect_more();
}

asio::awaitable<void> TorrentSession::announce(tracker::AnnounceEvent event) {
  if (trackers_.empty()) co_return;
  announcing_ = true;
  tracker::AnnounceRequest request;
  request.info_hash = info_.info_hash;
  request.peer_id = peer_id_;
  request.port = listen_port_;
  request.uploaded = uploaded_before_ + uploaded_;
  request.downloaded = downloaded_before_ + downloaded_;
  request.left = picker_.bytes_wanted_left();
  request.event = event;
  request.key = tracker_key_;
  request.tracker_id = tracker_id_;
  request.numwant = event == tracker::AnnounceEvent::stopped ? 0 : 80;
  bool any_ok = false;
  std::int64_t interval = tracker::kDefaultInterval;
  // BEP 12: tier by tier, in each tier's current order; a tier is done at its first answer.
  std::set<int> answered_tiers;
  for (auto target : trackers_.order()) {
    if (answered_tiers.count(target.tier)) continue;
    if (!answered_tiers.empty() && !trackers_.announce_to_all_tiers()) break;
    // A copy: a success reorders the tier under us.
    std::string url = trackers_.tiers()[static_cast<std::size_t>(target.tier)][target.index].url;
    auto result = co_await announce_to(url, request);
    if (stopping_ && event != tracker::AnnounceEvent::stopped) break;
    if (!result) {
      if (on_log) on_log("tracker " + url + ": " + result.error());
      if (on_tracker_error) on_tracker_error(url, result.error());
      trackers_.failed(target, result.error(), Clock::now());
      continue;
    }
    any_ok = true;
    interval = result->interval;
    if (result->tracker_id) tracker_id_ = result->tracker_id;
    if (result->warning_message && on_log) on_log("tracker " + url + " warns: " + *result->warning_message);
    for (const auto& e : result->peers)
      add_peer(e);
    if (on_log) on_log("tracker " + url + ": " + std::to_string(result->peers.size()) + " peers");
    if (on_tracker_reply)
      on_tracker_reply(url, static_cast<std::int64_t>(result->peers.size()),
                       result->warning_message.value_or(""));
    trackers_.succeeded(target, static_cast<std::int64_t>(result->peers.size()), result->complete,
                        result->incomplete, result->interval, result->warning_message.value_or(""),
                        Clock::now());
    answered_tiers.insert(target.tier);
  }
  announcing_ = false;
  if (stopping_) co_return;
  // A downloader with nobody to talk to asks again soon: the swarm may just be forming.
  bool lonely = state_ == TorrentState::downloading && peers_.empty() && connecting_.empty();
  auto wait = !any_ok  ? std::chrono::seconds(30)
              : lonely ? std::chrono::seconds(std::min<std::int64_t>(interval, kLonelyReannounce))
                       : std::chrono::seconds(interval);
  next_announce_ = Clock::now() + wait;
  connect_more();
}

asio::awaitable<Expected<tracker::AnnounceResponse, std::string>> TorrentSession::announce_to(
    const std::string& url, const tracker::AnnounceRequest& request) {
  bool stopping = request.event == tracker::AnnounceEvent::stopped;
  if (url.rfind("udp://", 0) == 0) {
    tracker::udp::AnnounceRequest u;
    u.info_hash = request.info_hash;
    u.peer_id = request.peer_id;
    u.downloaded = request.downloaded;
    u.left = request.left;
    u.uploaded = request.uploaded;
    u.event = request.event == tracker::AnnounceEvent::started     ? tracker::udp::Event::started
              : request.event == tracker::AnnounceEvent::completed ? tracker::udp::Event::completed
              : stopping                                           ? tracker::udp::Event::stopped
                                                                   : tracker::udp::Event::none;
    u.key = request.key.value_or(0);
    u.num_want = request.numwant;
    u.port = request.port;
    // The spec's back-off (15 s, 30 s, ...) for a couple of rounds, then the next tracker gets its turn; a
    // stop is one quick try so Ctrl-C does not hang.
    net::UdpTrackerOptions options;
    options.max_attempts = stopping ? 1 : 2;
    if (stopping) options.base_timeout = std::chrono::seconds(2);
    // (Not a conditional expression: g++ 12 mishandles the temporaries of co_await inside one.)
    Expected<tracker::udp::Response, std::string> reply = unexpected(std::string("no reply"));
    if (context_.udp_trackers) {
      reply = co_await context_.udp_trackers->request(url, u, udp_connections_[url], options);
    } else {
      reply = co_await net::udp_tracker_request(url, u, udp_connections_[url], options);
    }
    if (!reply) co_return unexpected(reply.error());
    if (auto* error = std::get_if<tracker::udp::ErrorResponse>(&*reply))
      co_return unexpected("tracker error: " + error->message);
    const auto* announce = std::get_if<tracker::udp::AnnounceResponse>(&*reply);
    if (!announce) co_return unexpected(std::string("unexpected reply"));
    tracker::AnnounceResponse out;
    out.interval = std::clamp<std::int64_t>(announce->interval, tracker::kMinInterval, 86400);
    out.complete = announce->seeders;
    out.incomplete = announce->leechers;
    out.peers = announce->peers;
    co_return out;
  }
  auto timeout = stopping ? std::chrono::milliseconds(2000) : std::chrono::milliseconds(15000);
  auto response = co_await net::http_get(tracker::build_announce_url(url, request), timeout);
  if (!response) co_return unexpected(response.error().message());
  if (response->status != 200) co_return unexpected("HTTP status " + std::to_string(response->status));
  auto parsed = tracker::parse_announce_response(response->body);
  if (!parsed) co_return unexpected(parsed.error().message());
  co_return std::move(*parsed);
}

// ---------------------------------------------------------------------------------------------------------------

void TorrentSession::stop(std::function<void()> done) {
  if (done) stop_done_.push_back(std::move(done));
  if (stopping_) {
    maybe_drained();  // already drained: the new waiter is told at once
    return;
  }
  stopping_ = true;
  // Ctrl-C during a long check: the hashing threads stop now.
  check_cancel_->store(true);
  was_error_ = state_ == TorrentState::error;
  // Saved now, before trackers are told and in-flight work winds down (which a dead tracker can stretch past
  // the session's shutdown wait); the drain saves again only if more pieces were verified meanwhile.
  if (!was_error_ && state_ != TorrentState::checking && !options_.resume_file.empty() &&
      resume_needs_saving())
    save_resume(true);
  // A torrent waiting for its turn to check gives up its place.
  context_.checks->cancel(check_ticket_);
  check_slot_.cancel();
  if (options_.use_trackers && !info_.trackers.empty() && state_ != TorrentState::checking &&
      state_ != TorrentState::error) {
    spawn(announce_stopped_then_close());
  } else {
    // Posted: stop() may be called while a caller up the stack walks the peers. The torrent cannot drain
    // (nor be destroyed) before begin_close has run.
    asio::post(io_, [this] { begin_close(); });
  }
}

// A member coroutine, not a lambda: a capturing lambda's closure would die before the frame that refers to
// it.
asio::awaitable<void> TorrentSession::announce_stopped_then_close() {
  co_await announce(tracker::AnnounceEvent::stopped);
  begin_close();
}

// Trackers are told: close every connection and timer; what is still in flight finishes on its own.
void TorrentSession::begin_close() {
  if (closing_) return;
  closing_ = true;
  boost::system::error_code ignored;
  for (const auto& p : dialling_)
    p->socket.close(ignored);
  for (auto& p : parked_)
    p.socket.close(ignored);
  parked_.clear();
  std::vector<Peer*> all;
  for (auto& [id, p] : peers_)
    all.push_back(p.get());
  for (auto* p : all)
    close_peer(*p, "stopping");
  maybe_drained();
}

// Nothing of this torrent is in flight any more: writes done (the resume data covers every piece verified
// before the stop), so save, and tell whoever waits.
void TorrentSession::maybe_drained() {
  if (!closing_ || coroutines_ > 0 || jobs_ > 0) return;
  if (!drained_) {
    drained_ = true;
    if (!was_error_ && state_ != TorrentState::checking && state_ != TorrentState::error &&
        !options_.resume_file.empty() && resume_needs_saving()) {
      save_resume(true);
    }
    state_ = was_error_ || state_ == TorrentState::error ? TorrentState::error : TorrentState::stopped;
  }
  auto waiters = std::move(stop_done_);
  stop_done_.clear();
  for (auto& w : waiters)
    asio::post(io_, std::move(w));
}

}  // namespace shoal::session
