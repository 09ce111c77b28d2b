#include "dht/dht_node.hpp"

#include <algorithm>
#include <cstring>
#include <memory>

#include "dht/node_id.hpp"

namespace shoal::dht {
namespace {

constexpr int kAlpha = 4;                   // queries in flight per lookup
constexpr std::size_t kMaxCandidates = 64;  // closest nodes a lookup keeps track of
constexpr auto kTokenEpoch = std::chrono::minutes(5);
constexpr auto kMaintenanceEvery = std::chrono::seconds(60);
constexpr std::size_t kMaxPending = 4096;    // queries of ours awaiting replies
constexpr std::size_t kMaxSamples = 10'000;  // BEP 51 samples one walk collects

std::int64_t ms_of(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

DhtNode::DhtNode(const NodeId& id, DhtConfig config, std::uint64_t seed)
    : id_(id),
      config_(config),
      table4_(id, config.routing),
      table6_(id, config.routing),
      // Its own key (not the token secret): bucket choice must not reveal anything about tokens.
      limiter_(config.max_queries_per_ip, {seed * 0xBF58476D1CE4E5B9ULL + 3, seed ^ 0x94D049BB133111EBULL}),
      secret_{seed * 0x9E3779B97F4A7C15ULL + 1, seed ^ 0xD1B54A32D192ED03ULL},
      random_state_(seed ^ 0x2545F4914F6CDD1DULL),
      items_(id, config.items) {}

std::uint64_t DhtNode::next_random() {
  // splitmix64: plenty for picking ids and refresh targets, and reproducible in simulations.
  std::uint64_t z = (random_state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

NodeId DhtNode::random_id() {
  NodeId id;
  for (std::size_t i = 0; i < id.bytes.size(); i += 8) {
    std::uint64_t bits = next_random();
    std::memcpy(id.bytes.data() + i, &bits, std::min<std::size_t>(8, id.bytes.size() - i));
  }
  return id;
}

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
    handle_query(*q, data.size(), from, now, out);
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

void DhtNode::handle_query(const Query& q, std::size_t query_size, const Endpoint& from,
                           Clock::time_point now, std::vector<Outgoing>& out) {
  // BEP 43: read-only nodes stay out of the table; BEP 42: so do ids that do not fit their address.
  bool id_ok = !config_.enforce_node_id || node_id_valid(q.sender, from);
  if (!q.read_only && id_ok) table_for(from.v6).heard_from({q.sender, from}, now, false);
  if (config_.read_only) return;  // we do not answer queries at all
  Response r;
  r.transaction = q.transaction;
  r.sender = id_;
  r.your_ip = from;
  // BEP 32: "want" names the families wanted; without it, the family the query came over.
  bool want4 = q.want4 || (!q.want4 && !q.want6 && !from.v6);
  bool want6 = q.want6 || (!q.want4 && !q.want6 && from.v6);
  auto add_nodes = [&](const NodeId& target) {
    if (want4) {
      auto n = table4_.closest(target, kBucketSize, false);
      r.nodes.insert(r.nodes.end(), n.begin(), n.end());
    }
    if (want6) {
      auto n = table6_.closest(target, kBucketSize, true);
      r.nodes.insert(r.nodes.end(), n.begin(), n.end());
    }
  };
  switch (q.method) {
    case Method::ping:
      break;
    case Method::find_node:
      add_nodes(q.target);
      break;
    case Method::get_peers:
      answer_get_peers(q, from, now, r);
      add_nodes(q.target);
      break;
    case Method::announce_peer:
      if (!token_ok(q.token, from, now)) {
        ++stats_.errors_sent;
        emit(from,
             encode(ErrorReply{q.transaction, static_cast<int>(ErrorCode::protocol), "bad token"},
                    config_.version),
             out);
        return;
      }
      verified_.add(from, now);  // it holds our token: the address is its own
      store_peer(q, from, now);
      break;
    case Method::get:
      r.token = token_for(from, now, 0);
      answer_get(q, now, r);
      add_nodes(q.target);
      break;
    case Method::put:
      if (!answer_put(q, from, now, out)) return;
      break;
    case Method::sample_infohashes: {
      // BEP 51: a random subset, so that repeated samplers see the whole store over time: twenty hashes in
      // order from a random point, wrapping around.
      auto it = store_.lower_bound(random_id());
      for (std::size_t n = 0; n < std::min<std::size_t>(20, store_.size()); ++n, ++it) {
        if (it == store_.end()) it = store_.begin();
        r.samples.push_back(it->first);
      }
      r.num = static_cast<std::int64_t>(store_.size());
      r.interval = 60;
      add_nodes(q.target);
      break;
    }
  }
  emit(from, fit_reply(r, query_size, r.item.value && verified_.contains(from, now)), out);
}

void DhtNode::answer_get_peers(const Query& q, const Endpoint& from, Clock::time_point now, Response& r) {
  r.token = token_for(from, now, 0);
  auto it = store_.find(q.target);
  if (it == store_.end()) return;
  auto add_values = [&](auto wanted) {
    for (const auto& p : it->second) {
      if (r.values.size() >= config_.max_values_per_reply) break;
      if (wanted(p) && p.expires > now && p.endpoint.v6 == from.v6) r.values.push_back(p.endpoint);
    }
  };
  if (q.noseed) {
    // BEP 33 "noseed": downloaders first, seeds only to fill up.
    add_values([](const StoredPeer& p) { return !p.seed; });
    add_values([](const StoredPeer& p) { return p.seed; });
  } else {
    add_values([](const StoredPeer&) { return true; });
  }
  if (q.scrape) {
    ScrapeBloom seeds, peers;
    for (auto& p : it->second) {
      if (p.expires <= now) continue;
      if (!p.bloom_bits) p.bloom_bits = ScrapeBloom::bits_of(p.endpoint);
      (p.seed ? seeds : peers).insert(*p.bloom_bits);
    }
    r.bloom_seeds = seeds.bytes();
    r.bloom_peers = peers.bytes();
  }
}

void DhtNode::store_peer(const Query& q, const Endpoint& from, Clock::time_point now) {
  Endpoint peer = from;
  if (!q.implied_port) peer.port = q.port;
  auto it = store_.find(q.target);
  if (it == store_.end()) {
    if (store_.size() >= config_.max_torrents) return;  // full: acknowledged, not stored
    it = store_.emplace(q.target, std::vector<StoredPeer>{}).first;
  }
  auto& peers = it->second;
  // BEP 33: one entry per address (a new port or seed state replaces the old), so that scrapes count hosts;
  // private test networks on one address keep one per address and port.
  bool by_address = config_.routing.one_node_per_ip;
  auto same = std::find_if(peers.begin(), peers.end(), [&](const StoredPeer& p) {
    return by_address ? p.endpoint.v6 == peer.v6 && p.endpoint.address == peer.address : p.endpoint == peer;
  });
  StoredPeer entry{peer, now + config_.peer_ttl, q.seed, std::nullopt};
  if (same != peers.end()) {
    *same = entry;
  } else if (peers.size() < config_.max_peers_per_torrent) {
    peers.push_back(entry);
  } else {
    // Full: the entry closest to expiry makes room (old announcements lose to fresh ones).
    auto oldest = std::min_element(peers.begin(), peers.end(), [](const StoredPeer& a, const StoredPeer& b) {
      return a.expires < b.expires;
    });
    *oldest = entry;
  }
}

std::string DhtNode::fit_reply(Response& r, std::size_t query_size, bool item_on_top) {
  std::string packet = encode(r, config_.version);
  // A BEP 44 item is what was asked for: to a verified asker it (with its key, signature and seq, under 200
  // bytes) comes on top of the budget, so that the nodes still fit beside it; to anyone else it must fit.
  const std::size_t limit =
      query_size * config_.max_reply_factor + (item_on_top && r.item.value ? r.item.value->size() + 200 : 0);
  if (packet.size() <= limit) return packet;
  ++stats_.replies_trimmed;
  auto drop_nodes = [&](bool v6) {
    auto it = std::find_if(r.nodes.rbegin(), r.nodes.rend(),
                           [&](const NodeInfo& n) { return n.endpoint.v6 == v6; });
    if (it == r.nodes.rend()) return false;
    r.nodes.erase(std::next(it).base());
    return true;
  };
  while (packet.size() > limit) {
    std::size_t excess = packet.size() - limit;
    if (!r.values.empty()) {
      // Each value costs 8 or 21 bytes: drop enough at once that one or two encodes suffice.
      std::size_t n = std::min(r.values.size(), excess / 8 + 1);
      r.values.resize(r.values.size() - n);
    } else if (!drop_nodes(true) && !drop_nodes(false)) {
      if (r.bloom_seeds) {
        r.bloom_seeds.reset();
        r.bloom_peers.reset();
      } else if (r.item.value || r.item.seq) {
        r.item = {};  // an item too large for an unverified asker: token only (see max_reply_factor)
        ++stats_.items_withheld;
      } else {
        break;  // nothing left to drop: a bare reply is always small
      }
    }
    packet = encode(r, config_.version);
  }
  return packet;
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
  verified_.add(from, now);  // it answered a transaction id only the address we asked has seen
  double sample =
      static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(now - pending.sent).count());
  rtt_ms_ = rtt_ms_ * 0.875 + sample * 0.125;
  if (!config_.enforce_node_id || node_id_valid(r.sender, from))
    table_for(from.v6).heard_from({r.sender, from}, now, true);
  if (r.your_ip) {
    ip_votes_.record(from, *r.your_ip, now);
    maybe_adopt_external_id(now, out);
  }
  if (pending.put >= 0) put_replied(pending.put, true);
  if (pending.lookup < 0) {
    // A bootstrap answer: walk towards our own id from what it told us, in each family it named nodes of.
    if (pending.method == Method::find_node) {
      std::vector<NodeInfo> by_family[2];
      for (const auto& n : r.nodes)
        by_family[n.endpoint.v6 ? 1 : 0].push_back(n);
      for (bool v6 : {false, true})
        if (!by_family[v6].empty() && !joining_[v6]) join(v6, std::move(by_family[v6]), now, out);
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
  for (const auto& h : r.samples)
    if (l.samples.size() < kMaxSamples && std::find(l.samples.begin(), l.samples.end(), h) == l.samples.end())
      l.samples.push_back(h);
  if (l.scrape) {
    auto seeds = r.bloom_seeds ? ScrapeBloom::from_bytes(*r.bloom_seeds) : std::nullopt;
    auto peers = r.bloom_peers ? ScrapeBloom::from_bytes(*r.bloom_peers) : std::nullopt;
    if (seeds && peers) {
      l.bloom_seeds.merge(*seeds);
      l.bloom_peers.merge(*peers);
      ++l.scrape_replies;
    } else {
      // BEP 33: a node without scrape support still counts what it lists, as downloaders.
      for (const auto& v : r.values)
        l.bloom_peers.insert(v);
    }
  }
  if (!l.peers.empty() && !l.first_peer) l.first_peer = now;
  add_candidates(l, r.nodes);
  if (l.item) take_item(l, r);
  advance(pending.lookup, now, out);
}

bool DhtNode::send_query(Query q, const Endpoint& to, int lookup, Clock::time_point now,
                         std::vector<Outgoing>& out, int put) {
  if (pending_.size() >= kMaxPending) return false;
  q.transaction = next_transaction();
  q.sender = id_;
  q.read_only = config_.read_only;
  if (config_.dual_stack && (q.method == Method::find_node || q.method == Method::get_peers))
    q.want4 = q.want6 = true;  // learn nodes of both families from every answer (BEP 32)
  pending_[q.transaction] = {to, q.method, now, lookup, put};
  emit(to, encode(q, config_.version), out);
  return true;
}

void DhtNode::add_candidates(Lookup& l, const std::vector<NodeInfo>& nodes) {
  for (const auto& n : nodes) {
    if (n.id == id_ || n.endpoint.v6 != l.v6) continue;
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

int DhtNode::start_lookup(Lookup proto, std::vector<NodeInfo> seeds, Clock::time_point now,
                          std::vector<Outgoing>& out) {
  int id = next_lookup_++;
  Lookup& l = lookups_[id] = std::move(proto);
  l.started = now;
  auto known = table(l.v6).closest(l.target, kBucketSize * 2, l.v6);
  seeds.insert(seeds.end(), known.begin(), known.end());
  add_candidates(l, seeds);
  advance(id, now, out);
  return id;
}

void DhtNode::join(bool v6, std::vector<NodeInfo> seeds, Clock::time_point now, std::vector<Outgoing>& out) {
  joining_[v6] = true;
  Lookup l;
  l.target = id_;
  l.method = Method::find_node;
  l.v6 = v6;
  l.join = true;
  start_lookup(std::move(l), std::move(seeds), now, out);
}

void DhtNode::maybe_adopt_external_id(Clock::time_point now, std::vector<Outgoing>& out) {
  if (!config_.adopt_external_id) return;
  auto ip = external_ip();
  if (!ip || id_address_ == ip) return;
  id_address_ = ip;
  if (node_id_valid(id_, *ip)) return;  // already fits (or a local address, which any id fits)
  std::array<std::uint8_t, 20> random{};
  std::memcpy(random.data(), random_id().bytes.data(), random.size());
  id_ = node_id_for(*ip, random[19], random);
  table4_.change_own_id(id_);
  table6_.change_own_id(id_);
  ++stats_.id_changes;
  // The nodes around the new id must learn of us, and our buckets now split around it: join again.
  for (bool v6 : {false, true})
    if (table(v6).size() > 0 && !joining_[v6]) join(v6, {}, now, out);
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
      q.scrape = l.scrape;
      ++c.tries;
      if (!send_query(q, c.node.endpoint, lookup_id, now, out)) {
        c.state = Candidate::State::failed;  // too many queries of ours in flight: this one is skipped
        continue;
      }
      c.state = Candidate::State::asked;
      ++l.in_flight;
      ++l.queries;
      pending_close = true;
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
      q.seed = l.seed;
      send_query(q, c.node.endpoint, -1, now, out);
      ++announced;
    }
  }
  auto done = std::move(l.done);
  LookupResult result;
  result.peers = std::move(l.peers);
  result.queries = l.queries;
  result.bloom_seeds = l.bloom_seeds;
  result.bloom_peers = l.bloom_peers;
  result.scrape_replies = l.scrape_replies;
  result.samples = std::move(l.samples);
  if (l.first_peer) result.first_peer_after = *l.first_peer - l.started;
  bool joined = l.join;
  bool v6 = l.v6;
  lookups_.erase(it);
  if (joined) {
    // Fill every bucket now rather than in 15 minutes: a random id in each bucket's range, looked up.
    joining_[v6] = false;
    for (const auto& t : table(v6).refresh_targets(now + std::chrono::hours(1), next_random())) {
      Lookup refresh;
      refresh.target = t;
      refresh.method = Method::find_node;
      refresh.v6 = v6;
      start_lookup(std::move(refresh), {}, now, out);
    }
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

void DhtNode::get_peers(const NodeId& info_hash, const PeerSearch& search, LookupDone done,
                        Clock::time_point now, std::vector<Outgoing>& out) {
  Lookup l;
  l.target = info_hash;
  l.method = Method::get_peers;
  l.announce_port = search.announce_port;
  l.seed = search.seed;
  l.scrape = search.scrape;
  start_in_each_family(l, std::move(done), now, out);
}

void DhtNode::sample_infohashes(const NodeId& target, LookupDone done, Clock::time_point now,
                                std::vector<Outgoing>& out) {
  Lookup l;
  l.target = target;
  l.method = Method::sample_infohashes;
  start_in_each_family(l, std::move(done), now, out);
}

void DhtNode::start_in_each_family(const Lookup& proto, LookupDone done, Clock::time_point now,
                                   std::vector<Outgoing>& out) {
  // One walk per family (BEP 32: the IPv4 and IPv6 DHTs are separate); the caller hears once, with both.
  struct Merged {
    int outstanding = 0;
    LookupResult result;
    LookupDone done;
  };
  auto merged = std::make_shared<Merged>();
  merged->done = std::move(done);
  std::vector<bool> families;
  for (bool v6 : {false, true})
    if (table(v6).size() > 0) families.push_back(v6);
  merged->outstanding = static_cast<int>(families.size());
  if (families.empty()) {
    if (merged->done) merged->done(LookupResult{});
    return;
  }
  for (bool v6 : families) {
    Lookup l = proto;
    l.v6 = v6;
    l.done = [merged](const LookupResult& part) {
      auto& m = merged->result;
      for (const auto& p : part.peers)
        if (std::find(m.peers.begin(), m.peers.end(), p) == m.peers.end()) m.peers.push_back(p);
      for (const auto& h : part.samples)
        if (std::find(m.samples.begin(), m.samples.end(), h) == m.samples.end()) m.samples.push_back(h);
      m.queries += part.queries;
      if (part.first_peer_after && (!m.first_peer_after || *part.first_peer_after < *m.first_peer_after))
        m.first_peer_after = part.first_peer_after;
      m.bloom_seeds.merge(part.bloom_seeds);
      m.bloom_peers.merge(part.bloom_peers);
      m.scrape_replies += part.scrape_replies;
      if (--merged->outstanding == 0 && merged->done) merged->done(m);
    };
    start_lookup(std::move(l), {}, now, out);
  }
}

void DhtNode::on_unreachable(const Endpoint& to, Clock::time_point now, std::vector<Outgoing>& out) {
  std::vector<Pending> failed;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.to == to) {
      failed.push_back(it->second);
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  // An ICMP error is unauthenticated: anyone on the path could forge one. It costs the node no more than a
  // timeout would (one failure in the routing table), only sooner.
  for (const auto& p : failed)
    query_failed(p, true, now, out);
}

void DhtNode::query_failed(const Pending& p, bool unreachable, Clock::time_point now,
                           std::vector<Outgoing>& out) {
  table_for(p.to.v6).failed(p.to);
  if (p.put >= 0) put_replied(p.put, false);
  if (p.lookup < 0) return;
  auto it = lookups_.find(p.lookup);
  if (it == lookups_.end()) return;
  for (auto& c : it->second.candidates) {
    if (c.node.endpoint != p.to || c.state != Candidate::State::asked) continue;
    c.state = !unreachable && c.tries < 2 ? Candidate::State::fresh : Candidate::State::failed;
  }
  --it->second.in_flight;
  advance(p.lookup, now, out);
}

void DhtNode::tick(Clock::time_point now, std::vector<Outgoing>& out) {
  auto limit = timeout();
  std::vector<std::pair<std::string, Pending>> expired;
  for (const auto& [tid, p] : pending_)
    if (now - p.sent > limit) expired.emplace_back(tid, p);
  for (const auto& [tid, p] : expired) {
    pending_.erase(tid);
    query_failed(p, false, now, out);
  }
  // A lost bootstrap packet must not leave us alone forever: ask again while we know almost nobody.
  if (!bootstrap_nodes_.empty() && node_count() < kBucketSize &&
      now - last_bootstrap_ > std::chrono::seconds(3)) {
    last_bootstrap_ = now;
    joining_[0] = joining_[1] = false;
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
  ip_votes_.expire(now);
  for (auto it = store_.begin(); it != store_.end();) {
    auto& peers = it->second;
    peers.erase(
        std::remove_if(peers.begin(), peers.end(), [&](const StoredPeer& p) { return p.expires <= now; }),
        peers.end());
    it = peers.empty() ? store_.erase(it) : std::next(it);
  }
  for (bool v6 : {false, true}) {
    for (const auto& n : table(v6).to_ping(now, 8)) {
      Query q;
      q.method = Method::ping;
      send_query(q, n.endpoint, -1, now, out);
    }
    auto targets = table(v6).refresh_targets(now, next_random());
    for (std::size_t i = 0; i < targets.size() && i < 4; ++i) {
      Lookup refresh;
      refresh.target = targets[i];
      refresh.method = Method::find_node;
      refresh.v6 = v6;
      start_lookup(std::move(refresh), {}, now, out);
    }
  }
}

std::optional<Endpoint> DhtNode::external_ip() const {
  return ip_votes_.winner();
}

std::size_t DhtNode::stored_peers() const {
  std::size_t n = 0;
  for (const auto& [h, peers] : store_)
    n += peers.size();
  return n;
}

}  // namespace shoal::dht
