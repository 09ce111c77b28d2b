#include "torrent/torrent.hpp"

#include "hash/merkle.hpp"

#include <algorithm>
#include <cstring>

#include "wire/extension_handshake.hpp"
#include "wire/message.hpp"
#include "wire/ut_metadata.hpp"
#include "wire/ut_pex.hpp"

namespace shoal::torrent {
namespace {

// Distinct pieces among a peer's oldest queued requests that one serve pass looks at.
constexpr std::size_t kServeLookahead = 8;

double ema(double old_rate, std::int64_t bytes_this_second) {
  return old_rate * 0.6 + static_cast<double>(bytes_this_second) * 0.4;
}

// For the close log: the path's round trip as the peer's request window measured it.
std::string rtt_note(const swarm::PeerProtocol& protocol) {
  auto rtt = protocol.window().path_rtt();
  if (!rtt) return "";
  return ", round trip " +
         std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(*rtt).count()) + " ms";
}

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

Torrent::Torrent(Params params, Mediator& mediator, Clock::time_point now)
    : params_(std::move(params)),
      mediator_(mediator),
      picker_(params_.num_pieces, params_.piece_length, params_.total_size, params_.seed),
      choker_(params_.seed ^ 0x9e3779b97f4a7c15ULL),
      trackers_(params_.trackers, params_.seed ^ 0x2545f4914f6cdd1dULL, params_.announce_to_all_tiers),
      tracker_key_(static_cast<std::uint32_t>(params_.seed >> 17)) {
  picker_.set_sequential(params_.sequential);
  now_ = now;
  if (params_.fetch_metadata) metadata_fetch_.emplace(params_.info_hash);
  if (params_.metainfo) {
    const auto& info = *params_.metainfo;
    for (std::size_t i = 0; i < info.files.size(); ++i) {
      const auto& f = info.files[i];
      if (!f.pieces_root) continue;
      v2_files_.emplace(*f.pieces_root, i);
      // A hybrid is verified by its v1 half: it never waits for layers (its v1-only peers have none to give).
      if (info.has_v1() || f.length <= info.piece_length || info.piece_layers.count(*f.pieces_root)) continue;
      // Missing: asked for in aligned runs of kLayerChunkHashes at the piece layer (the last one shorter,
      // padded to a power of two), each with the uncles that lead from the run's subtree up to the pieces
      // root we hold; a layer of up to kLayerChunkHashes entries is one run with no uncles.
      LayerFetch fetch;
      fetch.pieces = (f.length + info.piece_length - 1) / info.piece_length;
      fetch.layer.resize(static_cast<std::size_t>(fetch.pieces));
      auto blocks_per_piece = info.piece_length / hash::kMerkleBlockSize;
      auto width = hash::merkle_num_leaves(hash::merkle_num_blocks(f.length)) / blocks_per_piece;
      auto width_levels = static_cast<std::uint32_t>(hash::merkle_log2(width));
      for (std::int64_t index = 0; index < fetch.pieces; index += kLayerChunkHashes) {
        LayerChunk chunk;
        chunk.request.pieces_root = *f.pieces_root;
        chunk.request.base_layer = static_cast<std::uint32_t>(hash::merkle_log2(blocks_per_piece));
        chunk.request.index = static_cast<std::uint32_t>(index);
        chunk.request.length = static_cast<std::uint32_t>(std::min<std::int64_t>(
            kLayerChunkHashes, hash::merkle_num_leaves(std::max<std::int64_t>(fetch.pieces - index, 2))));
        // Uncles from the run's subtree root up to the root's children (none when the run is the layer).
        chunk.request.proof_layers = width_levels - 1;
        fetch.chunks.push_back(chunk);
      }
      fetch.chunks_left = fetch.chunks.size();
      layers_missing_.emplace(*f.pieces_root, fetch);
    }
  }
}

Torrent::~Torrent() {
  drop_cache();
}

Torrent::Peer* Torrent::find(PeerId id) {
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : &it->second;
}

const Torrent::Peer* Torrent::find(PeerId id) const {
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : &it->second;
}

const Endpoint* Torrent::remote(PeerId id) const {
  const auto* p = find(id);
  return p ? &p->remote : nullptr;
}

const swarm::PeerProtocol* Torrent::protocol(PeerId id) const {
  const auto* p = find(id);
  return p ? &p->protocol : nullptr;
}

void Torrent::set_rates_for_test(PeerId id, double down, double up) {
  if (auto* p = find(id)) {
    p->down_rate = down;
    p->up_rate = up;
  }
}

swarm::TorrentView Torrent::view() {
  return {picker_, phase_ == Phase::downloading, phase_ == Phase::seeding};
}

int Torrent::upload_slots() const {
  return std::min(params_.upload_slots, mediator_.upload_slots());
}

// ---------------------------------------------------------------------------------------------------------------
// Before start, and lifetime.

void Torrent::mark_have(PieceIndex piece) {
  picker_.mark_have(piece);
}

void Torrent::set_piece_priority(PieceIndex piece, std::uint8_t priority) {
  picker_.set_piece_priority(piece, priority);
}

std::optional<std::string> Torrent::restore_unfinished(PieceIndex piece, const swarm::Bitfield& blocks,
                                                       std::vector<std::uint8_t> data) {
  if (phase_ != Phase::checking || metadata_fetch_) return "the torrent has started";
  if (piece.get() < 0 || piece.get() >= picker_.num_pieces()) return "no such piece";
  if (picker_.has(piece)) return "the piece is verified already";
  if (picker_.priority(piece) == 0) return "the piece is not wanted";
  if (static_cast<std::int64_t>(data.size()) != picker_.piece_size(piece)) return "data of the wrong size";
  if (!picker_.restore_blocks(piece, blocks)) return "blocks that do not fit the piece, or restored already";
  on_disk_[piece] = blocks;
  assembling_[piece] = std::move(data);
  if (blocks.all()) piece_complete(piece);
  return std::nullopt;
}

std::vector<Torrent::Unfinished> Torrent::unfinished() const {
  std::vector<Unfinished> out;
  for (const auto& [piece, buffer] : assembling_) {
    auto received = picker_.received_blocks(piece);
    if (received.size() == 0 || received.none()) continue;
    Unfinished u;
    u.piece = piece;
    u.received = std::move(received);
    auto disk = on_disk_.find(piece);
    u.on_disk = disk != on_disk_.end() ? disk->second : swarm::Bitfield(u.received.size());
    u.data = buffer;
    if (auto leaves = proven_leaves_.find(piece); leaves != proven_leaves_.end()) {
      u.leaves = leaves->second;
      u.leaves.resize(static_cast<std::size_t>(u.received.size()));  // pad blocks: zero leaves
    }
    out.push_back(std::move(u));
  }
  std::sort(out.begin(), out.end(),
            [](const Unfinished& a, const Unfinished& b) { return a.piece < b.piece; });
  return out;
}

void Torrent::mark_blocks_on_disk(PieceIndex piece, const swarm::Bitfield& blocks) {
  if (!assembling_.count(piece)) return;  // completed (or failed) meanwhile: its entry is gone
  auto& disk = on_disk_[piece];
  if (disk.size() != blocks.size()) disk = swarm::Bitfield(blocks.size());
  for (std::int32_t b = 0; b < blocks.size(); ++b) {
    if (blocks.test(PieceIndex{b})) disk.set(PieceIndex{b});
  }
}

void Torrent::start(Clock::time_point now) {
  now_ = std::max(now_, now);
  if (phase_ != Phase::checking) return;
  phase_ = picker_.is_complete() && !metadata_fetch_ ? Phase::seeding : Phase::downloading;
  if (phase_ == Phase::seeding) check_complete(now);
  if (params_.use_trackers && !trackers_.empty()) begin_announce(tracker::AnnounceEvent::started, now);
  connect_more(now);
}

void Torrent::stop(Clock::time_point now) {
  now_ = std::max(now_, now);
  if (phase_ == Phase::stopping || phase_ == Phase::halted) return;
  bool announce = params_.use_trackers && !trackers_.empty() && phase_ != Phase::checking;
  phase_ = Phase::stopping;
  std::vector<PeerId> all;
  for (const auto& [id, p] : peers_)
    all.push_back(id);
  for (auto id : all)
    close(id, "stopping", true);
  if (!announce) {
    phase_ = Phase::halted;
    emit(StopAnnounced{});
    return;
  }
  // A walk in flight is abandoned: its answer, if it comes, is ignored (on_announce_done checks the url).
  walk_.reset();
  begin_announce(tracker::AnnounceEvent::stopped, now);
}

void Torrent::halt(const std::string& reason) {
  disk_results_dropped_ = true;
  if (phase_ == Phase::halted) return;
  phase_ = Phase::halted;
  drop_cache();
  walk_.reset();
  std::vector<PeerId> all;
  for (const auto& [id, p] : peers_)
    all.push_back(id);
  for (auto id : all)
    close(id, "torrent stopped: " + reason, true);
}

// ---------------------------------------------------------------------------------------------------------------
// Peers.

bool Torrent::is_banned(const Endpoint& endpoint) const {
  return banned_.count(endpoint.address) || banned_loopback_.count(endpoint);
}

void Torrent::add_peer(const Endpoint& endpoint, swarm::PeerSource source, Clock::time_point now,
                       PeerId via) {
  now_ = std::max(now_, now);
  if (is_banned(endpoint) || banned_self_.count(endpoint)) return;
  peer_list_.add(endpoint, source, now, via);
}

bool Torrent::accepts_incoming(const Endpoint& remote) const {
  if (!active() || is_banned(remote)) return false;
  if (static_cast<int>(peers_.size()) < connection_limit()) return mediator_.may_accept();
  // This torrent's slots are all taken: room is made for it at the expense of the least useful peer, if any
  // (on_peer_connected); the session's count does not change.
  return least_useful_peer(now_) != swarm::kNoPeer;
}

int Torrent::connection_limit() const {
  return std::min(params_.max_connections, mediator_.connection_limit());
}

PeerId Torrent::least_useful_peer(Clock::time_point now) const {
  std::vector<swarm::EvictionCandidate> candidates;
  candidates.reserve(peers_.size());
  for (const auto& [id, p] : peers_) {
    const auto& pr = p.protocol;
    candidates.push_back({id, now - p.connected_at, pr.am_interested(), pr.peer_interested(),
                          !pr.peer_choking() && !pr.outstanding().empty(),
                          !pr.am_choking() && pr.peer_interested(), p.down_rate, p.up_rate});
  }
  return swarm::least_useful(candidates);
}

void Torrent::on_self_connection(const Endpoint& listen_endpoint) {
  banned_self_.insert(listen_endpoint);
  peer_list_.remove(listen_endpoint);
}

Expected<PeerId, std::string> Torrent::on_peer_connected(const Endpoint& remote, bool outgoing,
                                                         swarm::PeerFeatures features,
                                                         Clock::time_point now) {
  now_ = std::max(now_, now);
  if (outgoing) {
    connecting_.erase(remote);
    holepunch_dialling_.erase(remote);
    peer_list_.on_connected(remote, now);
  }
  auto refuse = [&](std::string reason) -> Expected<PeerId, std::string> {
    if (outgoing) peer_list_.on_disconnected(remote, now);
    return unexpected(std::move(reason));
  };
  if (!active()) return refuse("stopping");
  if (is_banned(remote)) return refuse("banned");
  // A cap on connections from one address (loopback exempt, see PeerList), for incoming and outgoing alike.
  int same_address = 0;
  for (const auto& [id, p] : peers_)
    same_address += p.remote.address == remote.address ? 1 : 0;
  if (!swarm::PeerList::address_allowed(remote, same_address))
    return refuse("too many connections from one address");
  // Every slot taken (accepts_incoming said yes): the least useful peer makes room for this one.
  if (!outgoing && static_cast<int>(peers_.size()) >= connection_limit()) {
    auto evict = least_useful_peer(now);
    if (evict == swarm::kNoPeer) return refuse("too many connections");
    close(evict, "replaced by a newcomer", true);
  }
  PeerId id = next_peer_id_++;
  auto [it, inserted] = peers_.try_emplace(id, now);
  auto& peer = it->second;
  peer.remote = remote;
  peer.outgoing = outgoing;
  peer.connected_at = now;
  peer.protocol.start({id, params_.num_pieces, features, !params_.is_private, !params_.is_private});
  if (params_.log) log(remote.to_string() + (outgoing ? " connected (outgoing)" : " connected (incoming)"));
  send_greeting(peer);
  wake(id, peer);
  return id;
}

void Torrent::on_dial_failed(const Endpoint& endpoint, Clock::time_point now, bool holepunch) {
  now_ = std::max(now_, now);
  if (holepunch) {
    holepunch_dialling_.erase(endpoint);  // and nobody is asked again
    return;
  }
  connecting_.erase(endpoint);
  request_rendezvous(endpoint);  // an address behind NAT may be reached through a relay (BEP 55)
  peer_list_.on_dial_failed(endpoint, now);
}

void Torrent::on_peer_closed(PeerId id, const std::string& reason, Clock::time_point now) {
  now_ = std::max(now_, now);
  close(id, reason, false);
}

void Torrent::close(PeerId id, std::string reason, bool tell_driver) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  auto& peer = it->second;
  if (metadata_fetch_) metadata_fetch_->on_peer_gone(id);
  layer_liars_.erase(id);  // ids are never reused; its runs are asked of others at the next tick
  layer_asks_.erase(id);
  const auto& client = peer.protocol.client();
  if (peer.protocol.is_seed() && peer.outgoing) known_seeds_.insert(peer.remote);
  if (peer.outgoing) peer_list_.on_disconnected(peer.remote, now_);
  if (params_.log) {
    log(peer.remote.to_string() + (client.empty() ? "" : " (" + client + ")") + " closed: " + reason +
        "; got " + std::to_string(peer.downloaded) + " B, sent " + std::to_string(peer.uploaded) +
        " B; requests in flight at most " + std::to_string(peer.protocol.peak_outstanding()) +
        rtt_note(peer.protocol));
  }
  peer.protocol.release(picker_);
  peers_.erase(it);
  if (tell_driver) emit(Disconnect{id, std::move(reason)});
}

