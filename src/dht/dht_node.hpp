// One Mainline DHT node (BEP 5), sans-I/O: it answers queries (ping, find_node, get_peers, announce_peer,
// sample_infohashes, BEP 44 get and put) from its routing tables (one per address family, BEP 32), a
// bounded peer store and a bounded item store, hands out write tokens from a rotating secret, rate-limits
// each source address, keeps every reply within a small multiple of its query (no amplification), and runs
// iterative lookups (get_peers with an optional announce, BEP 33 scrapes; BEP 44 get with an optional put)
// for its owner. Packets in and out are plain bytes with endpoints; time is a parameter.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "dht/external_ip_votes.hpp"
#include "dht/item_store.hpp"
#include "dht/krpc.hpp"
#include "dht/routing_table.hpp"
#include "dht/scrape_bloom.hpp"
#include "dht/verified_addresses.hpp"
#include "hash/siphash.hpp"
#include "tracker/ip_rate_limiter.hpp"

namespace shoal::dht {

struct DhtConfig {
  RoutingOptions routing;                 // one node per IP by default
  std::uint32_t max_queries_per_ip = 50;  // per second; 0 = unlimited (benchmarks, private test networks)
  std::size_t max_torrents = 20'000;      // peer store bounds
  std::size_t max_peers_per_torrent = 200;
  std::size_t max_values_per_reply = 50;
  std::chrono::seconds peer_ttl{30 * 60};
  bool read_only = false;       // BEP 43
  bool enforce_node_id = true;  // BEP 42: nodes whose id does not fit their address stay out of the table
  std::string version = "SH01";
  // BEP 42: once three responding networks agree on our external address (one vote per /24 or /64, votes
  // expire: external_ip_votes.hpp), take an id derived from it (and tell the nodes around the new id about
  // us) instead of waiting for the next start.
  bool adopt_external_id = true;
  bool dual_stack = false;  // we can reach IPv6 and IPv4 nodes: ask for both ("want": n4, n6; BEP 32)
  // A reply is never more than this many times the size of the query that asked for it: the node cannot be
  // used to amplify a spoofed flood. Values, then IPv6 nodes, then IPv4 nodes are dropped to fit.
  // A BEP 44 item is the answer itself. To an address that has proven it is not spoofed (it answered a query
  // of ours, or presented a token of ours in a put or announce_peer, within ten minutes: see
  // verified_addresses.hpp), the item comes on top of that budget. To any other address it must fit inside
  // it (nodes are dropped first); an item too large even alone is withheld (no v, k, sig or seq: nodes and
  // token only), so a stored item cannot amplify a spoofed get. Small items (most) are always returned; a
  // genuine asker of a large one is verified as soon as it answers one of our queries (our table pings the
  // nodes that query us) or puts, and its next get has the item.
  std::size_t max_reply_factor = 8;
  ItemStoreLimits items;  // BEP 44
};

// What a get_peers lookup should also do.
struct PeerSearch {
  std::optional<std::uint16_t> announce_port;  // announce_peer to the closest nodes that gave tokens
  bool seed = false;                           // BEP 33: the announce says we are a seed
  bool scrape = false;                         // BEP 33: collect the seed and peer bloom filters
};

struct Outgoing {
  Endpoint to;
  std::string packet;
};

class DhtNode {
 public:
  struct LookupResult {
    std::vector<Endpoint> peers;
    int queries = 0;                                  // get_peers sent for this lookup
    std::optional<Clock::duration> first_peer_after;  // how long until the first peer arrived
    ScrapeBloom bloom_seeds, bloom_peers;             // BEP 33: the union of what the nodes sent
    int scrape_replies = 0;                           // nodes that sent bloom filters
    std::vector<NodeId> samples;                      // BEP 51: info-hashes the nodes sampled for us
  };
  using LookupDone = std::function<void(const LookupResult& result)>;

  DhtNode(const NodeId& id, DhtConfig config, std::uint64_t seed);

  void on_packet(std::string_view data, const Endpoint& from, Clock::time_point now,
                 std::vector<Outgoing>& out);
  // Call every ~100 ms: timeouts, lookups moving on, bucket refresh, peer expiry.
  void tick(Clock::time_point now, std::vector<Outgoing>& out);
  // The network says nothing listens at `to` (an ICMP port or host unreachable for a datagram we sent it):
  // every query in flight to it fails now instead of at its timeout, and a lookup does not ask it again.
  void on_unreachable(const Endpoint& to, Clock::time_point now, std::vector<Outgoing>& out);

