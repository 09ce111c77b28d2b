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

#include "hash/merkle.hpp"
#include "hash/sha.hpp"
#include "metainfo/v2_pieces.hpp"
#include "net/asio_endpoint.hpp"
#include "net/http_client.hpp"
#include "net/udp_tracker_client.hpp"
#include "net/utp_socket_manager.hpp"
#include "runtime/file_io.hpp"
#include "session/holepunch_socket.hpp"
#include "session/mse_stream.hpp"
#include "session/peer_id.hpp"
#include "shoal/version.hpp"
#include "storage/piece_checker.hpp"
#include "storage/resume_data.hpp"
#include "wire/extension_handshake.hpp"
#include "wire/message.hpp"
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
// A holepunch dial waits longer: the other side's `connect` may leave the relay seconds after ours (behind
// blocks queued to it under an upload limit), and our SYN retransmissions (1, 3, 7, 15 s) must still be
// going out when its SYN has opened its NAT.
constexpr auto kHolepunchConnectTimeout = std::chrono::seconds(20);
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
constexpr auto kOurReqq = static_cast<std::uint32_t>(swarm::PeerProtocol::kMaxQueuedRequests);
constexpr int kTicksPerResumeSave = 30;
constexpr int kTicksPerDeletedCheck = 2;
constexpr int kTicksPerIdleDeletedCheck = 30;
constexpr std::size_t kMaxParkedIncoming = 16;  // incoming peers kept waiting while we check
constexpr std::size_t kMaxSendBatch = 64;

asio::mutable_buffer as_buffer(std::span<std::uint8_t> s) {
  return {s.data(), s.size()};
}

std::vector<storage::FileSpec> file_specs(const metainfo::TorrentInfo& info) {
  std::vector<storage::FileSpec> specs;
  specs.reserve(info.files.size());
  for (const auto& f : info.files)
    specs.push_back({f.path, f.length, f.pad});
  return specs;
}

}  // namespace

// The session's budgets as the core sees them: its fair shares, and the dial caps (one handshake per
// address).
class TorrentSession::Budget : public torrent::Mediator {
 public:
  explicit Budget(TorrentContext& context) : context_(context) {}
  int connection_limit() const override {
    return context_.connections->fair_share(context_.active_torrents());
  }
  int upload_slots() const override { return context_.unchoke_share(); }
  bool may_accept() const override { return context_.connections->may_connect(); }
  bool handshaking_with(const Endpoint& e) const override {
    return context_.connections->handshaking_with(e);
  }
  bool try_dial(const Endpoint& e) override {
    if (!context_.connections->may_dial()) return false;
    context_.connections->dial_started();
    context_.connections->handshake_started(e);
    return true;
  }
  void cache_changed(std::int64_t delta) override {
    if (context_.cached_bytes) *context_.cached_bytes += delta;
  }
  bool cache_over_budget() const override {
    return context_.cached_bytes && context_.cache_budget > 0 &&
           *context_.cached_bytes > context_.cache_budget;
  }

 private:
  TorrentContext& context_;
};

namespace {

torrent::Params core_params(const metainfo::TorrentInfo& info, const TorrentOptions& options,
                            const std::array<std::uint8_t, 20>& peer_id, std::uint16_t listen_port,
                            std::int64_t request_budget_bytes) {
  torrent::Params p;
  p.info_hash = info.info_hash;
  p.peer_id = peer_id;
  p.num_pieces = info.num_pieces();
  p.piece_length = info.piece_length;
  p.total_size = info.total_size;
  if (!info.is_private) p.info_bytes = info.info_bytes;
  p.is_private = info.is_private;
  if (info.has_v2()) p.metainfo = std::make_shared<metainfo::TorrentInfo>(info);  // BEP 52 hashes
  p.trackers = info.trackers;
  p.use_trackers = options.use_trackers;
  p.announce_to_all_tiers = options.announce_to_all_tiers;
  p.client = "Shoal " + std::string(shoal::version());
  p.listen_port = listen_port;
  p.reqq = kOurReqq;
  p.request_budget_bytes = request_budget_bytes;
  p.upload_slots = options.upload_slots;
  p.max_connections = options.max_connections;
  p.seed_ratio = options.seed_ratio;
  if (options.seed_time_seconds) p.seed_time = std::chrono::seconds(*options.seed_time_seconds);
  p.sequential = options.sequential;
  p.fetch_metadata = options.fetch_metadata;
  p.seed = (static_cast<std::uint64_t>(std::random_device{}()) << 32) | std::random_device{}();
  return p;
}

}  // namespace

TorrentSession::TorrentSession(TorrentContext& context, metainfo::TorrentInfo info, TorrentOptions options)
    : context_(context),
      io_(context.io),
      info_(std::move(info)),
      options_(std::move(options)),
      peer_id_(context.peer_id),
      pool_(context.pool),
      budget_(std::make_unique<Budget>(context)),
      core_(std::make_unique<torrent::Torrent>(
          core_params(info_, options_, peer_id_, context.announced_port(), context.request_budget_bytes),
          *budget_, Clock::now())),
      check_slot_(context.io),
      listen_port_(context.listen_port),
      down_limit_(options_.max_download_rate),
      up_limit_(options_.max_upload_rate) {
  if (options_.parts_file.empty()) {
    options_.parts_file = options_.save_dir / ("." + info_.info_hash.to_hex() + ".parts");
  }
  apply_file_selection();
  apply_piece_priorities();
  storage_ = std::make_unique<storage::PieceStorage>(
      storage::FileLayout(file_specs(info_), info_.piece_length), options_.save_dir, file_wanted_,
      options_.parts_file, context.files);
  for (const auto& p : options_.peers)
    core_->add_peer(p, swarm::PeerSource::user, Clock::now());
  add_web_seeds();
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
  swarm::Bitfield piece_wanted(info_.num_pieces());
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
        piece_wanted.set(PieceIndex{static_cast<std::int32_t>(p)});
    }
  }
  for (PieceIndex p{0}; p.get() < info_.num_pieces(); ++p) {
    if (!piece_wanted.test(p)) core_->set_piece_priority(p, 0);
  }
}