void Torrent::send(Peer& peer, const wire::Message& message) {
  wire::encode(message, peer.out);
}

void Torrent::send_extended(Peer& peer, std::uint8_t id, const std::string& payload) {
  send(peer, wire::Extended{id, bytes_of(payload)});
}

void Torrent::flush(Peer& peer) {
  auto messages = peer.protocol.outbox();
  if (messages.empty()) return;
  for (const auto& m : messages)
    wire::encode(m, peer.out);
  peer.protocol.clear_outbox();
}

void Torrent::wake(PeerId id, Peer& peer) {
  if (peer.wake_queued || (peer.out.empty() && peer.sends.empty())) return;
  peer.wake_queued = true;
  emit(Writable{id});
}

void Torrent::send_greeting(Peer& peer) {
  const auto& features = peer.protocol.features();
  if (features.extensions) {
    swarm::OurExtensions ours;
    ours.is_private = params_.is_private;  // BEP 27: no ut_metadata, no ut_pex
    ours.metadata_size = static_cast<std::int64_t>(params_.info_bytes.size());
    ours.client = params_.client;
    ours.listen_port = params_.listen_port;
    ours.reqq = params_.reqq;
    if (!peer.remote.v6)
      ours.yourip = std::string(reinterpret_cast<const char*>(peer.remote.address.data()), 4);
    std::string payload = wire::encode_extension_handshake(swarm::our_extension_handshake(ours));
    send_extended(peer, 0, payload);
  }
  const auto& have = picker_.have();
  if (metadata_fetch_) {
    // Nothing yet (and an empty bitfield would read as "all of nothing": a seed).
    if (features.fast) send(peer, wire::HaveNone{});
  } else if (features.fast && have.all()) {
    send(peer, wire::HaveAll{});
  } else if (features.fast && have.none()) {
    send(peer, wire::HaveNone{});
  } else if (!have.none()) {
    send(peer, wire::Bitfield{have.wire()});
  }
}

