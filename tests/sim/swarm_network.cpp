#include "swarm_network.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <queue>
#include <random>
#include <tuple>
#include <unordered_map>

#include "hash/sha.hpp"
#include "wire/message_reader.hpp"

namespace shoal::torrent::sim {
namespace {

constexpr std::uint64_t kChunkBytes = 16 * 1024 + 13;  // at most one block message at a time on a link
constexpr std::uint64_t kMinWindow = 64 * 1024;        // a TCP window is never smaller than this
// What congestion control leaves in flight towards one receiver, all its senders together: its downlink's
// rate times this (the path's delay plus a modest bottleneck buffer). Without it every sender would keep a
// whole window in flight, and a slow receiver with 80 senders would queue seconds of data no cancel reaches.
constexpr double kBottleneckSeconds = 0.3;
constexpr std::size_t kReadChunk = 256 * 1024;  // one read from a socket, as the session reads
constexpr std::size_t kMaxSendBatch = 64;       // blocks per write, as the session writes
constexpr auto kDiskLatency = std::chrono::microseconds(500);
constexpr double kDiskRate = 400e6;  // bytes/s hashed and written, or read
constexpr auto kTick = std::chrono::seconds(1);
constexpr std::int64_t kTrackerInterval = 300;
constexpr const char* kTrackerUrl = "http://tracker.sim/announce";
constexpr swarm::PeerFeatures kFeatures{true, true};

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

Clock::duration transfer_time(std::uint64_t bytes, double rate) {
  return std::chrono::nanoseconds(
      static_cast<std::int64_t>(std::ceil(static_cast<double>(bytes) * 1e9 / rate)));
}

// The direction of a connection written by `side` of link `link`.
struct FlowRef {
  std::size_t link = 0;
  int side = 0;
};

// One direction of a node's access link: serialises chunks of its flows one at a time. Flows that were idle
// wait in `fresh` and go before the backlogged ones; a backlogged flow gets one chunk per turn.
struct Pipe {
  double rate = 0;
  bool busy = false;
  FlowRef current;
  std::uint64_t chunk = 0;
  std::deque<FlowRef> fresh;
  std::deque<FlowRef> backlog;

  std::optional<FlowRef> next() {
    auto& from = !fresh.empty() ? fresh : backlog;
    if (from.empty()) return std::nullopt;
    auto flow = from.front();
    from.pop_front();
    return flow;
  }
};

// One direction of a connection, as a TCP stream: counters in stream bytes, each <= the one before.
//
// Chunks follow the writer's buffers (a block message is one chunk, the small messages of one write another),
// cut shorter only by the window: the receiver's reader then rarely holds half a message, as a socket read
// after a burst rarely does. Acknowledgements are kept as (arrival time, offset) and taken in when the sender
// looks; an event wakes the sender only when the window stops it.
struct Direction {
  std::deque<std::vector<std::uint8_t>> buffers;  // written and not yet read by the receiver
  std::size_t front_read = 0;                     // bytes of buffers.front() already read
  std::deque<std::uint64_t> ends;                 // where each written buffer ends, until it is sent
  std::deque<std::uint64_t> in_transit;           // chunks arrived at the receiver's downlink, by size
  std::deque<std::pair<Clock::time_point, std::uint64_t>> acks;  // when each acknowledgement arrives
  std::uint64_t written = 0;                                     // handed over by the writer
  std::uint64_t sent = 0;                                        // through the sender's uplink
  std::uint64_t delivered = 0;                                   // through the receiver's downlink
  std::uint64_t read = 0;                                        // taken by the receiver's reader
  std::uint64_t acked = 0;                                       // its acknowledgement is back at the sender
  std::uint64_t up_busy = 0;                                     // on the sender's uplink now
  std::uint64_t window = kMinWindow;
  bool in_up = false;         // queued on (or being served by) the sender's uplink
  bool in_down = false;       // the same, on the receiver's downlink
  bool ack_event = false;     // an event will bring the next acknowledgement
  bool waiting_room = false;  // in the receiver's queue of senders waiting for room at its bottleneck
  // The write in progress: from take_output to on_write_done.
  bool writing = false;
  std::uint64_t write_end = 0;
  std::int64_t write_payload = 0;