  // Joins through a known node (find_node for our own id).
  void bootstrap(const Endpoint& node, Clock::time_point now, std::vector<Outgoing>& out);
  // Iterative get_peers for info_hash; with announce_port, announce_peer to the closest nodes that gave
  // tokens. `done` gets every peer found, once the lookup converges.
  // One lookup in each address family we know nodes of (BEP 32); `done` once both have converged.
  void get_peers(const NodeId& info_hash, std::optional<std::uint16_t> announce_port, LookupDone done,
                 Clock::time_point now, std::vector<Outgoing>& out) {
    get_peers(info_hash, PeerSearch{announce_port}, std::move(done), now, out);
  }
  void get_peers(const NodeId& info_hash, const PeerSearch& search, LookupDone done, Clock::time_point now,
                 std::vector<Outgoing>& out);
  // BEP 51: a walk towards `target` asking every node on the way for a sample of the info-hashes it stores.
  void sample_infohashes(const NodeId& target, LookupDone done, Clock::time_point now,
                         std::vector<Outgoing>& out);

  // BEP 44, in each address family. Iterative get for target; results are checked (immutable: SHA-1 of v is
  // the target; mutable: the signature, the key when one is expected, and SHA-1(k + salt) is the target) and
  // the highest seq kept.
  struct GetItemResult {
    std::optional<Item> item;
    int queries = 0;  // get queries sent
    int holders = 0;  // responses that carried a valid item
  };
  using GetItemDone = std::function<void(const GetItemResult& result)>;
  void get_item(const NodeId& target, std::optional<PublicKey> key, std::string salt, GetItemDone done,
                Clock::time_point now, std::vector<Outgoing>& out);
  // A get lookup for the item's target to collect write tokens from the closest nodes, then a put to each.
  struct PutItemResult {
    NodeId target;
    int queries = 0;       // get queries of the lookup
    int sent = 0;          // puts sent (nodes that gave a token)
    int acknowledged = 0;  // puts answered without an error
  };
  using PutItemDone = std::function<void(const PutItemResult& result)>;
  void put_item(Item item, PutItemDone done, Clock::time_point now, std::vector<Outgoing>& out);
  const ItemStore& items() const { return items_; }

  const RoutingTable& table(bool v6 = false) const { return v6 ? table6_ : table4_; }
  std::size_t node_count() const { return table4_.size() + table6_.size(); }
  // Our address as most responding networks report it (BEP 42 "ip"), once three agree.
  std::optional<Endpoint> external_ip() const;
  const NodeId& id() const { return id_; }
  struct Stats {
    std::uint64_t queries_in = 0, responses_in = 0, errors_sent = 0, dropped = 0, rate_limited = 0;
    std::uint64_t bytes_in = 0, bytes_out = 0;
    std::uint64_t replies_trimmed = 0;  // cut down to respect max_reply_factor
    std::uint64_t items_withheld = 0;   // BEP 44 items too large for an unverified asker's budget
    std::uint64_t id_changes = 0;       // ids taken from the external address at run time
  };
  const Stats& stats() const { return stats_; }
  std::size_t stored_peers() const;

 private:
  struct Pending {
    Endpoint to;
    Method method;
    Clock::time_point sent;
    int lookup = -1;  // -1: not part of a lookup
    int put = -1;     // a BEP 44 put of this put round (puts_)
  };
  struct Candidate {
    NodeInfo node;
    enum class State { fresh, asked, answered, failed } state = State::fresh;
    std::string token;
    int tries = 0;  // a lost packet is not a dead node: one timeout sends the query again
  };
  // What a BEP 44 get lookup checks answers against and, for a put, what it stores at the end.
  struct ItemLookup {
    std::optional<PublicKey> key;
    std::string salt;
    std::optional<Item> best;
    int holders = 0;
    GetItemDone got;
    std::optional<Item> to_put;
    PutItemDone put_done;
  };
  struct PutRound {
    PutItemResult result;
    int outstanding = 0;
    PutItemDone done;
  };
  struct Lookup {
    NodeId target;
    Method method = Method::get_peers;  // or find_node (joining, refreshing buckets)
    bool v6 = false;                    // the address family it walks (BEP 32: one DHT per family)
    std::optional<std::uint16_t> announce_port;
    bool seed = false;
    bool scrape = false;
    ScrapeBloom bloom_seeds, bloom_peers;
    int scrape_replies = 0;
    std::vector<NodeId> samples;
    LookupDone done;
    std::vector<Candidate> candidates;  // sorted by distance to target
    std::vector<Endpoint> peers;
    int in_flight = 0;
    int queries = 0;
    Clock::time_point started{};
    std::optional<Clock::time_point> first_peer;
    bool finished = false;
    bool join = false;  // the walk to our own id after bootstrapping: followed by a refresh of every bucket
    std::optional<ItemLookup> item;  // BEP 44 get (method get)
  };

