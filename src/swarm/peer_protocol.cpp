#include "swarm/peer_protocol.hpp"

#include <algorithm>
#include <string_view>
#include <type_traits>

#include "wire/extension_handshake.hpp"

namespace shoal::swarm {
namespace {

// Wire indexes become typed here, at the boundary. Requests are validated before; a cancel or reject that is
// out of range converts to a block no request matches.
BlockRequest block_of(const wire::BlockRef& ref) {
  return {PieceIndex{static_cast<std::int32_t>(ref.piece)}, static_cast<std::int32_t>(ref.begin),
          static_cast<std::int32_t>(ref.length)};
}

wire::BlockRef ref_of(const BlockRequest& r) {
  return {static_cast<std::uint32_t>(r.piece.get()), static_cast<std::uint32_t>(r.begin),
          static_cast<std::uint32_t>(r.length)};
}

}  // namespace

wire::ExtensionHandshake our_extension_handshake(const OurExtensions& ours) {
  wire::ExtensionHandshake h;
  if (!ours.is_private) {
    h.m = {{"ut_metadata", kOurUtMetadataId}, {"ut_pex", kOurUtPexId}, {"ut_holepunch", kOurUtHolepunchId}};
    if (ours.metadata_size > 0) h.metadata_size = ours.metadata_size;  // a magnet still fetching says none
  }
  h.client = ours.client;
  h.listen_port = ours.listen_port;
  h.reqq = ours.reqq;
  h.yourip = ours.yourip;
  return h;
}

PeerProtocol::MetadataAnswer PeerProtocol::on_metadata_request(Clock::time_point now, bool send_room) {
  if (!config_.metadata_allowed || !ut_metadata_id_) return MetadataAnswer::ignore;
  if (!metadata_requests_.take(now)) return MetadataAnswer::ignore;
  return send_room ? MetadataAnswer::data : MetadataAnswer::reject;
}

void PeerProtocol::start(const Config& config) {
  config_ = config;
  has_ = Bitfield(config.num_pieces);
}

PeerProtocol::Event PeerProtocol::on_message(const wire::Message& message, Clock::time_point now,
                                             TorrentView torrent) {
  last_receive_ = now;
  partial_since_.reset();  // whatever was arriving has arrived
  return std::visit(
      [&](const auto& m) -> Event {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, wire::Choke>) {
          peer_choking_ = true;
          // BEP 6: with fast, the peer rejects what it will not serve; without, the choke drops it all.
          if (!config_.features.fast) drop_outstanding(torrent.picker);
        } else if constexpr (std::is_same_v<M, wire::Unchoke>) {
          peer_choking_ = false;
        } else if constexpr (std::is_same_v<M, wire::Interested>) {
          peer_interested_ = true;
          return PeerInterested{};
        } else if constexpr (std::is_same_v<M, wire::NotInterested>) {
          peer_interested_ = false;
          if (!am_choking_) choke();
        } else if constexpr (std::is_same_v<M, wire::Have>) {
          return on_have(m.piece, torrent);
        } else if constexpr (std::is_same_v<M, wire::Bitfield>) {
          auto bits = Bitfield::from_wire(m.bits, config_.num_pieces);
          if (!bits) return Close{"bitfield of the wrong size or with spare bits set"};
          return on_bitfield(std::move(*bits), torrent);
        } else if constexpr (std::is_same_v<M, wire::HaveAll>) {
          if (!config_.features.fast) return Close{"have_all without the fast extension"};
          return on_bitfield(Bitfield(config_.num_pieces, true), torrent);
        } else if constexpr (std::is_same_v<M, wire::HaveNone>) {
          if (!config_.features.fast) return Close{"have_none without the fast extension"};
          return on_bitfield(Bitfield(config_.num_pieces, false), torrent);
        } else if constexpr (std::is_same_v<M, wire::Request>) {
          return on_request(m, now, torrent);
        } else if constexpr (std::is_same_v<M, wire::Piece>) {
          return on_piece(m, now, torrent.picker);
        } else if constexpr (std::is_same_v<M, wire::Cancel>) {
          auto r = block_of(m);
          auto it = std::find(queued_.begin(), queued_.end(), r);
          if (it != queued_.end()) {
            queued_.erase(it);
            // BEP 6: every request gets exactly one answer, a piece or a reject, a cancelled one too.
            if (config_.features.fast) send(wire::Reject{m});
          }
          return RequestCancelled{r};
        } else if constexpr (std::is_same_v<M, wire::Reject>) {
          return on_reject(m, torrent.picker);
        } else if constexpr (std::is_same_v<M, wire::Extended>) {
          if (m.id != 0) return ExtensionMessage{m.id, m.payload};
          on_extension_handshake(m.payload, now);
        }
        // KeepAlive, Port, Suggest, AllowedFast, Unknown: nothing to do beyond noting the peer is alive.
        return Nothing{};
      },
      message);
}