  void take_acks(Clock::time_point now) {
    while (!acks.empty() && acks.front().first <= now) {
      acked = acks.front().second;
      acks.pop_front();
    }
  }
  std::uint64_t unsent() const { return written - sent - up_busy; }
  // The next chunk: the rest of the current buffer, at most kChunkBytes, and only once the window has room
  // for all of it (no silly-window dribbles).
  std::uint64_t next_chunk() const {
    auto at = sent + up_busy;
    if (at == written) return 0;
    auto end = ends.empty() ? written : ends.front();
    return std::min(kChunkBytes, end - at);
  }
  std::uint64_t sendable() const {
    auto want = next_chunk();
    auto in_flight = sent + up_busy - acked;
    return in_flight + want > window ? 0 : want;
  }
  // The acknowledged offset at which the next chunk fits the window.
  std::uint64_t ack_needed() const { return sent + up_busy + next_chunk() - window; }
  void on_sent(std::uint64_t bytes) {
    sent += bytes;
    while (!ends.empty() && ends.front() <= sent)
      ends.pop_front();
  }
};

// Side 0 dialled, side 1 accepted.
struct Link {
  std::array<std::size_t, 2> node{};
  std::array<PeerId, 2> peer{swarm::kNoPeer, swarm::kNoPeer};  // each side's id for the other
  std::array<Direction, 2> dir;                                // dir[s]: written by side s
  std::array<wire::MessageReader, 2> reader;                   // reader[s]: what side s reads
  Clock::duration latency{};                                   // one way
  bool open = true;
};

enum class Kind : std::uint8_t {
  tick,
  uplink_done,
  downlink_done,
  arrive,
  ack,
  handshake,
  handshake_reply,
  dial_failed,
  peer_closed,
  disk_done,
  tracker_reply,
};

struct Event {
  Clock::time_point at{};
  std::uint64_t seq = 0;
  Kind kind = Kind::tick;
  std::size_t node = 0;
  std::size_t id = 0;  // a link or a dial
  int side = 0;
  std::uint64_t value = 0;  // bytes, or a peer id
  bool operator>(const Event& o) const { return std::tie(at, seq) > std::tie(o.at, o.seq); }
};

// The session's budgets, granted in full.
class GenerousMediator final : public Mediator {
 public:
  GenerousMediator(int connections, int slots) : connections_(connections), slots_(slots) {}
  int connection_limit() const override { return connections_; }
  int upload_slots() const override { return slots_; }
  bool may_accept() const override { return true; }
  bool handshaking_with(const Endpoint&) const override { return false; }
  bool try_dial(const Endpoint&) override { return true; }

 private:
  int connections_;
  int slots_;
};

struct DiskJob {
  std::optional<VerifyPiece> verify;
  PieceIndex read{};
};

struct PendingAnnounce {
  std::uint64_t id = 0;
  tracker::AnnounceRequest request;
};

struct PendingDial {
  std::size_t from = 0;
  std::size_t to = 0;
  Endpoint endpoint;
  std::optional<std::size_t> link;
};

struct Node {
  Node(const NodeConfig& c, Endpoint e)
      : config(c), endpoint(e), mediator(c.max_connections, c.upload_slots) {
    up.rate = c.upload;
    down.rate = c.download;
    inbound_limit = std::max(kMinWindow, static_cast<std::uint64_t>(c.download * kBottleneckSeconds));
  }
  NodeConfig config;
  Endpoint endpoint;
  GenerousMediator mediator;
  std::unique_ptr<Torrent> torrent;
  Pipe up;
  Pipe down;
  // Bytes on their way to it (out of a sender's uplink) and not yet through its downlink, and the most
  // there may be: see kBottleneckSeconds. A sender checks for room when its chunk starts, so a few chunks
  // may overshoot; bytes still on a sender's own uplink do not count (a slow sender does not hold the room).
  std::uint64_t inbound = 0;
  std::uint64_t inbound_limit = 0;
  std::deque<FlowRef> waiting;  // flows waiting for room
  Clock::time_point disk_free{};
  std::deque<DiskJob> disk;
  std::deque<PendingAnnounce> announces;
  std::map<PeerId, std::size_t> links;  // its peers' links, until it hears they closed
  NodeReport report;
  bool present = true;
  bool gone = false;  // crashed: nothing of it runs any more
};

}  // namespace

Content::Content(std::int64_t total_size, std::int64_t piece_length, std::uint64_t seed)
    : total_size_(total_size), piece_length_(piece_length) {
  std::mt19937_64 rng(seed);
  for (std::int64_t at = 0; at < total_size; at += piece_length) {
    auto size = static_cast<std::size_t>(std::min(piece_length, total_size - at));
    auto piece = std::make_shared<std::vector<std::uint8_t>>(size);
    for (std::size_t i = 0; i < size; i += 8) {
      auto v = rng();
      std::memcpy(piece->data() + i, &v, std::min<std::size_t>(8, size - i));
    }
    pieces_.push_back(std::move(piece));
  }
  info_hash_ =
      hash::sha1("shoal swarm simulation " + std::to_string(seed) + " " + std::to_string(total_size));
}

struct SwarmNetwork::Impl {
  Impl(const Content& c, std::uint64_t seed, bool verbose) : content(c), rng(seed), log(verbose) {}

  const Content& content;
  std::mt19937_64 rng;
  bool log;
  Clock::time_point start{std::chrono::hours(1)};
  Clock::time_point now = start;
  NetworkStats stats;
  std::vector<std::unique_ptr<Node>> nodes;
  std::map<Endpoint, std::size_t> by_endpoint;
  std::vector<std::unique_ptr<Link>> links;  // ids are never reused; a closed link is released
  std::vector<std::size_t> closed;           // released once the event that closed them is done
  std::unordered_map<std::size_t, PendingDial> dials;
  std::size_t next_dial = 0;
  std::uint16_t next_ephemeral = 0;
  std::vector<std::size_t> registered;  // the tracker's swarm
  std::priority_queue<Event, std::vector<Event>, std::greater<>> queue;
  std::uint64_t seq = 0;

