// One peer connection's BitTorrent protocol state after the handshake, with no I/O: what each side has told
// the other (choke, interest, pieces, BEP 6 and BEP 10 support), our requests to the peer and its requests
// to us, and the timers that decide snubbing, keep-alives and idle connections. Time is a parameter.
//
// The driver feeds it decoded messages and ticks, sends the messages it queues (outbox(), in order, then
// clear_outbox()), and acts on the Event each message yields: close with a reason, serve a request, store a
// block, hand an extension message on. Torrent-wide facts (our pieces, availability, which blocks to ask for)
// live in the PiecePicker the driver passes in; this object keeps the picker's view of this peer in step.
//
// Invariants:
//  - every request in outstanding() is also recorded as requested from this peer in the picker, and goes back
//    to the picker (on_request_dropped) the moment it leaves outstanding() unanswered;
//  - the peer's pieces are counted in the picker's availability once: as a seed or as a bitfield (after its
//    first bitfield, have_all/have_none or have), and release() takes them out again;
//  - queued_requests() is empty while we choke the peer, and never longer than kMaxQueuedRequests;
//  - a `piece` message outside the torrent (index, offset or length) closes the connection;
//  - a message that has started arriving finishes within Config::message_timeout, and a write that has
//    started makes progress within Config::write_stall_timeout, or the connection closes.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "swarm/bitfield.hpp"
#include "swarm/pex_state.hpp"
#include "swarm/piece_picker.hpp"
#include "swarm/request_window.hpp"
#include "swarm/token_bucket.hpp"
#include "wire/extension_handshake.hpp"
#include "wire/message.hpp"

namespace shoal::swarm {

// Extension message ids we announce in our BEP 10 handshake: the peer sends its ut_pex and ut_metadata
// messages to us under these.
inline constexpr std::uint8_t kOurUtPexId = 1;
inline constexpr std::uint8_t kOurUtMetadataId = 2;
inline constexpr std::uint8_t kOurUtHolepunchId = 3;  // BEP 55

// What the two handshakes agreed on (both sides set the reserved bit).
struct PeerFeatures {
  bool fast = false;        // BEP 6
  bool extensions = false;  // BEP 10
};

// What we say in our BEP 10 handshake. BEP 27: a private torrent neither offers ut_metadata (nor says its
// metadata size) nor ut_pex.
struct OurExtensions {
  bool is_private = false;
  std::int64_t metadata_size = 0;
  std::string client;
  std::uint16_t listen_port = 0;
  std::uint32_t reqq = 0;
  std::optional<std::string> yourip;
};
wire::ExtensionHandshake our_extension_handshake(const OurExtensions& ours);

// The torrent as one connection sees it when a message or tick arrives.
struct TorrentView {
  PiecePicker& picker;
  bool downloading = false;  // we want pieces: interest may be expressed and requests made
  bool seeding = false;      // we have everything: a peer that is a seed too has nothing to exchange
};

class PeerProtocol {
 public:
  using Clock = std::chrono::steady_clock;

