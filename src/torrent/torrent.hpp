// One torrent's swarm logic with no I/O and no clock: the peers it talks to and what it says to them, which
// blocks to ask whom for, piece assembly, end-game, choking, smart ban, ut_metadata and PEX policy, which
// addresses to dial, the read cache it serves from, and the tracker tier walk. Time is a parameter.
//
// A driver feeds it events (a peer connected, a message, bytes written, a piece hashed and written, a piece
// read, a tracker's answer, a tick) and performs the actions it queues (take_actions(): dial, disconnect,
// wake a peer's writer, verify and write a piece, read a piece, announce to one tracker, and reports). The
// Asio session (session/torrent_session) is the production driver; tests/sim/swarm_network.hpp runs hundreds
// of these on virtual time.
//
// Bytes to a peer are pulled: after a Writable action the driver calls take_output() for the small messages
// (encoded) and the block messages queued for it, writes them, and reports on_write_done(). What waits for
// one peer is bounded (swarm::send_queue_capacity); past it the peer is not served and, while it owes us
// nothing, reading_paused() says to stop reading it.
//
// Invariants:
//  - every PeerId the torrent returned from on_peer_connected stays known until it queues Disconnect for it
//  or
//    the driver reports on_peer_closed; after that the id is never reused, and events naming it are ignored;
//  - pieces in assembly plus VerifyPiece actions not yet answered never exceed kMaxWritesInFlight pieces
//    beyond the pieces in progress in the picker (requests stop while the disk is behind);
//  - the read cache holds at most max(read_cache_bytes, 2 pieces); blocks queued for peers are copies.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "metainfo/torrent_info.hpp"
#include "metainfo/v2_pieces.hpp"
#include "shoal/digest.hpp"
#include "shoal/endpoint.hpp"
#include "shoal/expected.hpp"
#include "shoal/strong_index.hpp"
#include "swarm/choker.hpp"
#include "swarm/eviction.hpp"
#include "swarm/peer_list.hpp"
#include "swarm/peer_protocol.hpp"
#include "swarm/piece_picker.hpp"
#include "swarm/send_queue.hpp"
#include "swarm/smart_ban.hpp"
#include "torrent/metadata_fetch.hpp"
#include "tracker/announce.hpp"
#include "tracker/tracker_list.hpp"
#include "webseed/web_seed.hpp"
#include "wire/message.hpp"
#include "wire/ut_holepunch.hpp"