  void handle_query(const Query& q, std::size_t query_size, const Endpoint& from, Clock::time_point now,
                    std::vector<Outgoing>& out);
  void answer_get_peers(const Query& q, const Endpoint& from, Clock::time_point now, Response& r);
  void store_peer(const Query& q, const Endpoint& from, Clock::time_point now);
  // item_on_top: the asker is verified, a BEP 44 item does not count against the budget.
  std::string fit_reply(Response& r, std::size_t query_size, bool item_on_top);
  void handle_response(const Response& r, const Endpoint& from, Clock::time_point now,
                       std::vector<Outgoing>& out);
  // `put`: the put round (puts_) the query belongs to, -1 for none.
  bool send_query(Query q, const Endpoint& to, int lookup, Clock::time_point now, std::vector<Outgoing>& out,
                  int put = -1);
  void advance(int lookup_id, Clock::time_point now, std::vector<Outgoing>& out);
  // A query that got no answer: timed out (the node may answer a second try) or unreachable (it will not).
  void query_failed(const Pending& p, bool unreachable, Clock::time_point now, std::vector<Outgoing>& out);
  void add_candidates(Lookup& l, const std::vector<NodeInfo>& nodes);
  // Starts `proto` (target, method, family and extras set) from `seeds` and the table's closest nodes.
  int start_lookup(Lookup proto, std::vector<NodeInfo> seeds, Clock::time_point now,
                   std::vector<Outgoing>& out);
  // Starts `proto` in each address family we know nodes of; `done` once with what all of them found.
  void start_in_each_family(const Lookup& proto, LookupDone done, Clock::time_point now,
                            std::vector<Outgoing>& out);
  void join(bool v6, std::vector<NodeInfo> seeds, Clock::time_point now, std::vector<Outgoing>& out);
  void maybe_adopt_external_id(Clock::time_point now, std::vector<Outgoing>& out);
  RoutingTable& table_for(bool v6) { return v6 ? table6_ : table4_; }
  std::uint64_t next_random();
  NodeId random_id();
  // BEP 44 (dht_node_items.cpp).
  void answer_get(const Query& q, Clock::time_point now, Response& r) const;
  bool answer_put(const Query& q, const Endpoint& from, Clock::time_point now, std::vector<Outgoing>& out);
  void take_item(Lookup& l, const Response& r) const;
  void finish_item_lookup(std::map<int, Lookup>::iterator it, Clock::time_point now,
                          std::vector<Outgoing>& out);
  // One get walk per address family we know nodes of (BEP 32), each ending in its own put round for a put;
  // the owner hears once, with what all of them found or stored.
  void start_item_lookups(const NodeId& target, const ItemLookup& proto, Clock::time_point now,
                          std::vector<Outgoing>& out);
  void put_replied(int put, bool acknowledged);
  std::string token_for(const Endpoint& e, Clock::time_point now, int age) const;
  bool token_ok(const std::string& token, const Endpoint& e, Clock::time_point now) const;
  std::string next_transaction();
  void emit(const Endpoint& to, std::string packet, std::vector<Outgoing>& out);
  std::chrono::milliseconds timeout() const;

  NodeId id_;
  DhtConfig config_;
  RoutingTable table4_, table6_;
  tracker::IpRateLimiter limiter_;
  hash::SipKey secret_;
  std::uint16_t next_tid_ = 0;
  std::unordered_map<std::string, Pending> pending_;
  std::map<int, Lookup> lookups_;
  int next_lookup_ = 0;
  struct StoredPeer {
    Endpoint endpoint;
    Clock::time_point expires;
    bool seed = false;  // BEP 33
    // Its address's bits in a scrape filter: hashed at the first scrape that counts it, then kept.
    std::optional<ScrapeBloom::Bits> bloom_bits;
  };
  std::map<NodeId, std::vector<StoredPeer>> store_;
  bool joining_[2] = {false, false};    // a join walk is under way (IPv4, IPv6)
  std::optional<Endpoint> id_address_;  // the external address our id was last checked against
  std::uint64_t random_state_;
  ExternalIpVotes ip_votes_;               // BEP 42: one vote per responding network, expiring, bounded
  VerifiedAddresses verified_;             // answered us or showed our token: may get replies past the budget
  std::vector<Endpoint> bootstrap_nodes_;  // asked again while the table is nearly empty
  Clock::time_point last_bootstrap_{};
  double rtt_ms_ = 500;  // smoothed round-trip time; timeouts follow it
  Clock::time_point last_maintenance_{};
  Stats stats_;
  ItemStore items_;
  std::map<int, PutRound> puts_;
  int next_put_ = 0;
};

}  // namespace shoal::dht