  // Limits and timers.
  // Its requests to us waiting for disk or the send queue: what a leecher far away and fast needs to keep our
  // uplink busy (its rate times the round trip and then some: 4096 blocks are 64 MiB, a 400 ms round trip at
  // 800 Mbit/s plus a second of margin at 300 Mbit/s). A request costs 12 bytes here until it is served.
  static constexpr std::size_t kMaxQueuedRequests = 4096;
  // Blocks nobody asked for that a peer may send, beyond those we stopped waiting for (cancelled or dropped
  // requests it may have been sending already: up to a whole deep queue of them).
  static constexpr std::uint32_t kMaxUnrequestedBlocks = 64;
  static constexpr std::uint32_t kDefaultReqq = 250;  // until its extension handshake says otherwise
  // Our requests in flight to one peer: its rate times the path's round trip plus kRequestQueueTime, grown
  // by slow start while the rate is not known (RequestWindow), within these bounds and its reqq.
  static constexpr double kRequestQueueTime = RequestWindow::kQueueTime;  // seconds
  static constexpr std::size_t kMinQueueDepth = RequestWindow::kMinDepth;
  static constexpr std::size_t kMaxQueueDepth = RequestWindow::kMaxDepth;
  static constexpr auto kSnubTimeout = std::chrono::seconds(30);
  static constexpr auto kInactivityTimeout = std::chrono::seconds(120);
  static constexpr auto kKeepAliveInterval = std::chrono::seconds(90);
  // Peers with which neither side is interested hold a connection slot for nothing.
  static constexpr auto kUselessTimeout = std::chrono::seconds(180);
  // A peer that trickles a message (one byte every few seconds) or stops reading what we send holds a
  // connection slot and memory for nothing.
  static constexpr auto kMessageTimeout = std::chrono::seconds(60);
  static constexpr auto kWriteStallTimeout = std::chrono::seconds(60);
  // A write stuck this long marks the peer as stalled (it does not read); it stays marked for kStalledMemory,
  // so that it does not win its upload slot back at the next rechoke only to stall again.
  static constexpr auto kSlotStall = std::chrono::seconds(2);
  static constexpr auto kStalledMemory = std::chrono::seconds(60);
  static constexpr auto kIdleSlot = std::chrono::seconds(5);
  // ut_metadata requests one peer may make: a whole info dictionary of a few pieces at once, then a trickle.
  static constexpr double kMetadataRequestsPerSecond = 2;
  static constexpr double kMetadataRequestBurst = 8;

  struct Config {
    PeerId id = kNoPeer;
    std::int32_t num_pieces = 0;
    PeerFeatures features;
    bool pex_allowed = false;       // BEP 27: never for private torrents
    bool metadata_allowed = false;  // BEP 27: ut_metadata is never served for private torrents
    Clock::duration message_timeout = kMessageTimeout;
    Clock::duration write_stall_timeout = kWriteStallTimeout;
    Clock::duration slot_stall = kSlotStall;
  };

  // What a received message means for the driver.
  struct Nothing {};
  struct Close {  // a protocol violation, or nothing left to exchange: close with this reason
    std::string_view reason;
  };
  struct PeerInterested {};  // give it an upload slot if one is free
  struct BlockReceived {     // a block we asked for (and no longer wait for)
    BlockRequest block;
    std::span<const std::uint8_t> data;
  };
  struct ServeRequest {  // queued in queued_requests(): read the piece and send the block
    BlockRequest block;
  };
  // Gone from queued_requests() (and rejected if it was there, under BEP 6); drop it from the send queue too
  // if it is there, and reject it then (reject_unsent).
  struct RequestCancelled {
    BlockRequest block;
  };
  struct ExtensionMessage {  // ut_pex, ut_metadata or another extension: the payload views the message
    std::uint8_t id;
    std::span<const std::uint8_t> payload;
  };
  using Event = std::variant<Nothing, Close, PeerInterested, BlockReceived, ServeRequest, RequestCancelled,
                             ExtensionMessage>;

  // A connection opened at `now`, still in its handshake: it knows no pieces and says nothing yet.
  explicit PeerProtocol(Clock::time_point now) : last_receive_(now), last_send_(now), last_block_(now) {}
  // The handshakes are done: the conversation starts.
  void start(const Config& config);

  // The peer's side.
  Event on_message(const wire::Message& message, Clock::time_point now, TorrentView torrent);