  void schedule(Clock::duration after, Event e) {
    e.at = now + after;
    e.seq = seq++;
    queue.push(e);
  }
  Link* link_at(std::size_t id) {
    auto& l = links[id];
    return l && l->open ? l.get() : nullptr;
  }
  static int side_of(const Link& l, std::size_t node, PeerId peer) {
    return l.node[0] == node && l.peer[0] == peer ? 0 : 1;
  }

  // --- Nodes.

  std::size_t add_node(const NodeConfig& config) {
    auto index = nodes.size();
    auto host = index + 1;
    Endpoint e;
    e.address = {10, static_cast<std::uint8_t>(host >> 16), static_cast<std::uint8_t>(host >> 8),
                 static_cast<std::uint8_t>(host)};
    e.port = 6881;
    nodes.push_back(std::make_unique<Node>(config, e));
    by_endpoint[e] = index;
    auto& node = *nodes.back();

    Params p;
    p.info_hash = content.info_hash();
    auto id = "-SH0001-" + std::to_string(1000000000000ULL + index);
    std::copy_n(id.begin(), 20, p.peer_id.begin());
    p.num_pieces = content.num_pieces();
    p.piece_length = content.piece_length();
    p.total_size = content.total_size();
    p.info_bytes = "d4:name9:simulatede";
    p.trackers = {{kTrackerUrl}};
    p.client = "Shoal sim";
    p.listen_port = e.port;
    p.upload_slots = config.upload_slots;
    p.max_connections = config.max_connections;
    p.seed = rng();
    p.log = log;
    node.torrent = std::make_unique<Torrent>(std::move(p), node.mediator, now);
    node.report.joined = now;
    node.report.written = swarm::Bitfield(content.num_pieces(), config.seed);
    if (config.seed) {
      for (std::int32_t i = 0; i < content.num_pieces(); ++i)
        node.torrent->mark_have(PieceIndex(i));
    }
    node.torrent->start(now);
    process(index);
    schedule(std::chrono::milliseconds(rng() % 1000), {.kind = Kind::tick, .node = index});
    return index;
  }

  void unregister(std::size_t n) {
    registered.erase(std::remove(registered.begin(), registered.end(), n), registered.end());
  }

  void leave(std::size_t n) {
    auto& node = *nodes[n];
    if (!node.present) return;
    node.present = false;
    node.report.left = now;
    unregister(n);
    node.torrent->stop(now);
    process(n);
  }

  void crash(std::size_t n) {
    auto& node = *nodes[n];
    if (node.gone) return;
    if (node.present) node.report.left = now;
    node.present = false;
    node.gone = true;
    unregister(n);
    node.torrent->halt("crashed");
    node.torrent->take_actions();
    auto links_now = node.links;
    node.links.clear();
    for (const auto& [peer, id] : links_now) {
      if (auto* l = link_at(id)) close_link(id, side_of(*l, n, peer), false);
    }
  }

  // Performs what the node's torrent decided, until it decides nothing more.
  void process(std::size_t n) {
    auto& node = *nodes[n];
    while (node.torrent->has_actions()) {
      for (auto& action : node.torrent->take_actions()) {
        if (node.gone) continue;
        std::visit(Overloaded{
                       [&](Dial& a) { dial(n, a.endpoint); },
                       [&](Disconnect& a) {
                         ++stats.close_reasons[a.reason];
                         disconnect(n, a.peer);
                       },
                       [&](Writable& a) {
                         auto it = node.links.find(a.peer);
                         if (it == node.links.end()) return;
                         if (auto* l = link_at(it->second)) write(it->second, side_of(*l, n, a.peer));
                       },
                       [&](VerifyPiece& a) {
                         auto piece = a.piece;
                         disk(n, DiskJob{std::move(a), piece});
                       },
                       [&](ReadPiece& a) {
                         disk(n, DiskJob{std::nullopt, a.piece});
                       },
                       [&](Announce& a) {
                         node.announces.push_back({a.id, a.request});
                         schedule(2 * node.config.latency, {.kind = Kind::tracker_reply, .node = n});
                       },
                       [&](PieceVerified& a) {
                         ++node.report.verified;
                         if (!node.report.written.test(a.piece)) ++node.report.false_verified;
                       },
                       [&](Completed&) {
                         if (!node.report.completed) node.report.completed = now;
                       },
                       [&](PeerBanned& a) { node.report.banned.push_back(a.address); },
                       [&](Log& a) {
                         if (log) {
                           std::printf("%9.3f node %zu: %s\n",
                                       std::chrono::duration<double>(now - start).count(), n, a.text.c_str());
                         }
                       },
                       [&](auto&) {},
                   },
                   action);
      }
    }
  }