namespace shoal::torrent {

using Clock = std::chrono::steady_clock;
using swarm::PeerId;

// Pieces handed to the disk (VerifyPiece) and not yet answered: past this, no new requests.
inline constexpr std::int32_t kMaxWritesInFlight = 4;
// ReadPiece actions not yet answered: each holds a whole piece outside the read cache.
inline constexpr std::size_t kMaxReadsInFlight = 4;
inline constexpr int kMaxDialsPerTick = 10;
inline constexpr std::size_t kMinBlocksPerWrite = 4;  // take_output: blocks per write however slow the peer
inline constexpr std::size_t kMaxHalfOpen = 16;
// BEP 55 limits: rendezvous a relay forwards per tick (a peer cannot make us a free packet cannon), `connect`
// dials per tick, and addresses we ask relays about in a torrent's life.
inline constexpr int kMaxHolepunchRelaysPerTick = 8;
inline constexpr int kMaxHolepunchDialsPerTick = 4;
inline constexpr std::size_t kMaxRendezvousAsked = 1000;
inline constexpr int kTicksPerRechoke = 10;
inline constexpr int kTicksPerPeerListExpiry = 60;
inline constexpr std::int64_t kLonelyReannounceSeconds = 5;
inline constexpr std::int64_t kDefaultReadCacheBytes = 64 * 1024 * 1024;
// 64 MiB of requests in flight per torrent: a 400 ms round trip at 800 Mbit/s (40 MB) plus margin.
inline constexpr std::int64_t kDefaultRequestBudgetBytes = 64 * 1024 * 1024;
// End-game: a request older than kLateFactor times the time our requests in flight take to drain at the
// download rate (within these bounds, in seconds) is held hostage by a slow peer (end_game_late_after).
inline constexpr double kLateFactor = 2;
inline constexpr double kMinLateSeconds = 2;
inline constexpr double kMaxLateSeconds = 30;
// BEP 52: hash requests parked until their piece's leaf hashes are computed, and failed pieces awaiting leaf
// hashes from a peer (beyond it, a failure is judged as a v1 one: by comparison once the piece passes).
inline constexpr std::size_t kMaxHashWaits = 64;
// BEP 52 hash requests below the piece layer need the leaf hashes of a piece we have: the driver computes
// them on its disk and hash pool (HashLeaves), one piece at a time per torrent (the pool's other threads stay
// free for the reads and writes of transfers) and at most Params::leaf_hash_bytes_per_tick of pieces a
// second; at most kMaxLeafWaitsPerPeer of one peer's requests wait for them. A request beyond any cap is
// answered with a hash reject (BEP 52 lets a peer refuse) instead of a queue or a CPU bill that grows with
// what peers ask. The layers below the piece layer of recent pieces are kept, least recently used out first,
// within Params::leaf_cache_bytes.
inline constexpr std::size_t kMaxLeafJobs = 1;
inline constexpr std::size_t kMaxLeafWaitsPerPeer = 2;
inline constexpr std::int64_t kDefaultLeafHashBytesPerTick = 32 * 1024 * 1024;
// Two hashes of 32 bytes per 16 KiB block: 256 KiB keeps the layers of 64 MiB of pieces.
inline constexpr std::int64_t kDefaultLeafCacheBytes = 256 * 1024;
inline constexpr std::size_t kMaxPendingBlame = 16;
inline constexpr int kBlameTimeoutTicks = 20;
// A missing piece layer is fetched in runs of this many hashes (aligned, each with the uncles that prove it
// against the file's pieces root), as libtorrent does: peers cap a request (libtorrent rejects more than
// 8,192 hashes) and BEP 52 lets them reject big ones. At most kMaxLayerRequestsPerPeer runs are asked of one
// peer at a time, so that a large layer is spread over the peers that have the torrent.
inline constexpr std::uint32_t kLayerChunkHashes = 512;
inline constexpr std::size_t kMaxLayerRequestsPerPeer = 4;

// What a torrent needs from its session: its shares of the session-wide budgets. The session implements it;
// a simulation can grant everything.
class Mediator {
 public:
  virtual ~Mediator() = default;
  // Connections this torrent may hold now (its fair share of the session's).
  virtual int connection_limit() const = 0;
  // Upload slots this torrent may use now (its share of the session's unchoke slots).
  virtual int upload_slots() const = 0;
  // The session has room for one more established connection.
  virtual bool may_accept() const = 0;
  // Another torrent of the session is in a handshake with this address (one at a time per address).
  virtual bool handshaking_with(const Endpoint& endpoint) const = 0;
  // Reserves a dial to `endpoint` within the session's caps (half-open, dials per second, one handshake per
  // address); false: not now. A granted dial is released by the driver when it ends.
  virtual bool try_dial(const Endpoint& endpoint) = 0;
  // The session's read cache, shared by its torrents: bytes a torrent's cache gained (or, negative, lost),
  // and whether the caches of all torrents together are over the session's budget (a torrent then keeps no
  // more than the two pieces it serves from). By default: no session-wide budget.
  virtual void cache_changed(std::int64_t /*delta*/) {}
  virtual bool cache_over_budget() const { return false; }
};

// The facts of the torrent and the user's policy for it.
struct Params {
  Sha1Digest info_hash;
  std::array<std::uint8_t, 20> peer_id{};  // ours, sent to trackers
  std::int32_t num_pieces = 0;
  std::int64_t piece_length = 0;
  std::int64_t total_size = 0;
  std::string info_bytes;  // the info dictionary, served over ut_metadata (never for a private torrent)
  bool is_private = false;
  std::vector<std::vector<std::string>> trackers;  // BEP 12 tiers
  bool use_trackers = true;
  bool announce_to_all_tiers = false;
  std::string client;  // our name in the extension handshake
  std::uint16_t listen_port = 0;
  // Requests we accept queued from one peer (told in our extension handshake).
  std::uint32_t reqq = static_cast<std::uint32_t>(swarm::PeerProtocol::kMaxQueuedRequests);
  // Our requests in flight to all the torrent's peers together, in bytes: each peer's queue depth is cut to
  // what the others leave (each keeps room for the floor, kMinQueueDepth, while it is unchoking us).
  std::int64_t request_budget_bytes = kDefaultRequestBudgetBytes;
  int upload_slots = 8;
  int max_connections = 80;
  std::optional<double> seed_ratio;          // stop seeding once uploaded >= ratio * total_size
  std::optional<Clock::duration> seed_time;  // stop seeding after this long
  bool sequential = false;
  std::int64_t read_cache_bytes = kDefaultReadCacheBytes;
  std::int64_t leaf_cache_bytes = kDefaultLeafCacheBytes;  // BEP 52 leaf layers kept for hash requests
  std::int64_t leaf_hash_bytes_per_tick = kDefaultLeafHashBytesPerTick;  // pieces hashed for them a second
  std::int64_t downloaded_before = 0;                                    // totals from resume data
  std::int64_t uploaded_before = 0;
  std::uint64_t seed = 0;  // randomness: picker, choker, tracker order, tracker key
  bool log = false;        // queue Log actions (connects, closes, bans, PEX, trackers)
  // Torrents with v2 hashes (BEP 52): the metainfo, piece layers included. The torrent answers hash requests
  // from it (and from the pieces it reads), and a v2-only torrent blames a failed piece block by block with
  // leaf hashes asked of a peer. Null for v1 torrents.
  // Files larger than a piece whose layer is missing (metadata from peers) get it by hash requests, run by
  // run (kLayerChunkHashes), each run checked against the file's pieces root, before any piece is requested
  // (PieceLayerReceived tells the driver, once per file).
  std::shared_ptr<metainfo::TorrentInfo> metainfo;
  // A magnet link: no info dictionary yet (num_pieces 0). The torrent connects as usual, fetches the info
  // dictionary from every peer that offers it (MetadataReceived), and transfers nothing else.
  bool fetch_metadata = false;
};

// ---------------------------------------------------------------------------------------------------------------
// Actions, in the order they were decided.

struct Dial {  // connect to it; report on_peer_connected (outgoing) or on_dial_failed
  Endpoint endpoint;
  // BEP 55 `connect`: the other side dials us at the same moment, so that both NATs see an outgoing
  // connection. The driver dials from our listen port (TCP simultaneous open; uTP when it has it) with a
  // plain handshake (both sides send theirs first, so MSE's roles cannot be told apart).
  bool holepunch = false;
};
struct Disconnect {  // close the connection; the torrent has already forgotten the peer
  PeerId peer;
  std::string reason;
};
struct Writable {  // output waits for this peer: wake its writer (take_output)
  PeerId peer;
};
struct VerifyPiece {  // SHA-1 `data` against the piece's hash; write it if good; report on_piece_written
  PieceIndex piece;
  std::vector<std::uint8_t> data;
  // Who sent each block (by ban key), for smart ban. When `block_hashes` is set, or the piece fails, the
  // driver fills in each block's SHA-1 before reporting.
  std::vector<swarm::SmartBan::Block> blocks;
  bool block_hashes = false;
};
struct ReadPiece {  // read the whole piece; report on_piece_read
  PieceIndex piece;
};
// BEP 52: the SHA-256 of each 16 KiB block of the piece's first `data_bytes` bytes, read from disk (on the
// hash pool: a piece is megabytes of hashing); report on_piece_leaves. A MerklePieceHasher(data_bytes,
// width) gives exactly these.
struct HashLeaves {
  PieceIndex piece;
  std::int64_t data_bytes = 0;
  std::int64_t width = 0;  // leaves of the piece's subtree (a power of two)
};
struct Announce {  // one tracker of the tier walk; report on_announce_done with the same id
  std::uint64_t id = 0;
  std::string url;
  tracker::AnnounceRequest request;
};
struct PieceVerified {
  PieceIndex piece;
};
struct Completed {};      // every wanted piece is verified (once per torrent)
struct SeedingDone {};    // the seed ratio or time is reached (once): the driver stops the torrent
struct StopAnnounced {};  // stop(): every tracker was told (or failed); nothing more will be announced
struct PeerBanned {
  Endpoint address;  // its ban key
  std::string reason;
};
struct TrackerReply {
  std::string url;
  std::int64_t peers = 0;
  std::string warning;
};
struct TrackerFailed {
  std::string url;
  std::string error;
};
struct Log {
  std::string text;
};
struct PieceLayerReceived {  // BEP 52: a file's piece layer, proven against its pieces root; verify with it
  Sha256Digest pieces_root;
  std::string layer;  // 32 bytes per piece of the file
};
struct MetadataReceived {  // Params::fetch_metadata: the info dictionary, verified against the info-hash
  std::string info_bytes;
};
using Action = std::variant<Dial, Disconnect, Writable, VerifyPiece, ReadPiece, Announce, PieceVerified,
                            Completed, SeedingDone, StopAnnounced, PeerBanned, TrackerReply, TrackerFailed,
                            Log, MetadataReceived, PieceLayerReceived, HashLeaves>;

enum class Phase {
  checking,     // before start(): the driver checks existing data; nothing is said to anyone
  downloading,  // started, wanted pieces missing
  seeding,      // started, every wanted piece verified
  stopping,     // stop(): peers closed, trackers being told
  halted,       // halt() or every tracker told after stop(): inert
};

struct Stats {
  Phase phase = Phase::checking;
  std::int64_t total_wanted = 0;  // bytes of wanted pieces
  std::int64_t have_wanted = 0;   // bytes of wanted pieces verified
  std::int64_t downloaded = 0;    // payload bytes received since construction
  std::int64_t uploaded = 0;      // payload bytes sent since construction
  double download_rate = 0;       // bytes/s
  double upload_rate = 0;
  int peers = 0;
  int seeds = 0;
  std::int32_t pieces_have = 0;
  std::int32_t failed_pieces = 0;
  std::int32_t banned_peers = 0;
  int web_seeds = 0;           // web seeds not banned
  int web_seeds_fetching = 0;  // of those, fetching now
  int web_seeds_banned = 0;
};

class Torrent {
 public:
  Torrent(Params params, Mediator& mediator, Clock::time_point now);
  ~Torrent();
  Torrent(const Torrent&) = delete;
  Torrent& operator=(const Torrent&) = delete;