  // Our side.
  void choke();  // its queued requests die: rejected under BEP 6, silently dropped otherwise
  void unchoke(Clock::time_point now);
  void update_interest(TorrentView torrent);
  // Tops up our requests to queue_depth(download_rate) (bytes/s from this peer), and to no more than `limit`
  // in flight (the torrent's budget of requests shared by its peers); `now` stamps them.
  void request_blocks(TorrentView torrent, double download_rate, Clock::time_point now,
                      std::size_t limit = kMaxQueueDepth);
  // How many requests to keep in flight to this peer at `download_rate`: the RequestWindow's depth (the
  // bandwidth-delay product plus kRequestQueueTime of its rate, or slow start's window while that is larger),
  // within its reqq; one while it is snubbed.
  std::size_t queue_depth(double download_rate) const;
  // Once a second, the peer's download rate as the driver measured it (slow start's remainder decays to it).
  void on_rate_measured(double download_rate) { window_.on_tick(download_rate); }
  // End-game: requests sent at least `late_after` ago go back to the picker, so that another peer may fetch
  // them too; they stay asked here (the first copy to arrive wins, the other is cancelled) and still count
  // towards the queue depth. Returns how many were released.
  std::size_t release_late_requests(PiecePicker& picker, Clock::duration late_after, Clock::time_point now);
  // Another peer delivered this block first (end-game): cancel it here. False when it was not asked here.
  bool cancel_request(const BlockRequest& block);
  // Moves at most `max` of its queued requests for `piece` to out, oldest first (the piece is ready to send).
  void take_queued_requests(PieceIndex piece, std::vector<BlockRequest>& out,
                            std::size_t max = kMaxQueuedRequests);
  // Blocks we had queued for it and will not send after all (dropped by a choke): BEP 6 rejects each.
  void reject_unsent(std::span<const BlockRequest> blocks);

  // Writes: a write to the socket starts, makes progress (bytes sent), and ends.
  void on_write_started(Clock::time_point now);
  void on_bytes_sent(Clock::time_point now);
  void on_write_done() { writing_ = false; }
  // A write has been on the socket for `threshold` without progress: the peer is not reading (yet to be
  // closed at write_stall_timeout; meanwhile it should not hold an upload slot).
  bool write_stalled(Clock::time_point now, Clock::duration threshold) const {
    return writing_ && now - write_progress_ >= threshold;
  }
  // A ut_metadata request from it: answer with the piece, reject it (no room in its send queue now), or
  // ignore it (private torrent, or faster than the rate limit).
  enum class MetadataAnswer { data, reject, ignore };
  MetadataAnswer on_metadata_request(Clock::time_point now, bool send_room);

  // Stalled (see kSlotStall) at a tick within kStalledMemory of `now`, or stalled now.
  bool stalled_recently(Clock::time_point now) const {
    return write_stalled(now, config_.slot_stall) || (stalled_at_ && now - *stalled_at_ < kStalledMemory);
  }

  // Holds an upload slot for nothing: stalled recently, or unchoked for kIdleSlot without asking for a block.
  bool wastes_slot(Clock::time_point now) const {
    if (stalled_recently(now)) return true;
    return !am_choking_ && peer_interested_ && now - unchoked_at_ >= kIdleSlot &&
           last_request_ < unchoked_at_;
  }

  // Back-pressure: with `queued_bytes` waiting to be sent to it and room for `capacity`, stop reading from it
  // (so it cannot ask for more) until the queue drains. Not while it owes us blocks: two peers that both
  // stopped reading would wait for each other until the stall timeout.
  bool reading_paused(std::size_t queued_bytes, std::size_t capacity) const {
    return queued_bytes >= capacity && outstanding_.empty();
  }

  // Once a second: snubbing, keep-alive, and whether the connection should close (the reason if so).
  // `message_partial`: part of a message is buffered (wire::MessageReader::partial()).
  std::optional<std::string_view> on_tick(Clock::time_point now, PiecePicker& picker,
                                          bool message_partial = false);
  // The connection closes: unanswered requests and its pieces leave the picker.
  void release(PiecePicker& picker);

  // Messages to send, in order. None holds a view into anything.
  std::span<const wire::Message> outbox() const { return outbox_; }
  void clear_outbox() { outbox_.clear(); }

  PeerId id() const { return config_.id; }
  const PeerFeatures& features() const { return config_.features; }
  bool am_choking() const { return am_choking_; }
  bool am_interested() const { return am_interested_; }
  bool peer_choking() const { return peer_choking_; }
  bool peer_interested() const { return peer_interested_; }
  const Bitfield& has() const { return has_; }
  bool is_seed() const { return is_seed_; }
  bool snubbed() const { return snubbed_; }
  const std::deque<BlockRequest>& outstanding() const { return outstanding_; }
  const std::deque<BlockRequest>& queued_requests() const { return queued_; }
  std::uint32_t unrequested_blocks() const { return unrequested_blocks_; }
  std::optional<Clock::time_point> idle_since() const { return idle_since_; }
  Clock::time_point unchoked_at() const { return unchoked_at_; }