  // --- Connections.

  void dial(std::size_t from, const Endpoint& endpoint) {
    auto id = next_dial++;
    auto it = by_endpoint.find(endpoint);
    auto& a = *nodes[from];
    if (it == by_endpoint.end() || it->second == from) {
      dials[id] = {from, from, endpoint, std::nullopt};
      schedule(2 * a.config.latency, {.kind = Kind::dial_failed, .id = id});
      return;
    }
    dials[id] = {from, it->second, endpoint, std::nullopt};
    schedule(a.config.latency + nodes[it->second]->config.latency, {.kind = Kind::handshake, .id = id});
  }

  // The dialler's handshake reaches the other side.
  void on_handshake(std::size_t dial_id) {
    auto& d = dials[dial_id];
    auto& a = *nodes[d.from];
    auto& b = *nodes[d.to];
    auto latency = a.config.latency + b.config.latency;
    Endpoint remote = a.endpoint;  // as b sees it: a's address and an ephemeral port
    remote.port = static_cast<std::uint16_t>(30000 + next_ephemeral++ % 30000);
    std::optional<PeerId> accepted;
    if (!b.present) {
      ++stats.close_reasons["dial: gone"];
    } else if (!b.torrent->accepts_incoming(remote)) {
      ++stats.close_reasons["dial: not accepted"];
    } else {
      auto r = b.torrent->on_peer_connected(remote, false, kFeatures, now);
      if (r) {
        accepted = *r;
      } else {
        ++stats.close_reasons["dial: refused, " + r.error()];
      }
    }
    if (!accepted) {
      schedule(latency, {.kind = Kind::dial_failed, .id = dial_id});
      process(d.to);
      return;
    }
    auto id = links.size();
    auto l = std::make_unique<Link>();
    l->node = {d.from, d.to};
    l->peer = {swarm::kNoPeer, *accepted};
    l->latency = latency;
    auto rtt = std::chrono::duration<double>(2 * latency).count();
    for (int s = 0; s < 2; ++s) {
      double rate = std::min(nodes[l->node[s]]->config.upload, nodes[l->node[1 - s]]->config.download);
      l->dir[s].window = std::max(kMinWindow, static_cast<std::uint64_t>(2 * rate * rtt));
    }
    links.push_back(std::move(l));
    b.links[*accepted] = id;
    d.link = id;
    schedule(latency, {.kind = Kind::handshake_reply, .id = dial_id});
    write(id, 1);
    process(d.to);
  }

  // The other side's handshake reaches the dialler.
  void on_handshake_reply(std::size_t dial_id) {
    auto d = dials[dial_id];
    dials.erase(dial_id);
    auto& a = *nodes[d.from];
    auto* l = link_at(*d.link);
    if (!l) {  // it closed the connection already
      ++stats.dials_failed;
      if (!a.gone) a.torrent->on_dial_failed(d.endpoint, now);
      process(d.from);
      return;
    }
    if (!a.present) {
      close_link(*d.link, 0, false);
      return;
    }
    auto r = a.torrent->on_peer_connected(d.endpoint, true, kFeatures, now);
    if (!r) {
      ++stats.close_reasons["dialler refused, " + r.error()];
      close_link(*d.link, 0, false);
      process(d.from);
      return;
    }
    ++stats.connections;
    l->peer[0] = *r;
    a.links[*r] = *d.link;
    write(*d.link, 0);
    pump(*d.link, 0);
    process(d.from);
  }

  void on_dial_failed(std::size_t dial_id) {
    auto d = dials[dial_id];
    dials.erase(dial_id);
    ++stats.dials_failed;
    auto& a = *nodes[d.from];
    if (a.gone) return;
    a.torrent->on_dial_failed(d.endpoint, now);
    process(d.from);
  }

  // The torrent at `n` closed its connection to `peer`.
  void disconnect(std::size_t n, PeerId peer) {
    auto& node = *nodes[n];
    auto it = node.links.find(peer);
    if (it == node.links.end()) return;
    auto id = it->second;
    node.links.erase(it);
    if (auto* l = link_at(id)) close_link(id, side_of(*l, n, peer), false);
  }

  // Closes a link from `side`; the torrent there hears of it now when `tell` (the driver closed it), the
  // other side one latency later.
  void close_link(std::size_t id, int side, bool tell, const std::string& reason = {}) {
    auto* l = link_at(id);
    if (!l) return;
    l->open = false;
    closed.push_back(id);
    for (int s = 0; s < 2; ++s) {  // chunks waiting at a downlink are dropped with the connection
      auto& receiver = *nodes[l->node[1 - s]];
      for (auto bytes : l->dir[s].in_transit)
        receiver.inbound -= bytes;
      l->dir[s].in_transit.clear();
    }
    auto& here = *nodes[l->node[side]];
    if (l->peer[side] != swarm::kNoPeer && here.links.erase(l->peer[side]) && tell && !here.gone) {
      here.torrent->on_peer_closed(l->peer[side], reason, now);
    }
    int other = 1 - side;
    if (l->peer[other] != swarm::kNoPeer)
      schedule(l->latency, {.kind = Kind::peer_closed, .node = l->node[other], .value = l->peer[other]});
    room_freed(l->node[0]);
    room_freed(l->node[1]);
  }

