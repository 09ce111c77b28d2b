#include "wire/extension_handshake.hpp"

#include "bencode/decoder.hpp"
#include "bencode/value.hpp"

namespace shoal::wire {

std::optional<std::uint8_t> ExtensionHandshake::id_of(std::string_view name) const {
  for (const auto& [n, id] : m) {
    if (n == name && id != 0) return id;
  }
  return std::nullopt;
}

std::string encode_extension_handshake(const ExtensionHandshake& h) {
  bencode::Value::Dict d;
  bencode::Value::Dict m;
  for (const auto& [name, id] : h.m)
    m[name] = static_cast<std::int64_t>(id);
  d["m"] = std::move(m);
  if (h.client) d["v"] = *h.client;
  if (h.listen_port) d["p"] = static_cast<std::int64_t>(*h.listen_port);
  if (h.reqq) d["reqq"] = static_cast<std::int64_t>(*h.reqq);
  if (h.yourip) d["yourip"] = *h.yourip;
  if (h.metadata_size) d["metadata_size"] = *h.metadata_size;
  if (h.upload_only) d["upload_only"] = 1;
  return bencode::encode(bencode::Value(std::move(d)));
}

Expected<ExtensionHandshake, WireError> decode_extension_handshake(std::string_view payload) {
  bencode::Limits limits;
  limits.max_depth = 8;
  limits.max_items = 1024;
  auto doc = bencode::decode(payload, limits);
  if (!doc || !doc->root().is_dict()) return unexpected(WireError{Errc::bad_extension_payload, "handshake"});
  auto root = doc->root();
  ExtensionHandshake h;
  if (auto m = root.find("m")) {
    if (!m->is_dict()) return unexpected(WireError{Errc::bad_extension_payload, "handshake m"});
    if (m->size() > kMaxExtensionNames) return unexpected(WireError{Errc::too_many_entries, "handshake m"});
    std::string_view name;
    bool at_key = true;
    for (auto child : m->children()) {
      if (at_key) {
        name = child.as_string();
      } else if (child.is_int()) {
        if (child.as_int() < 0 || child.as_int() > 255) {
          return unexpected(WireError{Errc::bad_extension_payload, "extension id out of range"});
        }
        h.m.emplace_back(std::string(name), static_cast<std::uint8_t>(child.as_int()));
      }
      at_key = !at_key;
    }
  }
  if (auto v = root.find_string("v"); v && v->size() <= kMaxClientNameLength) h.client = std::string(*v);
  if (auto p = root.find_int("p"); p && *p > 0 && *p <= 65535) h.listen_port = static_cast<std::uint16_t>(*p);
  if (auto q = root.find_int("reqq"); q && *q > 0 && *q <= 100000) h.reqq = static_cast<std::uint32_t>(*q);
  if (auto ip = root.find_string("yourip"); ip && (ip->size() == 4 || ip->size() == 16))
    h.yourip = std::string(*ip);
  if (auto size = root.find_int("metadata_size")) {
    if (*size < 0) return unexpected(WireError{Errc::bad_extension_payload, "negative metadata_size"});
    h.metadata_size = *size;
  }
  h.upload_only = root.find_int("upload_only").value_or(0) != 0;
  return h;
}

}  // namespace shoal::wire