bool Torrent::on_message(PeerId id, const wire::Message& message, Clock::time_point now) {
  now_ = std::max(now_, now);
  auto* peer = find(id);
  if (!peer) return false;
  if (metadata_fetch_ &&
      (std::holds_alternative<wire::Bitfield>(message) || std::holds_alternative<wire::Have>(message) ||
       std::holds_alternative<wire::HaveAll>(message) || std::holds_alternative<wire::HaveNone>(message))) {
    return true;  // its pieces mean nothing before we know how many there are
  }
  auto event = peer->protocol.on_message(message, now, view());
  drop_unsent(*peer);  // a not-interested chokes it
  flush(*peer);
  bool open = handle_event(id, *peer, event, now);
  if (open) {
    if (const auto* r = std::get_if<wire::HashRequest>(&message)) {
      on_hash_request(id, *peer, *r);
    } else if (const auto* h = std::get_if<wire::Hashes>(&message)) {
      on_hashes(id, *h);
    } else if (const auto* j = std::get_if<wire::HashReject>(&message)) {
      on_hash_reject(id, *j);
    }
  }
  if (open) {
    if (auto* p = find(id)) wake(id, *p);
  }
  return open && find(id) != nullptr;
}

bool Torrent::handle_event(PeerId id, Peer& peer, const swarm::PeerProtocol::Event& event,
                           Clock::time_point now) {
  return std::visit(
      [&](const auto& e) -> bool {
        using E = std::decay_t<decltype(e)>;
        using P = swarm::PeerProtocol;
        if constexpr (std::is_same_v<E, P::Close>) {
          close(id, std::string(e.reason), true);
          return false;
        } else if constexpr (std::is_same_v<E, P::PeerInterested>) {
          on_interested(id, peer, now);
        } else if constexpr (std::is_same_v<E, P::BlockReceived>) {
          on_block(id, peer, e.block, e.data);
        } else if constexpr (std::is_same_v<E, P::ServeRequest>) {
          // Served once the messages that arrived together are handled (on_messages_done): one pass for many.
        } else if constexpr (std::is_same_v<E, P::RequestCancelled>) {
          // Not sent after all: BEP 6 wants a reject for it (a block already on the wire is its own answer).
          if (peer.sends.cancel(e.block)) {
            peer.protocol.reject_unsent({&e.block, 1});
            flush(peer);
          }
        } else if constexpr (std::is_same_v<E, P::ExtensionMessage>) {
          on_extended(id, peer, e.id, e.payload, now);
        }
        return true;
      },
      event);
}

void Torrent::on_messages_done(PeerId id) {
  auto* peer = find(id);
  if (!peer) return;
  if (metadata_fetch_) request_metadata(id, *peer, now_);
  serve_peer(id, *peer);
  request_more(id, *peer);
  wake(id, *peer);
}

bool Torrent::reading_paused(PeerId id) const {
  const auto* peer = find(id);
  return peer && peer->protocol.reading_paused(peer->queued_bytes(), peer->send_capacity());
}

swarm::ChokeCandidate Torrent::choke_candidate(PeerId id, const Peer& p, Clock::time_point now) {
  return {id,        p.protocol.peer_interested(), p.protocol.snubbed(), p.down_rate,
          p.up_rate, p.protocol.wastes_slot(now)};
}

// An interested peer gets a free slot at once, or the slot of a peer that wastes it (does not read what we
// send, or asks for nothing).
void Torrent::on_interested(PeerId id, Peer& peer, Clock::time_point now) {
  if (!peer.protocol.am_choking()) return;
  std::vector<swarm::ChokeCandidate> unchoked;
  for (const auto& [other, p] : peers_) {
    if (p.protocol.am_choking()) continue;
    unchoked.push_back(choke_candidate(other, p, now));
  }
  if (static_cast<int>(unchoked.size()) < upload_slots()) {
    unchoke(id, peer, now);
    return;
  }
  auto stalled = swarm::Choker::slot_for_newcomer(unchoked);
  auto* holder = find(stalled);
  if (!holder) return;
  choke(stalled, *holder);
  unchoke(id, peer, now);
}