void TorrentSession::apply_piece_priorities() {
  const auto& prio = options_.file_priorities;
  if (prio.empty() || info_.num_pieces() == 0) return;
  std::vector<std::uint8_t> piece(static_cast<std::size_t>(info_.num_pieces()), 0);
  for (std::size_t i = 0; i < info_.files.size() && i < file_wanted_.size(); ++i) {
    const auto& f = info_.files[i];
    if (!file_wanted_[i] || f.length <= 0) continue;
    std::uint8_t level = i < prio.size() && prio[i] > 0 ? prio[i] : std::uint8_t{1};
    auto first = f.offset / info_.piece_length;
    auto last = (f.offset + f.length - 1) / info_.piece_length;
    for (auto p = first; p <= last; ++p)
      piece[static_cast<std::size_t>(p)] = std::max(piece[static_cast<std::size_t>(p)], level);
  }
  for (PieceIndex p{0}; p.get() < info_.num_pieces(); ++p) {
    auto level = piece[static_cast<std::size_t>(p.get())];
    if (level > 0) core_->set_piece_priority(p, level);  // unwanted pieces keep their 0
  }
}

void TorrentSession::set_file_priorities(std::vector<std::uint8_t> priorities) {
  options_.file_priorities = std::move(priorities);
  apply_piece_priorities();
}

void TorrentSession::set_max_connections(int max_connections) {
  options_.max_connections = max_connections;
  core_->set_max_connections(max_connections);
  perform_actions();
}

void TorrentSession::start() {
  if (options_.fetch_metadata) {
    // Nothing on disk to check: straight to the peers.
    options_.resume_file.clear();
    options_.resume_sink = nullptr;
    state_ = TorrentState::downloading;
    running_ = true;
    core_->set_logging(static_cast<bool>(on_log));
    core_->start(Clock::now());
    perform_actions();
    return;
  }
  spawn(check_then_run(), "start-up failed: ");
}

TorrentStats TorrentSession::stats() const {
  auto c = core_->stats();
  TorrentStats s;
  s.state = state_;
  if (running_ && state_ != TorrentState::error && state_ != TorrentState::stopped)
    s.state = core_->is_complete() ? TorrentState::seeding : TorrentState::downloading;
  s.error = error_;
  s.checked = checked_bytes_;
  s.total_wanted = c.total_wanted;
  s.have_wanted = c.have_wanted;
  s.downloaded = c.downloaded;
  s.uploaded = c.uploaded;
  s.download_rate = c.download_rate;
  s.upload_rate = c.upload_rate;
  s.peers = c.peers;
  s.seeds = c.seeds;
  s.pieces_have = c.pieces_have;
  s.num_pieces = info_.num_pieces();
  s.failed_pieces = c.failed_pieces;
  s.banned_peers = c.banned_peers;
  s.web_seeds = c.web_seeds;
  s.web_seeds_fetching = c.web_seeds_fetching;
  s.web_seeds_banned = c.web_seeds_banned;
  s.trackers = core_->trackers();
  s.failure = failure_;
  return s;
}

void TorrentSession::force_reannounce() {
  if (stopping_ || !running_) return;
  core_->force_reannounce(Clock::now());
  perform_actions();
}

void TorrentSession::set_announce_port(std::uint16_t port) {
  core_->set_listen_port(port);
  force_reannounce();
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
      if (!core_->picker().has(PieceIndex{static_cast<std::int32_t>(p)})) continue;
      auto begin = std::max(f.offset, p * info_.piece_length);
      auto end = std::min(f.offset + f.length, (p + 1) * info_.piece_length);
      out[i] += end - begin;
    }
  }
  return out;
}

void TorrentSession::add_peer(const Endpoint& endpoint, swarm::PeerSource source, swarm::PeerId via) {
  core_->add_peer(endpoint, source, Clock::now(), via);
  perform_actions();
}

// ---------------------------------------------------------------------------------------------------------------
// Start-up: resume data or a full recheck, then the network.

asio::awaitable<void> TorrentSession::check_then_run() {
  if (auto refused = storage_->check_paths()) co_return fail(refused->message());
  if (!keeps_resume() || !load_resume()) {
    unfinished_.clear();
    co_await recheck();
  } else {
    co_await restore_unfinished();
  }
  if (stopping_ || state_ == TorrentState::error) co_return;
  if (auto ec = storage_->create_empty_files()) {
    fail("cannot create files in " + options_.save_dir.string() + ": " + ec.message());
    co_return;
  }
  state_ = core_->is_complete() ? TorrentState::seeding : TorrentState::downloading;
  if (on_check_finished) on_check_finished(core_->picker().num_have());
  running_ = true;  // the session's ticks reach tick() from now on
  core_->set_logging(static_cast<bool>(on_log));
  core_->start(Clock::now());
  perform_actions();
  start_web_seeds();
  auto parked = std::move(parked_);
  parked_.clear();
  for (auto& p : parked)
    adopt_incoming(std::move(p.socket), p.remote, std::move(p.reader), p.handshake, p.cipher);
}