  void on_peer_closed(std::size_t n, PeerId peer) {
    auto& node = *nodes[n];
    if (node.gone || !node.links.erase(peer)) return;
    node.torrent->on_peer_closed(peer, "closed by peer", now);
    process(n);
  }

  // --- Streams.

  // Takes what waits for the peer at `side` when no write is in progress.
  void write(std::size_t id, int side) {
    auto* l = link_at(id);
    if (!l || l->peer[side] == swarm::kNoPeer) return;
    auto& d = l->dir[side];
    if (d.writing) return;
    auto& node = *nodes[l->node[side]];
    std::vector<std::uint8_t> bytes;
    std::vector<swarm::SendQueue::Block> blocks;
    if (!node.torrent->take_output(l->peer[side], bytes, blocks, kMaxSendBatch, now)) return;
    std::int64_t payload = 0;
    auto append = [&](std::vector<std::uint8_t> b) {
      if (b.empty()) return;
      d.written += b.size();
      d.ends.push_back(d.written);
      d.buffers.push_back(std::move(b));
    };
    node.report.message_bytes_written += bytes.size();
    append(std::move(bytes));
    std::uniform_real_distribution<double> u(0, 1);
    for (auto& b : blocks) {
      payload += b.request.length;
      if (node.config.corrupt_blocks > 0 && u(rng) < node.config.corrupt_blocks &&
          b.message.size() > wire::kPieceHeaderSize) {
        auto at = wire::kPieceHeaderSize + rng() % (b.message.size() - wire::kPieceHeaderSize);
        b.message[at] ^= 0x5a;
      }
      append(std::move(b.message));
    }
    if (d.unsent() == 0 && d.up_busy == 0 && d.written == d.sent) {  // nothing to put on the wire after all
      node.torrent->on_write_done(l->peer[side], payload, now);
      return;
    }
    d.writing = true;
    d.write_end = d.written;
    d.write_payload = payload;
    wake_up(id, side);
  }

  // The flow written by `side` may have bytes to send: queue it on the sender's uplink, or, when only the
  // window holds it back, make sure the next acknowledgement wakes it.
  void wake_up(std::size_t id, int side) {
    auto* l = link_at(id);
    auto& d = l->dir[side];
    if (d.in_up) return;
    if (next_chunk(id, side) == 0) return;
    d.in_up = true;
    auto n = l->node[side];
    nodes[n]->up.fresh.push_back({id, side});
    kick_up(n);
  }

  // The chunk the flow may put on its sender's uplink now, or 0; when the window or the receiver's
  // bottleneck holds it back, what will wake it is arranged.
  std::uint64_t next_chunk(std::size_t id, int side) {
    auto& l = *links[id];
    auto& d = l.dir[side];
    d.take_acks(now);
    auto bytes = d.sendable();
    if (bytes == 0) {
      wait_for_ack(id, side, d);
      return 0;
    }
    auto& receiver = *nodes[l.node[1 - side]];
    if (receiver.inbound > 0 && receiver.inbound + bytes > receiver.inbound_limit) {
      if (!d.waiting_room) {
        d.waiting_room = true;
        receiver.waiting.push_back({id, side});
      }
      return 0;
    }
    return bytes;
  }

  void wait_for_ack(std::size_t id, int side, Direction& d) {
    if (d.unsent() == 0 || d.ack_event || d.up_busy > 0) return;
    auto needed = d.ack_needed();
    for (const auto& [at, offset] : d.acks) {
      if (offset < needed) continue;
      d.ack_event = true;
      schedule(at - now, {.kind = Kind::ack, .id = id, .side = side});
      return;
    }
  }

  void kick_up(std::size_t n) {
    auto& pipe = nodes[n]->up;
    while (!pipe.busy) {
      auto flow = pipe.next();
      if (!flow) return;
      auto* l = link_at(flow->link);
      if (!l) continue;
      auto& d = l->dir[flow->side];
      auto bytes = next_chunk(flow->link, flow->side);
      if (bytes == 0) {
        d.in_up = false;
        continue;
      }
      d.up_busy = bytes;
      pipe.busy = true;
      pipe.current = *flow;
      pipe.chunk = bytes;
      schedule(transfer_time(bytes, pipe.rate), {.kind = Kind::uplink_done, .node = n});
    }
  }

  // Room at node n's bottleneck: the senders waiting for it try again, first come first.
  void room_freed(std::size_t n) {
    auto& node = *nodes[n];
    for (auto tries = node.waiting.size(); tries > 0 && node.inbound < node.inbound_limit; --tries) {
      auto flow = node.waiting.front();
      node.waiting.pop_front();
      auto* l = link_at(flow.link);
      if (!l) continue;
      l->dir[flow.side].waiting_room = false;
      wake_up(flow.link, flow.side);
    }
  }