void Torrent::request_more(PeerId id, Peer& peer) {
  // BEP 52: no piece is asked for before every piece layer is known and proven.
  if (fetch_piece_layers(id, peer)) return;
  // Back-pressure: while the disk is behind, stop asking for more; memory stays bounded by the pieces in
  // flight.
  if (writes_in_flight_ >= kMaxWritesInFlight || phase_ != Phase::downloading) return;
  peer.protocol.request_blocks(view(), peer.down_rate, now_, request_limit(id));
  flush(peer);
  wake(id, peer);
}

// The budget is the torrent's, not each peer's: a fast peer far away may hold most of it, but every other
// peer that unchokes us keeps room for the floor, so that a newcomer can show what it can do.
std::size_t Torrent::request_limit(PeerId id) const {
  auto budget =
      static_cast<std::size_t>(std::max<std::int64_t>(params_.request_budget_bytes, 0) / swarm::kBlockSize);
  std::size_t others = 0;
  for (const auto& [other, p] : peers_) {
    if (other == id) continue;
    std::size_t held = p.protocol.outstanding().size();
    if (!p.protocol.peer_choking() && p.protocol.am_interested())
      held = std::max(held, swarm::PeerProtocol::kMinQueueDepth);
    others += held;
  }
  return budget > others ? budget - others : 0;
}

// A block we asked for: account for it, copy it into its piece, cancel it elsewhere in end-game.
void Torrent::on_block(PeerId id, Peer& peer, const swarm::BlockRequest& r,
                       std::span<const std::uint8_t> data) {
  auto bytes = static_cast<std::int64_t>(data.size());
  peer.downloaded += bytes;
  peer.down_this_tick += bytes;
  downloaded_ += bytes;
  down_tick_ += bytes;
  resume_dirty_ = true;

  auto result = picker_.on_block_received(id, r);
  if (!result.accepted) return;
  auto& buffer = assembling_[r.piece];
  if (buffer.empty()) buffer = take_buffer(static_cast<std::size_t>(picker_.piece_size(r.piece)));
  std::memcpy(buffer.data() + r.begin, data.data(), data.size());
  auto cancel_at = [&](PeerId other, Peer& op) {
    if (op.protocol.cancel_request(r)) {
      flush(op);
      wake(other, op);
    }
  };
  if (picker_.in_end_game()) {
    // Requests released from slow peers (release_late_requests) are asked there still, unknown to the picker.
    for (auto& [other, op] : peers_) {
      if (other != id) cancel_at(other, op);
    }
  } else {
    for (auto other : result.cancel_from) {
      if (auto* op = find(other)) cancel_at(other, *op);
    }
  }
  if (result.piece_complete) piece_complete(r.piece);
}

void Torrent::on_extended(PeerId id, Peer& peer, std::uint8_t ext, std::span<const std::uint8_t> payload,
                          Clock::time_point now) {
  if (ext == swarm::kOurUtPexId) {
    on_pex(id, peer, {reinterpret_cast<const char*>(payload.data()), payload.size()}, now);
    return;
  }
  if (ext == swarm::kOurUtHolepunchId) {
    on_holepunch(id, peer, payload, now);
    return;
  }
  if (ext != swarm::kOurUtMetadataId) return;
  auto m = wire::decode_metadata_message(payload);
  auto peer_metadata_id = peer.protocol.ut_metadata_id();
  if (!m || !peer_metadata_id) return;
  if (metadata_fetch_) {
    on_metadata_message(id, peer, *m, now);
    return;
  }
  if (m->type != wire::MetadataMessage::Type::request) return;
  auto answer = peer.protocol.on_metadata_request(now, peer.has_send_room());
  if (answer == swarm::PeerProtocol::MetadataAnswer::ignore) return;
  auto size = static_cast<std::int64_t>(params_.info_bytes.size());
  wire::MetadataMessage reply;
  reply.piece = m->piece;
  auto offset = static_cast<std::int64_t>(m->piece) * wire::kMetadataPieceSize;
  if (offset >= size || answer == swarm::PeerProtocol::MetadataAnswer::reject) {
    reply.type = wire::MetadataMessage::Type::reject;
  } else {
    reply.type = wire::MetadataMessage::Type::data;
    reply.total_size = size;
    auto len = std::min<std::int64_t>(wire::kMetadataPieceSize, size - offset);
    reply.data = {reinterpret_cast<const std::uint8_t*>(params_.info_bytes.data()) + offset,
                  static_cast<std::size_t>(len)};
  }
  std::string bytes = wire::encode_metadata_message(reply);
  send_extended(peer, *peer_metadata_id, bytes);
}

void Torrent::on_pex(PeerId id, Peer& peer, std::string_view payload, Clock::time_point now) {
  auto* pex = peer.protocol.pex();
  if (params_.is_private || !pex) return;
  if (!pex->accept_incoming(now)) {
    if (params_.log) log(peer.remote.to_string() + " pex: ignored, faster than the rate limit");
    return;
  }
  auto m = wire::decode_pex(payload);
  if (!m) {
    if (params_.log) log(peer.remote.to_string() + " pex: " + m.error().message());
    return;
  }
  std::size_t before = peer_list_.size();
  std::size_t taken = 0;
  for (const auto& p : m->added) {
    if (taken++ >= wire::kMaxPexPeersPerMessage) break;
    add_peer(p.endpoint, swarm::PeerSource::pex, now, id);
  }
  if (params_.log) {
    log(peer.remote.to_string() + " pex: " + std::to_string(m->added.size()) + " added, " +
        std::to_string(m->dropped.size()) + " dropped, " + std::to_string(peer_list_.size() - before) +
        " new");
  }
  connect_more(now);
}

// Magnet: the info dictionary's pieces from this peer, or its answer to ours.
void Torrent::on_metadata_message(PeerId id, Peer& peer, const wire::MetadataMessage& m,
                                  Clock::time_point now) {
  using Type = wire::MetadataMessage::Type;
  if (m.type == Type::request) {
    // We have nothing to give yet.
    wire::MetadataMessage reply;
    reply.type = Type::reject;
    reply.piece = m.piece;
    std::string bytes = wire::encode_metadata_message(reply);
    send_extended(peer, *peer.protocol.ut_metadata_id(), bytes);
    return;
  }
  if (m.type == Type::reject) {
    metadata_fetch_->on_reject(id, m.piece, now);
    return;
  }
  auto outcome = metadata_fetch_->on_data(id, m.piece, m.total_size, m.data);
  if (!outcome.problem.empty()) log(peer.remote.to_string() + " ut_metadata: " + outcome.problem);
  for (auto liar : outcome.liars)
    close(liar, "sent metadata that does not match the info-hash", true);
  if (outcome.complete) {
    log("metadata received: " + std::to_string(metadata_fetch_->metadata().size()) + " bytes");
    emit(MetadataReceived{metadata_fetch_->metadata()});
  }
}

