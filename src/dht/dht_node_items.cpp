// DhtNode's BEP 44 side: answering get and put from the item store, and the client's get and put lookups,
// which ride on the same iterative lookup as get_peers (method get, with an ItemLookup attached), one per
// address family.
#include <algorithm>
#include <memory>

#include "dht/dht_node.hpp"

namespace shoal::dht {

void DhtNode::answer_get(const Query& q, Clock::time_point now, Response& r) const {
  const Item* item = items_.get(q.target, now);
  if (!item) return;
  if (item->mutable_info && q.item.seq && item->mutable_info->seq <= *q.item.seq) {
    r.item.seq = item->mutable_info->seq;  // the asker has this version already: say which one we hold
    return;
  }
  r.item = to_fields(*item);
  r.item.salt.clear();  // BEP 44: the asker knows the salt; it is not repeated for bystanders
}

bool DhtNode::answer_put(const Query& q, const Endpoint& from, Clock::time_point now,
                         std::vector<Outgoing>& out) {
  auto refuse = [&](ErrorCode code, const char* message) {
    ++stats_.errors_sent;
    emit(from, encode(ErrorReply{q.transaction, static_cast<int>(code), message}, config_.version), out);
    return false;
  };
  if (!token_ok(q.token, from, now)) return refuse(ErrorCode::protocol, "bad token");
  verified_.add(from, now);  // it holds our token: the address is its own
  if (auto refused = items_.put(q.item, now)) return refuse(refused->code, refused->message);
  return true;
}

void DhtNode::take_item(Lookup& l, const Response& r) const {
  if (!r.item.value) return;
  ItemLookup& wanted = *l.item;
  ItemFields fields = r.item;
  fields.salt = wanted.salt;             // not in responses: what was signed is the salt we asked under
  auto item = item_from_fields(fields);  // checks the signature of a mutable item
  if (!item) return;
  if (item->target() != l.target) return;  // not what we looked up (or signed under another salt)
  if (wanted.key && (!item->mutable_info || item->mutable_info->key != *wanted.key)) return;
  ++wanted.holders;
  if (!wanted.best || (item->mutable_info && wanted.best->mutable_info &&
                       item->mutable_info->seq > wanted.best->mutable_info->seq))
    wanted.best = std::move(*item);
}

void DhtNode::start_item_lookups(const NodeId& target, const ItemLookup& proto, Clock::time_point now,
                                 std::vector<Outgoing>& out) {
  struct Merged {
    int outstanding = 0;
    GetItemResult got;
    PutItemResult put;
    GetItemDone got_done;
    PutItemDone put_done;
  };
  auto merged = std::make_shared<Merged>();
  merged->got_done = proto.got;
  merged->put_done = proto.put_done;
  merged->put.target = target;
  std::vector<bool> families;
  for (bool v6 : {false, true})
    if (table(v6).size() > 0) families.push_back(v6);
  merged->outstanding = static_cast<int>(families.size());
  if (families.empty()) {  // nobody to ask: report at once
    if (proto.to_put && merged->put_done) merged->put_done(merged->put);
    if (!proto.to_put && merged->got_done) merged->got_done(merged->got);
    return;
  }
  for (bool v6 : families) {
    Lookup l;
    l.target = target;
    l.method = Method::get;
    l.v6 = v6;
    l.item = proto;
    l.item->got = [merged](const GetItemResult& part) {
      auto& m = merged->got;
      m.queries += part.queries;
      m.holders += part.holders;
      if (part.item && (!m.item || (part.item->mutable_info && m.item->mutable_info &&
                                    part.item->mutable_info->seq > m.item->mutable_info->seq)))
        m.item = part.item;
      if (--merged->outstanding == 0 && merged->got_done) merged->got_done(m);
    };
    l.item->put_done = [merged](const PutItemResult& part) {
      auto& m = merged->put;
      m.queries += part.queries;
      m.sent += part.sent;
      m.acknowledged += part.acknowledged;
      if (--merged->outstanding == 0 && merged->put_done) merged->put_done(m);
    };
    start_lookup(std::move(l), {}, now, out);
  }
}

void DhtNode::get_item(const NodeId& target, std::optional<PublicKey> key, std::string salt, GetItemDone done,
                       Clock::time_point now, std::vector<Outgoing>& out) {
  ItemLookup item;
  item.key = key;
  item.salt = std::move(salt);
  item.got = std::move(done);
  start_item_lookups(target, item, now, out);
}

void DhtNode::put_item(Item item, PutItemDone done, Clock::time_point now, std::vector<Outgoing>& out) {
  ItemLookup lookup;
  NodeId target = item.target();
  if (item.mutable_info) {
    lookup.key = item.mutable_info->key;
    lookup.salt = item.mutable_info->salt;
  }
  lookup.to_put = std::move(item);
  lookup.put_done = std::move(done);
  start_item_lookups(target, lookup, now, out);
}

void DhtNode::finish_item_lookup(std::map<int, Lookup>::iterator it, Clock::time_point now,
                                 std::vector<Outgoing>& out) {
  Lookup& l = it->second;
  ItemLookup item = std::move(*l.item);
  if (!item.to_put) {
    GetItemResult result{std::move(item.best), l.queries, item.holders};
    lookups_.erase(it);
    if (item.got) item.got(result);
    return;
  }
  // The put round: every one of the k closest nodes that answered with a token gets the item.
  int round_id = next_put_++;
  PutRound& round = puts_[round_id];
  round.done = std::move(item.put_done);
  round.result.target = l.target;
  round.result.queries = l.queries;
  Query q;
  q.method = Method::put;
  q.item = to_fields(*item.to_put);
  for (const auto& c : l.candidates) {
    if (round.result.sent >= static_cast<int>(kBucketSize)) break;
    if (c.state != Candidate::State::answered || c.token.empty()) continue;
    q.token = c.token;
    if (!send_query(q, c.node.endpoint, -1, now, out, round_id)) continue;
    ++round.result.sent;
    ++round.outstanding;
  }
  lookups_.erase(it);
  if (round.outstanding == 0) put_replied(round_id, false);  // nobody to put to: report at once
}

void DhtNode::put_replied(int put, bool acknowledged) {
  auto it = puts_.find(put);
  if (it == puts_.end()) return;
  PutRound& round = it->second;
  if (acknowledged) ++round.result.acknowledged;
  if (round.outstanding > 0) --round.outstanding;
  if (round.outstanding > 0) return;
  auto done = std::move(round.done);
  auto result = round.result;
  puts_.erase(it);
  if (done) done(result);
}

}  // namespace shoal::dht