  void kick_down(std::size_t n) {
    auto& pipe = nodes[n]->down;
    while (!pipe.busy) {
      auto flow = pipe.next();
      if (!flow) return;
      auto* l = link_at(flow->link);
      if (!l) continue;
      auto& d = l->dir[flow->side];
      if (d.in_transit.empty()) {
        d.in_down = false;
        continue;
      }
      pipe.busy = true;
      pipe.current = *flow;
      pipe.chunk = d.in_transit.front();
      d.in_transit.pop_front();
      schedule(transfer_time(pipe.chunk, pipe.rate), {.kind = Kind::downlink_done, .node = n});
    }
  }

  void on_uplink_done(std::size_t n) {
    auto& pipe = nodes[n]->up;
    pipe.busy = false;
    auto flow = pipe.current;
    if (auto* l = link_at(flow.link)) {
      auto& d = l->dir[flow.side];
      d.up_busy = 0;
      d.on_sent(pipe.chunk);
      nodes[n]->report.wire_sent += pipe.chunk;
      nodes[l->node[1 - flow.side]]->inbound += pipe.chunk;
      d.take_acks(now);
      if (d.sendable() > 0) {
        pipe.backlog.push_back(flow);
      } else {
        d.in_up = false;
        wait_for_ack(flow.link, flow.side, d);
      }
      schedule(l->latency, {.kind = Kind::arrive,
                            .node = l->node[1 - flow.side],
                            .id = flow.link,
                            .side = flow.side,
                            .value = pipe.chunk});
      write_progress(flow.link, flow.side);
    }
    kick_up(n);
    process(n);
  }

  void write_progress(std::size_t id, int side) {
    auto* l = link_at(id);
    auto& d = l->dir[side];
    if (!d.writing) return;
    auto& node = *nodes[l->node[side]];
    auto peer = l->peer[side];
    if (d.sent < d.write_end) {
      node.torrent->on_bytes_sent(peer, now);
      return;
    }
    d.writing = false;
    node.torrent->on_write_done(peer, d.write_payload, now);
    write(id, side);
    pump(id, side);  // its send queue drained: reading may resume
  }

  void on_arrive(std::size_t receiver, std::size_t id, int side, std::uint64_t bytes) {
    auto* l = link_at(id);
    if (!l) {  // the connection closed on the way: the bytes leave the receiver's bottleneck unseen
      nodes[receiver]->inbound -= bytes;
      room_freed(receiver);
      return;
    }
    auto& d = l->dir[side];
    d.in_transit.push_back(bytes);
    auto n = l->node[1 - side];
    if (!d.in_down) {
      d.in_down = true;
      nodes[n]->down.fresh.push_back({id, side});
    }
    kick_down(n);
  }

  void on_downlink_done(std::size_t n) {
    auto& pipe = nodes[n]->down;
    pipe.busy = false;
    auto flow = pipe.current;
    nodes[n]->inbound -= pipe.chunk;
    if (auto* l = link_at(flow.link)) {
      auto& d = l->dir[flow.side];
      d.delivered += pipe.chunk;
      nodes[n]->report.wire_received += pipe.chunk;
      if (!d.in_transit.empty()) {
        pipe.backlog.push_back(flow);
      } else {
        d.in_down = false;
      }
      pump(flow.link, 1 - flow.side);
    }
    kick_down(n);
    room_freed(n);
    process(n);
  }

  void on_ack(std::size_t id, int side) {
    auto* l = link_at(id);
    if (!l) return;
    l->dir[side].ack_event = false;
    wake_up(id, side);
  }