void Torrent::request_metadata(PeerId id, Peer& peer, Clock::time_point now) {
  auto their_id = peer.protocol.ut_metadata_id();
  auto size = peer.protocol.metadata_size();
  if (!their_id || !size) return;
  for (auto piece : metadata_fetch_->requests_for(id, *size, now)) {
    wire::MetadataMessage request;
    request.type = wire::MetadataMessage::Type::request;
    request.piece = piece;
    std::string bytes = wire::encode_metadata_message(request);
    send_extended(peer, *their_id, bytes);
  }
  wake(id, peer);
}

std::optional<Endpoint> Torrent::listen_endpoint(const Peer& peer) const {
  if (peer.outgoing) return peer.remote;
  auto port = peer.protocol.listen_port();
  if (!port) return std::nullopt;  // it dialled us from an ephemeral port: not dialable
  Endpoint e = peer.remote;
  e.port = *port;
  return e;
}

void Torrent::send_pex(PeerId id, Peer& peer, Clock::time_point now) {
  auto* pex = peer.protocol.pex();
  auto pex_id = peer.protocol.ut_pex_id();
  if (!pex || !pex_id) return;
  std::vector<wire::PexPeer> current;
  for (const auto& [other_id, other] : peers_) {
    if (other_id == id) continue;
    auto e = listen_endpoint(other);
    if (!e) continue;
    std::uint8_t flags = 0;
    if (other.protocol.is_seed()) flags |= wire::PexFlags::seed;
    if (other.outgoing) flags |= wire::PexFlags::reachable;
    if (other.protocol.ut_holepunch_id()) flags |= wire::PexFlags::holepunch;
    current.push_back({*e, flags});
  }
  const bool due = pex->due(now);
  auto message = pex->next_message(now, current);
  if (!message) {
    // Said in the log so that a reader (or a test) knows the peer hears of nobody new for another minute.
    if (due && params_.log) log(peer.remote.to_string() + " pex: nothing new to tell it");
    return;
  }
  if (params_.log)
    log(peer.remote.to_string() + " pex: told it " + std::to_string(message->added.size()) + " added, " +
        std::to_string(message->dropped.size()) + " dropped");
  std::string bytes = wire::encode_pex(*message);
  send_extended(peer, *pex_id, bytes);
}

void Torrent::choke(PeerId id, Peer& peer) {
  peer.protocol.choke();
  drop_unsent(peer);
  flush(peer);
  wake(id, peer);
}

// Blocks queued for a peer we now choke are not sent; a fast-extension peer is told so (BEP 6).
void Torrent::drop_unsent(Peer& peer) {
  if (!peer.protocol.am_choking() || peer.sends.empty()) return;
  std::vector<swarm::BlockRequest> dropped;
  peer.sends.clear(dropped);
  peer.protocol.reject_unsent(dropped);
}

void Torrent::unchoke(PeerId id, Peer& peer, Clock::time_point now) {
  peer.protocol.unchoke(now);
  flush(peer);
  wake(id, peer);
}

// Who holds an upload slot is the pure swarm::Choker's decision; this applies it.
void Torrent::rechoke(Clock::time_point now) {
  std::vector<swarm::ChokeCandidate> candidates;
  candidates.reserve(peers_.size());
  for (const auto& [id, p] : peers_) {
    candidates.push_back(choke_candidate(id, p, now));
  }
  auto keep = choker_.unchoke_set(candidates, phase_ == Phase::seeding, upload_slots(), ticks_);
  for (auto& [id, p] : peers_) {
    if (keep.count(id)) {
      unchoke(id, p, now);
    } else {
      choke(id, p);
    }
  }
}

void Torrent::connect_more(Clock::time_point now) {
  if (!active()) return;
  if (peer_list_.size() == 0) return;  // nobody to dial (most idle seeds): no work, no allocation
  std::set<Endpoint> connected;
  std::map<std::array<std::uint8_t, 16>, int> per_address;
  for (const auto& [id, p] : peers_) {
    connected.insert(p.remote);
    ++per_address[p.remote.address];
    if (auto e = listen_endpoint(p)) connected.insert(*e);  // an incoming peer's own listen address
  }
  for (const auto& e : connecting_)
    ++per_address[e.address];
  int free_slots = connection_limit() - static_cast<int>(peers_.size() + connecting_.size());
  int dials = std::min({free_slots, kMaxDialsPerTick - dials_this_tick_,
                        static_cast<int>(kMaxHalfOpen) - static_cast<int>(connecting_.size())});
  if (dials <= 0) return;
  auto candidates = peer_list_.dial_candidates(now, static_cast<std::size_t>(dials), [&](const Endpoint& e) {
    return connected.count(e) || connecting_.count(e) || holepunch_dialling_.count(e) || is_banned(e) ||
           banned_self_.count(e) || mediator_.handshaking_with(e) ||
           // Two seeds have nothing to say to each other.
           (phase_ == Phase::seeding && known_seeds_.count(e)) ||
           !swarm::PeerList::address_allowed(e, per_address[e.address]);
  });
  for (const auto& e : candidates) {
    if (!swarm::PeerList::address_allowed(e, per_address[e.address])) continue;
    if (!mediator_.try_dial(e)) break;  // the session's half-open and dial-rate caps
    ++per_address[e.address];
    connecting_.insert(e);
    ++dials_this_tick_;
    peer_list_.on_dial_started(e, now);
    emit(Dial{e});
  }
}