  // --- Before start(): what the check found, and what the user wants.
  void mark_have(PieceIndex piece);
  void set_piece_priority(PieceIndex piece, std::uint8_t priority);  // 0: not wanted
  // Transfer totals from resume data (reported to trackers and kept in resume data).
  void restore_totals(std::int64_t downloaded, std::int64_t uploaded) {
    params_.downloaded_before = downloaded;
    params_.uploaded_before = uploaded;
  }
  void set_logging(bool on) { params_.log = on; }
  // Resume data: blocks of an unfinished piece that are on disk, read back into `data` (the whole piece; only
  // the blocks set are used). They count as received (asked of nobody again) with no supplier to blame; the
  // piece is hashed whole once the rest arrives (at once, VerifyPiece, when nothing is missing). Before
  // start() only. nullopt: taken; otherwise why not (the piece is had, not wanted, already restored, or the
  // blocks or data do not fit it).
  std::optional<std::string> restore_unfinished(PieceIndex piece, const swarm::Bitfield& blocks,
                                                std::vector<std::uint8_t> data);
  // Checked: connect, serve and (if anything is missing) download; announce `started`.
  void start(Clock::time_point now);

  // --- Lifetime.
  // Graceful: closes every connection, tells trackers `stopped` (StopAnnounced when done; at once without
  // trackers), then halts.
  void stop(Clock::time_point now);
  // At once and silently (a disk error): every connection closed, nothing more announced or dialled, and
  // pieces the disk reports afterwards are not recorded. (After stop(), they are: PieceVerified still comes.)
  void halt(const std::string& reason);

