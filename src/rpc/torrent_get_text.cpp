// torrent-get's answer written as text, one field's value at a time. For 10,000 torrents the answer is
// megabytes; building it as one JSON tree first (an ordered map per torrent), then printing and freeing that
// tree, took about as long as everything else in the request. The values are the same torrent_field() gives
// the tree form (still used for the table format and by Dispatcher::handle).
#include <set>

#include "rpc/dispatcher.hpp"
#include "rpc/torrent_fields.hpp"

namespace shoal::rpc {

std::string Dispatcher::torrent_get_text(const json& request, const GetRequest& get, std::int64_t now) {
  auto views = backend_.torrents(get.ids, get.query);
  // Each field once, in the order asked (a tree would have kept the last of duplicates: same value).
  std::vector<const std::string*> names;
  std::vector<std::string> keys;  // `"name":`, escaped as any JSON string
  std::set<std::string_view> seen;
  for (const auto& f : get.fields) {
    if (!seen.insert(f).second) continue;
    names.push_back(&f);
    keys.push_back(json(f).dump(-1, ' ', false, json::error_handler_t::replace) + ":");
  }

  std::string out;
  out.reserve(64 + views.size() * 32 * (names.size() + 1));
  // Torrent names are untrusted bytes: invalid UTF-8 is replaced, as handle_text does for the tree form.
  nlohmann::detail::serializer<json> write(nlohmann::detail::output_adapter<char>(out), ' ',
                                           json::error_handler_t::replace);
  out += "{\"arguments\":{";
  if (get.recent) {
    out += "\"removed\":";
    write.dump(json(backend_.recently_removed()), false, false, 0);
    out += ',';
  }
  out += "\"torrents\":[";
  bool first_torrent = true;
  for (const auto& t : views) {
    out += first_torrent ? "{" : ",{";
    first_torrent = false;
    bool first = true;
    for (std::size_t i = 0; i < names.size(); ++i) {
      auto value = torrent_field(t, *names[i], now);
      if (!value) continue;  // a field Shoal does not know is left out, as Transmission does
      if (!first) out += ',';
      first = false;
      out += keys[i];
      write.dump(*value, false, false, 0);
    }
    out += '}';
  }
  out += "]},\"result\":\"success\"";
  if (auto tag = request.find("tag"); tag != request.end()) {
    out += ",\"tag\":";
    write.dump(*tag, false, false, 0);
  }
  out += '}';
  return out;
}

}  // namespace shoal::rpc
