#include "dht/krpc.hpp"

#include <cstring>
#include <span>

#include "bencode/decoder.hpp"
#include "bencode/value.hpp"

namespace shoal::dht {
namespace {

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

Unexpected<DecodeError> fail(const char* detail, std::string transaction = {}, bool answerable = false,
                             ErrorCode code = ErrorCode::protocol) {
  return unexpected(DecodeError{code, std::move(transaction), detail, answerable});
}

bool read_nodes(std::string_view compact, std::size_t stride, std::vector<NodeInfo>& out) {
  if (compact.size() % stride != 0) return false;
  for (std::size_t i = 0; i < compact.size() && out.size() < kMaxNodesPerMessage; i += stride) {
    NodeInfo n;
    std::memcpy(n.id.bytes.data(), compact.data() + i, 20);
    auto e = Endpoint::from_compact(bytes_of(compact.substr(i + 20, stride - 20)));
    if (!e || e->port == 0) continue;  // a node nobody can reach is no use
    n.endpoint = *e;
    out.push_back(n);
  }
  return true;
}

std::optional<NodeId> id_field(const bencode::Node& dict, std::string_view key) {
  auto s = dict.find_string(key);
  if (!s) return std::nullopt;
  return NodeId::from_raw(*s);
}

}  // namespace

const char* method_name(Method m) {
  switch (m) {
    case Method::ping:
      return "ping";
    case Method::find_node:
      return "find_node";
    case Method::get_peers:
      return "get_peers";
    case Method::announce_peer:
      return "announce_peer";
    case Method::sample_infohashes:
      return "sample_infohashes";
  }
  return "ping";
}

Expected<Message, DecodeError> decode(std::string_view packet) {
  bencode::Limits limits;
  limits.max_depth = 6;
  limits.max_items = 1024;
  limits.max_input_size = 4096;
  auto doc = bencode::decode(packet, limits);
  if (!doc || !doc->root().is_dict()) return fail("not a bencoded dictionary");
  auto root = doc->root();
  auto t = root.find_string("t");
  if (!t || t->empty() || t->size() > kMaxTransactionId) return fail("missing or bad transaction id");
  std::string transaction(*t);
  auto y = root.find_string("y");
  if (!y || y->size() != 1) return fail("missing or bad y", transaction, true);

  if (*y == "q") {
    auto q = root.find_string("q");
    auto a = root.find_dict("a");
    if (!q || !a) return fail("query without q or a", transaction, true);
    Query query;
    query.transaction = transaction;
    if (*q == "ping") {
      query.method = Method::ping;
    } else if (*q == "find_node") {
      query.method = Method::find_node;
    } else if (*q == "get_peers") {
      query.method = Method::get_peers;
    } else if (*q == "announce_peer") {
      query.method = Method::announce_peer;
    } else if (*q == "sample_infohashes") {
      query.method = Method::sample_infohashes;
    } else {
      return fail("method unknown", transaction, true, ErrorCode::method_unknown);
    }
    auto sender = id_field(*a, "id");
    if (!sender) return fail("missing or bad id", transaction, true);
    query.sender = *sender;
    const char* target_key = query.method == Method::find_node || query.method == Method::sample_infohashes
                                 ? "target"
                             : query.method == Method::ping ? nullptr
                                                            : "info_hash";
    if (target_key != nullptr) {
      auto target = id_field(*a, target_key);
      if (!target) return fail("missing or bad target/info_hash", transaction, true);
      query.target = *target;
    }
    if (query.method == Method::announce_peer) {
      auto token = a->find_string("token");
      if (!token || token->size() > kMaxTokenLength) return fail("missing or bad token", transaction, true);
      query.token = std::string(*token);
      query.implied_port = a->find_int("implied_port").value_or(0) != 0;
      auto port = a->find_int("port");
      if (!query.implied_port && (!port || *port <= 0 || *port > 65535))
        return fail("missing or bad port", transaction, true);
      query.port = port && *port > 0 && *port <= 65535 ? static_cast<std::uint16_t>(*port) : 0;
    }
    if (query.method == Method::get_peers) {
      query.scrape = a->find_int("scrape").value_or(0) == 1;
      query.noseed = a->find_int("noseed").value_or(0) == 1;
    }
    if (query.method == Method::announce_peer) query.seed = a->find_int("seed").value_or(0) == 1;
    if (auto want = a->find_list("want")) {
      for (auto w : want->children()) {
        if (!w.is_string()) continue;
        if (w.as_string() == "n4") query.want4 = true;
        if (w.as_string() == "n6") query.want6 = true;
      }
    }
    query.read_only = root.find_int("ro").value_or(0) != 0;
    return Message{std::move(query)};
  }

  if (*y == "r") {
    auto r = root.find_dict("r");
    if (!r) return fail("response without r", transaction);
    Response resp;
    resp.transaction = transaction;
    auto sender = id_field(*r, "id");
    if (!sender) return fail("response without a valid id", transaction);
    resp.sender = *sender;
    if (auto nodes = r->find_string("nodes"); nodes && !read_nodes(*nodes, 26, resp.nodes))
      return fail("nodes not a multiple of 26", transaction);
    if (auto nodes6 = r->find_string("nodes6"); nodes6 && !read_nodes(*nodes6, 38, resp.nodes))
      return fail("nodes6 not a multiple of 38", transaction);
    if (auto values = r->find_list("values")) {
      for (auto v : values->children()) {
        if (resp.values.size() >= kMaxValuesPerMessage) break;
        if (!v.is_string()) continue;
        auto s = v.as_string();
        if (s.size() != 6 && s.size() != 18) continue;
        if (auto e = Endpoint::from_compact(bytes_of(s)); e && e->port != 0) resp.values.push_back(*e);
      }
    }
    if (auto token = r->find_string("token"); token && token->size() <= kMaxTokenLength)
      resp.token = std::string(*token);
    if (auto samples = r->find_string("samples")) {
      if (samples->size() % 20 != 0) return fail("samples not a multiple of 20", transaction);
      for (std::size_t i = 0; i < samples->size() && resp.samples.size() < kMaxValuesPerMessage; i += 20)
        resp.samples.push_back(*NodeId::from_raw(samples->substr(i, 20)));
    }
    for (auto [key, field] : {std::pair{"BFsd", &resp.bloom_seeds}, std::pair{"BFpe", &resp.bloom_peers}}) {
      auto bloom = r->find_string(key);
      if (!bloom) continue;
      if (bloom->size() != kScrapeBloomSize) return fail("scrape bloom filter not 256 bytes", transaction);
      *field = std::string(*bloom);
    }
    resp.num = r->find_int("num");
    resp.interval = r->find_int("interval");
    if (auto ip = root.find_string("ip")) {
      if (auto e = Endpoint::from_compact(bytes_of(*ip))) resp.your_ip = *e;
    }
    return Message{std::move(resp)};
  }

  if (*y == "e") {
    auto e = root.find_list("e");
    ErrorReply err;
    err.transaction = transaction;
    if (e && e->size() >= 1 && e->at(0).is_int()) err.code = static_cast<int>(e->at(0).as_int());
    if (e && e->size() >= 2 && e->at(1).is_string())
      err.message = std::string(e->at(1).as_string().substr(0, 256));
    return Message{std::move(err)};
  }
  return fail("unknown message type", transaction, true);
}

namespace {

void put_common(bencode::Value::Dict& d, std::string_view transaction, std::string_view y,
                std::string_view version) {
  d["t"] = std::string(transaction);
  d["y"] = std::string(y);
  if (!version.empty()) d["v"] = std::string(version);
}

std::string compact_nodes(const std::vector<NodeInfo>& nodes, bool v6) {
  std::string out;
  for (const auto& n : nodes) {
    if (n.endpoint.v6 != v6) continue;
    out += n.id.raw();
    out += n.endpoint.to_compact();
  }
  return out;
}

}  // namespace

std::string encode(const Query& q, std::string_view client_version) {
  bencode::Value::Dict d;
  put_common(d, q.transaction, "q", client_version);
  d["q"] = std::string(method_name(q.method));
  bencode::Value::Dict a;
  a["id"] = std::string(q.sender.raw());
  switch (q.method) {
    case Method::ping:
      break;
    case Method::find_node:
    case Method::sample_infohashes:
      a["target"] = std::string(q.target.raw());
      break;
    case Method::get_peers:
      a["info_hash"] = std::string(q.target.raw());
      if (q.scrape) a["scrape"] = 1;
      if (q.noseed) a["noseed"] = 1;
      break;
    case Method::announce_peer:
      a["info_hash"] = std::string(q.target.raw());
      a["port"] = static_cast<std::int64_t>(q.port);
      a["token"] = q.token;
      if (q.implied_port) a["implied_port"] = 1;
      if (q.seed) a["seed"] = 1;
      break;
  }
  if (q.want4 || q.want6) {
    bencode::Value::List want;
    if (q.want4) want.emplace_back(std::string("n4"));
    if (q.want6) want.emplace_back(std::string("n6"));
    a["want"] = std::move(want);
  }
  d["a"] = std::move(a);
  if (q.read_only) d["ro"] = 1;
  return bencode::encode(bencode::Value(std::move(d)));
}

std::string encode(const Response& r, std::string_view client_version) {
  bencode::Value::Dict d;
  put_common(d, r.transaction, "r", client_version);
  if (r.your_ip) d["ip"] = r.your_ip->to_compact();
  bencode::Value::Dict body;
  body["id"] = std::string(r.sender.raw());
  auto v4 = compact_nodes(r.nodes, false);
  auto v6 = compact_nodes(r.nodes, true);
  if (!v4.empty()) body["nodes"] = std::move(v4);
  if (!v6.empty()) body["nodes6"] = std::move(v6);
  if (!r.values.empty()) {
    bencode::Value::List values;
    for (const auto& e : r.values)
      values.emplace_back(e.to_compact());
    body["values"] = std::move(values);
  }
  if (r.token) body["token"] = *r.token;
  if (!r.samples.empty() || r.num) {
    std::string samples;
    for (const auto& s : r.samples)
      samples += s.raw();
    body["samples"] = std::move(samples);
  }
  if (r.num) body["num"] = *r.num;
  if (r.interval) body["interval"] = *r.interval;
  if (r.bloom_seeds) body["BFsd"] = *r.bloom_seeds;
  if (r.bloom_peers) body["BFpe"] = *r.bloom_peers;
  d["r"] = std::move(body);
  return bencode::encode(bencode::Value(std::move(d)));
}

std::string encode(const ErrorReply& e, std::string_view client_version) {
  bencode::Value::Dict d;
  put_common(d, e.transaction, "e", client_version);
  bencode::Value::List list;
  list.emplace_back(static_cast<std::int64_t>(e.code));
  list.emplace_back(e.message);
  d["e"] = std::move(list);
  return bencode::encode(bencode::Value(std::move(d)));
}

}  // namespace shoal::dht