bool TorrentSession::load_resume() {
  std::optional<std::string> bytes;
  if (options_.resume_sink) {
    if (!options_.resume_data.empty()) {
      bytes = std::move(options_.resume_data);
      resume_handed_ = true;  // the embedder holds resume data already; a refused one leads to a recheck
    }
    options_.resume_data.clear();
  } else if (auto read = runtime::read_file(options_.resume_file, 64 * 1024 * 1024)) {
    bytes = std::move(*read);
  }
  if (!bytes) return false;
  auto data = storage::decode_resume(*bytes, info_.info_hash, info_.num_pieces(),
                                     storage::PieceShape{info_.piece_length, info_.total_size});
  if (!data) return false;
  for (const auto& reason : data->ignored) {
    if (on_log) on_log("resume data: " + reason + ": ignored");
  }
  auto stamps = storage_->file_stamps();  // as check_paths() just saw them
  if (data->files != stamps) return false;
  const swarm::Bitfield& have = data->have;  // its size and spare bits were checked by decode_resume
  // Matching stamps are not enough: a file that is missing or too short now (it may have been deleted before
  // the save) cannot hold the pieces the bitfield claims for it. Files are not pre-allocated: one partly
  // downloaded ends with the last piece written into it, so it must reach the end of the last piece claimed.
  const auto& layout = storage_->layout();
  const auto& files = layout.files();
  for (std::size_t i = 0; i < files.size() && i < stamps.size(); ++i) {
    if (files[i].pad || files[i].length == 0 || !file_wanted_[i] || stamps[i].size == files[i].length)
      continue;
    FileIndex file{static_cast<std::int32_t>(i)};
    auto [first, last] = layout.file_pieces(file);
    for (PieceIndex p = first; p <= last; ++p) {
      if (!have.test(p)) continue;
      auto claimed_end =
          std::min(files[i].length, (p.get() + 1) * layout.piece_length() - layout.file_offset(file));
      if (stamps[i].size < claimed_end || stamps[i].size > files[i].length) return false;
    }
  }
  for (PieceIndex p{0}; p.get() < info_.num_pieces(); ++p) {
    if (have.test(p)) core_->mark_have(p);
  }
  core_->restore_totals(data->downloaded, data->uploaded);
  unfinished_ = std::move(data->unfinished);
  return true;
}

asio::awaitable<void> TorrentSession::restore_unfinished() {
  auto entries = std::move(unfinished_);
  unfinished_.clear();
  struct Restored {
    storage::UnfinishedPiece piece;
    std::optional<metainfo::V2PieceCheck> check;  // taken here: info_ belongs to this thread
    std::vector<std::uint8_t> data;
    std::string note;  // why it was dropped, or what its leaves said
    bool ok = true;
  };
  // As many piece buffers as a download may hold in assembly: a resume file listing more gets the first.
  std::int64_t budget = torrent::kDefaultRequestBudgetBytes;
  auto work = std::make_shared<std::vector<Restored>>();
  for (auto& u : entries) {
    if (core_->picker().priority(u.piece) == 0) continue;  // not wanted now: its blocks wait on disk
    auto size = info_.piece_size(u.piece);
    if (size > budget) {
      if (on_log) on_log("resume data: piece " + std::to_string(u.piece.get()) + ": over the memory budget");
      continue;
    }
    budget -= size;
    Restored r;
    r.piece = std::move(u);
    if (!r.piece.leaves.empty() && info_.has_v2()) r.check = metainfo::v2_piece_check(info_, r.piece.piece);
    work->push_back(std::move(r));
  }
  if (work->empty()) co_return;
  asio::steady_timer done(io_, Clock::time_point::max());
  bool finished = false;
  submit([this, work, &done, &finished] {
    for (auto& r : *work) {
      r.data.assign(static_cast<std::size_t>(info_.piece_size(r.piece.piece)), 0);
      const auto& blocks = r.piece.blocks;
      for (std::int32_t b = 0; b < blocks.size() && r.ok; ++b) {
        if (!blocks.test(PieceIndex{b})) continue;
        auto begin = static_cast<std::size_t>(b) * wire::kBlockSize;
        auto length = std::min<std::size_t>(wire::kBlockSize, r.data.size() - begin);
        if (auto ec = storage_->read(r.piece.piece, static_cast<std::int64_t>(begin),
                                     std::span(r.data).subspan(begin, length))) {
          r.ok = false;
          r.note = "cannot read its blocks: " + ec.message();
        }
      }
      if (!r.ok || !r.check) continue;
      auto dropped = storage::drop_blocks_failing_leaves(r.piece, *r.check, r.data);
      if (!dropped) {
        r.note = dropped.error();
      } else if (*dropped > 0) {
        r.note = std::to_string(*dropped) + " block(s) do not match their leaf hashes: dropped";
      }
    }
    asio::post(io_, [this, &done, &finished] {
      finished = true;
      done.cancel();
      job_done();
    });
  });
  // The job refers to this frame's locals: wait for it even when stopping.
  while (!finished)
    co_await done.async_wait(kToken);
  if (stopping_) co_return;
  std::int64_t kept = 0;
  for (auto& r : *work) {
    std::string name = "resume data: piece " + std::to_string(r.piece.piece.get()) + ": ";
    if (!r.note.empty() && on_log) on_log(name + r.note);
    if (!r.ok || r.piece.blocks.none()) continue;
    auto count = r.piece.blocks.count();
    if (auto refused = core_->restore_unfinished(r.piece.piece, r.piece.blocks, std::move(r.data))) {
      if (on_log) on_log(name + *refused + ": ignored");
      continue;
    }
    kept += count;
  }
  if (on_log && kept > 0)
    on_log("resume data: kept " + std::to_string(kept) + " block(s) of unfinished pieces");
}