  // --- Peers.
  // An address to dial, from `source` (PEX: through connection `via`).
  void add_peer(const Endpoint& endpoint, swarm::PeerSource source, Clock::time_point now,
                PeerId via = swarm::kNoPeer);
  // Whether an incoming connection from `remote` would be taken now (asked before answering its handshake).
  bool accepts_incoming(const Endpoint& remote) const;
  // Our own address came back (a handshake carried our peer id): never dial it again.
  void on_self_connection(const Endpoint& listen_endpoint);
  // Both handshakes are done. Returns the new peer's id, or why it is refused (the driver closes it).
  Expected<PeerId, std::string> on_peer_connected(const Endpoint& remote, bool outgoing,
                                                  swarm::PeerFeatures features, Clock::time_point now);
  // A Dial that did not reach a handshake (refused, timed out, handshake failed); `holepunch` as the Dial
  // said.
  void on_dial_failed(const Endpoint& endpoint, Clock::time_point now, bool holepunch = false);
  // The connection ended from the driver's side (EOF, socket error, write failure).
  void on_peer_closed(PeerId peer, const std::string& reason, Clock::time_point now);
  // One decoded message. False when the torrent closed the peer (a Disconnect is queued).
  bool on_message(PeerId peer, const wire::Message& message, Clock::time_point now);
  // The messages that arrived together are handled: serve what it asked for, ask it for more.
  void on_messages_done(PeerId peer);
  // Back-pressure: do not read this peer now (see the file comment).
  bool reading_paused(PeerId peer) const;

  // --- Writing to a peer.
  // Moves what waits for the peer into `bytes` (encoded small messages) and `blocks` (at most max_blocks
  // piece messages, oldest first); false when nothing waits. The peer counts as writing until
  // on_write_done.
  bool take_output(PeerId peer, std::vector<std::uint8_t>& bytes,
                   std::vector<swarm::SendQueue::Block>& blocks, std::size_t max_blocks,
                   Clock::time_point now);
  void on_bytes_sent(PeerId peer, Clock::time_point now);  // progress within a write
  // The write finished; `payload` bytes of blocks went out.
  void on_write_done(PeerId peer, std::int64_t payload, Clock::time_point now);

  // --- Disk.
  // A VerifyPiece answered: hash_ok false (blocks carry their hashes), or the write's error (if any).
  void on_piece_written(PieceIndex piece, bool hash_ok, bool write_failed,
                        std::vector<swarm::SmartBan::Block> blocks, std::vector<std::uint8_t> buffer);
  // A ReadPiece answered; null data: the read failed (the driver reports the error its own way).
  void on_piece_read(PieceIndex piece, std::shared_ptr<const std::vector<std::uint8_t>> data);
  // A HashLeaves answered: the leaf hashes, or nullopt when the piece could not be read. Leaves that do not
  // hash to the piece's entry in its piece layer (the file changed under us) are not used.
  void on_piece_leaves(PieceIndex piece, std::optional<std::vector<Sha256Digest>> leaves);
  // BEP 52 leaf layers kept for hash requests, in bytes, and HashLeaves not yet answered.
  std::int64_t leaf_cache_bytes() const { return leaf_cache_bytes_; }
  std::size_t leaf_jobs() const { return leaf_jobs_.size(); }

  // --- Trackers.
  // The answer to Announce `id` (an answer to an abandoned walk is ignored).
  void on_announce_done(std::uint64_t id, const Expected<tracker::AnnounceResponse, std::string>& result,
                        Clock::time_point now);
  void force_reannounce(Clock::time_point now);
  // The port peers outside should dial (the router's mapped port): told to trackers and in extension
  // handshakes from now on. The next announce carries it.
  void set_listen_port(std::uint16_t port) { params_.listen_port = port; }

