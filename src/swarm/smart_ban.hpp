// Who sent the bad data of a piece that failed its hash check, decided on evidence. Pure: hashes and
// addresses in, addresses to ban out. An "address" is a peer's ban key (swarm::ban_key): its IP address, or
// address and port on loopback, where tests and local swarms run many peers; or one of the torrent's web
// seeds (BEP 19), which supplies blocks as peers do and lies as they may.
//
// When a piece fails, the driver records who supplied each block and the SHA-1 of what they sent. A piece
// that came from one address alone convicts it at once. Otherwise the piece is fetched again; when it passes,
// the good block hashes are compared with the recorded ones and exactly the addresses whose blocks differ are
// convicted. An address that only ever sent good blocks is never convicted, however often it shared a piece
// with a liar. Everything is kept per address, not per connection: reconnecting does not wipe the record.
//
// Invariants:
//  - at most kMaxPiecesRecorded failed pieces are remembered (the oldest is forgotten first), and for each
//    block at most kMaxVersionsPerBlock different (address, hash) pairs;
//  - on_piece_passed forgets the piece.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <span>
#include <vector>

#include "shoal/endpoint.hpp"
#include "shoal/strong_index.hpp"

namespace shoal::swarm {

// A block's supplier: a peer by its ban key, or a web seed by the id the torrent gave it (never 0).
struct BanKey {
  Endpoint peer{};
  std::uint32_t web_seed = 0;

  BanKey() = default;
  // Implicit: most suppliers are peers, and a peer's ban key is what callers hold.
  BanKey(const Endpoint& endpoint) : peer(endpoint) {}  // NOLINT(google-explicit-constructor)
  static BanKey of_web_seed(std::uint32_t id) {
    BanKey key;
    key.web_seed = id;
    return key;
  }
  bool is_web_seed() const { return web_seed != 0; }
  auto operator<=>(const BanKey&) const = default;
};

class SmartBan {
 public:
  using Address = BanKey;
  using Digest = std::array<std::uint8_t, 20>;
  static constexpr std::size_t kMaxPiecesRecorded = 256;
  static constexpr std::size_t kMaxVersionsPerBlock = 8;

  // Block i of a failed piece: who sent it (nullopt-like: `known` false for a block with no supplier on
  // record) and the SHA-1 of the bytes received.
  struct Block {
    bool known = false;
    Address from{};
    Digest hash{};
  };

  // A piece failed. Returns the addresses convicted now: the sole supplier of the piece, if there was one and
  // every block's supplier is known.
  std::vector<Address> on_piece_failed(PieceIndex piece, std::span<const Block> blocks);
  // Whether the piece's failures are on record: the driver then hashes its blocks when it passes.
  bool recorded(PieceIndex piece) const { return pieces_.count(piece) != 0; }
  // The piece passed; `good[i]` is the SHA-1 of its block i. Returns the addresses whose recorded blocks
  // differ from the good ones.
  std::vector<Address> on_piece_passed(PieceIndex piece, std::span<const Digest> good);

  // BEP 52: a failed piece whose good block hashes are known at once (its leaf hashes, proven against the
  // piece layer by a peer's hashes message). Exactly the addresses whose blocks differ are convicted and
  // struck; the others get nothing, and nothing is recorded. Blocks of unknown supply are skipped.
  std::vector<Address> on_blocks_proven(std::span<const Block> blocks, std::span<const Digest> good);

  // Failed pieces each address supplied blocks of (evidence or not), across its connections.
  int strikes(const Address& address) const;

 private:
  struct Version {
    Address from;
    Digest hash;
  };
  using Record = std::vector<std::vector<Version>>;  // per block index

  std::map<PieceIndex, Record> pieces_;
  std::deque<PieceIndex> order_;  // recorded pieces, oldest first
  std::map<Address, int> strikes_;
};

}  // namespace shoal::swarm