// BEP 3 wants the bitfield first and once; some clients send have_none and then a bitfield, or haves before
// it. A later bitfield is merged with what the peer already announced rather than treated as an attack: it
// cannot make us allocate or loop more than the first one could.
PeerProtocol::Event PeerProtocol::on_bitfield(Bitfield bits, TorrentView torrent) {
  auto& picker = torrent.picker;
  if (bitfield_seen_) {
    for (PieceIndex i{0}; i.get() < config_.num_pieces; ++i) {
      if (has_.test(i)) bits.set(i);
    }
    if (is_seed_) {
      picker.remove_seed();
      is_seed_ = false;
    } else {
      picker.remove_peer(has_);
    }
  }
  bitfield_seen_ = true;
  has_ = std::move(bits);
  if (has_.all()) {
    is_seed_ = true;
    picker.add_seed();
  } else {
    picker.add_peer(has_);
  }
  if (is_seed_ && torrent.seeding) return Close{"both seeding"};
  update_interest(torrent);
  return Nothing{};
}

PeerProtocol::Event PeerProtocol::on_have(std::uint32_t piece, TorrentView torrent) {
  if (piece >= static_cast<std::uint32_t>(config_.num_pieces)) return Close{"have for a piece out of range"};
  PieceIndex p{static_cast<std::int32_t>(piece)};
  if (has_.test(p)) return Nothing{};
  bitfield_seen_ = true;  // a have without a bitfield: it had nothing before
  has_.set(p);
  if (!is_seed_) torrent.picker.add_have(p);
  if (has_.all() && !is_seed_) {
    torrent.picker.remove_peer(has_);
    is_seed_ = true;
    torrent.picker.add_seed();
    if (torrent.seeding) return Close{"both seeding"};
  }
  if (!am_interested_ && torrent.picker.interesting_piece(p)) update_interest(torrent);
  return Nothing{};
}

PeerProtocol::Event PeerProtocol::on_request(const wire::Request& request, Clock::time_point now,
                                             TorrentView torrent) {
  const auto& picker = torrent.picker;
  PieceIndex piece{static_cast<std::int32_t>(request.piece)};  // used once the range check passed
  bool valid = request.piece < static_cast<std::uint32_t>(config_.num_pieces) && request.length > 0 &&
               request.length <= wire::kBlockSize &&
               static_cast<std::int64_t>(request.begin) + request.length <= picker.piece_size(piece);
  if (!valid) return Close{"invalid request"};
  if (am_choking_ || !picker.has(piece) || queued_.size() >= kMaxQueuedRequests) {
    if (config_.features.fast) send(wire::Reject{request});
    return Nothing{};
  }
  auto r = block_of(request);
  last_request_ = now;
  queued_.push_back(r);
  return ServeRequest{r};
}

PeerProtocol::Event PeerProtocol::on_piece(const wire::Piece& block, Clock::time_point now,
                                           const PiecePicker& picker) {
  // Checked before anything else: the length comes from the frame and cannot be trusted either.
  if (block.piece >= static_cast<std::uint32_t>(config_.num_pieces) || block.data.size() > wire::kBlockSize ||
      static_cast<std::int64_t>(block.begin) + static_cast<std::int64_t>(block.data.size()) >
          picker.piece_size(PieceIndex{static_cast<std::int32_t>(block.piece)})) {
    return Close{"piece message outside the torrent"};
  }
  BlockRequest r{PieceIndex{static_cast<std::int32_t>(block.piece)}, static_cast<std::int32_t>(block.begin),
                 static_cast<std::int32_t>(block.data.size())};
  auto it = std::find(outstanding_.begin(), outstanding_.end(), r);
  if (it == outstanding_.end()) {
    // Late blocks after a cancel are normal; a stream of blocks nobody asked for is not.
    if (++unrequested_blocks_ > kMaxUnrequestedBlocks + given_up_)
      return Close{"too many unrequested blocks"};
    return Nothing{};
  }
  // A request asked again after a cancel may be answered by the first asking: too short a sample, but only
  // ever shorter than the path, and rare (a cancelled block is almost never asked of the same peer again).
  window_.on_block(sent_[static_cast<std::size_t>(it - outstanding_.begin())].at, now);
  erase_outstanding(it);
  last_block_ = now;
  snubbed_ = false;
  return BlockReceived{r, block.data};
}