  // --- Web seeds (BEP 19; torrent/web_seeds.cpp). Each takes runs of whole pieces no peer is downloading
  // (the next untouched ones), alongside the peers. The driver runs one HTTP connection per seed: it asks
  // web_seed_request for the range to get (nullopt: nothing now; ask again at the next tick), reports the
  // response head and body bytes, or a failure. Complete pieces go out as VerifyPiece actions like any;
  // the seed is banned after webseed::kMaxHashFailures pieces it alone supplied fail.
  std::size_t add_web_seed(webseed::Layout layout);
  std::size_t num_web_seeds() const { return web_seeds_.size(); }
  std::optional<webseed::Request> web_seed_request(std::size_t seed, Clock::time_point now);
  webseed::HeadDecision on_web_seed_head(std::size_t seed, const webseed::ResponseHead& head,
                                         Clock::time_point now);
  // Returns the body bytes still wanted from this response (0: done with it).
  std::int64_t on_web_seed_body(std::size_t seed, std::span<const std::uint8_t> bytes, Clock::time_point now);
  void on_web_seed_failed(std::size_t seed, const std::string& reason, Clock::time_point now);
  struct WebSeedReport {
    std::string url;
    webseed::State state = webseed::State::idle;
    std::int64_t downloaded = 0;
    int hash_failures = 0;
    std::string last_error;
  };
  std::vector<WebSeedReport> web_seed_reports(Clock::time_point now) const;

  // --- Time. Once a second. `message_partial(peer)`: part of a message from it is buffered (its trickle
  // timer).
  void on_tick(Clock::time_point now, const std::function<bool(PeerId)>& message_partial = {});

  // --- Output.
  std::vector<Action> take_actions() { return std::exchange(actions_, {}); }
  bool has_actions() const { return !actions_.empty(); }

  // --- State.
  Phase phase() const { return phase_; }
  Stats stats() const;
  const swarm::PiecePicker& picker() const { return picker_; }
  const swarm::Bitfield& have() const { return picker_.have(); }
  // BEP 52: some file's piece layer is still being fetched from peers (no piece is requested meanwhile).
  bool piece_layers_missing() const { return !layers_missing_.empty(); }
  // BEP 52: a file's piece layer the driver learnt otherwise (a hybrid's, computed from its verified data and
  // checked against the pieces root): hash requests are answered from it from now on.
  void add_piece_layer(const Sha256Digest& pieces_root, std::string layer) {
    if (params_.metainfo) params_.metainfo->piece_layers[pieces_root] = std::move(layer);
  }
  bool is_complete() const { return !metadata_fetch_ && picker_.is_complete(); }
  // Something changed since mark_resume_saved(): verified pieces or transfer totals.
  bool resume_dirty() const { return resume_dirty_; }
  void mark_resume_saved() { resume_dirty_ = false; }
  // Pieces in assembly with blocks received, for resume data: which are received, which of those are on disk
  // already (restored, or written at an earlier save), the piece's buffer (valid until the torrent is next
  // called), and the piece's leaf hashes when a peer sent them and they proved out (BEP 52 blame), one per
  // block. The driver writes the blocks not on disk yet, then reports them with mark_blocks_on_disk.
  struct Unfinished {
    PieceIndex piece{};
    swarm::Bitfield received;
    swarm::Bitfield on_disk;
    std::span<const std::uint8_t> data;
    std::vector<Sha256Digest> leaves;
  };
  std::vector<Unfinished> unfinished() const;
  void mark_blocks_on_disk(PieceIndex piece, const swarm::Bitfield& blocks);
  std::int64_t total_downloaded() const { return params_.downloaded_before + downloaded_; }
  std::int64_t total_uploaded() const { return params_.uploaded_before + uploaded_; }
  std::vector<tracker::TrackerStatus> trackers() const { return trackers_.all(); }
  std::size_t num_peers() const { return peers_.size(); }
  std::size_t half_open() const { return connecting_.size(); }
  bool is_banned(const Endpoint& endpoint) const;
  void set_rates_for_test(PeerId peer, double down, double up);
  // For the driver's logs and the simulation: the peer's address, or nullptr.
  const Endpoint* remote(PeerId peer) const;
  const swarm::PeerProtocol* protocol(PeerId peer) const;

 private:
  struct Peer {
    explicit Peer(Clock::time_point now) : protocol(now) {}
    swarm::PeerProtocol protocol;
    Endpoint remote;
    bool outgoing = false;
    Clock::time_point connected_at{};
    std::vector<std::uint8_t> out;  // encoded small messages
    swarm::SendQueue sends;         // block messages, each its own copy
    std::size_t writing_bytes = 0;  // taken by the driver, on the socket now
    bool wake_queued = false;       // a Writable is queued and not yet answered by take_output
    std::size_t hash_waits = 0;     // its hash requests waiting for leaf hashes (kMaxLeafWaitsPerPeer)
    std::int64_t downloaded = 0;
    std::int64_t uploaded = 0;
    std::int64_t down_this_tick = 0;
    std::int64_t up_this_tick = 0;
    double down_rate = 0;
    double up_rate = 0;

    std::size_t queued_bytes() const { return out.size() + sends.bytes() + writing_bytes; }
    std::size_t send_capacity() const { return swarm::send_queue_capacity(up_rate); }
    bool has_send_room() const { return queued_bytes() < send_capacity(); }
  };

  void emit(Action action) { actions_.push_back(std::move(action)); }
  void log(std::string text) {
    if (params_.log) emit(Log{std::move(text)});
  }
  Peer* find(PeerId id);
  const Peer* find(PeerId id) const;
  swarm::TorrentView view();
  bool active() const { return phase_ == Phase::downloading || phase_ == Phase::seeding; }
  int upload_slots() const;
  int connection_limit() const;
  // The peer to close to make room for an incoming newcomer when every slot is taken (swarm::least_useful).
  PeerId least_useful_peer(Clock::time_point now) const;