asio::awaitable<void> TorrentSession::recheck() {
  state_ = TorrentState::checking;
  // Nothing on disk yet (as check_paths() saw it, without a stat per file): nothing to check.
  if (!storage_->any_file_exists()) co_return;

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
  swarm::Bitfield result;
  bool check_done = false;
  auto check_error = std::make_shared<std::optional<storage::FileError>>();
  submit([this, checked, cancel, &result, &done, &progress, &check_done, check_error] {
    storage::CheckOptions check;
    check.threads = std::max(2u, std::thread::hardware_concurrency());
    check.bytes_checked = checked.get();
    check.cancel = cancel.get();
    check.error = check_error.get();
    auto have = storage::check_pieces(*storage_, info_, check);
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
  for (PieceIndex p{0}; p.get() < info_.num_pieces(); ++p) {
    if (result.test(p)) core_->mark_have(p);
  }
  checked_bytes_ = checked->load();
  rechecked_ = true;
}

// ---------------------------------------------------------------------------------------------------------------
// The core's actions.

void TorrentSession::perform_actions() {
  // Actions may lead to more actions (a failed disk job stops the torrent, say): drain until none are left,
  // and never recursively, so nothing up the stack sees peers_ change under it in the middle of a loop.
  if (performing_) return;
  performing_ = true;
  bool layers_arrived = false;
  while (core_->has_actions()) {
    for (auto& action : core_->take_actions()) {
      std::visit(
          [&](auto& a) {
            using A = std::decay_t<decltype(a)>;
            if constexpr (std::is_same_v<A, torrent::Dial>) {
              spawn(connect_to(a.endpoint, a.holepunch));
            } else if constexpr (std::is_same_v<A, torrent::Disconnect>) {
              if (auto it = peers_.find(a.peer); it != peers_.end()) close_socket(*it->second);
            } else if constexpr (std::is_same_v<A, torrent::Writable>) {
              if (auto it = peers_.find(a.peer); it != peers_.end()) it->second->write_signal.cancel();
            } else if constexpr (std::is_same_v<A, torrent::VerifyPiece>) {
              verify_piece(std::move(a));
            } else if constexpr (std::is_same_v<A, torrent::ReadPiece>) {
              read_piece(a.piece);
            } else if constexpr (std::is_same_v<A, torrent::HashLeaves>) {
              hash_leaves(a);
            } else if constexpr (std::is_same_v<A, torrent::Announce>) {
              spawn(announce(std::move(a)));
            } else if constexpr (std::is_same_v<A, torrent::PieceVerified>) {
              if (on_piece_verified) on_piece_verified(a.piece.get());
            } else if constexpr (std::is_same_v<A, torrent::Completed>) {
              if (state_ == TorrentState::downloading) state_ = TorrentState::seeding;
              // Loaded complete from resume data and nothing new since: what is on disk says so already
              // (three fsyncs per torrent on the network thread made 10,000 seeds take minutes to start).
              if (resume_needs_saving()) save_resume(true);
              compute_piece_layers();
              if (on_complete) on_complete();
            } else if constexpr (std::is_same_v<A, torrent::SeedingDone>) {
              if (!stopping_) {
                if (on_seeding_done) on_seeding_done();
                stop();
              }
            } else if constexpr (std::is_same_v<A, torrent::StopAnnounced>) {
              begin_close();
            } else if constexpr (std::is_same_v<A, torrent::PeerBanned>) {
              if (on_peer_banned) on_peer_banned(a.address.to_string(), a.reason);
            } else if constexpr (std::is_same_v<A, torrent::TrackerReply>) {
              if (on_tracker_reply) on_tracker_reply(a.url, a.peers, a.warning);
            } else if constexpr (std::is_same_v<A, torrent::TrackerFailed>) {
              if (on_tracker_error) on_tracker_error(a.url, a.error);
            } else if constexpr (std::is_same_v<A, torrent::Log>) {
              if (on_log) on_log(a.text);
            } else if constexpr (std::is_same_v<A, torrent::PieceLayerReceived>) {
              info_.piece_layers[a.pieces_root] = std::move(a.layer);  // verify_piece checks against it
              layers_arrived = true;
            } else if constexpr (std::is_same_v<A, torrent::MetadataReceived>) {
              if (on_metadata) on_metadata(a.info_bytes);
            }
          },
          action);
    }
  }
  if (layers_arrived && !core_->piece_layers_missing() && on_piece_layers)
    on_piece_layers(info_.piece_layers);
  performing_ = false;
}

// Hash on the pool; write if good; block hashes when smart ban needs the evidence. v1 and hybrid torrents are
// checked by their SHA-1 piece hashes, v2-only ones by their merkle subtree (metainfo/v2_pieces.hpp); a
// block's evidence is then the first 20 bytes of its leaf hash.
void TorrentSession::verify_piece(torrent::VerifyPiece action) {
  std::optional<Sha1Digest> expected;
  std::optional<metainfo::V2PieceCheck> v2;
  if (info_.has_v1()) {
    expected = info_.piece_hash(action.piece);
  } else {
    v2 = metainfo::v2_piece_check(info_, action.piece);
  }
  submit([this, expected, v2, a = std::move(action)]() mutable {
    const auto& buffer = a.data;
    bool ok = false;
    std::vector<Sha256Digest> leaves;
    if (expected) {
      ok = hash::sha1(std::span(reinterpret_cast<const std::byte*>(buffer.data()), buffer.size())) ==
           *expected;
    } else if (v2 && static_cast<std::int64_t>(buffer.size()) >= v2->file_bytes) {
      hash::MerklePieceHasher hasher(v2->file_bytes, v2->leaves);
      hasher.update(buffer);
      ok = hasher.root() == v2->expected;
      leaves = hasher.leaves();
    }
    if (!ok || a.block_hashes) {
      for (std::size_t i = 0; i < a.blocks.size(); ++i) {
        auto begin = i * static_cast<std::size_t>(wire::kBlockSize);
        auto length = std::min<std::size_t>(wire::kBlockSize, buffer.size() - begin);
        if (i < leaves.size()) {
          std::copy_n(leaves[i].bytes.begin(), a.blocks[i].hash.size(), a.blocks[i].hash.begin());
        } else {
          a.blocks[i].hash =
              hash::sha1(std::span(reinterpret_cast<const std::byte*>(buffer.data() + begin), length)).bytes;
        }
      }
    } else {
      a.blocks.clear();
    }
    std::error_code ec;
    if (ok) ec = storage_->write_piece(a.piece, buffer);
    asio::post(io_, [this, ok, ec, a = std::move(a)]() mutable {
      core_->on_piece_written(a.piece, ok, static_cast<bool>(ec), std::move(a.blocks), std::move(a.data));
      if (ec && !fail_if_deleted()) fail("cannot write " + info_.name + ": " + ec.message());
      perform_actions();
      wake_web_seeds();
      job_done();
    });
  });
}

void TorrentSession::read_piece(PieceIndex piece) {
  submit([this, piece] {
    auto buffer = read_buffers_->take(static_cast<std::size_t>(info_.piece_size(piece)));
    auto ec = storage_->read(piece, 0, *buffer);
    asio::post(io_, [this, piece, ec, buffer] {
      struct Done {
        TorrentSession* self;
        ~Done() { self->job_done(); }
      } done{this};
      if (closing_) return;
      core_->on_piece_read(piece, ec ? nullptr : buffer);
      if (ec && !fail_if_deleted()) fail("cannot read " + info_.name + ": " + ec.message());
      perform_actions();
    });
  });
}

// BEP 52 leaf hashes of a piece we have, for peers' hash requests: read and hashed on the pool, as a verify
// is, never on this thread (the core caps how many are asked for at once).
void TorrentSession::hash_leaves(const torrent::HashLeaves& action) {
  submit([this, a = action] {
    hash::MerklePieceHasher hasher(a.data_bytes, a.width);
    auto ec = storage_->visit_piece(a.piece,
                                    [&hasher](std::span<const std::uint8_t> bytes) { hasher.update(bytes); });
    std::optional<std::vector<Sha256Digest>> leaves;
    if (!ec) leaves = hasher.leaves();
    asio::post(io_, [this, piece = a.piece, leaves = std::move(leaves)]() mutable {
      struct Done {
        TorrentSession* self;
        ~Done() { self->job_done(); }
      } done{this};
      if (closing_) return;
      core_->on_piece_leaves(piece, std::move(leaves));
      perform_actions();
    });
  });
}

void TorrentSession::compute_piece_layers() {
  if (layers_computed_ || !on_piece_layers || !info_.has_v1() || !info_.has_v2()) return;
  layers_computed_ = true;
  struct Missing {
    Sha256Digest root;
    std::int64_t offset = 0;
    std::int64_t length = 0;
  };
  std::vector<Missing> missing;
  for (const auto& f : info_.files) {
    if (f.pieces_root && f.length > info_.piece_length && !info_.piece_layers.count(*f.pieces_root))
      missing.push_back({*f.pieces_root, f.offset, f.length});
  }
  if (missing.empty()) return;
  // Stopping cancels it (check_cancel_, as for a check), so a large torrent's stop never waits for it.
  submit([this, missing, piece_length = info_.piece_length, cancel = check_cancel_] {
    auto blocks_per_piece = piece_length / hash::kMerkleBlockSize;
    std::vector<std::pair<Sha256Digest, std::string>> layers;
    std::vector<std::uint8_t> buffer(static_cast<std::size_t>(piece_length));
    for (const auto& m : missing) {
      std::vector<Sha256Digest> layer;
      bool readable = true;
      for (std::int64_t at = 0; at < m.length && readable && !*cancel; at += piece_length) {
        auto bytes = std::min(piece_length, m.length - at);
        PieceIndex piece{static_cast<std::int32_t>((m.offset + at) / piece_length)};
        std::span<std::uint8_t> out(buffer.data(), static_cast<std::size_t>(bytes));
        readable = !storage_->read(piece, 0, out);
        hash::MerklePieceHasher hasher(bytes, blocks_per_piece);
        hasher.update(out);
        layer.push_back(hasher.root());
      }
      // Data that is not there (a file left out) or not what the torrent says: no layer for that file.
      if (readable && !*cancel && hash::merkle_root_from_piece_layer(layer, blocks_per_piece) == m.root)
        layers.emplace_back(m.root, hash::merkle_concat(layer));
    }
    asio::post(io_, [this, layers = std::move(layers)]() mutable {
      struct Done {
        TorrentSession* self;
        ~Done() { self->job_done(); }
      } done{this};
      if (closing_ || layers.empty()) return;
      for (auto& [root, layer] : layers) {
        info_.piece_layers[root] = layer;
        core_->add_piece_layer(root, std::move(layer));  // v2 peers may ask for them now
      }
      if (on_log)
        on_log("piece layers of " + std::to_string(layers.size()) +
               " file(s) computed from the verified data");
      if (on_piece_layers) on_piece_layers(info_.piece_layers);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Connections: sockets and handshakes here; everything after the handshake is the core's.

asio::awaitable<void> TorrentSession::connect_to(Endpoint endpoint, bool holepunch) {
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
  // MSE first unless plain; `prefer` falls back to one plain reconnect when the peer does not speak MSE (it
  // closes on our public key, or answers with garbage), as other clients do.
  // A holepunch dial is one plain attempt: both sides send their handshake first, which MSE cannot do.
  const auto mode = holepunch ? EncryptionMode::plain : context_.encryption;
  std::optional<swarm::PeerFeatures> features;
  bool connected = false;
  // uTP first when the session has it (Transport::both falls back to TCP when uTP does not answer); the
  // plain reconnect below keeps whichever transport worked. A holepunch dial goes out from our listen port
  // either way: uTP's socket is the session's UDP socket, bound to it; TCP binds to it (see dial()).
  bool use_utp = context_.utp != nullptr && context_.transport != Transport::tcp;
  bool may_dial = !holepunch || context_.encryption != EncryptionMode::require;
  for (int attempt = 0; attempt < 2 && may_dial && !features && !stopping_; ++attempt) {
    bool mse = attempt == 0 && mode != EncryptionMode::plain;
    if (attempt == 1) {
      if (mode != EncryptionMode::prefer || !connected) break;
      boost::system::error_code ignored;
      peer->socket.close(ignored);
      peer->socket = tcp::socket(io_);
      peer->reader = wire::MessageReader();
      peer->cipher = crypto::StreamCipher();
    }
    if (on_log)
      on_log(endpoint.to_string() + (mse         ? " dialling (MSE)"
                                     : holepunch ? " dialling (holepunch)"
                                                 : " dialling (plain)"));
    bool ok = co_await dial(*peer, mse, connected, use_utp, holepunch);
    if (!ok && holepunch && on_log)
      on_log(endpoint.to_string() + (connected ? " holepunch: no handshake" : " holepunch: no connection"));
    undial.connected();
    if (ok && !stopping_) features = co_await read_handshake(*peer);
  }
  undial.handshake_done();
  if (!features || stopping_) {
    boost::system::error_code ignored;
    peer->socket.close(ignored);
    core_->on_dial_failed(endpoint, Clock::now(), holepunch);
    perform_actions();
    co_return;
  }
  if (!join(peer, *features)) co_return;
  co_await read_loop(peer);
}

void TorrentSession::adopt_incoming(PeerStream socket, Endpoint remote, wire::MessageReader reader,
                                    const wire::Handshake& handshake, crypto::StreamCipher cipher) {
  boost::system::error_code ignored;
  // Before the check has finished we have nothing to say (the bitfield is unknown yet): a few such peers wait
  // for it, answered once it is over, as a listen backlog would have kept them.
  if (!running_ && !stopping_ && state_ == TorrentState::checking && parked_.size() < kMaxParkedIncoming) {
    parked_.push_back({std::move(socket), remote, std::move(reader), handshake, cipher});
    return;
  }
  if (stopping_ || !running_ || state_ == TorrentState::error || !core_->accepts_incoming(remote)) {
    socket.close(ignored);
    return;
  }
  if (handshake.peer_id == peer_id_) {
    // We dialled ourselves (our own address came back from a tracker): never again. The dialling side was us,
    // at our listen address.
    Endpoint self = remote;
    self.port = listen_port_;
    core_->on_self_connection(self);
    socket.close(ignored);
    return;
  }
  auto peer = std::make_shared<Peer>(std::move(socket));
  peer->remote = remote;
  peer->reader = std::move(reader);
  peer->cipher = cipher;
  peer->socket.set_option(tcp::no_delay(true), ignored);
  spawn(
      answer_incoming(peer, swarm::PeerFeatures{handshake.supports_fast(), handshake.supports_extensions()}));
}

asio::awaitable<void> TorrentSession::answer_incoming(PeerPtr peer, swarm::PeerFeatures features) {
  if (!co_await write_handshake(*peer) || stopping_) {
    boost::system::error_code ignored;
    peer->socket.close(ignored);
    co_return;
  }
  if (!join(peer, features)) co_return;
  co_await read_loop(peer);
}

asio::awaitable<bool> TorrentSession::dial(Peer& peer, bool mse, bool& connected, bool& use_utp,
                                           bool holepunch) {
  bool open = false;
  if (use_utp) {
    // The uTP connection times out by itself (SYN retransmissions), sooner than kConnectTimeout.
    auto [ec, utp] = co_await context_.utp->connect(peer.remote);
    if (stopping_) co_return false;
    if (!ec) {
      peer.socket = PeerStream(std::move(utp));
      open = true;
    } else if (context_.transport == Transport::both) {
      if (on_log) on_log(peer.remote.to_string() + " uTP: " + ec.message() + ", trying TCP");
      use_utp = false;
    } else {
      co_return false;
    }
  }
  if (!open && holepunch) {
    auto ec = session::bind_to_listen_port(peer.socket.tcp(), peer.remote, listen_port_);
    if (ec) {
      if (on_log)
        on_log(peer.remote.to_string() + " holepunch: cannot dial from our listen port: " + ec.message());
      co_return false;
    }
  }
  if (!open) {
    asio::steady_timer timeout(io_);
    timeout.expires_after(holepunch ? kHolepunchConnectTimeout : kConnectTimeout);
    auto* socket = &peer.socket;
    timeout.async_wait([socket](boost::system::error_code ec) {
      if (!ec) socket->close();
    });
    auto [ec] = co_await peer.socket.tcp().async_connect(net::to_asio<tcp>(peer.remote), kToken);
    timeout.cancel();
    if (ec || stopping_) {
      boost::system::error_code ignored;
      peer.socket.close(ignored);
      co_return false;
    }
  }
  connected = true;
  boost::system::error_code ignored;
  peer.socket.set_option(tcp::no_delay(true), ignored);
  // (g++ 12 miscompiles co_await inside ?:)
  if (mse) co_return co_await encrypt_outgoing(peer);
  co_return co_await write_handshake(peer);
}

asio::awaitable<bool> TorrentSession::encrypt_outgoing(Peer& peer) {
  auto ours = wire::encode_handshake(our_handshake());
  auto mse = crypto::MseHandshake::initiator(info_.info_hash, mse_crypto_provide(context_.encryption), ours,
                                             random_mse_secrets());
  asio::steady_timer timeout(io_);
  timeout.expires_after(kHandshakeTimeout);
  auto* socket = &peer.socket;
  timeout.async_wait([socket](boost::system::error_code ec) {
    if (!ec) socket->close();
  });
  auto cipher = co_await run_mse(peer.socket, mse, {}, peer.reader);
  timeout.cancel();
  if (!cipher) {
    if (on_log) on_log(peer.remote.to_string() + " " + cipher.error());
    co_return false;
  }
  peer.cipher = *cipher;
  co_return true;
}

wire::Handshake TorrentSession::our_handshake() const {
  wire::Handshake h;
  h.info_hash = info_.info_hash;
  h.peer_id = peer_id_;
  h.set_extensions(true);
  h.set_fast(true);
  h.set_v2(info_.has_v2());  // BEP 52: we can answer hash requests for this torrent
  return h;
}

asio::awaitable<bool> TorrentSession::write_handshake(Peer& peer) {
  auto bytes = wire::encode_handshake(our_handshake());
  peer.cipher.encrypt(bytes);
  asio::steady_timer timeout(io_);
  timeout.expires_after(kHandshakeTimeout);
  auto* socket = &peer.socket;
  timeout.async_wait([socket](boost::system::error_code ec) {
    if (!ec) socket->close();
  });
  auto [ec, n] = co_await asio::async_write(peer.socket, asio::buffer(bytes), kToken);
  timeout.cancel();
  co_return !ec;
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
    auto room = peer.reader.prepare(kReadChunk);
    auto [ec, n] = co_await peer.socket.async_read_some(as_buffer(room), kToken);
    if (ec) co_return std::nullopt;
    peer.cipher.decrypt(room.first(n));
    peer.reader.commit(n);
  }
  timeout.cancel();
  auto h = wire::decode_handshake(*bytes);
  if (!h || h->info_hash != info_.info_hash) co_return std::nullopt;
  if (h->peer_id == peer_id_) {
    // We dialled ourselves (our own address came back from a tracker): never again.
    Endpoint self = peer.remote;
    if (!peer.outgoing) self.port = listen_port_;  // the dialling side was us, at our listen address
    core_->on_self_connection(self);
    co_return std::nullopt;
  }
  co_return swarm::PeerFeatures{h->supports_fast(), h->supports_extensions()};
}

bool TorrentSession::join(const PeerPtr& peer, swarm::PeerFeatures features) {
  auto id = core_->on_peer_connected(peer->remote, peer->outgoing, features, Clock::now());
  if (!id) {
    if (on_log) on_log(peer->remote.to_string() + " refused: " + id.error());
    boost::system::error_code ignored;
    peer->socket.close(ignored);
    perform_actions();
    return false;
  }
  peer->id = *id;
  peers_[*id] = peer;
  context_.connections->connection_opened();
  spawn(write_loop(peer));
  perform_actions();
  return true;
}

asio::awaitable<void> TorrentSession::read_loop(PeerPtr peer) {
  // Bytes that arrived with the handshake are already buffered.
  while (!peer->closed) {
    for (;;) {
      auto message = peer->reader.next();
      if (!message) {
        drop(*peer, message.error().message());
        break;
      }
      if (!*message) break;
      bool open = core_->on_message(peer->id, **message, Clock::now());
      perform_actions();
      if (!open) {
        drop(*peer, "closed");  // normally closed already, by the core's Disconnect
        break;
      }
    }
    if (peer->closed) break;
    core_->on_messages_done(peer->id);
    perform_actions();
    // Back-pressure: a peer whose queue is full is not read (it cannot ask for more) until the queue drains.
    while (!peer->closed && core_->reading_paused(peer->id)) {
      peer->read_paused = true;
      peer->read_signal.expires_at(Clock::time_point::max());
      co_await peer->read_signal.async_wait(kToken);
    }
    peer->read_paused = false;
    if (peer->closed) break;
    auto room = peer->reader.prepare(kReadChunk);
    auto [ec, n] = co_await peer->socket.async_read_some(as_buffer(room), kToken);
    if (ec) {
      drop(*peer, ec == asio::error::eof ? "closed by peer" : ec.message());
      break;
    }
    peer->cipher.decrypt(room.first(n));
    peer->reader.commit(n);
    if (!down_limit_.unlimited()) co_await down_limit_.consume(static_cast<std::int64_t>(n));
    if (!context_.global_download->unlimited())
      co_await context_.global_download->consume(static_cast<std::int64_t>(n));
  }
  drop(*peer, "done");
}

asio::awaitable<void> TorrentSession::write_loop(PeerPtr peer) {
  std::vector<std::uint8_t> sending;
  std::vector<asio::const_buffer> buffers;
  std::vector<swarm::SendQueue::Block> batch;
  while (!peer->closed) {
    if (!core_->take_output(peer->id, sending, batch, kMaxSendBatch, Clock::now())) {
      peer->write_signal.expires_at(Clock::time_point::max());
      co_await peer->write_signal.async_wait(kToken);
      continue;
    }
    std::int64_t payload = 0;
    buffers.clear();
    if (!sending.empty()) buffers.emplace_back(asio::buffer(sending));
    for (const auto& s : batch) {
      buffers.emplace_back(asio::buffer(s.message));
      payload += s.request.length;
    }
    if (!up_limit_.unlimited() && payload > 0) co_await up_limit_.consume(payload);
    if (!context_.global_upload->unlimited() && payload > 0)
      co_await context_.global_upload->consume(payload);
    if (peer->closed) break;
    if (peer->cipher.encrypts()) {
      // RC4 over the whole batch into the peer's own buffer: the queued blocks may be shared with other
      // peers.
      peer->encrypted.resize(asio::buffer_size(buffers));
      std::size_t at = 0;
      for (const auto& b : buffers) {
        peer->cipher.encrypt(std::span(static_cast<const std::uint8_t*>(b.data()), b.size()),
                             peer->encrypted.data() + at);
        at += b.size();
      }
      buffers.assign(1, asio::buffer(peer->encrypted));
    }
    // Written piecewise so that progress is seen: a peer that stops reading is noticed by the stall timeout
    // (PeerProtocol::on_tick), however large the batch.
    boost::beast::buffers_suffix<std::vector<asio::const_buffer>> rest(buffers);
    boost::system::error_code ec;
    while (asio::buffer_size(rest) > 0) {
      auto [wec, n] = co_await peer->socket.async_write_some(rest, kToken);
      if (wec) {
        ec = wec;
        break;
      }
      rest.consume(n);
      core_->on_bytes_sent(peer->id, Clock::now());
    }
    batch.clear();
    if (ec) {
      drop(*peer, "write failed: " + ec.message());
      break;
    }
    core_->on_write_done(peer->id, payload, Clock::now());
    perform_actions();
    wake_reader(*peer);  // room again: read what it says next
  }
}

void TorrentSession::wake_reader(Peer& peer) {
  if (peer.read_paused) peer.read_signal.cancel();
}

void TorrentSession::drop(Peer& peer, const std::string& reason) {
  if (peer.closed) return;
  auto id = peer.id;
  close_socket(peer);
  if (id == swarm::kNoPeer) return;
  core_->on_peer_closed(id, reason, Clock::now());
  perform_actions();
}

void TorrentSession::close_socket(Peer& peer) {
  if (peer.closed) return;
  peer.closed = true;
  boost::system::error_code ignored;
  peer.socket.shutdown(tcp::socket::shutdown_both, ignored);
  peer.socket.close(ignored);
  peer.write_signal.cancel();
  peer.read_signal.cancel();
  if (peer.id != swarm::kNoPeer && peers_.erase(peer.id)) context_.connections->connection_closed();
}

// ---------------------------------------------------------------------------------------------------------------
// Resume data and errors.

bool TorrentSession::resume_needs_saving() const {
  if (rechecked_ || core_->resume_dirty()) return true;
  if (options_.resume_sink) return !resume_handed_;
  std::error_code ec;
  return !std::filesystem::exists(options_.resume_file, ec);
}

void TorrentSession::save_resume(bool sync) {
  if (!keeps_resume()) return;
  storage::ResumeData data;
  data.info_hash = info_.info_hash;
  data.have = core_->have();
  data.downloaded = core_->total_downloaded();
  data.uploaded = core_->total_uploaded();
  data.unfinished = write_unfinished_blocks();
  // Stamps are taken after the data is flushed, so they describe exactly what the bitfield claims. Data
  // not flushed (an I/O error) is not vouched for: the last saved resume data stays, the next save retries.
  if (sync && storage_->sync()) return;
  data.files = storage_->file_stamps();
  if (options_.resume_sink) {
    options_.resume_sink(storage::encode_resume(data));
    resume_handed_ = true;
  } else {
    std::error_code ec;
    std::filesystem::create_directories(options_.resume_file.parent_path(), ec);
    runtime::write_file_atomically(options_.resume_file, storage::encode_resume(data));
  }
  core_->mark_resume_saved();
  rechecked_ = false;
}

// Blocks of unfinished pieces go to disk as resume data is saved (those not there yet: what arrived since the
// last save), before the sync and the stamps, which then cover them too. Written on this thread like the
// sync that follows: at most what arrived in one save period (kTicksPerResumeSave), from buffers only this
// thread may touch. A piece whose blocks cannot be written is left out (hashed whole from what arrives).
std::vector<storage::UnfinishedPiece> TorrentSession::write_unfinished_blocks() {
  std::vector<storage::UnfinishedPiece> out;
  for (auto& u : core_->unfinished()) {
    bool ok = true;
    for (std::int32_t b = 0; b < u.received.size() && ok; ++b) {
      PieceIndex block{b};
      if (!u.received.test(block) || u.on_disk.test(block)) continue;
      // A run of blocks not yet on disk, in one write.
      std::int32_t end = b + 1;
      while (end < u.received.size() && u.received.test(PieceIndex{end}) && !u.on_disk.test(PieceIndex{end}))
        ++end;
      auto begin = static_cast<std::size_t>(b) * wire::kBlockSize;
      auto stop = std::min(u.data.size(), static_cast<std::size_t>(end) * wire::kBlockSize);
      ok = !storage_->write_blocks(u.piece, static_cast<std::int64_t>(begin),
                                   u.data.subspan(begin, stop - begin));
      b = end - 1;
    }
    if (!ok) continue;
    core_->mark_blocks_on_disk(u.piece, u.received);
    out.push_back({u.piece, std::move(u.received), std::move(u.leaves)});
  }
  return out;
}

bool TorrentSession::fail_if_deleted() {
  auto gone = storage_->find_deleted_file();
  if (!gone) return false;
  failure_ = FailureKind::file_deleted;
  fail(gone->string() + " was deleted while the torrent was running");
  return true;
}

void TorrentSession::fail(const std::string& message) {
  if (state_ == TorrentState::error) return;
  bool checking = !running_;
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
  core_->halt(message);
  perform_actions();
  if (on_error) on_error(message);
}

// ---------------------------------------------------------------------------------------------------------------
// Time.

// The session's one-second timer drives every torrent: 10,000 torrents cost one timer, not 10,000 coroutines
// and timers each waking up once a second.
void TorrentSession::on_tick() {
  if (!running_ || stopping_ || state_ == TorrentState::error) return;
  tick();
}

void TorrentSession::tick() {
  ++ticks_;
  core_->on_tick(Clock::now(), [this](swarm::PeerId id) {
    auto it = peers_.find(id);
    // A message held up by our own back-pressure is not the peer's delay.
    return it != peers_.end() && it->second->reader.partial() && !it->second->read_paused;
  });
  perform_actions();
  if (stopping_ || state_ == TorrentState::error) return;
  for (auto& [id, p] : peers_)
    wake_reader(*p);  // it may owe us blocks now, or its rate (and so its queue's room) changed
  // A file deleted under us matters at once while data moves; an idle seed is looked at less often (one stat
  // per file: 10,000 idle torrents must not cost 10,000 stats a second).
  bool idle = peers_.empty() && core_->is_complete();
  if (ticks_ % (idle ? kTicksPerIdleDeletedCheck : kTicksPerDeletedCheck) == 0) {
    if (fail_if_deleted()) return;
  }
  if (core_->resume_dirty() && ticks_ % kTicksPerResumeSave == 0) save_resume(true);
}

asio::awaitable<void> TorrentSession::announce(torrent::Announce action) {
  auto result = co_await announce_to(action.url, action.request);
  core_->on_announce_done(action.id, result, Clock::now());
  perform_actions();
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
// Stopping.

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
  if (!was_error_ && running_ && keeps_resume() && resume_needs_saving()) save_resume(true);
  // A torrent waiting for its turn to check gives up its place.
  context_.checks->cancel(check_ticket_);
  check_slot_.cancel();
  // Posted: stop() may be called while a caller up the stack walks the peers. The torrent cannot drain (nor
  // be destroyed) before begin_close has run.
  asio::post(io_, [this] { stop_core(); });
}

// The core closes its connections and tells trackers `stopped` (StopAnnounced: begin_close).
void TorrentSession::stop_core() {
  if (running_ && state_ != TorrentState::error) {
    core_->stop(Clock::now());
    perform_actions();
  } else {
    begin_close();
  }
}

// Trackers are told: close every connection and timer; what is still in flight finishes on its own.
void TorrentSession::begin_close() {
  if (closing_) return;
  closing_ = true;
  core_->halt("stopping");
  perform_actions();
  boost::system::error_code ignored;
  for (const auto& p : dialling_)
    p->socket.close(ignored);
  for (auto& p : parked_)
    p.socket.close(ignored);
  parked_.clear();
  close_web_seeds();
  std::vector<PeerPtr> all;
  for (auto& [id, p] : peers_)
    all.push_back(p);
  for (auto& p : all)
    close_socket(*p);
  maybe_drained();
}

// Nothing of this torrent is in flight any more: writes done (the resume data covers every piece verified
// before the stop), so save, and tell whoever waits.
void TorrentSession::maybe_drained() {
  if (!closing_ || coroutines_ > 0 || jobs_ > 0) return;
  if (!drained_) {
    drained_ = true;
    if (!was_error_ && running_ && state_ != TorrentState::error && keeps_resume() && resume_needs_saving()) {
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