  // Feeds what reached side `r` to its reader and its torrent, as a socket read loop would, while the
  // torrent reads this peer.
  void pump(std::size_t id, int r) {
    auto* l = link_at(id);
    if (!l || l->peer[r] == swarm::kNoPeer) return;
    auto& d = l->dir[1 - r];
    auto& node = *nodes[l->node[r]];
    auto peer = l->peer[r];
    auto& reader = l->reader[r];
    while (d.read < d.delivered) {
      if (node.torrent->reading_paused(peer)) return;
      auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kReadChunk, d.delivered - d.read));
      auto space = reader.prepare(n);
      for (std::size_t copied = 0; copied < n;) {
        auto& front = d.buffers.front();
        auto take = std::min(n - copied, front.size() - d.front_read);
        std::memcpy(space.data() + copied, front.data() + d.front_read, take);
        copied += take;
        d.front_read += take;
        if (d.front_read == front.size()) {
          d.buffers.pop_front();
          d.front_read = 0;
        }
      }
      reader.commit(n);
      d.read += n;
      stats.wire_bytes += n;
      d.acks.emplace_back(now + l->latency, d.read);
      if (!d.in_up) wait_for_ack(id, 1 - r, d);
      for (;;) {
        auto message = reader.next();
        if (!message) {
          close_link(id, r, true, message.error().message());
          return;
        }
        if (!*message) break;
        if (!node.torrent->on_message(peer, **message, now)) return;  // it closes the peer
      }
      node.torrent->on_messages_done(peer);
    }
  }

  // --- Disk.

  void disk(std::size_t n, DiskJob job) {
    auto& node = *nodes[n];
    auto size = job.verify ? job.verify->data.size()
                           : static_cast<std::size_t>(content.piece(job.read.get())->size());
    auto begin = std::max(now, node.disk_free);
    node.disk_free = begin + kDiskLatency + transfer_time(size, kDiskRate);
    node.disk.push_back(std::move(job));
    schedule(node.disk_free - now, {.kind = Kind::disk_done, .node = n});
  }

  void on_disk_done(std::size_t n) {
    auto& node = *nodes[n];
    auto job = std::move(node.disk.front());
    node.disk.pop_front();
    if (node.gone) return;
    if (!job.verify) {
      auto piece = job.read.get();
      if (!node.report.written.test(job.read)) {
        ++node.report.bad_reads;
        node.torrent->on_piece_read(job.read, nullptr);
      } else {
        node.torrent->on_piece_read(job.read, content.piece(piece));
      }
      process(n);
      return;
    }
    auto& v = *job.verify;
    auto piece = v.piece.get();
    const auto& expected = *content.piece(piece);
    bool ok = v.data == expected;
    if (!ok || v.block_hashes) {
      for (std::size_t i = 0; i < v.blocks.size(); ++i) {
        auto begin = i * static_cast<std::size_t>(swarm::kBlockSize);
        if (begin >= v.data.size()) break;
        auto length = std::min<std::size_t>(swarm::kBlockSize, v.data.size() - begin);
        v.blocks[i].hash =
            hash::sha1(std::span(reinterpret_cast<const std::byte*>(v.data.data() + begin), length)).bytes;
      }
    }
    if (ok) {
      node.report.written.set(v.piece);
    } else {
      ++node.report.hash_failures;
    }
    node.torrent->on_piece_written(v.piece, ok, false, std::move(v.blocks), std::move(v.data));
    process(n);
  }

  // --- Tracker.

  void on_tracker_reply(std::size_t n) {
    auto& node = *nodes[n];
    auto pending = std::move(node.announces.front());
    node.announces.pop_front();
    if (node.gone) return;
    tracker::AnnounceResponse response;
    response.interval = kTrackerInterval;
    if (pending.request.event == tracker::AnnounceEvent::stopped || !node.present) {
      unregister(n);
    } else {
      if (std::find(registered.begin(), registered.end(), n) == registered.end()) registered.push_back(n);
      std::vector<std::size_t> others;
      for (auto i : registered) {
        if (i != n) others.push_back(i);
      }
      std::shuffle(others.begin(), others.end(), rng);
      others.resize(std::min(others.size(), static_cast<std::size_t>(std::max(pending.request.numwant, 0))));
      for (auto i : others)
        response.peers.push_back(nodes[i]->endpoint);
    }
    node.torrent->on_announce_done(pending.id, Expected<tracker::AnnounceResponse, std::string>(response),
                                   now);
    process(n);
  }

  // --- Time.

  void on_tick(std::size_t n) {
    auto& node = *nodes[n];
    if (node.gone || node.torrent->phase() == Phase::halted) return;
    node.torrent->on_tick(now, [&](PeerId peer) {
      auto it = node.links.find(peer);
      if (it == node.links.end()) return false;
      auto* l = link_at(it->second);
      return l && l->reader[side_of(*l, n, peer)].partial();
    });
    process(n);
    auto links_now = node.links;
    for (const auto& [peer, id] : links_now) {
      auto* l = link_at(id);
      if (!l) continue;
      int side = side_of(*l, n, peer);
      pump(id, side);
      // Nothing half-read: let the buffer go (thousands of idle connections would each keep one).
      if (auto* still = link_at(id);
          still && !still->reader[side].partial() && still->reader[side].capacity() > 0)
        still->reader[side] = wire::MessageReader();
    }
    process(n);
    schedule(kTick, {.kind = Kind::tick, .node = n});
  }

  void dispatch(const Event& e) {
    ++stats.events;
    switch (e.kind) {
      case Kind::tick:
        on_tick(e.node);
        break;
      case Kind::uplink_done:
        on_uplink_done(e.node);
        break;
      case Kind::downlink_done:
        on_downlink_done(e.node);
        break;
      case Kind::arrive:
        on_arrive(e.node, e.id, e.side, e.value);
        break;
      case Kind::ack:
        on_ack(e.id, e.side);
        break;
      case Kind::handshake:
        on_handshake(e.id);
        break;
      case Kind::handshake_reply:
        on_handshake_reply(e.id);
        break;
      case Kind::dial_failed:
        on_dial_failed(e.id);
        break;
      case Kind::peer_closed:
        on_peer_closed(e.node, static_cast<PeerId>(e.value));
        break;
      case Kind::disk_done:
        on_disk_done(e.node);
        break;
      case Kind::tracker_reply:
        on_tracker_reply(e.node);
        break;
    }
    for (auto id : closed)
      links[id].reset();
    closed.clear();
  }

  void run_until(Clock::time_point until) {
    while (!queue.empty() && queue.top().at <= until) {
      auto e = queue.top();
      queue.pop();
      now = std::max(now, e.at);
      dispatch(e);
    }
    now = std::max(now, until);
  }
};

