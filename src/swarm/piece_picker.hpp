// Which blocks to request from which peer. Pure: no clock, no I/O; randomness comes from a seed.
//
// Invariants (one per piece, checked by tests):
//  - a piece is either had (verified), in progress (an entry in partial_), or untouched;
//  - in progress, each block is missing, requested (by 1..kMaxRequestersPerBlock peers) or received;
//  - outside end-game a block is requested from at most one peer; in end-game from at most
//    kMaxRequestersPerBlock, never twice from the same peer;
//  - a piece whose blocks are all received stays in progress until on_piece_verified / on_piece_failed,
//    so it is never handed out again while it is being hashed and written.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <unordered_map>
#include <vector>

#include "shoal/strong_index.hpp"
#include "swarm/bitfield.hpp"
#include "wire/message.hpp"

namespace shoal::swarm {

using wire::kBlockSize;  // the one block size, named here too for the picker's users
inline constexpr std::int32_t kRandomStartPieces = 4;  // pieces picked at random before rarest-first
inline constexpr std::size_t kMaxRequestersPerBlock = 2;

using PeerId = std::uint32_t;
inline constexpr PeerId kNoPeer = 0;  // callers number their peers from 1

struct BlockRequest {
  PieceIndex piece{};
  std::int32_t begin = 0;
  std::int32_t length = 0;
  bool operator==(const BlockRequest&) const = default;
};

struct BlockResult {
  bool accepted = false;            // we wanted this block and had not received it yet
  bool piece_complete = false;      // every block of the piece is now here: hash it
  std::vector<PeerId> cancel_from;  // end-game: other peers that were asked for the same block
};

class PiecePicker {
 public:
  PiecePicker(std::int32_t num_pieces, std::int64_t piece_length, std::int64_t total_size,
              std::uint64_t seed);

  // Availability.
  void add_peer(const Bitfield& has);
  void remove_peer(const Bitfield& has);
  void add_have(PieceIndex piece);
  void add_seed() { ++seeds_; }
  void remove_seed() { --seeds_; }

  // Our state.
  void mark_have(PieceIndex piece);  // verified (e.g. at start from resume or recheck)
  bool has(PieceIndex piece) const { return have_.test(piece); }
  const Bitfield& have() const { return have_; }
  std::int32_t num_have() const { return have_.count(); }
  std::int32_t num_pieces() const { return num_pieces_; }
  void set_piece_priority(PieceIndex piece, std::uint8_t priority);  // 0 = do not download
  std::uint8_t priority(PieceIndex piece) const { return priority_[slot(piece)]; }
  void set_sequential(bool on) { sequential_ = on; }
  bool is_complete() const;  // every wanted piece is verified
  std::int64_t bytes_wanted_left() const;
  bool in_end_game() const { return end_game_; }
  // Whether `has` offers anything we still want (drives the interested message).
  bool interesting(const Bitfield& has) const;
  bool interesting_piece(PieceIndex piece) const;

  // Appends up to max_blocks requests for `peer` to out; returns how many were added. In end-game at most
  // `max_duplicates` of them are blocks already requested from another peer, those asked longest ago first
  // (the likeliest to be held by a slow peer).
  std::size_t pick_blocks(PeerId peer, const Bitfield& peer_has, std::size_t max_blocks,
                          std::vector<BlockRequest>& out,
                          std::size_t max_duplicates = std::numeric_limits<std::size_t>::max());

  // Whole-piece sources (web seeds): a piece is untouched when it is wanted, not had and nobody was asked
  // for any of its blocks. claim_piece marks every block of an untouched piece requested by `peer` (false:
  // it is not untouched); the claim is given back block by block through on_request_dropped.
  bool untouched(PieceIndex piece) const { return wanted(piece) && partial_.count(piece) == 0; }
  bool claim_piece(PeerId peer, PieceIndex piece);
  // Gives back every block of `piece` requested from `peer`; a piece left with nothing received and nothing
  // asked of anyone is untouched again (a whole-piece source can claim it).
  void release_piece(PeerId peer, PieceIndex piece);

  BlockResult on_block_received(PeerId peer, const BlockRequest& block);
  // A request that will not be answered (choked, rejected, timed out, cancelled): back to the pool.
  void on_request_dropped(PeerId peer, const BlockRequest& block);
  void on_piece_verified(PieceIndex piece);
  void on_piece_failed(PieceIndex piece);
  // Resume data: blocks of `piece` already here from before (on disk, kept by resume data), marked received
  // with no supplier. Only for a wanted piece not had and not in progress, with `blocks` one bit per block
  // and at least one set; false otherwise. A piece whose every block is set is complete: hash it.
  bool restore_blocks(PieceIndex piece, const Bitfield& blocks);
  // Which blocks of a piece in progress are received (an empty bitfield when it is not in progress).
  Bitfield received_blocks(PieceIndex piece) const;
  // Peers that supplied blocks of a piece in progress (for smart ban when it fails).
  std::vector<PeerId> contributors(PieceIndex piece) const;
  // Who supplied each block of a piece in progress, by block index (kNoPeer: not received).
  std::vector<PeerId> block_suppliers(PieceIndex piece) const;

  std::int64_t piece_size(PieceIndex piece) const;
  std::int32_t blocks_in_piece(PieceIndex piece) const;
  // Connected peers that have `piece`, seeds included.
  std::int32_t availability(PieceIndex piece) const { return availability_[slot(piece)] + seeds_; }

 private:
  enum class BlockState : std::uint8_t { missing, requested, received };
  struct Block {
    BlockState state = BlockState::missing;
    std::array<PeerId, kMaxRequestersPerBlock> requesters{};
    PeerId supplier = kNoPeer;
    std::uint64_t requested_seq = 0;  // when it was last requested from nobody (request_seq_ then)
  };
  struct Partial {
    std::vector<Block> blocks;
    std::int32_t received = 0;
    std::int32_t unrequested = 0;
  };

  static std::size_t slot(PieceIndex piece) { return static_cast<std::size_t>(piece.get()); }  // vector slot
  bool wanted(PieceIndex piece) const;
  Partial& start_piece(PieceIndex piece);
  std::optional<PieceIndex> choose_new_piece(const Bitfield& peer_has);
  std::size_t take_from(Partial& partial, PieceIndex piece, PeerId peer, std::size_t max,
                        std::vector<BlockRequest>& out);
  BlockRequest block_request(PieceIndex piece, std::int32_t index) const;

  std::int32_t num_pieces_;
  std::int64_t piece_length_;
  std::int64_t total_size_;
  Bitfield have_;
  std::vector<std::uint16_t> availability_;
  std::vector<std::uint8_t> priority_;
  std::int32_t seeds_ = 0;
  std::unordered_map<PieceIndex, Partial> partial_;
  std::vector<PieceIndex> partial_order_;  // pieces in progress, oldest first (finish what we started)
  bool sequential_ = false;
  bool end_game_ = false;
  std::uint64_t request_seq_ = 0;  // counts first requests of blocks: their order
  struct Busy {                    // pick_blocks scratch: an end-game duplicate candidate
    std::uint64_t seq;
    PieceIndex piece;
    std::size_t block;
  };
  std::vector<Busy> busy_;
  std::mt19937_64 rng_;
};

}  // namespace shoal::swarm