  // From its extension handshake.
  std::optional<std::uint8_t> ut_metadata_id() const { return ut_metadata_id_; }
  std::optional<std::uint8_t> ut_pex_id() const { return ut_pex_id_; }
  std::optional<std::uint8_t> ut_holepunch_id() const { return ut_holepunch_id_; }
  std::optional<std::int64_t> metadata_size() const { return metadata_size_; }  // BEP 9, as it declared
  std::optional<std::uint16_t> listen_port() const { return listen_port_; }
  std::uint32_t reqq() const { return reqq_; }
  const RequestWindow& window() const { return window_; }
  std::size_t peak_outstanding() const { return peak_outstanding_; }  // most requests ever in flight to it
  const std::string& client() const { return client_; }
  PexState* pex() { return pex_ ? &*pex_ : nullptr; }  // set when both sides speak ut_pex

 private:
  Event on_bitfield(Bitfield incoming, TorrentView torrent);
  Event on_have(std::uint32_t piece, TorrentView torrent);
  Event on_request(const wire::Request& request, Clock::time_point now, TorrentView torrent);
  Event on_piece(const wire::Piece& block, Clock::time_point now, const PiecePicker& picker);
  Event on_reject(const wire::Reject& reject, PiecePicker& picker);
  void on_extension_handshake(std::span<const std::uint8_t> payload, Clock::time_point now);
  void drop_outstanding(PiecePicker& picker);
  void erase_outstanding(std::deque<BlockRequest>::iterator it);  // and its time
  void send(const wire::Message& message) { outbox_.push_back(message); }

  Config config_;
  bool am_choking_ = true;
  bool am_interested_ = false;
  bool peer_choking_ = true;
  bool peer_interested_ = false;

  Bitfield has_;
  bool is_seed_ = false;
  bool bitfield_seen_ = false;  // its pieces are counted in the picker's availability

  // Our requests to it, oldest first. Deques: blocks come back mostly oldest first, and erasing the front of
  // a vector of ~2,000 requests per block moved gigabytes per GiB downloaded.
  std::deque<BlockRequest> outstanding_;
  struct Sent {
    Clock::time_point at;   // when the request was sent
    bool released = false;  // given back to the picker by release_late_requests, still asked here
  };
  std::deque<Sent> sent_;     // one per outstanding_ request, same order
  std::size_t released_ = 0;  // how many of sent_ are released
  RequestWindow window_;
  std::size_t peak_outstanding_ = 0;
  std::deque<BlockRequest> queued_;       // its requests to us, waiting for disk
  std::uint32_t unrequested_blocks_ = 0;  // blocks it sent that nobody asked for
  std::uint64_t given_up_ = 0;            // requests cancelled or dropped while it may have been sending them
  bool snubbed_ = false;
  std::vector<BlockRequest> picked_;  // scratch for the picker, reused

  std::optional<std::uint8_t> ut_metadata_id_;
  std::optional<std::uint8_t> ut_pex_id_;
  std::optional<std::uint8_t> ut_holepunch_id_;
  std::optional<std::int64_t> metadata_size_;
  std::optional<std::uint16_t> listen_port_;
  std::uint32_t reqq_ = kDefaultReqq;
  std::string client_;
  std::optional<PexState> pex_;
  TokenBucket metadata_requests_{kMetadataRequestsPerSecond, kMetadataRequestBurst};

  Clock::time_point last_receive_{};
  Clock::time_point last_send_{};
  Clock::time_point last_block_{};  // a block we asked for came, or the snub clock (re)started
  Clock::time_point unchoked_at_{};
  std::optional<Clock::time_point> idle_since_;     // neither side interested since then
  std::optional<Clock::time_point> partial_since_;  // a message has been arriving since then
  bool writing_ = false;                            // a write is on the socket
  std::optional<Clock::time_point> stalled_at_;
  Clock::time_point last_request_{};    // its last request we accepted     // a tick saw a stalled write then
  Clock::time_point write_progress_{};  // it started or last sent bytes then

  std::vector<wire::Message> outbox_;
};

}  // namespace shoal::swarm
