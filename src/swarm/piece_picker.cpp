#include "swarm/piece_picker.hpp"

#include <algorithm>
#include <limits>

namespace shoal::swarm {

PiecePicker::PiecePicker(std::int32_t num_pieces, std::int64_t piece_length, std::int64_t total_size,
                         std::uint64_t seed)
    : num_pieces_(num_pieces),
      piece_length_(piece_length),
      total_size_(total_size),
      have_(num_pieces),
      availability_(static_cast<std::size_t>(num_pieces), 0),
      priority_(static_cast<std::size_t>(num_pieces), 1),
      rng_(seed) {}

std::int64_t PiecePicker::piece_size(PieceIndex piece) const {
  if (piece.get() + 1 < num_pieces_) return piece_length_;
  return total_size_ - piece_length_ * (num_pieces_ - 1);
}

std::int32_t PiecePicker::blocks_in_piece(PieceIndex piece) const {
  return static_cast<std::int32_t>((piece_size(piece) + kBlockSize - 1) / kBlockSize);
}

BlockRequest PiecePicker::block_request(PieceIndex piece, std::int32_t index) const {
  std::int32_t begin = index * kBlockSize;
  auto length = static_cast<std::int32_t>(std::min<std::int64_t>(kBlockSize, piece_size(piece) - begin));
  return {piece, begin, length};
}

void PiecePicker::add_peer(const Bitfield& has) {
  for (PieceIndex i{0}; i.get() < num_pieces_; ++i) {
    if (has.test(i)) ++availability_[slot(i)];
  }
}

void PiecePicker::remove_peer(const Bitfield& has) {
  for (PieceIndex i{0}; i.get() < num_pieces_; ++i) {
    auto& a = availability_[slot(i)];
    if (has.test(i) && a > 0) --a;
  }
}

void PiecePicker::add_have(PieceIndex piece) {
  auto& a = availability_[slot(piece)];
  if (a < std::numeric_limits<std::uint16_t>::max()) ++a;
}

void PiecePicker::mark_have(PieceIndex piece) {
  have_.set(piece);
  if (partial_.erase(piece) != 0) std::erase(partial_order_, piece);
}

void PiecePicker::set_piece_priority(PieceIndex piece, std::uint8_t priority) {
  priority_[slot(piece)] = priority;
}

bool PiecePicker::wanted(PieceIndex piece) const {
  return !have_.test(piece) && priority_[slot(piece)] != 0;
}

bool PiecePicker::is_complete() const {
  for (PieceIndex i{0}; i.get() < num_pieces_; ++i) {
    if (wanted(i)) return false;
  }
  return true;
}

std::int64_t PiecePicker::bytes_wanted_left() const {
  std::int64_t left = 0;
  for (PieceIndex i{0}; i.get() < num_pieces_; ++i) {
    if (wanted(i)) left += piece_size(i);
  }
  return left;
}

bool PiecePicker::interesting_piece(PieceIndex piece) const {
  return wanted(piece);
}

bool PiecePicker::interesting(const Bitfield& has) const {
  for (PieceIndex i{0}; i.get() < num_pieces_; ++i) {
    if (has.test(i) && wanted(i)) return true;
  }
  return false;
}

PiecePicker::Partial& PiecePicker::start_piece(PieceIndex piece) {
  Partial& p = partial_[piece];
  p.blocks.assign(static_cast<std::size_t>(blocks_in_piece(piece)), Block{});
  p.received = 0;
  p.unrequested = static_cast<std::int32_t>(p.blocks.size());
  partial_order_.push_back(piece);
  return p;
}

std::optional<PieceIndex> PiecePicker::choose_new_piece(const Bitfield& peer_has) {
  if (num_pieces_ == 0) return std::nullopt;
  std::optional<PieceIndex> best;
  if (sequential_) {
    for (PieceIndex i{0}; i.get() < num_pieces_; ++i) {
      if (peer_has.test(i) && wanted(i) && !partial_.count(i)) return i;
    }
    return std::nullopt;
  }
  // Start the scan at a random index: among pieces of equal rarity (and, at first, among all), the first one
  // met is then a random one, with no bias towards low indexes.
  auto start = static_cast<std::int32_t>(rng_() % static_cast<std::uint64_t>(num_pieces_));
  bool random_phase = have_.count() < kRandomStartPieces;
  std::uint32_t best_key = std::numeric_limits<std::uint32_t>::max();
  for (std::int32_t k = 0; k < num_pieces_; ++k) {
    PieceIndex i{(start + k) % num_pieces_};
    if (!peer_has.test(i) || !wanted(i) || partial_.count(i)) continue;
    if (random_phase) return i;
    // Higher priority first, then rarer.
    std::uint32_t key = static_cast<std::uint32_t>(255 - priority_[slot(i)]) << 16 | availability_[slot(i)];
    if (key < best_key) {
      best_key = key;
      best = i;
    }
  }
  return best;
}

std::size_t PiecePicker::take_from(Partial& partial, PieceIndex piece, PeerId peer, std::size_t max,
                                   std::vector<BlockRequest>& out) {
  std::size_t added = 0;
  for (std::size_t b = 0; b < partial.blocks.size() && added < max; ++b) {
    Block& block = partial.blocks[b];
    if (block.state == BlockState::missing) {
      block.state = BlockState::requested;
      block.requesters = {};
      block.requesters[0] = peer;
      block.requested_seq = ++request_seq_;
      --partial.unrequested;
    } else {
      continue;
    }
    out.push_back(block_request(piece, static_cast<std::int32_t>(b)));
    ++added;
  }
  return added;
}

std::size_t PiecePicker::pick_blocks(PeerId peer, const Bitfield& peer_has, std::size_t max_blocks,
                                     std::vector<BlockRequest>& out, std::size_t max_duplicates) {
  std::size_t added = 0;
  // 1. Pieces this peer already works on (whole-piece affinity: one peer tends to supply a whole piece, which
  // is
  //    what lets a failed piece convict its supplier), 2. new pieces, 3. pieces others started.
  auto take_partials = [&](bool only_mine) {
    for (PieceIndex piece : partial_order_) {
      if (added >= max_blocks) break;
      if (!peer_has.test(piece)) continue;
      Partial& p = partial_[piece];
      if (p.unrequested == 0) continue;
      bool mine = std::any_of(p.blocks.begin(), p.blocks.end(), [peer](const Block& b) {
        return (b.state == BlockState::requested && b.requesters[0] == peer) || b.supplier == peer;
      });
      // A piece restored from resume data (blocks received from nobody) that nobody works on counts as
      // anyone's: finished before new ones are started.
      mine = mine || (std::any_of(p.blocks.begin(), p.blocks.end(),
                                  [](const Block& b) {
                                    return b.state == BlockState::received && b.supplier == kNoPeer;
                                  }) &&
                      std::none_of(p.blocks.begin(), p.blocks.end(),
                                   [](const Block& b) { return b.state == BlockState::requested; }));
      if (mine != only_mine) continue;
      added += take_from(p, piece, peer, max_blocks - added, out);
    }
  };
  take_partials(true);
  while (added < max_blocks) {
    auto piece = choose_new_piece(peer_has);
    if (!piece) break;
    added += take_from(start_piece(*piece), *piece, peer, max_blocks - added, out);
  }
  if (added < max_blocks) take_partials(false);
  // 3. End-game: nothing left to hand out but blocks already requested from others.
  if (added < max_blocks) {
    bool anything_unrequested = false;
    for (PieceIndex i{0}; i.get() < num_pieces_ && !anything_unrequested; ++i) {
      if (!wanted(i)) continue;
      auto it = partial_.find(i);
      anything_unrequested = it == partial_.end() || it->second.unrequested > 0;
    }
    end_game_ = !anything_unrequested;
    if (end_game_ && max_duplicates > 0) {
      // The blocks asked longest ago first: the likeliest to be stuck with a slow peer.
      busy_.clear();
      for (PieceIndex piece : partial_order_) {
        if (!peer_has.test(piece)) continue;
        const auto& blocks = partial_[piece].blocks;
        for (std::size_t b = 0; b < blocks.size(); ++b) {
          const auto& r = blocks[b].requesters;
          if (blocks[b].state != BlockState::requested || std::find(r.begin(), r.end(), peer) != r.end() ||
              std::find(r.begin(), r.end(), kNoPeer) == r.end())
            continue;
          busy_.push_back({blocks[b].requested_seq, piece, b});
        }
      }
      std::sort(busy_.begin(), busy_.end(), [](const Busy& a, const Busy& b) { return a.seq < b.seq; });
      auto limit = std::min(max_blocks - added, max_duplicates);
      for (std::size_t i = 0; i < busy_.size() && i < limit; ++i) {
        auto& r = partial_[busy_[i].piece].blocks[busy_[i].block].requesters;
        *std::find(r.begin(), r.end(), kNoPeer) = peer;
        out.push_back(block_request(busy_[i].piece, static_cast<std::int32_t>(busy_[i].block)));
        ++added;
      }
    }
  }
  return added;
}

bool PiecePicker::claim_piece(PeerId peer, PieceIndex piece) {
  if (piece.get() < 0 || piece.get() >= num_pieces_ || !untouched(piece)) return false;
  std::vector<BlockRequest> ignored;
  auto& partial = start_piece(piece);
  take_from(partial, piece, peer, partial.blocks.size(), ignored);
  return true;
}

void PiecePicker::release_piece(PeerId peer, PieceIndex piece) {
  auto it = partial_.find(piece);
  if (it == partial_.end()) return;
  for (std::int32_t b = 0; b < static_cast<std::int32_t>(it->second.blocks.size()); ++b)
    on_request_dropped(peer, block_request(piece, b));
  const Partial& p = it->second;
  if (p.received == 0 && p.unrequested == static_cast<std::int32_t>(p.blocks.size())) {
    partial_.erase(it);
    std::erase(partial_order_, piece);
  }
}

BlockResult PiecePicker::on_block_received(PeerId peer, const BlockRequest& request) {
  BlockResult result;
  auto it = partial_.find(request.piece);
  if (it == partial_.end() || request.begin % kBlockSize != 0) return result;
  Partial& p = it->second;
  auto index = static_cast<std::size_t>(request.begin / kBlockSize);
  if (index >= p.blocks.size() || block_request(request.piece, static_cast<std::int32_t>(index)) != request) {
    return result;
  }
  Block& block = p.blocks[index];
  if (block.state == BlockState::received) return result;
  if (block.state == BlockState::missing) --p.unrequested;
  for (PeerId other : block.requesters) {
    if (other != kNoPeer && other != peer) result.cancel_from.push_back(other);
  }
  block.state = BlockState::received;
  block.requesters = {};
  block.supplier = peer;
  ++p.received;
  result.accepted = true;
  result.piece_complete = p.received == static_cast<std::int32_t>(p.blocks.size());
  return result;
}

void PiecePicker::on_request_dropped(PeerId peer, const BlockRequest& request) {
  auto it = partial_.find(request.piece);
  if (it == partial_.end() || request.begin % kBlockSize != 0) return;
  Partial& p = it->second;
  auto index = static_cast<std::size_t>(request.begin / kBlockSize);
  if (index >= p.blocks.size()) return;
  Block& block = p.blocks[index];
  if (block.state != BlockState::requested) return;
  auto& r = block.requesters;
  auto pos = std::find(r.begin(), r.end(), peer);
  if (pos == r.end()) return;
  *pos = kNoPeer;
  std::sort(r.begin(), r.end(), std::greater<>());  // keep live requesters first
  if (r[0] == kNoPeer) {
    block.state = BlockState::missing;
    ++p.unrequested;
  }
}

void PiecePicker::on_piece_verified(PieceIndex piece) {
  mark_have(piece);
}

void PiecePicker::on_piece_failed(PieceIndex piece) {
  if (partial_.erase(piece) != 0) std::erase(partial_order_, piece);
}

bool PiecePicker::restore_blocks(PieceIndex piece, const Bitfield& blocks) {
  if (piece.get() < 0 || piece.get() >= num_pieces_ || !untouched(piece)) return false;
  if (blocks.size() != blocks_in_piece(piece) || blocks.none()) return false;
  auto& partial = start_piece(piece);
  for (std::int32_t b = 0; b < blocks.size(); ++b) {
    if (!blocks.test(PieceIndex{b})) continue;
    partial.blocks[static_cast<std::size_t>(b)].state = BlockState::received;
    ++partial.received;
    --partial.unrequested;
  }
  return true;
}

Bitfield PiecePicker::received_blocks(PieceIndex piece) const {
  auto it = partial_.find(piece);
  if (it == partial_.end()) return {};
  Bitfield out(static_cast<std::int32_t>(it->second.blocks.size()));
  for (std::size_t b = 0; b < it->second.blocks.size(); ++b) {
    if (it->second.blocks[b].state == BlockState::received) out.set(PieceIndex{static_cast<std::int32_t>(b)});
  }
  return out;
}

std::vector<PeerId> PiecePicker::contributors(PieceIndex piece) const {
  std::vector<PeerId> peers;
  auto it = partial_.find(piece);
  if (it == partial_.end()) return peers;
  for (const auto& b : it->second.blocks) {
    if (b.supplier != kNoPeer && std::find(peers.begin(), peers.end(), b.supplier) == peers.end()) {
      peers.push_back(b.supplier);
    }
  }
  return peers;
}

std::vector<PeerId> PiecePicker::block_suppliers(PieceIndex piece) const {
  std::vector<PeerId> suppliers;
  auto it = partial_.find(piece);
  if (it == partial_.end()) return suppliers;
  suppliers.reserve(it->second.blocks.size());
  for (const auto& b : it->second.blocks)
    suppliers.push_back(b.supplier);
  return suppliers;
}

}  // namespace shoal::swarm
