// Fetching a magnet link's info dictionary (BEP 9) from every connected peer that offers it, in parallel,
// with no I/O: which piece to ask whom for, what to do with answers, rejects and silence, and when the whole
// is here and hashes to the info-hash. The torrent core runs it over its ordinary peer connections.
//
// Invariants:
//  - a metadata piece is asked of one peer at a time, and of at most kRequestsPerPeer pieces per peer;
//  - nothing is allocated for a declared size above wire::kMaxMetadataSize;
//  - when the assembled bytes do not hash to the info-hash, every peer that supplied a piece of them is
//    named (to be closed) and never asked again, and the next attempt starts from another peer's size.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "shoal/digest.hpp"
#include "swarm/piece_picker.hpp"
#include "wire/ut_metadata.hpp"

namespace shoal::torrent {

class MetadataFetch {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kRequestsPerPeer = 2;
  static constexpr auto kRequestTimeout = std::chrono::seconds(10);
  static constexpr auto kRejectBackoff = std::chrono::seconds(20);

  explicit MetadataFetch(const Sha1Digest& info_hash) : info_hash_(info_hash) {}

  // Metadata pieces to ask `peer` for now; it declared `declared_size` (BEP 9 metadata_size) in its extension
  // handshake.
  std::vector<std::uint32_t> requests_for(swarm::PeerId peer, std::int64_t declared_size,
                                          Clock::time_point now);

  struct Outcome {
    bool complete = false;             // metadata() holds the verified info dictionary
    std::vector<swarm::PeerId> liars;  // supplied bytes of an assembly that failed its hash: close them
    std::string problem;               // why this data was not taken (for the log), empty when it was
  };
  Outcome on_data(swarm::PeerId peer, std::uint32_t piece, std::optional<std::int64_t> total_size,
                  std::span<const std::uint8_t> data);
  void on_reject(swarm::PeerId peer, std::uint32_t piece, Clock::time_point now);
  void on_peer_gone(swarm::PeerId peer);
  // Requests unanswered for kRequestTimeout go back to the pool.
  void on_tick(Clock::time_point now);

  bool complete() const { return complete_; }
  const std::string& metadata() const { return metadata_; }

 private:
  struct Asked {
    swarm::PeerId peer;
    Clock::time_point at;
  };
  void release(std::uint32_t piece);
  void reset();

  Sha1Digest info_hash_;
  std::optional<wire::MetadataAssembler> assembler_;
  std::int64_t size_ = 0;
  std::map<std::uint32_t, Asked> asked_;  // piece -> who has it now
  std::set<swarm::PeerId> suppliers_;     // of the assembly in progress
  std::set<swarm::PeerId> excluded_;      // liars: never asked again
  std::map<swarm::PeerId, Clock::time_point> rejected_until_;
  bool complete_ = false;
  std::string metadata_;
};

}  // namespace shoal::torrent