void Torrent::ban(const std::vector<swarm::SmartBan::Address>& addresses) {
  for (const auto& supplier : addresses) {
    if (supplier.is_web_seed()) {
      strike_web_seed(supplier.web_seed);
      continue;
    }
    const Endpoint& key = supplier.peer;
    // Already banned (its other pieces were on their way to the disk when the first failed): its connections
    // are closed and new ones refused; say it once.
    if (is_banned(key)) continue;
    if (swarm::PeerList::is_loopback(key)) {
      banned_loopback_.insert(key);
    } else {
      banned_.insert(key.address);
    }
    emit(PeerBanned{key, "sent data that failed the hash check"});
    log(key.to_string() + " banned: sent data that failed the hash check");
    std::vector<PeerId> from;
    for (const auto& [id, p] : peers_) {
      if (swarm::ban_key(p.remote) == key) from.push_back(id);
    }
    for (auto id : from)
      close(id, "sent data that failed the hash check", true);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Writing.

bool Torrent::take_output(PeerId id, std::vector<std::uint8_t>& bytes,
                          std::vector<swarm::SendQueue::Block>& blocks, std::size_t max_blocks,
                          Clock::time_point now) {
  now_ = std::max(now_, now);
  auto* peer = find(id);
  if (!peer) return false;
  peer->wake_queued = false;
  if (peer->out.empty() && peer->sends.empty()) return false;
  bytes.clear();
  bytes.swap(peer->out);
  blocks.clear();
  // About half a second of the peer's rate per write (at least a few blocks): what is handed to the socket
  // cannot be taken back, and a choke, a reject or a request queued behind it waits until it has gone out.
  auto per_write = std::max<std::size_t>(
      kMinBlocksPerWrite,
      static_cast<std::size_t>(peer->up_rate * 0.5 / static_cast<double>(swarm::kBlockSize)));
  max_blocks = std::min(max_blocks, per_write);
  while (!peer->sends.empty() && blocks.size() < max_blocks)
    blocks.push_back(peer->sends.pop_front());
  peer->writing_bytes = bytes.size();
  for (const auto& b : blocks)
    peer->writing_bytes += b.message.size();
  peer->protocol.on_write_started(now);
  return true;
}

void Torrent::on_bytes_sent(PeerId id, Clock::time_point now) {
  if (auto* peer = find(id)) peer->protocol.on_bytes_sent(now);
}

void Torrent::on_write_done(PeerId id, std::int64_t payload, Clock::time_point now) {
  now_ = std::max(now_, now);
  auto* peer = find(id);
  if (!peer) return;
  peer->protocol.on_write_done();
  peer->writing_bytes = 0;
  peer->uploaded += payload;
  peer->up_this_tick += payload;
  uploaded_ += payload;
  up_tick_ += payload;
  if (payload > 0) resume_dirty_ = true;
  // Room again: serve what it asked for meanwhile.
  serve_peer(id, *peer);
  wake(id, *peer);
}

// ---------------------------------------------------------------------------------------------------------------
// Pieces.

std::vector<std::uint8_t> Torrent::take_buffer(std::size_t size) {
  if (!free_buffers_.empty()) {
    auto buffer = std::move(free_buffers_.back());
    free_buffers_.pop_back();
    buffer.resize(size);
    return buffer;
  }
  return std::vector<std::uint8_t>(size);
}

void Torrent::piece_complete(PieceIndex piece) {
  auto node = assembling_.extract(piece);
  if (node.empty()) return;
  on_disk_.erase(piece);
  // Who sent each block, by address, taken now: they may be gone when the hash is known.
  auto suppliers = picker_.block_suppliers(piece);
  std::vector<swarm::SmartBan::Block> blocks(suppliers.size());
  for (std::size_t i = 0; i < suppliers.size(); ++i) {
    auto key = supplier_key(suppliers[i]);  // a peer's ban key, or a web seed's (web_seeds.cpp)
    if (!key) continue;
    blocks[i].known = true;
    blocks[i].from = *key;
  }
  ++writes_in_flight_;
  // It failed before: the good blocks are the evidence.
  emit(VerifyPiece{piece, std::move(node.mapped()), std::move(blocks), smart_ban_.recorded(piece)});
}

void Torrent::on_piece_written(PieceIndex piece, bool hash_ok, bool write_failed,
                               std::vector<swarm::SmartBan::Block> blocks, std::vector<std::uint8_t> buffer) {
  --writes_in_flight_;
  if (free_buffers_.size() < static_cast<std::size_t>(kMaxWritesInFlight))
    free_buffers_.push_back(std::move(buffer));
  // After halt() (a disk error) nothing more is recorded. After stop() a piece that lands is: it is on disk
  // and good, and the resume data saved when the torrent drains must say so.
  if (disk_results_dropped_) return;
  if (write_failed) {
    picker_.on_piece_failed(piece);
    return;  // the driver halts the torrent with the error
  }
  web_seed_verdict(piece, hash_ok);
  if (!hash_ok) {
    ++failed_pieces_;
    // Smart ban (swarm::SmartBan): a sole supplier is convicted now; several are judged block by block when
    // the piece passes from the fetch that follows.
    picker_.on_piece_failed(piece);
    // BEP 52: with several suppliers, the piece's leaf hashes from a peer say which blocks were bad.
    std::vector<swarm::SmartBan::Address> suppliers;
    for (const auto& b : blocks) {
      if (b.known && std::find(suppliers.begin(), suppliers.end(), b.from) == suppliers.end())
        suppliers.push_back(b.from);
    }
    if (suppliers.size() > 1 && start_blame(piece, blocks)) return;
    ban(smart_ban_.on_piece_failed(piece, blocks));
    return;
  }
  if (smart_ban_.recorded(piece) && !blocks.empty()) {
    std::vector<swarm::SmartBan::Digest> good;
    good.reserve(blocks.size());
    for (const auto& b : blocks)
      good.push_back(b.hash);
    ban(smart_ban_.on_piece_passed(piece, good));
  }
  picker_.on_piece_verified(piece);
  proven_leaves_.erase(piece);
  resume_dirty_ = true;
  emit(PieceVerified{piece});
  if (!active()) return;  // stopping or stopped: nobody to tell, nothing to ask for
  if (writes_in_flight_ + 1 == kMaxWritesInFlight) {
    for (auto& [id, p] : peers_)
      request_more(id, p);
  }
  for (auto& [id, p] : peers_) {
    if (!p.protocol.has().test(piece)) {
      send(p, wire::Have{static_cast<std::uint32_t>(piece.get())});
      wake(id, p);
    }
  }
  check_complete(now_);
  if (phase_ == Phase::seeding) {
    for (auto& [id, p] : peers_) {
      p.protocol.update_interest(view());
      flush(p);
      wake(id, p);
    }
  }
}

void Torrent::check_complete(Clock::time_point now) {
  if (!picker_.is_complete() || complete_notified_) return;
  if (phase_ == Phase::downloading) phase_ = Phase::seeding;
  if (phase_ != Phase::seeding) return;
  complete_notified_ = true;
  // Seeds among our peers have nothing more for us.
  std::vector<PeerId> seeds;
  for (const auto& [id, p] : peers_) {
    if (p.protocol.is_seed()) seeds.push_back(id);
  }
  for (auto id : seeds)
    close(id, "both seeding", true);
  emit(Completed{});
  if (params_.use_trackers && !trackers_.empty() && downloaded_ > 0 && !sent_completed_) {
    if (walk_) {
      completed_pending_ = true;
    } else {
      begin_announce(tracker::AnnounceEvent::completed, now);
    }
  }
}

void Torrent::read_piece(PieceIndex piece) {
  // A few reads at a time: each holds a whole piece until it lands in the cache; when one lands, the peers
  // are served again and the next reads start.
  if (reads_in_flight_.count(piece) || reads_in_flight_.size() >= kMaxReadsInFlight) return;
  reads_in_flight_.insert(piece);
  emit(ReadPiece{piece});
}

void Torrent::on_piece_read(PieceIndex piece, std::shared_ptr<const std::vector<std::uint8_t>> data) {
  reads_in_flight_.erase(piece);
  if (!data || !active()) return;
  if (!cache_.count(piece)) {
    auto size = static_cast<std::int64_t>(data->size());
    cache_lru_.push_back(piece);
    cache_[piece] = CachedPiece{std::move(data), std::prev(cache_lru_.end())};
    cache_bytes_ += size;
    mediator_.cache_changed(size);
  }
  // Queued blocks are copies, so the cache alone holds pieces: this bound is the whole of it. Two pieces are
  // always kept (one being served, one being read), whatever the session's budget says.
  std::int64_t budget = std::max<std::int64_t>(params_.read_cache_bytes, 2 * params_.piece_length);
  while (cache_lru_.size() > 2 && (cache_bytes_ > budget || mediator_.cache_over_budget()))
    evict_oldest();
  serve_all();
}

void Torrent::evict_oldest() {
  auto piece = cache_lru_.front();
  cache_lru_.pop_front();
  auto it = cache_.find(piece);
  auto size = static_cast<std::int64_t>(it->second.data->size());
  cache_.erase(it);
  cache_bytes_ -= size;
  mediator_.cache_changed(-size);
}

void Torrent::drop_cache() {
  while (!cache_lru_.empty())
    evict_oldest();
}

void Torrent::serve_all() {
  for (auto& [id, p] : peers_)
    serve_peer(id, p);
}

// Moves the peer's queued requests whose pieces are cached into its send queue, oldest pieces first, while
// the queue has room; asks for reads of the pieces that are not cached.
void Torrent::serve_peer(PeerId id, Peer& peer) {
  if (peer.protocol.am_choking()) return;
  const auto& queued = peer.protocol.queued_requests();
  PieceIndex pieces[kServeLookahead];
  std::size_t n = 0;
  for (const auto& r : queued) {
    if (std::find(pieces, pieces + n, r.piece) != pieces + n) continue;
    pieces[n++] = r.piece;
    if (n >= kServeLookahead) break;
  }
  bool queued_any = false;
  for (std::size_t i = 0; i < n; ++i) {
    auto piece = pieces[i];
    if (!peer.has_send_room()) break;
    auto cached = cache_.find(piece);
    if (cached == cache_.end()) {
      read_piece(piece);
      continue;
    }
    // Least recently used goes first: a piece several peers are still being served from stays.
    cache_lru_.splice(cache_lru_.end(), cache_lru_, cached->second.lru);
    std::size_t room = (peer.send_capacity() - peer.queued_bytes()) / wire::kBlockSize + 1;
    ready_.clear();
    peer.protocol.take_queued_requests(piece, ready_, room);
    for (const auto& r : ready_) {
      auto header = wire::encode_piece_header(static_cast<std::uint32_t>(r.piece.get()),
                                              static_cast<std::uint32_t>(r.begin),
                                              static_cast<std::uint32_t>(r.length));
      // Built by appending, not sized then overwritten: a zero fill of every block sent was a tenth of a
      // seeder's CPU time.
      const auto* payload = cached->second.data->data() + r.begin;
      std::vector<std::uint8_t> message;
      message.reserve(header.size() + static_cast<std::size_t>(r.length));
      message.insert(message.end(), header.begin(), header.end());
      message.insert(message.end(), payload, payload + r.length);
      queued_any |= peer.sends.push(r, std::move(message));
    }
  }
  if (queued_any) wake(id, peer);
}

// ---------------------------------------------------------------------------------------------------------------
// Time.

// End-game: how old a request must be to count as held hostage by a slow peer (its block is then offered to
// others too). Requests wait in line for our downlink: at the torrent's download rate the whole set in flight
// drains in `drain`, so a request much older than that is held by a peer slower than the rest, not by the
// line. nullopt outside end-game (every block is someone's to fetch anyway).
std::optional<Clock::duration> Torrent::end_game_late_after() const {
  if (!picker_.in_end_game() || phase_ != Phase::downloading) return std::nullopt;
  std::int64_t in_flight = 0;
  for (const auto& [id, p] : peers_) {
    for (const auto& r : p.protocol.outstanding())
      in_flight += r.length;
  }
  double drain = down_rate_ > 0 ? static_cast<double>(in_flight) / down_rate_ : 1e9;
  double seconds = std::clamp(kLateFactor * drain, kMinLateSeconds, kMaxLateSeconds);
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

void Torrent::on_tick(Clock::time_point now, const std::function<bool(PeerId)>& message_partial) {
  now_ = std::max(now_, now);
  if (!active()) return;
  ++ticks_;
  down_rate_ = ema(down_rate_, down_tick_);
  up_rate_ = ema(up_rate_, up_tick_);
  down_tick_ = up_tick_ = 0;
  dials_this_tick_ = 0;
  holepunch_relays_this_tick_ = 0;
  holepunch_dials_this_tick_ = 0;
  leaf_hash_bytes_this_tick_ = 0;
  std::vector<std::pair<PeerId, std::string_view>> to_close;
  auto late_after = end_game_late_after();
  // An upload slot is held by a peer that does not read or asks nothing: rechoke now.
  bool slot_wasted = false;
  for (auto& [id, p] : peers_) {
    p.down_rate = ema(p.down_rate, p.down_this_tick);
    p.up_rate = ema(p.up_rate, p.up_this_tick);
    p.down_this_tick = p.up_this_tick = 0;
    p.protocol.on_rate_measured(p.down_rate);
    if (late_after) p.protocol.release_late_requests(picker_, *late_after, now);
    send_pex(id, p, now);
    bool partial = message_partial && message_partial(id);
    if (auto reason = p.protocol.on_tick(now, picker_, partial)) to_close.emplace_back(id, *reason);
    slot_wasted |= !p.protocol.am_choking() && p.protocol.wastes_slot(now);
    flush(p);
    request_more(id, p);
    wake(id, p);
  }
  for (auto [id, reason] : to_close)
    close(id, std::string(reason), true);
  blame_tick();
  if (metadata_fetch_) {
    metadata_fetch_->on_tick(now);
    for (auto& [id, p] : peers_)
      request_metadata(id, p, now);
  }
  if ((ticks_ % kTicksPerRechoke == 0 || slot_wasted) && !peers_.empty()) rechoke(now);
  // Nobody to serve: the cached pieces go back to the session's budget (others may be serving).
  if (!cache_lru_.empty() &&
      std::all_of(peers_.begin(), peers_.end(), [](const auto& p) { return p.second.protocol.am_choking(); }))
    drop_cache();
  if (ticks_ % kTicksPerPeerListExpiry == 0) peer_list_.expire(now);
  if (params_.use_trackers && !walk_ && now >= next_announce_)
    begin_announce(tracker::AnnounceEvent::none, now);
  if (phase_ == Phase::seeding && seeding_since_ == Clock::time_point::max()) seeding_since_ = now;
  bool ratio_reached =
      params_.seed_ratio &&
      static_cast<double>(total_uploaded()) >= *params_.seed_ratio * static_cast<double>(params_.total_size);
  bool time_reached = params_.seed_time && now - seeding_since_ >= *params_.seed_time;
  // Once: the driver may stop the torrent some ticks later (it posts the stop), and each SeedingDone is a
  // "torrent stopped" to the user.
  if (phase_ == Phase::seeding && !seeding_done_ && (ratio_reached || time_reached)) {
    seeding_done_ = true;
    emit(SeedingDone{});
    return;
  }
  connect_more(now);
}

// ---------------------------------------------------------------------------------------------------------------
// Trackers: BEP 12, tier by tier in each tier's current order; a tier is done at its first answer.

void Torrent::force_reannounce(Clock::time_point now) {
  now_ = std::max(now_, now);
  if (!active()) return;
  next_announce_ = now;
  // An announce under way was sent with what is now stale (a port just mapped): its end must not push the
  // next one a whole interval away.
  if (walk_) reannounce_after_walk_ = true;
}

void Torrent::begin_announce(tracker::AnnounceEvent event, Clock::time_point now) {
  if (trackers_.empty()) {
    if (event == tracker::AnnounceEvent::stopped) emit(StopAnnounced{});
    return;
  }
  Walk walk;
  walk.event = event;
  walk.order = trackers_.order();
  walk_ = std::move(walk);
  if (event == tracker::AnnounceEvent::completed) sent_completed_ = true;
  announce_next(now);
}

void Torrent::announce_next(Clock::time_point now) {
  auto& walk = *walk_;
  while (walk.next < walk.order.size()) {
    auto target = walk.order[walk.next++];
    if (walk.answered_tiers.count(target.tier)) continue;
    if (!walk.answered_tiers.empty() && !trackers_.announce_to_all_tiers()) break;
    tracker::AnnounceRequest request;
    request.info_hash = params_.info_hash;
    request.peer_id = params_.peer_id;
    request.port = params_.listen_port;
    request.uploaded = total_uploaded();
    request.downloaded = total_downloaded();
    // A magnet still fetching its metadata does not know what is left; it is no seed (what other clients
    // say).
    request.left = metadata_fetch_ ? 16 * 1024 : picker_.bytes_wanted_left();
    request.event = walk.event;
    request.key = tracker_key_;
    request.tracker_id = tracker_id_;
    request.numwant = walk.event == tracker::AnnounceEvent::stopped ? 0 : 80;
    walk.waiting = target;
    walk.waiting_id = next_announce_id_++;
    walk.waiting_url = trackers_.tiers()[static_cast<std::size_t>(target.tier)][target.index].url;
    if (params_.log) log("tracker " + walk.waiting_url + ": announcing port " + std::to_string(request.port));
    emit(Announce{walk.waiting_id, walk.waiting_url, std::move(request)});
    return;
  }
  finish_announce(now);
}

void Torrent::on_announce_done(std::uint64_t id,
                               const Expected<tracker::AnnounceResponse, std::string>& result,
                               Clock::time_point now) {
  now_ = std::max(now_, now);
  if (!walk_ || !walk_->waiting || walk_->waiting_id != id) return;  // from an abandoned walk
  auto target = *walk_->waiting;
  auto url = walk_->waiting_url;
  walk_->waiting.reset();
  if (!result) {
    log("tracker " + url + ": " + result.error());
    emit(TrackerFailed{url, result.error()});
    trackers_.failed(target, result.error(), now);
  } else {
    walk_->any_ok = true;
    walk_->interval = result->interval;
    if (result->tracker_id) tracker_id_ = result->tracker_id;
    if (result->warning_message) log("tracker " + url + " warns: " + *result->warning_message);
    if (walk_->event != tracker::AnnounceEvent::stopped) {
      for (const auto& e : result->peers)
        add_peer(e, swarm::PeerSource::tracker, now);
    }
    log("tracker " + url + ": " + std::to_string(result->peers.size()) + " peers");
    emit(TrackerReply{url, static_cast<std::int64_t>(result->peers.size()),
                      result->warning_message.value_or("")});
    trackers_.succeeded(target, static_cast<std::int64_t>(result->peers.size()), result->complete,
                        result->incomplete, result->interval, result->warning_message.value_or(""), now);
    walk_->answered_tiers.insert(target.tier);
  }
  announce_next(now);
}

void Torrent::finish_announce(Clock::time_point now) {
  auto walk = std::move(*walk_);
  walk_.reset();
  if (walk.event == tracker::AnnounceEvent::stopped) {
    phase_ = Phase::halted;
    emit(StopAnnounced{});
    return;
  }
  if (!active()) return;
  // A downloader with nobody to talk to asks again soon: the swarm may just be forming.
  bool lonely = phase_ == Phase::downloading && peers_.empty() && connecting_.empty();
  auto wait = !walk.any_ok ? std::chrono::seconds(30)
              : lonely ? std::chrono::seconds(std::min<std::int64_t>(walk.interval, kLonelyReannounceSeconds))
                       : std::chrono::seconds(walk.interval);
  next_announce_ = now + wait;
  if (reannounce_after_walk_) {
    reannounce_after_walk_ = false;
    next_announce_ = now;
  }
  if (completed_pending_) {
    completed_pending_ = false;
    begin_announce(tracker::AnnounceEvent::completed, now);
    return;
  }
  connect_more(now);
}

Stats Torrent::stats() const {
  Stats s;
  s.phase = phase_;
  for (PieceIndex p{0}; p.get() < params_.num_pieces; ++p) {
    if (picker_.priority(p) == 0) continue;
    s.total_wanted += picker_.piece_size(p);
    if (picker_.has(p)) s.have_wanted += picker_.piece_size(p);
  }
  s.downloaded = downloaded_;
  s.uploaded = uploaded_;
  s.download_rate = down_rate_;
  s.upload_rate = up_rate_;
  for (const auto& [id, peer] : peers_) {
    ++s.peers;
    if (peer.protocol.is_seed()) ++s.seeds;
  }
  s.pieces_have = picker_.num_have();
  s.failed_pieces = failed_pieces_;
  s.banned_peers = static_cast<std::int32_t>(banned_.size() + banned_loopback_.size());
  for (const auto& w : web_seeds_) {
    if (w.core.banned()) {
      ++s.web_seeds_banned;
      continue;
    }
    ++s.web_seeds;
    if (w.core.state(now_) == webseed::State::fetching) ++s.web_seeds_fetching;
  }
  return s;
}

}  // namespace shoal::torrent
