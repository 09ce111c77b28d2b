// What waits to be sent to one peer, in bytes: the blocks it asked for, each a framed `piece` message holding
// its own copy of the 16 KiB payload. A copy, not a view into a cached piece: a queued block then costs its
// 16 KiB and no more, whatever the piece size, and the read cache stays within its budget whatever peers ask.
//
// The driver serves a peer only while has_room(capacity), so with the small messages it keeps beside it the
// memory held for one peer is bounded by capacity() plus one block. Cancelling one block (a cancel message)
// is O(log n); dropping all of them (a choke) is linear in what is dropped.
//
// Invariants:
//  - bytes() is the sum of the sizes of the queued messages;
//  - a request is queued at most once (index_ and blocks_ hold the same requests).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <tuple>
#include <vector>

#include "swarm/piece_picker.hpp"

namespace shoal::swarm {

// Bytes one peer may have waiting to be sent: a few seconds at its upload rate, within a floor (a peer that
// reads nothing gets this much and no more) and a ceiling.
inline constexpr std::size_t kMinSendQueueBytes = 64 * 1024;  // four blocks: a slow uplink is not buried
inline constexpr std::size_t kMaxSendQueueBytes = 8 * 1024 * 1024;
inline constexpr double kSendQueueSeconds = 4.0;
std::size_t send_queue_capacity(double upload_rate);

class SendQueue {
 public:
  struct Block {
    BlockRequest request;
    std::vector<std::uint8_t> message;  // the whole framed piece message: header and payload
  };

  bool has_room(std::size_t capacity, std::size_t other_bytes = 0) const {
    return bytes_ + other_bytes < capacity;
  }
  // Queues a block's message; false (and nothing queued) when the same request is already queued.
  bool push(const BlockRequest& request, std::vector<std::uint8_t> message);
  // Removes the block if it is still queued. O(log n).
  bool cancel(const BlockRequest& request);
  // Removes every queued block; their requests, in queue order, are appended to `out`.
  void clear(std::vector<BlockRequest>& out);
  // The oldest block, for the writer. Requires !empty().
  Block pop_front();

  bool empty() const { return blocks_.empty(); }
  std::size_t size() const { return blocks_.size(); }
  std::size_t bytes() const { return bytes_; }

 private:
  struct Less {
    bool operator()(const BlockRequest& a, const BlockRequest& b) const {
      return std::tie(a.piece, a.begin, a.length) < std::tie(b.piece, b.begin, b.length);
    }
  };
  std::list<Block> blocks_;
  std::map<BlockRequest, std::list<Block>::iterator, Less> index_;
  std::size_t bytes_ = 0;
};

}  // namespace shoal::swarm
