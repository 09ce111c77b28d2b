// BEP 52 on the peer wire, for one torrent: answering hash requests from the piece layers of the .torrent
// (and, below them, from the leaves of pieces we read), and blaming a failed v2 piece block by block with
// the leaf hashes a peer sends, proven against the piece layer.
//
// A file's tree, for a request: leaves L = next_pow2(blocks), height H = log2(L). Its piece layer sits P =
// log2(blocks per piece) above the leaves (P = H for a file of one piece, whose only piece is the tree).
// Nodes at or above P come from the piece layer (layers above it built once per file); nodes below P belong
// to one piece and come from its data's leaf hashes, computed by the driver on its hash pool (HashLeaves) and
// kept in a small LRU cache; a request waits for them within the caps (kMaxLeafJobs, kMaxLeafWaitsPerPeer,
// kMaxHashWaits) or is rejected.
#include <algorithm>
#include <bit>

#include "hash/merkle.hpp"
#include "hash/sha.hpp"
#include "torrent/torrent.hpp"

namespace shoal::torrent {
namespace {

int log2_of(std::int64_t power_of_two) {
  return std::countr_zero(static_cast<std::uint64_t>(power_of_two));
}

}  // namespace

void Torrent::on_hash_request(PeerId id, Peer& peer, const wire::HashRequest& request) {
  // The reader lets no other shape through; a driver that skips it gets no answer (a reject would not
  // decode).
  if (!wire::hash_request_shape_ok(request)) return;
  std::optional<HashLeaves> need;
  auto hashes = hashes_for(request, need);
  if (hashes) {
    std::string raw = hash::merkle_concat(*hashes);
    send(peer, wire::Hashes{request, {reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()}});
  } else if (need && peer.hash_waits < kMaxLeafWaitsPerPeer && hash_waits_count_ < kMaxHashWaits &&
             (leaf_jobs_.count(need->piece) ||
              (leaf_jobs_.size() < kMaxLeafJobs &&
               (leaf_hash_bytes_this_tick_ == 0 ||  // a piece larger than the budget: one a second
                leaf_hash_bytes_this_tick_ + need->data_bytes <= params_.leaf_hash_bytes_per_tick)))) {
    // Parked until the leaves are computed; one job per piece however many ask.
    if (leaf_jobs_.emplace(need->piece, need->width).second) {
      leaf_hash_bytes_this_tick_ += need->data_bytes;
      emit(*need);
    }
    hash_waits_[need->piece].emplace_back(id, request);
    ++hash_waits_count_;
    ++peer.hash_waits;
  } else {
    send(peer, wire::HashReject{request});
  }
  wake(id, peer);
}

std::optional<std::vector<Sha256Digest>> Torrent::hashes_for(const wire::HashRequestFields& request,
                                                             std::optional<HashLeaves>& need) {
  need.reset();
  const auto* info = params_.metainfo.get();
  if (!info) return std::nullopt;
  auto file_it = v2_files_.find(request.pieces_root);
  if (file_it == v2_files_.end()) return std::nullopt;
  const auto& file = info->files[file_it->second];
  std::int64_t blocks = hash::merkle_num_blocks(file.length);
  std::int64_t leaves = hash::merkle_num_leaves(blocks);
  int height = log2_of(leaves);
  std::int64_t blocks_per_piece = info->piece_length / hash::kMerkleBlockSize;
  bool has_layer = file.length > info->piece_length;
  int piece_level = has_layer ? log2_of(blocks_per_piece) : height;
  // The request must fit this tree: the run inside its layer, the proof below the root.
  auto base = static_cast<int>(request.base_layer);
  auto proof = static_cast<int>(request.proof_layers);
  if (base > height) return std::nullopt;
  std::int64_t width = leaves >> base;
  if (static_cast<std::int64_t>(request.index) + request.length > width) return std::nullopt;
  if (proof > 0 && base + proof > height - 1) return std::nullopt;
  int run_levels = log2_of(request.length);

  // Above the piece layer: built once per file.
  auto upper = v2_upper_.find(request.pieces_root);
  if (upper == v2_upper_.end()) {
    std::vector<Sha256Digest> bottom;
    Sha256Digest pad{};
    if (has_layer) {
      auto layer = info->piece_layers.find(request.pieces_root);
      if (layer == info->piece_layers.end()) return std::nullopt;
      bottom = hash::merkle_split(layer->second);
      pad = hash::merkle_pad_hash(piece_level);
    } else {
      bottom.push_back(request.pieces_root);
    }
    upper =
        v2_upper_.emplace(request.pieces_root, hash::merkle_layers(bottom, leaves >> piece_level, pad)).first;
  }
  // Below it: the leaves of the one piece the run and its low uncles lie in (from the cache, or pads).
  std::vector<std::vector<Sha256Digest>> pads;
  const std::vector<std::vector<Sha256Digest>>* lower_ref = &pads;
  if (base < piece_level) {
    std::int64_t first = static_cast<std::int64_t>(request.index) >> (piece_level - base);
    std::int64_t last =
        (static_cast<std::int64_t>(request.index) + request.length - 1) >> (piece_level - base);
    if (first != last) return std::nullopt;  // a run across pieces: more reading than one request is worth
    std::int64_t file_pieces = (file.length + info->piece_length - 1) / info->piece_length;
    if (first >= file_pieces) {
      // Beyond the file's data: pad leaves all the way.
      pads = hash::merkle_layers({}, std::int64_t{1} << piece_level, Sha256Digest{});
    } else {
      PieceIndex piece{static_cast<std::int32_t>(file.offset / info->piece_length + first)};
      if (!picker_.have().test(piece)) return std::nullopt;
      auto cached = leaf_cache_.find(piece);
      if (cached == leaf_cache_.end()) {
        std::int64_t file_bytes = std::min(info->piece_length, file.length - first * info->piece_length);
        need = HashLeaves{piece, file_bytes, std::int64_t{1} << piece_level};
        return std::nullopt;
      }
      leaf_lru_.splice(leaf_lru_.end(), leaf_lru_, cached->second.lru);
      lower_ref = &cached->second.layers;
    }
  }
  auto node = [&](int level, std::int64_t index) -> const Sha256Digest& {
    if (level >= piece_level)
      return upper->second[static_cast<std::size_t>(level - piece_level)][static_cast<std::size_t>(index)];
    std::int64_t in_piece = index & ((std::int64_t{1} << (piece_level - level)) - 1);
    return (*lower_ref)[static_cast<std::size_t>(level)][static_cast<std::size_t>(in_piece)];
  };
  std::vector<Sha256Digest> out;
  out.reserve(request.length + wire::hash_uncle_count(request));
  for (std::uint32_t i = 0; i < request.length; ++i)
    out.push_back(node(base, static_cast<std::int64_t>(request.index) + i));
  // Uncles: siblings of the run's ancestors from its own subtree root up to base + proof.
  for (int level = base + run_levels; level <= base + proof; ++level) {
    std::int64_t ancestor = static_cast<std::int64_t>(request.index) >> (level - base);
    out.push_back(node(level, ancestor ^ 1));
  }
  return out;
}

void Torrent::send_hash_answer(PeerId id, Peer& peer, const wire::HashRequestFields& request) {
  std::optional<HashLeaves> need;
  auto hashes = hashes_for(request, need);
  if (hashes) {
    std::string raw = hash::merkle_concat(*hashes);
    send(peer, wire::Hashes{request, {reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()}});
  } else {
    send(peer, wire::HashReject{request});
  }
  wake(id, peer);
}

void Torrent::answer_hash_waits(PieceIndex piece) {
  auto it = hash_waits_.find(piece);
  if (it == hash_waits_.end()) return;
  auto waits = std::move(it->second);
  hash_waits_.erase(it);
  hash_waits_count_ -= waits.size();
  for (const auto& [id, request] : waits) {
    auto* peer = find(id);
    if (!peer) continue;
    --peer->hash_waits;
    send_hash_answer(id, *peer, request);  // a cache miss now (the leaves failed) is a reject
  }
}

void Torrent::on_piece_leaves(PieceIndex piece, std::optional<std::vector<Sha256Digest>> leaves) {
  auto job = leaf_jobs_.find(piece);
  if (job == leaf_jobs_.end()) return;  // not asked: nothing waits
  auto width = job->second;
  leaf_jobs_.erase(job);
  const auto* info = params_.metainfo.get();
  std::optional<metainfo::V2PieceCheck> check;
  if (info && leaves) check = metainfo::v2_piece_check(*info, piece);
  if (check && check->leaves == width && !leaves->empty() &&
      static_cast<std::int64_t>(leaves->size()) <= width) {
    // A subtree of a few hundred nodes: the inner layers are cheap next to the leaves the pool hashed.
    auto layers = hash::merkle_layers(*leaves, width, Sha256Digest{});
    if (!layers.empty() && layers.back().size() == 1 && layers.back()[0] == check->expected) {
      LeafLayers entry;
      for (const auto& l : layers)
        entry.bytes += static_cast<std::int64_t>(l.size() * sizeof(Sha256Digest));
      entry.layers = std::move(layers);
      if (!leaf_cache_.count(piece)) {
        leaf_lru_.push_back(piece);
        entry.lru = std::prev(leaf_lru_.end());
        leaf_cache_bytes_ += entry.bytes;
        leaf_cache_.emplace(piece, std::move(entry));
      }
    } else {
      log("piece " + std::to_string(piece.get()) + ": its data on disk no longer matches its hash");
    }
  }
  answer_hash_waits(piece);
  // The oldest out beyond the budget, the newest always kept (the waits above were answered from it).
  while (leaf_lru_.size() > 1 && leaf_cache_bytes_ > params_.leaf_cache_bytes) {
    auto oldest = leaf_cache_.find(leaf_lru_.front());
    leaf_cache_bytes_ -= oldest->second.bytes;
    leaf_cache_.erase(oldest);
    leaf_lru_.pop_front();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Blame.

bool Torrent::start_blame(PieceIndex piece, std::vector<swarm::SmartBan::Block> blocks) {
  const auto* info = params_.metainfo.get();
  if (!info || info->has_v1() || blame_.size() >= kMaxPendingBlame || blame_.count(piece)) return false;
  auto check = metainfo::v2_piece_check(*info, piece);
  // A piece of one leaf has one block, so one supplier: convicted without asking.
  if (!check || check->leaves < 2) return false;
  Blame b;
  b.blocks = std::move(blocks);
  b.check = *check;
  b.request.pieces_root = check->pieces_root;
  b.request.base_layer = 0;
  b.request.index = static_cast<std::uint32_t>(check->piece_in_file * check->leaves);
  b.request.length = static_cast<std::uint32_t>(check->leaves);
  // No uncles: the run's own root is the piece-layer entry (or the pieces root) we hold.
  b.request.proof_layers = static_cast<std::uint32_t>(log2_of(check->leaves) - 1);
  if (!wire::hash_request_shape_ok(b.request)) return false;
  blame_.emplace(piece, std::move(b));
  ask_for_blame(piece);
  return blame_.count(piece) != 0;
}

// Asks the next peer that has the piece and has not been asked; with none left, the piece is judged as a v1
// failure would be (recorded; compared when it passes).
void Torrent::ask_for_blame(PieceIndex piece) {
  auto it = blame_.find(piece);
  if (it == blame_.end()) return;
  auto& b = it->second;
  for (auto& [id, p] : peers_) {
    if (b.tried.count(id) || !p.protocol.has().test(piece)) continue;
    b.tried.insert(id);
    b.asked = id;
    b.ticks = 0;
    send(p, wire::HashRequest{b.request});
    wake(id, p);
    return;
  }
  auto blocks = std::move(b.blocks);
  blame_.erase(it);
  ban(smart_ban_.on_piece_failed(piece, blocks));
}

// ---------------------------------------------------------------------------------------------------------------
// Piece layers from peers (metadata fetched from a v2-only magnet has none).
//
// Each run is proven on its own: the run hashes to its subtree root, which with the uncles hashes to the
// file's pieces root. Checking each run as it comes (rather than assembling the layer and checking its root
// once) names the peer that lied from its own message, so only that run is asked again, of another peer; a
// layer checked whole could only say that one of several senders lied.

bool Torrent::fetch_piece_layers(PeerId id, Peer& peer) {
  if (layers_missing_.empty()) return false;
  if (layer_liars_.count(id) || peer.protocol.has().none()) return true;
  auto& asks = layer_asks_[id];
  for (auto& [root, f] : layers_missing_) {
    if (asks >= kMaxLayerRequestsPerPeer) break;
    for (auto& c : f.chunks) {
      if (asks >= kMaxLayerRequestsPerPeer) break;
      if (c.done || c.asked != swarm::kNoPeer || c.tried.count(id)) continue;
      c.asked = id;
      c.ticks = 0;
      c.tried.insert(id);
      ++asks;
      send(peer, wire::HashRequest{c.request});
    }
  }
  if (asks == 0) layer_asks_.erase(id);
  wake(id, peer);
  return true;
}

namespace {

// The run `index / length` of a layer fetch answering these fields, or nullptr.
template <class Fetch>
auto layer_chunk_for(Fetch& fetch, const wire::HashRequestFields& fields) -> decltype(fetch.chunks.data()) {
  auto at = static_cast<std::size_t>(fields.index / kLayerChunkHashes);
  if (at >= fetch.chunks.size() || !(fetch.chunks[at].request == fields)) return nullptr;
  return &fetch.chunks[at];
}

}  // namespace

bool Torrent::on_layer_hashes(PeerId id, const wire::Hashes& hashes) {
  auto it = layers_missing_.find(hashes.pieces_root);
  if (it == layers_missing_.end()) return false;
  auto& f = it->second;
  auto* c = layer_chunk_for(f, hashes);
  // Only a run we asked this peer for (a late answer after another peer was asked still counts).
  if (!c || c->done || !c->tried.count(id)) return false;
  if (c->asked == id) {
    c->asked = swarm::kNoPeer;
    if (auto a = layer_asks_.find(id); a != layer_asks_.end() && --a->second == 0) layer_asks_.erase(a);
  }
  const auto& r = c->request;
  auto all = hash::merkle_split(
      std::string_view(reinterpret_cast<const char*>(hashes.hashes.data()), hashes.hashes.size()));
  std::span<const Sha256Digest> run(all.data(), r.length);
  std::span<const Sha256Digest> uncles(all.data() + r.length, all.size() - r.length);
  int piece_level = log2_of(params_.piece_length / hash::kMerkleBlockSize);
  auto subtree = hash::merkle_root(run, r.length, hash::merkle_pad_hash(piece_level));
  if (hash::merkle_root_from_proof(subtree, r.index >> log2_of(r.length), uncles) != hashes.pieces_root) {
    log("piece layer hashes from a peer do not prove out against their pieces root: it is asked no more");
    layer_liars_.insert(id);
    // Whatever else it was asked goes to the others.
    for (auto& [root, other] : layers_missing_) {
      for (auto& chunk : other.chunks) {
        if (chunk.asked == id) chunk.asked = swarm::kNoPeer;
      }
    }
    layer_asks_.erase(id);
    for (auto& [other, p] : peers_)
      fetch_piece_layers(other, p);
    return true;
  }
  c->done = true;
  auto take = std::min<std::int64_t>(r.length, f.pieces - r.index);
  std::copy_n(run.begin(), take, f.layer.begin() + r.index);
  if (--f.chunks_left == 0) {
    log("piece layer of " + std::to_string(f.pieces) + " pieces received in " +
        std::to_string(f.chunks.size()) + " run(s), each proven against its pieces root");
    std::string layer = hash::merkle_concat(f.layer);
    params_.metainfo->piece_layers[hashes.pieces_root] = layer;
    emit(PieceLayerReceived{hashes.pieces_root, std::move(layer)});
    layers_missing_.erase(it);
  }
  // The next runs (or, with every layer in, the pieces).
  for (auto& [other, p] : peers_)
    request_more(other, p);
  return true;
}

bool Torrent::on_layer_reject(PeerId id, const wire::HashReject& reject) {
  auto it = layers_missing_.find(reject.pieces_root);
  if (it == layers_missing_.end()) return false;
  auto* c = layer_chunk_for(it->second, reject);
  if (!c || c->asked != id) return false;
  c->asked = swarm::kNoPeer;
  if (auto a = layer_asks_.find(id); a != layer_asks_.end() && --a->second == 0) layer_asks_.erase(a);
  // Another peer takes it now; this one may be asked again once every other has said no.
  for (auto& [other, p] : peers_) {
    if (other != id) fetch_piece_layers(other, p);
  }
  return true;
}

// Runs whose peer is gone or silent are asked of the next; a run every connected peer was asked for (and
// rejected or let time out) is offered to them all again, liars excepted.
void Torrent::layers_tick() {
  if (layers_missing_.empty()) return;
  for (auto& [root, f] : layers_missing_) {
    for (auto& c : f.chunks) {
      if (c.done) continue;
      if (c.asked != swarm::kNoPeer && (!find(c.asked) || ++c.ticks > kBlameTimeoutTicks)) {
        if (auto a = layer_asks_.find(c.asked); a != layer_asks_.end() && --a->second == 0)
          layer_asks_.erase(a);
        c.asked = swarm::kNoPeer;
      }
      if (c.asked != swarm::kNoPeer) continue;
      bool untried = std::any_of(peers_.begin(), peers_.end(), [&](const auto& p) {
        return !c.tried.count(p.first) && !layer_liars_.count(p.first) && !p.second.protocol.has().none();
      });
      if (!untried) c.tried.clear();
    }
  }
  for (auto& [id, p] : peers_)
    fetch_piece_layers(id, p);
}

void Torrent::on_hashes(PeerId id, const wire::Hashes& hashes) {
  if (on_layer_hashes(id, hashes)) return;
  for (auto it = blame_.begin(); it != blame_.end(); ++it) {
    auto& b = it->second;
    if (b.asked != id || !(static_cast<const wire::HashRequestFields&>(hashes) == b.request)) continue;
    PieceIndex piece = it->first;
    auto run = hash::merkle_split(std::string_view(reinterpret_cast<const char*>(hashes.hashes.data()),
                                                   std::size_t{b.request.length} * wire::kHashSize));
    if (hash::merkle_root(run, b.check.leaves, Sha256Digest{}) != b.check.expected) {
      // Hashes that do not prove out: this peer is no witness. Ask another.
      log("hashes for piece " + std::to_string(piece.get()) + " do not match its piece layer");
      ask_for_blame(piece);
      return;
    }
    // Each block's evidence is its leaf (first 20 bytes, as the driver reports it); pad blocks are zeros.
    std::vector<swarm::SmartBan::Digest> good(b.blocks.size());
    auto data_blocks = static_cast<std::size_t>(hash::merkle_num_blocks(b.check.file_bytes));
    std::int64_t piece_size = params_.metainfo->piece_size(piece);
    for (std::size_t i = 0; i < good.size(); ++i) {
      if (i < data_blocks && i < run.size()) {
        std::copy_n(run[i].bytes.begin(), good[i].size(), good[i].begin());
      } else {
        auto length = std::min<std::int64_t>(swarm::kBlockSize,
                                             piece_size - static_cast<std::int64_t>(i) * swarm::kBlockSize);
        std::vector<std::uint8_t> zeros(static_cast<std::size_t>(std::max<std::int64_t>(length, 0)));
        good[i] = hash::sha1(std::as_bytes(std::span(zeros))).bytes;
      }
    }
    // Kept for resume data while the piece is fetched again: its kept blocks can be judged at a restart.
    if (proven_leaves_.size() < kMaxPendingBlame || proven_leaves_.count(piece)) proven_leaves_[piece] = run;
    auto blocks = std::move(b.blocks);
    blame_.erase(it);
    auto convicted = smart_ban_.on_blocks_proven(blocks, good);
    log("piece " + std::to_string(piece.get()) + " blamed block by block from its leaf hashes: " +
        std::to_string(convicted.size()) + " sender(s) of bad blocks");
    ban(convicted);
    return;
  }
}

void Torrent::on_hash_reject(PeerId id, const wire::HashReject& reject) {
  if (on_layer_reject(id, reject)) return;
  for (auto& [piece, b] : blame_) {
    if (b.asked == id && static_cast<const wire::HashRequestFields&>(reject) == b.request) {
      ask_for_blame(piece);
      return;
    }
  }
}

// The peer asked is gone or silent: ask the next.
void Torrent::blame_tick() {
  layers_tick();
  std::vector<PieceIndex> retry;
  for (auto& [piece, b] : blame_) {
    if (!find(b.asked) || ++b.ticks > kBlameTimeoutTicks) retry.push_back(piece);
  }
  for (auto piece : retry)
    ask_for_blame(piece);
}

}  // namespace shoal::torrent