PeerProtocol::Event PeerProtocol::on_reject(const wire::Reject& reject, PiecePicker& picker) {
  if (!config_.features.fast) return Close{"reject without the fast extension"};
  auto r = block_of(reject);
  auto it = std::find(outstanding_.begin(), outstanding_.end(), r);
  if (it != outstanding_.end()) {
    erase_outstanding(it);
    picker.on_request_dropped(config_.id, r);
  }
  return Nothing{};
}

void PeerProtocol::on_extension_handshake(std::span<const std::uint8_t> payload, Clock::time_point now) {
  auto h = wire::decode_extension_handshake({reinterpret_cast<const char*>(payload.data()), payload.size()});
  if (!h) return;  // a broken extension handshake only costs the peer its extensions
  ut_metadata_id_ = h->id_of("ut_metadata");
  metadata_size_ = h->metadata_size;
  listen_port_ = h->listen_port;
  ut_pex_id_ = h->id_of("ut_pex");
  ut_holepunch_id_ = h->id_of("ut_holepunch");
  if (ut_pex_id_ && config_.pex_allowed && !pex_) pex_.emplace(now);
  if (h->reqq) reqq_ = std::max<std::uint32_t>(*h->reqq, 1);
  if (h->client) client_ = *h->client;
}

void PeerProtocol::choke() {
  if (am_choking_) return;
  am_choking_ = true;
  send(wire::Choke{});
  // Queued requests die with the choke: rejected explicitly under BEP 6, silently otherwise.
  if (config_.features.fast) {
    for (const auto& r : queued_)
      send(wire::Reject{ref_of(r)});
  }
  queued_.clear();
}

void PeerProtocol::unchoke(Clock::time_point now) {
  if (!am_choking_) return;
  am_choking_ = false;
  unchoked_at_ = now;
  send(wire::Unchoke{});
}

void PeerProtocol::update_interest(TorrentView torrent) {
  bool want = torrent.downloading && torrent.picker.interesting(has_);
  if (want == am_interested_) return;
  am_interested_ = want;
  if (want) {
    send(wire::Interested{});
  } else {
    send(wire::NotInterested{});
  }
}

void PeerProtocol::request_blocks(TorrentView torrent, double download_rate, Clock::time_point now,
                                  std::size_t limit) {
  if (peer_choking_ || !am_interested_ || !torrent.downloading) return;
  std::size_t depth = std::min(queue_depth(download_rate), limit);
  if (outstanding_.size() >= depth) return;
  picked_.clear();
  // End-game: a block another peer was asked for only while nothing else is in flight here (as libtorrent's
  // busy blocks): every duplicate that both send costs the downlink a block.
  std::size_t duplicates = outstanding_.empty() ? 1 : 0;
  torrent.picker.pick_blocks(config_.id, has_, depth - outstanding_.size(), picked_, duplicates);
  for (const auto& r : picked_) {
    // (Only a released request can be picked again here: without one, no search.)
    if (released_ > 0 && std::find(outstanding_.begin(), outstanding_.end(), r) != outstanding_.end()) {
      // One of its own released requests (release_late_requests), picked again: it is still asked here.
      torrent.picker.on_request_dropped(config_.id, r);
      continue;
    }
    outstanding_.push_back(r);
    sent_.push_back({now, false});
    send(wire::Request{ref_of(r)});
  }
  peak_outstanding_ = std::max(peak_outstanding_, outstanding_.size());
  if (outstanding_.empty() && !torrent.picker.interesting(has_)) update_interest(torrent);
}

bool PeerProtocol::cancel_request(const BlockRequest& block) {
  auto it = std::find(outstanding_.begin(), outstanding_.end(), block);
  if (it == outstanding_.end()) return false;
  erase_outstanding(it);
  ++given_up_;
  send(wire::Cancel{ref_of(block)});
  return true;
}