SwarmNetwork::SwarmNetwork(const Content& content, std::uint64_t seed, bool log)
    : impl_(std::make_unique<Impl>(content, seed, log)) {}
SwarmNetwork::~SwarmNetwork() = default;

std::size_t SwarmNetwork::add_node(const NodeConfig& config) {
  return impl_->add_node(config);
}
void SwarmNetwork::leave(std::size_t node) {
  impl_->leave(node);
}
void SwarmNetwork::crash(std::size_t node) {
  impl_->crash(node);
}
void SwarmNetwork::run_until(Clock::time_point until) {
  impl_->run_until(until);
}
bool SwarmNetwork::run_until(const std::function<bool()>& done, Clock::time_point deadline,
                             Clock::duration step) {
  while (!done()) {
    if (impl_->now >= deadline) return false;
    impl_->run_until(std::min(impl_->now + step, deadline));
  }
  return true;
}
Clock::time_point SwarmNetwork::now() const {
  return impl_->now;
}
Clock::time_point SwarmNetwork::start_time() const {
  return impl_->start;
}
std::size_t SwarmNetwork::size() const {
  return impl_->nodes.size();
}
bool SwarmNetwork::present(std::size_t node) const {
  return impl_->nodes[node]->present;
}
const NodeConfig& SwarmNetwork::config(std::size_t node) const {
  return impl_->nodes[node]->config;
}
const NodeReport& SwarmNetwork::report(std::size_t node) const {
  return impl_->nodes[node]->report;
}
const Torrent& SwarmNetwork::torrent(std::size_t node) const {
  return *impl_->nodes[node]->torrent;
}
const Endpoint& SwarmNetwork::endpoint(std::size_t node) const {
  return impl_->nodes[node]->endpoint;
}
std::vector<PeerId> SwarmNetwork::peers(std::size_t node) const {
  std::vector<PeerId> out;
  for (const auto& [peer, id] : impl_->nodes[node]->links) {
    if (impl_->link_at(id)) out.push_back(peer);
  }
  return out;
}
std::string SwarmNetwork::describe(std::size_t node, PeerId peer) const {
  auto& impl = *impl_;
  auto it = impl.nodes[node]->links.find(peer);
  if (it == impl.nodes[node]->links.end()) return "no link";
  auto* l = impl.link_at(it->second);
  if (!l) return "closed";
  int s = Impl::side_of(*l, node, peer);
  auto other = l->node[1 - s];
  auto other_peer = l->peer[1 - s];
  const auto& in = l->dir[1 - s];
  const auto& out = l->dir[s];
  const auto* mine = impl.nodes[node]->torrent->protocol(peer);
  const auto* theirs = impl.nodes[other]->torrent->protocol(other_peer);
  char buf[512];
  std::snprintf(
      buf, sizeof buf,
      "to node %zu: out %zu, it chokes us %d, paused %d | in: written %llu sent %llu delivered %llu read "
      "%llu "
      "window %llu writing %d | out: written %llu sent %llu read %llu writing %d | they: choking %d, "
      "queued %zu, out %zu",
      other, mine ? mine->outstanding().size() : 0, mine ? mine->peer_choking() : -1,
      impl.nodes[node]->torrent->reading_paused(peer), static_cast<unsigned long long>(in.written),
      static_cast<unsigned long long>(in.sent), static_cast<unsigned long long>(in.delivered),
      static_cast<unsigned long long>(in.read), static_cast<unsigned long long>(in.window), in.writing,
      static_cast<unsigned long long>(out.written), static_cast<unsigned long long>(out.sent),
      static_cast<unsigned long long>(out.read), out.writing, theirs ? theirs->am_choking() : -1,
      theirs ? theirs->queued_requests().size() : 0, theirs ? theirs->outstanding().size() : 0);
  return buf;
}
const NetworkStats& SwarmNetwork::stats() const {
  return impl_->stats;
}
bool SwarmNetwork::pieces_available_without(std::size_t except) const {
  swarm::Bitfield all(impl_->content.num_pieces());
  for (std::size_t i = 0; i < impl_->nodes.size(); ++i) {
    const auto& node = *impl_->nodes[i];
    if (i == except || !node.present) continue;
    for (std::int32_t p = 0; p < all.size(); ++p) {
      if (node.report.written.test(PieceIndex(p))) all.set(PieceIndex(p));
    }
  }
  return all.all();
}

}  // namespace shoal::torrent::sim