  // Peers.
  void close(PeerId id, std::string reason, bool tell_driver);
  void send(Peer& peer, const wire::Message& message);
  void send_extended(Peer& peer, std::uint8_t id, const std::string& payload);  // BEP 10, under the peer's id
  static swarm::ChokeCandidate choke_candidate(PeerId id, const Peer& peer, Clock::time_point now);
  void flush(Peer& peer);  // moves the protocol's outbox into `out`
  void wake(PeerId id, Peer& peer);
  void send_greeting(Peer& peer);
  bool handle_event(PeerId id, Peer& peer, const swarm::PeerProtocol::Event& event, Clock::time_point now);
  void on_block(PeerId id, Peer& peer, const swarm::BlockRequest& block, std::span<const std::uint8_t> data);
  void on_extended(PeerId id, Peer& peer, std::uint8_t ext, std::span<const std::uint8_t> payload,
                   Clock::time_point now);
  void on_pex(PeerId id, Peer& peer, std::string_view payload, Clock::time_point now);
  // BEP 55 (holepunch.cpp): every role, the relay's checks and the dials a `connect` asks for.
  void on_holepunch(PeerId id, Peer& peer, std::span<const std::uint8_t> payload, Clock::time_point now);
  void relay_rendezvous(PeerId id, Peer& initiator, const Endpoint& target);
  void holepunch_dial(const Endpoint& endpoint, Clock::time_point now);
  void send_holepunch(PeerId id, Peer& peer, const wire::HolepunchMessage& message);
  // A dial to a PEX address failed: ask the peer that told us of it to put us in touch (initiator role).
  void request_rendezvous(const Endpoint& endpoint);
  void on_metadata_message(PeerId id, Peer& peer, const wire::MetadataMessage& message,
                           Clock::time_point now);
  void request_metadata(PeerId id, Peer& peer, Clock::time_point now);
  void send_pex(PeerId id, Peer& peer, Clock::time_point now);
  std::optional<Endpoint> listen_endpoint(const Peer& peer) const;
  void on_interested(PeerId id, Peer& peer, Clock::time_point now);
  void request_more(PeerId id, Peer& peer);
  // Requests `peer` may have in flight within the torrent's request budget.
  std::size_t request_limit(PeerId id) const;
  void choke(PeerId id, Peer& peer);
  void unchoke(PeerId id, Peer& peer, Clock::time_point now);
  void drop_unsent(Peer& peer);
  void rechoke(Clock::time_point now);
  std::optional<Clock::duration> end_game_late_after() const;
  void connect_more(Clock::time_point now);
  void ban(const std::vector<swarm::SmartBan::Address>& addresses);

  // Pieces.
  std::vector<std::uint8_t> take_buffer(std::size_t size);
  void piece_complete(PieceIndex piece);
  void check_complete(Clock::time_point now);
  void serve_peer(PeerId id, Peer& peer);
  void serve_all();
  void read_piece(PieceIndex piece);
  void evict_oldest();
  void drop_cache();

  // Web seeds (web_seeds.cpp).
  struct WebSeedSlot {
    webseed::WebSeed core;
    PeerId id = swarm::kNoPeer;  // its requester id in the picker (never a connected peer's)
  };
  void claim_for_web_seed(std::size_t seed, Clock::time_point now);
  void web_seed_outputs(std::size_t seed, Clock::time_point now);
  void web_seed_piece(std::size_t seed, PieceIndex piece, std::vector<std::uint8_t> data);
  // A piece one web seed alone supplied was hashed: clear it, or never ask it for that piece again (the
  // strike comes from smart ban, as for a peer). Called from on_piece_written.
  void web_seed_verdict(PieceIndex piece, bool hash_ok);
  // Who supplied a block, for smart ban: a connected peer's ban key or a web seed's; nullopt: gone.
  std::optional<swarm::SmartBan::Address> supplier_key(PeerId id) const;
  // Smart ban convicted the web seed with this requester id: a hash failure against it.
  void strike_web_seed(PeerId id);

  // BEP 52 hash requests, hashes and rejects (v2_hashes.cpp).
  void on_hash_request(PeerId id, Peer& peer, const wire::HashRequest& request);
  // The hashes answering `request`, or nullopt to reject; `need` is set instead when the leaf hashes of a
  // piece we have must be computed first.
  std::optional<std::vector<Sha256Digest>> hashes_for(const wire::HashRequestFields& request,
                                                      std::optional<HashLeaves>& need);
  void send_hash_answer(PeerId id, Peer& peer, const wire::HashRequestFields& request);
  void answer_hash_waits(PieceIndex piece);
  void on_hashes(PeerId id, const wire::Hashes& hashes);
  void on_hash_reject(PeerId id, const wire::HashReject& reject);
  // A v2 piece failed with several suppliers: ask a peer for its leaf hashes (true), or nobody can say.
  bool start_blame(PieceIndex piece, std::vector<swarm::SmartBan::Block> blocks);
  void ask_for_blame(PieceIndex piece);
  void blame_tick();
  // Piece layers still missing: ask this peer for runs nobody is asked for now (true while any is missing).
  bool fetch_piece_layers(PeerId id, Peer& peer);
  // True when `hashes` answered a layer run we asked this peer for (proven or not).
  bool on_layer_hashes(PeerId id, const wire::Hashes& hashes);
  bool on_layer_reject(PeerId id, const wire::HashReject& reject);
  void layers_tick();

