#include "dht/krpc_item.hpp"

namespace shoal::dht::detail {
namespace {

// What the key, signature and sequence number look like on the wire, in queries and responses alike.
std::optional<const char*> read_mutable_fields(const bencode::Node& dict, ItemFields& out) {
  if (auto k = dict.find("k")) {
    if (!k->is_string() || k->as_string().size() != PublicKey::size) return "k is not a 32-byte string";
    out.key = PublicKey::from_raw(k->as_string());
  }
  if (auto sig = dict.find("sig")) {
    if (!sig->is_string() || sig->as_string().size() != Signature::size) return "sig is not a 64-byte string";
    out.signature = Signature::from_raw(sig->as_string());
  }
  if (auto seq = dict.find("seq")) {
    if (!seq->is_int()) return "seq is not an integer";
    out.seq = seq->as_int();
  }
  return std::nullopt;
}

// The value goes back out byte for byte. Every stored value came through the strict decoder, which accepts
// canonical bencoding only, so decoding it into a Value and encoding that again reproduces the same bytes.
void write_value(const std::string& raw, bencode::Value::Dict& out) {
  auto doc = bencode::decode(raw);
  if (doc) out["v"] = bencode::to_value(doc->root());
}

}  // namespace

std::optional<FieldError> read_item_query(const bencode::Node& args, Query& q) {
  if (q.method == Method::get) {
    if (auto seq = args.find("seq")) {
      if (!seq->is_int()) return FieldError{ErrorCode::protocol, "seq is not an integer"};
      q.item.seq = seq->as_int();
    }
    return std::nullopt;
  }
  auto token = args.find_string("token");
  if (!token || token->size() > kMaxTokenLength)
    return FieldError{ErrorCode::protocol, "missing or bad token"};
  q.token = std::string(*token);
  auto v = args.find("v");
  if (!v) return FieldError{ErrorCode::protocol, "put without v"};
  if (v->raw().size() > kMaxItemValue) return FieldError{ErrorCode::value_too_big, "message (v) too big"};
  q.item.value = std::string(v->raw());
  if (auto salt = args.find("salt")) {
    if (!salt->is_string()) return FieldError{ErrorCode::protocol, "salt is not a string"};
    if (salt->as_string().size() > kMaxItemSalt) return FieldError{ErrorCode::salt_too_big, "salt too big"};
    q.item.salt = std::string(salt->as_string());
  }
  if (auto bad = read_mutable_fields(args, q.item)) return FieldError{ErrorCode::protocol, *bad};
  if (auto cas = args.find("cas")) {
    if (!cas->is_int()) return FieldError{ErrorCode::protocol, "cas is not an integer"};
    q.item.cas = cas->as_int();
  }
  if (q.item.key) {
    if (!q.item.signature || !q.item.seq)
      return FieldError{ErrorCode::protocol, "mutable put without sig or seq"};
    // BEP 44 lets nodes refuse negative sequence numbers; they make no sense as "monotonically increasing".
    if (*q.item.seq < 0) return FieldError{ErrorCode::protocol, "negative seq"};
  } else if (q.item.signature || q.item.seq || q.item.cas || !q.item.salt.empty()) {
    return FieldError{ErrorCode::protocol, "sig, seq, cas or salt without k"};
  }
  return std::nullopt;
}

std::optional<const char*> read_item_response(const bencode::Node& body, ItemFields& out) {
  if (auto v = body.find("v")) {
    if (v->raw().size() > kMaxItemValue) return "v too big";
    out.value = std::string(v->raw());
  }
  if (auto bad = read_mutable_fields(body, out)) return bad;
  // A mutable item comes whole; "seq" alone is allowed (the holder's item is not newer than asked for).
  if (out.key && (!out.value || !out.signature || !out.seq)) return "k without v, sig or seq";
  if (out.signature && !out.key) return "sig without k";
  return std::nullopt;
}

void write_item_query(const Query& q, bencode::Value::Dict& args) {
  if (q.method == Method::get) {
    args["target"] = std::string(q.target.raw());
    if (q.item.seq) args["seq"] = *q.item.seq;
    return;
  }
  args["token"] = q.token;
  if (q.item.value) write_value(*q.item.value, args);
  if (q.item.key) args["k"] = std::string(q.item.key->raw());
  if (q.item.signature) args["sig"] = std::string(q.item.signature->raw());
  if (q.item.seq) args["seq"] = *q.item.seq;
  if (q.item.cas) args["cas"] = *q.item.cas;
  if (!q.item.salt.empty()) args["salt"] = q.item.salt;
}

void write_item_response(const ItemFields& item, bencode::Value::Dict& body) {
  if (item.value) write_value(*item.value, body);
  if (item.key) body["k"] = std::string(item.key->raw());
  if (item.signature) body["sig"] = std::string(item.signature->raw());
  if (item.seq) body["seq"] = *item.seq;
}

}  // namespace shoal::dht::detail
