#include "wire/ut_pex.hpp"

#include <span>

#include "bencode/decoder.hpp"
#include "bencode/value.hpp"

namespace shoal::wire {
namespace {

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Reads a compact list; false when its length is not a whole number of entries.
bool read_compact(std::string_view list, std::size_t stride, std::vector<Endpoint>& out) {
  if (list.size() % stride != 0) return false;
  for (std::size_t i = 0; i < list.size() && out.size() < kMaxPexPeersAccepted; i += stride) {
    auto e = Endpoint::from_compact(bytes_of(list.substr(i, stride)));
    if (e && e->port != 0) out.push_back(*e);
  }
  return true;
}

}  // namespace

std::string encode_pex(const PexMessage& message) {
  std::string added, added_f, added6, added6_f, dropped, dropped6;
  for (const auto& p : message.added) {
    (p.endpoint.v6 ? added6 : added) += p.endpoint.to_compact();
    (p.endpoint.v6 ? added6_f : added_f) += static_cast<char>(p.flags);
  }
  for (const auto& e : message.dropped)
    (e.v6 ? dropped6 : dropped) += e.to_compact();
  bencode::Value::Dict d;
  d["added"] = std::move(added);
  d["added.f"] = std::move(added_f);
  d["dropped"] = std::move(dropped);
  if (!added6.empty()) {
    d["added6"] = std::move(added6);
    d["added6.f"] = std::move(added6_f);
  }
  if (!dropped6.empty()) d["dropped6"] = std::move(dropped6);
  return bencode::encode(bencode::Value(std::move(d)));
}

Expected<PexMessage, WireError> decode_pex(std::string_view payload) {
  bencode::Limits limits;
  limits.max_depth = 4;
  limits.max_items = 64;
  auto doc = bencode::decode(payload, limits);
  if (!doc || !doc->root().is_dict()) return unexpected(WireError{Errc::bad_extension_payload, "ut_pex"});
  auto root = doc->root();
  PexMessage m;
  auto read_added = [&](std::string_view key, std::string_view flags_key, std::size_t stride) {
    auto list = root.find_string(key);
    if (!list) return true;
    if (list->size() % stride != 0) return false;
    // Flags are advisory: a missing or short flags string just leaves them 0.
    auto flags = root.find_string(flags_key).value_or(std::string_view{});
    std::size_t accepted = 0;
    for (std::size_t i = 0; i < list->size() && accepted < kMaxPexPeersAccepted; i += stride) {
      auto e = Endpoint::from_compact(bytes_of(list->substr(i, stride)));
      if (!e || e->port == 0) continue;
      std::size_t entry = i / stride;
      m.added.push_back(
          {*e, entry < flags.size() ? static_cast<std::uint8_t>(flags[entry]) : std::uint8_t{0}});
      ++accepted;
    }
    return true;
  };
  if (!read_added("added", "added.f", 6))
    return unexpected(WireError{Errc::bad_extension_payload, "ut_pex added"});
  if (!read_added("added6", "added6.f", 18))
    return unexpected(WireError{Errc::bad_extension_payload, "ut_pex added6"});
  if (auto list = root.find_string("dropped"); list && !read_compact(*list, 6, m.dropped))
    return unexpected(WireError{Errc::bad_extension_payload, "ut_pex dropped"});
  if (auto list = root.find_string("dropped6"); list && !read_compact(*list, 18, m.dropped))
    return unexpected(WireError{Errc::bad_extension_payload, "ut_pex dropped6"});
  if (m.dropped.size() > kMaxPexPeersAccepted) m.dropped.resize(kMaxPexPeersAccepted);
  return m;
}

}  // namespace shoal::wire