  // Trackers.
  void begin_announce(tracker::AnnounceEvent event, Clock::time_point now);
  void announce_next(Clock::time_point now);
  void finish_announce(Clock::time_point now);

  Params params_;
  Mediator& mediator_;
  Phase phase_ = Phase::checking;
  std::vector<Action> actions_;
  swarm::PiecePicker picker_;
  swarm::Choker choker_;
  int ticks_ = 0;
  Clock::time_point seeding_since_ = Clock::time_point::max();
  bool complete_notified_ = false;
  bool seeding_done_ = false;          // SeedingDone queued
  bool disk_results_dropped_ = false;  // halt(): answers from the disk are ignored
  bool resume_dirty_ = false;

  std::map<PeerId, Peer> peers_;
  PeerId next_peer_id_ = 1;
  swarm::PeerList peer_list_;
  std::set<Endpoint> connecting_;  // dials in progress
  int dials_this_tick_ = 0;
  // BEP 55: rendezvous relayed and `connect` dials made this tick (each capped), addresses we asked a relay
  // about (once each, bounded), and the holepunch dials in flight. These are not in connecting_: one may run
  // beside an ordinary dial to the same address (which the other side's NAT drops; the punch gets through).
  int holepunch_relays_this_tick_ = 0;
  int holepunch_dials_this_tick_ = 0;
  std::set<Endpoint> rendezvous_asked_;
  std::set<Endpoint> holepunch_dialling_;
  std::set<Endpoint> banned_self_;  // our own listen address, as seen through trackers
  std::set<Endpoint> known_seeds_;  // dialled peers that turned out to be seeds: not redialled while seeding
  std::set<std::array<std::uint8_t, 16>> banned_;  // IP addresses
  std::set<Endpoint> banned_loopback_;             // loopback peers, by address and port (see ban_key)
  swarm::SmartBan smart_ban_;

  // Pieces being assembled (received blocks land here, the one copy on the receive path).
  std::unordered_map<PieceIndex, std::vector<std::uint8_t>> assembling_;
  std::vector<std::vector<std::uint8_t>> free_buffers_;
  // Of the pieces in assembling_, the blocks on disk (resume data vouches for them); erased with the piece.
  std::unordered_map<PieceIndex, swarm::Bitfield> on_disk_;
  // BEP 52: leaf hashes of failed pieces, proven against the piece layer (blame), kept for resume data while
  // the piece is fetched again (bounded: kMaxPendingBlame; dropped when it verifies).
  std::map<PieceIndex, std::vector<Sha256Digest>> proven_leaves_;
  std::int32_t writes_in_flight_ = 0;

  // Read cache for seeding: whole pieces, least recently read evicted beyond the budget.
  struct CachedPiece {
    std::shared_ptr<const std::vector<std::uint8_t>> data;
    std::list<PieceIndex>::iterator lru;  // its place in cache_lru_
  };
  std::unordered_map<PieceIndex, CachedPiece> cache_;
  std::list<PieceIndex> cache_lru_;
  std::int64_t cache_bytes_ = 0;
  std::set<PieceIndex> reads_in_flight_;
  std::vector<swarm::BlockRequest> ready_;  // serve_peer scratch

  // Accounting.
  std::int64_t downloaded_ = 0;
  std::int64_t uploaded_ = 0;
  double down_rate_ = 0;
  double up_rate_ = 0;
  std::int64_t down_tick_ = 0;
  std::int64_t up_tick_ = 0;
  std::int32_t failed_pieces_ = 0;

