#include "dht/dht_node.hpp"

#include <algorithm>
#include <cstring>

#include "dht/node_id.hpp"

namespace shoal::dht {
namespace {

constexpr int kAlpha = 4;                   // queries in flight per lookup
constexpr std::size_t kMaxCandidates = 64;  // closest nodes a lookup keeps track of
constexpr auto kTokenEpoch = std::chrono::minutes(5);
constexpr auto kMaintenanceEvery = std::chrono::seconds(60);
constexpr std::size_t kMaxPending = 4096;  // queries of ours awaiting replies

std::int64_t ms_of(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

DhtNode::DhtNode(const NodeId& id, DhtConfig config, std::uint64_t seed)
    : id_(id),
      config_(config),
      table_(id, config.routing),
      limiter_(config.max_queries_per_ip),
      secret_{seed * 0x9E3779B97F4A7C15ULL + 1, seed ^ 0xD1B54A32D192ED03ULL},
      items_(id, config.items) {}

std::string DhtNode::next_transaction() {
  ++next_tid_;
  return std::string{static_cast<char>(next_tid_ >> 8), static_cast<char>(next_tid_ & 0xff)};
}

void DhtNode::emit(const Endpoint& to, std::string packet, std::vector<Outgoing>& out) {
  stats_.bytes_out += packet.size();
  out.push_back({to, std::move(packet)});
}

std::chrono::milliseconds DhtNode::timeout() const {
  // Three smoothed round trips, within sane bounds: fast on a LAN, patient on a slow path.
  auto ms = static_cast<std::int64_t>(std::clamp(rtt_ms_ * 3, 200.0, 2000.0));
  return std::chrono::milliseconds(ms);
}

std::string DhtNode::token_for(const Endpoint& e, Clock::time_point now, int age) const {
  auto epoch =
      static_cast<std::uint64_t>(now.time_since_epoch() / kTokenEpoch) - static_cast<std::uint64_t>(age);
  std::uint8_t in[16 + 1 + 8];
  std::memcpy(in, e.address.data(), 16);
  in[16] = e.v6 ? 6 : 4;
  std::memcpy(in + 17, &epoch, 8);
  std::uint64_t mac = hash::siphash24(secret_, in);
  return std::string(reinterpret_cast<const char*>(&mac), 8);
}

bool DhtNode::token_ok(const std::string& token, const Endpoint& e, Clock::time_point now) const {
  // A token is good for the epoch it was given in and the next one (five to ten minutes).
  return token == token_for(e, now, 0) || token == token_for(e, now, 1);
}

void DhtNode::on_packet(std::string_view data, const Endpoint& from, Clock::time_point now,
                        std::vector<Outgoing>& out) {
  stats_.bytes_in += data.size();
  auto message = decode(data);
  if (!message) {
    if (message.error().answerable && limiter_.allow(from, ms_of(now))) {
      ErrorReply e{message.error().transaction, static_cast<int>(message.error().code),
                   message.error().detail};
      ++stats_.errors_sent;
      emit(from, encode(e, config_.version), out);
    } else {
      ++stats_.dropped;
    }
    return;
  }
  if (auto* q = std::get_if<Query>(&*message)) {
    if (!limiter_.allow(from, ms_of(now))) {
      ++stats_.rate_limited;  // a flooding address is ignored until its bucket refills
      return;
    }
    ++stats_.queries_in;
    handle_query(*q, from, now, out);
  } else if (auto* r = std::get_if<Response>(&*message)) {
    ++stats_.responses_in;
    handle_response(*r, from, now, out);
  } else {
    auto& e = std::get<ErrorReply>(*message);
    auto it = pending_.find(e.transaction);
    if (it != pending_.end() && it->second.to == from) {
      int lookup = it->second.lookup;
      int put = it->second.put;
      pending_.erase(it);
      if (put >= 0) put_replied(put, false);  // after the erase: the callback may send queries of its own
      if (lookup >= 0 && lookups_.count(lookup)) {
        auto& l = lookups_[lookup];
        for (auto& c : l.candidates)
          if (c.node.endpoint == from && c.state == Candidate::State::asked)
            c.state = Candidate::State::failed;
        --l.in_flight;
        advance(lookup, now, out);
      }
    }
  }
}

void DhtNode::handle_query(const Query& q, const Endpoint& from, Clock::time_point now,
                           std::vector<Outgoing>& out) {
  // BEP 43: read-only nodes stay out of the table; BEP 42: so do ids that do not fit their address.
  bool id_ok = !config_.enforce_node_id || node_id_valid(q.sender, from);
  if (!q.read_only && id_ok) table_.heard_from({q.sender, from}, now, false);
  if (config_.read_only) return;  // we do not answer queries at all
  Response r;
  r.transaction = q.transaction;
  r.sender = id_;
  r.your_ip = from;
  bool want4 = q.want4 || (!q.want4 && !q.want6 && !from.v6);
  bool want6 = q.want6 || (!q.want4 && !q.want6 && from.v6);
  auto add_nodes = [&](const NodeId& target) {
    if (want4) {
      auto n = table_.closest(target, kBucketSize, false);
      r.nodes.insert(r.nodes.end(), n.begin(), n.end());
    }
    if (want6) {
      auto n = table_.closest(target, kBucketSize, true);
      r.nodes.insert(r.nodes.end(), n.begin(), n.end());
    }
  };
  switch (q.method) {
    case Method::ping:
      break;
    case Method::find_node:
      add_nodes(q.target);
      break;
    case Method::get_peers: {
      r.token = token_for(from, now, 0);
      auto it = store_.find(q.target);
      if (it != store_.end()) {
        for (const auto& p : it->second) {
          if (r.values.size() >= config_.max_values_per_reply) break;
          if (p.expires > now && p.endpoint.v6 == from.v6) r.values.push_back(p.endpoint);
        }
      }
      add_nodes(q.target);
      break;
    }
    case Method::announce_peer: {
      if (!token_ok(q.token, from, now)) {
        ++stats_.errors_sent;
        emit(from,
             encode(ErrorReply{q.transaction, static_cast<int>(ErrorCode::protocol), "bad token"},
                    config_.version),
             out);
        return;
      }
      Endpoint peer = from;
      if (!q.implied_port) peer.port = q.port;
      auto it = store_.find(q.target);
      if (it == store_.end()) {
        if (store_.size() >= config_.max_torrents) break;  // full: acknowledged, not stored
        it = store_.emplace(q.target, std::vector<StoredPeer>{}).first;
      }
      auto& peers = it->second;
      auto same =
          std::find_if(peers.begin(), peers.end(), [&](const StoredPeer& p) { return p.endpoint == peer; });
      if (same != peers.end()) {
        same->expires = now + config_.peer_ttl;
      } else if (peers.size() < config_.max_peers_per_torrent) {
        peers.push_back({peer, now + config_.peer_ttl});
      } else {
        // Full: the entry closest to expiry makes room (old announcements lose to fresh ones).
        auto oldest =
            std::min_element(peers.begin(), peers.end(),
                             [](const StoredPeer& a, const StoredPeer& b) { return a.expires < b.expires; });
        *oldest = {peer, now + config_.peer_ttl};
      }
      break;
    }
    case Method::get:
      r.token = token_for(from, now, 0);
      answer_get(q, now, r);
      add_nodes(q.target);
      break;
    case Method::put:
      if (!answer_put(q, from, now, out)) return;
      break;
    case Method::sample_infohashes: {
      for (const auto& [hash, peers] : store_) {
        if (r.samples.size() >= 20) break;
        r.samples.push_back(hash);
      }
      r.num = static_cast<std::int64_t>(store_.size());
      r.interval = 6 * 3600;
      add_nodes(q.target);
      break;
    }
  }
  emit(from, encode(r, config_.version), out);
}

void DhtNode::handle_response(const Response& r, const Endpoint& from, Clock::time_point now,
                              std::vector<Outgoing>& out) {
  auto it = pending_.find(r.transaction);
  if (it == pending_.end() || it->second.to != from) {
    ++stats_.dropped;  // not an answer to anything we asked that address
    return;
  }
  Pending pending = it->second;
  pending_.erase(it);
  double sample =
      static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(now - pending.sent).count());
  rtt_ms_ = rtt_ms_ * 0.875 + sample * 0.125;
  if (!config_.enforce_node_id || node_id_valid(r.sender, from))
    table_.heard_from({r.sender, from}, now, true);
  if (r.your_ip && ip_votes_.size() < 64) {
    Endpoint ip = *r.your_ip;
    ip.port = 0;
    ++ip_votes_[ip];
  }
  if (pending.put >= 0) put_replied(pending.put, true);
  if (pending.lookup < 0) {
    // A bootstrap answer: walk towards our own id from what it told us.
    if (pending.method == Method::find_node && !joining_) {
      joining_ = true;
      int id = start_lookup(id_, Method::find_node, r.nodes, now, out);
      if (auto it2 = lookups_.find(id); it2 != lookups_.end()) it2->second.join = true;
    }
    return;
  }
  auto lit = lookups_.find(pending.lookup);
  if (lit == lookups_.end()) return;
  Lookup& l = lit->second;
  --l.in_flight;
  for (auto& c : l.candidates) {
    if (c.node.endpoint == from && c.state == Candidate::State::asked) {
      c.state = Candidate::State::answered;
      c.node.id = r.sender;
      if (r.token) c.token = *r.token;
    }
  }
  for (const auto& v : r.values)
    if (std::find(l.peers.begin(), l.peers.end(), v) == l.peers.end() && l.peers.size() < 1000)
      l.peers.push_back(v);
  if (!l.peers.empty() && !l.first_peer) l.first_peer = now;
  add_candidates(l, r.nodes);
  if (l.item) take_item(l, r);
  advance(pending.lookup, now, out);
}

std::string DhtNode::send_query(Query q, const Endpoint& to, int lookup, Clock::time_point now,
                                std::vector<Outgoing>& out) {
  if (pending_.size() >= kMaxPending) return {};
  q.transaction = next_transaction();
  q.sender = id_;
  q.read_only = config_.read_only;
  pending_[q.transaction] = {to, q.method, now, lookup};
  emit(to, encode(q, config_.version), out);
  return q.transaction;
}

void DhtNode::add_candidates(Lookup& l, const std::vector<NodeInfo>& nodes) {
  for (const auto& n : nodes) {
    if (n.id == id_) continue;
    bool known = std::any_of(l.candidates.begin(), l.candidates.end(), [&](const Candidate& c) {
      return c.node.endpoint == n.endpoint || c.node.id == n.id;
    });
    if (!known) l.candidates.push_back({n, Candidate::State::fresh, {}, 0});
  }
  std::stable_sort(l.candidates.begin(), l.candidates.end(), [&](const Candidate& a, const Candidate& b) {
    return closer(l.target, a.node.id, b.node.id);
  });
  if (l.candidates.size() > kMaxCandidates) {
    // Drop the farthest, but never one we are waiting on (its reply must still find it).
    std::vector<Candidate> kept;
    for (std::size_t i = 0; i < l.candidates.size(); ++i)
      if (i < kMaxCandidates || l.candidates[i].state == Candidate::State::asked)
        kept.push_back(l.candidates[i]);
    l.candidates = std::move(kept);
  }
}

int DhtNode::start_lookup(const NodeId& target, Method method, std::vector<NodeInfo> seeds,
                          Clock::time_point now, std::vector<Outgoing>& out) {
  int id = next_lookup_++;
  Lookup& l = lookups_[id];
  l.target = target;
  l.method = method;
  auto known = table_.closest(target, kBucketSize * 2, false);
  seeds.insert(seeds.end(), known.begin(), known.end());
  add_candidates(l, seeds);
  advance(id, now, out);
  return id;
}

void DhtNode::advance(int lookup_id, Clock::time_point now, std::vector<Outgoing>& out) {
  auto it = lookups_.find(lookup_id);
  if (it == lookups_.end() || it->second.finished) return;
  Lookup& l = it->second;
  // The k closest nodes not known to have failed: ask the fresh ones, alpha at a time.
  std::size_t considered = 0;
  bool pending_close = false;
  for (auto& c : l.candidates) {
    if (considered >= kBucketSize) break;
    if (c.state == Candidate::State::failed) continue;
    ++considered;
    if (c.state == Candidate::State::asked) pending_close = true;
    if (c.state == Candidate::State::fresh && l.in_flight < kAlpha) {
      Query q;
      q.method = l.method;
      q.target = l.target;
      c.state = Candidate::State::asked;
      ++c.tries;
      ++l.in_flight;
      ++l.queries;
      pending_close = true;
      send_query(q, c.node.endpoint, lookup_id, now, out);
    } else if (c.state == Candidate::State::fresh) {
      pending_close = true;
    }
  }
  if (pending_close || l.in_flight > 0) return;
  l.finished = true;
  if (l.item) {
    finish_item_lookup(it, now, out);
    return;
  }
  if (l.announce_port) {
    std::size_t announced = 0;
    for (const auto& c : l.candidates) {
      if (announced >= kBucketSize) break;
      if (c.state != Candidate::State::answered || c.token.empty()) continue;
      Query q;
      q.method = Method::announce_peer;
      q.target = l.target;
      q.port = *l.announce_port;
      q.token = c.token;
      send_query(q, c.node.endpoint, -1, now, out);
      ++announced;
    }
  }
  auto done = std::move(l.done);
  LookupResult result{std::move(l.peers), l.queries, std::nullopt};
  if (l.first_peer) result.first_peer_after = *l.first_peer - l.started;
  bool join = l.join;
  lookups_.erase(it);
  if (join) {
    // Fill every bucket now rather than in 15 minutes: a random id in each bucket's range, looked up.
    joining_ = false;
    auto targets = table_.refresh_targets(now + std::chrono::hours(1),
                                          static_cast<std::uint64_t>(ms_of(now)) ^ id_.bytes[5]);
    for (const auto& t : targets)
      start_lookup(t, Method::find_node, {}, now, out);
  }
  if (done) done(result);
}

void DhtNode::bootstrap(const Endpoint& node, Clock::time_point now, std::vector<Outgoing>& out) {
  if (std::find(bootstrap_nodes_.begin(), bootstrap_nodes_.end(), node) == bootstrap_nodes_.end())
    bootstrap_nodes_.push_back(node);
  last_bootstrap_ = now;
  Query q;
  q.method = Method::find_node;
  q.target = id_;
  send_query(q, node, -1, now, out);
}

void DhtNode::get_peers(const NodeId& info_hash, std::optional<std::uint16_t> announce_port, LookupDone done,
                        Clock::time_point now, std::vector<Outgoing>& out) {
  int id = next_lookup_++;
  Lookup& l = lookups_[id];
  l.target = info_hash;
  l.method = Method::get_peers;
  l.announce_port = announce_port;
  l.done = std::move(done);
  l.started = now;
  add_candidates(l, table_.closest(info_hash, kBucketSize * 2, false));
  if (l.candidates.empty()) {
    auto d = std::move(l.done);
    lookups_.erase(id);
    if (d) d(LookupResult{});
    return;
  }
  advance(id, now, out);
}

void DhtNode::tick(Clock::time_point now, std::vector<Outgoing>& out) {
  auto limit = timeout();
  std::vector<std::pair<std::string, Pending>> expired;
  for (const auto& [tid, p] : pending_)
    if (now - p.sent > limit) expired.emplace_back(tid, p);
  for (const auto& [tid, p] : expired) {
    pending_.erase(tid);
    table_.failed(p.to);
    if (p.put >= 0) put_replied(p.put, false);
    if (p.lookup < 0) continue;
    auto it = lookups_.find(p.lookup);
    if (it == lookups_.end()) continue;
    for (auto& c : it->second.candidates) {
      if (c.node.endpoint != p.to || c.state != Candidate::State::asked) continue;
      c.state = c.tries < 2 ? Candidate::State::fresh : Candidate::State::failed;
    }
    --it->second.in_flight;
    advance(p.lookup, now, out);
  }
  // A lost bootstrap packet must not leave us alone forever: ask again while we know almost nobody.
  if (!bootstrap_nodes_.empty() && table_.size() < kBucketSize &&
      now - last_bootstrap_ > std::chrono::seconds(3)) {
    last_bootstrap_ = now;
    joining_ = false;
    for (const auto& b : bootstrap_nodes_) {
      Query q;
      q.method = Method::find_node;
      q.target = id_;
      send_query(q, b, -1, now, out);
    }
  }
  if (now - last_maintenance_ < kMaintenanceEvery) return;
  last_maintenance_ = now;
  items_.expire(now);
  for (auto it = store_.begin(); it != store_.end();) {
    auto& peers = it->second;
    peers.erase(
        std::remove_if(peers.begin(), peers.end(), [&](const StoredPeer& p) { return p.expires <= now; }),
        peers.end());
    it = peers.empty() ? store_.erase(it) : std::next(it);
  }
  for (const auto& n : table_.to_ping(now, 8)) {
    Query q;
    q.method = Method::ping;
    send_query(q, n.endpoint, -1, now, out);
  }
  auto targets = table_.refresh_targets(now, static_cast<std::uint64_t>(ms_of(now)));
  for (std::size_t i = 0; i < targets.size() && i < 4; ++i)
    start_lookup(targets[i], Method::find_node, {}, now, out);
}

std::optional<Endpoint> DhtNode::external_ip() const {
  std::optional<Endpoint> best;
  int votes = 2;
  for (const auto& [ip, n] : ip_votes_) {
    if (n > votes) {
      votes = n;
      best = ip;
    }
  }
  return best;
}

std::size_t DhtNode::stored_peers() const {
  std::size_t n = 0;
  for (const auto& [h, peers] : store_)
    n += peers.size();
  return n;
}

}  // namespace shoal::dht