void PeerProtocol::take_queued_requests(PieceIndex piece, std::vector<BlockRequest>& out, std::size_t max) {
  std::size_t taken = 0;
  for (auto it = queued_.begin(); it != queued_.end() && taken < max;) {
    if (it->piece != piece) {
      ++it;
      continue;
    }
    out.push_back(*it);
    it = queued_.erase(it);
    ++taken;
  }
}

void PeerProtocol::reject_unsent(std::span<const BlockRequest> blocks) {
  if (!config_.features.fast) return;
  for (const auto& r : blocks)
    send(wire::Reject{ref_of(r)});
}

void PeerProtocol::on_write_started(Clock::time_point now) {
  writing_ = true;
  write_progress_ = now;
}

void PeerProtocol::on_bytes_sent(Clock::time_point now) {
  last_send_ = now;
  write_progress_ = now;
}

std::optional<std::string_view> PeerProtocol::on_tick(Clock::time_point now, PiecePicker& picker,
                                                      bool message_partial) {
  std::optional<std::string_view> close;
  if (now - last_receive_ > kInactivityTimeout) close = "inactive";
  if (!message_partial) {
    partial_since_.reset();
  } else if (!partial_since_) {
    partial_since_ = now;
  } else if (now - *partial_since_ > config_.message_timeout && !close) {
    close = "message too slow to arrive";
  }
  if (write_stalled(now, config_.slot_stall)) stalled_at_ = now;
  if (writing_ && now - write_progress_ > config_.write_stall_timeout && !close)
    close = "not reading what we send";
  if (am_interested_ || peer_interested_) {
    idle_since_.reset();
  } else if (!idle_since_) {
    idle_since_ = now;
  } else if (now - *idle_since_ > kUselessTimeout && !close) {
    close = "nothing to exchange";
  }
  // A peer that has sent none of the blocks we asked for in a while is snubbed: its requests go back to the
  // picker for other peers, it keeps one (request_blocks), and it loses its regular upload slot. The clock
  // runs only while we wait for it (a peer that unchoked us late is not judged by the time it choked us), and
  // starts again at each verdict, so the one request it keeps is not dropped and asked again every tick.
  if (outstanding_.empty()) {
    last_block_ = now;
  } else if (now - last_block_ > kSnubTimeout) {
    snubbed_ = true;
    window_.on_snubbed();
    drop_outstanding(picker);
    last_block_ = now;
  }
  if (now - last_send_ > kKeepAliveInterval) send(wire::KeepAlive{});
  return close;
}

void PeerProtocol::release(PiecePicker& picker) {
  drop_outstanding(picker);
  if (is_seed_) {
    picker.remove_seed();
  } else if (bitfield_seen_) {
    picker.remove_peer(has_);
  }
  is_seed_ = false;
  bitfield_seen_ = false;
}

void PeerProtocol::drop_outstanding(PiecePicker& picker) {
  given_up_ += outstanding_.size();
  for (const auto& r : outstanding_)
    picker.on_request_dropped(config_.id, r);
  outstanding_.clear();
  sent_.clear();
  released_ = 0;
}

void PeerProtocol::erase_outstanding(std::deque<BlockRequest>::iterator it) {
  auto sent = sent_.begin() + (it - outstanding_.begin());
  if (sent->released) --released_;
  sent_.erase(sent);
  outstanding_.erase(it);
}

std::size_t PeerProtocol::release_late_requests(PiecePicker& picker, Clock::duration late_after,
                                                Clock::time_point now) {
  std::size_t released = 0;
  for (std::size_t i = 0; i < outstanding_.size(); ++i) {
    auto& sent = sent_[i];
    if (sent.released || now - sent.at < late_after) continue;
    sent.released = true;
    ++released_;
    picker.on_request_dropped(config_.id, outstanding_[i]);
    ++released;
  }
  return released;
}

std::size_t PeerProtocol::queue_depth(double download_rate) const {
  // Snubbed: one request in flight until a block comes, so that what it sits on goes to other peers.
  if (snubbed_) return 1;
  // A slow peer gets few: every request it holds is a block nobody else may fetch, and its blocks crowd a
  // slow downlink as much as a fast peer's do. Never more than it says it queues.
  return std::min<std::size_t>(window_.depth(download_rate), reqq_);
}

}  // namespace shoal::swarm