  // Trackers: one announce walk at a time, tier by tier (BEP 12).
  tracker::TrackerList trackers_;
  std::uint32_t tracker_key_ = 0;
  std::optional<std::string> tracker_id_;
  Clock::time_point next_announce_ = Clock::time_point::max();
  struct Walk {
    tracker::AnnounceEvent event = tracker::AnnounceEvent::none;
    std::vector<tracker::TrackerList::Target> order;
    std::size_t next = 0;                                 // into order
    std::optional<tracker::TrackerList::Target> waiting;  // the Announce in flight
    std::uint64_t waiting_id = 0;
    std::string waiting_url;
    std::set<int> answered_tiers;
    bool any_ok = false;
    std::int64_t interval = tracker::kDefaultInterval;
  };
  std::optional<Walk> walk_;
  bool reannounce_after_walk_ = false;  // force_reannounce() came while walk_ was under way
  bool completed_pending_ = false;      // a `completed` announce waits for the walk in flight
  bool sent_completed_ = false;
  std::uint64_t next_announce_id_ = 1;
  std::optional<MetadataFetch> metadata_fetch_;  // Params::fetch_metadata
  std::vector<WebSeedSlot> web_seeds_;
  // BEP 52. Files by pieces root (index into metainfo->files); the layers above each file's piece layer,
  // built on first use.
  std::map<Sha256Digest, std::size_t> v2_files_;
  std::map<Sha256Digest, std::vector<std::vector<Sha256Digest>>> v2_upper_;
  // The layers below the piece layer of recently asked pieces (leaves first), least recently used first out
  // beyond Params::leaf_cache_bytes; and the pieces whose leaves are being computed (HashLeaves).
  struct LeafLayers {
    std::vector<std::vector<Sha256Digest>> layers;
    std::int64_t bytes = 0;
    std::list<PieceIndex>::iterator lru;
  };
  std::unordered_map<PieceIndex, LeafLayers> leaf_cache_;
  std::list<PieceIndex> leaf_lru_;
  std::int64_t leaf_cache_bytes_ = 0;
  std::map<PieceIndex, std::int64_t> leaf_jobs_;  // and the subtree width each was asked with
  std::int64_t leaf_hash_bytes_this_tick_ = 0;
  // Hash requests waiting for a piece's leaf hashes, by piece (bounded: kMaxHashWaits in all,
  // kMaxLeafWaitsPerPeer per peer).
  std::map<PieceIndex, std::vector<std::pair<PeerId, wire::HashRequestFields>>> hash_waits_;
  std::size_t hash_waits_count_ = 0;
  // Failed v2 pieces whose leaf hashes we asked a peer for (bounded: kMaxPendingBlame).
  struct Blame {
    std::vector<swarm::SmartBan::Block> blocks;
    metainfo::V2PieceCheck check;
    wire::HashRequestFields request;
    PeerId asked = swarm::kNoPeer;
    std::set<PeerId> tried;
    int ticks = 0;  // since asked
  };
  std::map<PieceIndex, Blame> blame_;
  // Piece layers to fetch, by pieces root, in runs of kLayerChunkHashes: each run's request, the peer asked
  // (kNoPeer: nobody now) and those tried; a run is taken only once it proves out against the pieces root,
  // so a lying peer costs a retry, never a wrong layer, and is asked for layers no more (layer_liars_).
  struct LayerChunk {
    wire::HashRequestFields request;
    PeerId asked = swarm::kNoPeer;
    std::set<PeerId> tried;
    int ticks = 0;  // since asked
    bool done = false;
  };
  struct LayerFetch {
    std::int64_t pieces = 0;          // of the file
    std::vector<Sha256Digest> layer;  // `pieces` entries, filled run by run
    std::vector<LayerChunk> chunks;
    std::size_t chunks_left = 0;
  };
  std::map<Sha256Digest, LayerFetch> layers_missing_;
  std::map<PeerId, std::size_t> layer_asks_;                     // runs asked of each peer, not yet answered
  std::set<PeerId> layer_liars_;                                 // sent a run that did not prove out
  std::unordered_map<PieceIndex, std::size_t> web_seed_pieces_;  // being hashed, from that web seed alone
  // The latest time an event brought: for what happens inside a call that carries no time (a peer closed
  // while handling another's block, say).
  Clock::time_point now_{};

 public:
  // --- Read-only views for status reports (the API's peer list and availability); kept together at the
  // end of the class.
  struct PeerReport {
    PeerId id = swarm::kNoPeer;
    Endpoint remote;
    bool outgoing = false;
    const swarm::PeerProtocol* protocol = nullptr;  // valid until the next call that changes the torrent
    std::optional<swarm::PeerSource> source;        // where its address came from; none for an incoming one
    double download_rate = 0;
    double upload_rate = 0;
    std::int64_t downloaded = 0;
    std::int64_t uploaded = 0;
  };
  std::vector<PeerReport> peer_reports() const {
    std::vector<PeerReport> out;
    out.reserve(peers_.size());
    for (const auto& [id, p] : peers_) {
      std::optional<swarm::PeerSource> source;
      if (p.outgoing) source = peer_list_.source_of(p.remote);
      out.push_back(
          {id, p.remote, p.outgoing, &p.protocol, source, p.down_rate, p.up_rate, p.downloaded, p.uploaded});
    }
    return out;
  }
  // Per piece: connected peers that have it, seeds included.
  std::int32_t availability(PieceIndex piece) const { return picker_.availability(piece); }
  // Connections this torrent may hold from now on (Params::max_connections). Past it, the connections that
  // gave us least lately are closed at once (Disconnect actions).
  void set_max_connections(int max_connections) {
    params_.max_connections = max_connections < 1 ? 1 : max_connections;
    auto excess = static_cast<std::ptrdiff_t>(peers_.size()) - params_.max_connections;
    if (excess <= 0) return;
    std::vector<std::pair<double, PeerId>> by_rate;
    for (const auto& [id, p] : peers_)
      by_rate.emplace_back(p.down_rate, id);
    std::sort(by_rate.begin(), by_rate.end());
    for (std::ptrdiff_t i = 0; i < excess; ++i)
      close(by_rate[static_cast<std::size_t>(i)].second, "over the torrent's connection limit", true);
  }
};

}  // namespace shoal::torrent
