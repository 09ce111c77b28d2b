#include "tracker/announce.hpp"

#include <algorithm>

#include "bencode/decoder.hpp"

namespace shoal::tracker {
namespace {

const char* describe(Errc e) {
  switch (e) {
    case Errc::invalid_response:
      return "invalid tracker response";
    case Errc::tracker_failure:
      return "tracker refused the announce";
    case Errc::bad_peers:
      return "malformed peer list";
    case Errc::http_error:
      return "HTTP error";
    case Errc::unsupported_url:
      return "unsupported tracker URL";
  }
  return "tracker error";
}

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "shoal.tracker"; }
  std::string message(int ev) const override { return describe(static_cast<Errc>(ev)); }
};

void append_escaped(std::string& out, std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 15]);
    }
  }
}

Unexpected<TrackerError> error(Errc code, std::string detail = {}) {
  return unexpected(TrackerError{code, std::move(detail)});
}

// A tracker's bencoded reply, announce or scrape alike: a dictionary, or its "failure reason" as the error.
Expected<bencode::Document, TrackerError> decode_reply(std::string_view body) {
  bencode::Limits limits;
  limits.max_input_size = 4 * 1024 * 1024;
  auto doc = bencode::decode(body, limits);
  if (!doc) return error(Errc::invalid_response, doc.error().message());
  auto root = doc->root();
  if (!root.is_dict()) return error(Errc::invalid_response, "not a dictionary");
  if (auto failure = root.find_string("failure reason"))
    return error(Errc::tracker_failure, std::string(*failure));
  return std::move(*doc);
}

bool add_compact(std::string_view bytes, std::size_t stride, std::vector<Endpoint>& out) {
  if (bytes.size() % stride != 0) return false;
  for (std::size_t i = 0; i + stride <= bytes.size() && out.size() < kMaxPeersPerResponse; i += stride) {
    auto e =
        Endpoint::from_compact(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()) + i, stride));
    if (e && e->port != 0) out.push_back(*e);
  }
  return true;
}

}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

std::string TrackerError::message() const {
  if (detail.empty()) return describe(code);
  return std::string(describe(code)) + ": " + detail;
}

std::string build_announce_url(std::string_view announce_url, const AnnounceRequest& r) {
  std::string url(announce_url);
  url.push_back(url.find('?') == std::string::npos ? '?' : '&');
  url += "info_hash=";
  append_escaped(url, r.info_hash.raw());
  url += "&peer_id=";
  append_escaped(url, std::string_view(reinterpret_cast<const char*>(r.peer_id.data()), r.peer_id.size()));
  url += "&port=" + std::to_string(r.port);
  url += "&uploaded=" + std::to_string(r.uploaded);
  url += "&downloaded=" + std::to_string(r.downloaded);
  url += "&left=" + std::to_string(r.left);
  url += "&compact=1&numwant=" + std::to_string(r.numwant);
  switch (r.event) {
    case AnnounceEvent::started:
      url += "&event=started";
      break;
    case AnnounceEvent::completed:
      url += "&event=completed";
      break;
    case AnnounceEvent::stopped:
      url += "&event=stopped";
      break;
    case AnnounceEvent::none:
      break;
  }
  if (r.key) {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", *r.key);
    url += "&key=";
    url += buf;
  }
  if (r.tracker_id) {
    url += "&trackerid=";
    append_escaped(url, *r.tracker_id);
  }
  return url;
}

Expected<AnnounceResponse, TrackerError> parse_announce_response(std::string_view body) {
  auto doc = decode_reply(body);
  if (!doc) return unexpected(doc.error());
  auto root = doc->root();
  AnnounceResponse r;
  if (auto interval = root.find_int("interval"))
    r.interval = std::clamp<std::int64_t>(*interval, kMinInterval, 86400);
  if (auto min = root.find_int("min interval"))
    r.min_interval = std::clamp<std::int64_t>(*min, kMinInterval, 86400);
  r.complete = root.find_int("complete");
  r.incomplete = root.find_int("incomplete");
  if (auto warning = root.find_string("warning message")) r.warning_message = std::string(*warning);
  if (auto id = root.find_string("tracker id")) r.tracker_id = std::string(*id);
  if (auto peers = root.find("peers")) {
    if (peers->is_string()) {
      if (!add_compact(peers->as_string(), 6, r.peers))
        return error(Errc::bad_peers, "peers length not a multiple of 6");
    } else if (peers->is_list()) {
      for (auto p : peers->children()) {
        if (r.peers.size() >= kMaxPeersPerResponse) break;
        if (!p.is_dict()) continue;
        auto ip = p.find_string("ip");
        auto port = p.find_int("port");
        if (!ip || !port || *port <= 0 || *port > 65535) continue;
        std::string text =
            ip->find(':') != std::string_view::npos ? "[" + std::string(*ip) + "]" : std::string(*ip);
        if (auto e = Endpoint::parse(text + ":" + std::to_string(*port))) r.peers.push_back(*e);
      }
    } else {
      return error(Errc::bad_peers, "peers is neither a string nor a list");
    }
  }
  if (auto peers6 = root.find_string("peers6")) {
    if (!add_compact(*peers6, 18, r.peers))
      return error(Errc::bad_peers, "peers6 length not a multiple of 18");
  }
  return r;
}

}  // namespace shoal::tracker

namespace shoal::tracker {

std::optional<std::string> build_scrape_url(std::string_view announce_url, const Sha1Digest& info_hash) {
  auto query = announce_url.find('?');
  std::string_view path = announce_url.substr(0, query);
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos || path.substr(slash + 1, 8) != "announce") return std::nullopt;
  std::string url(path.substr(0, slash + 1));
  url += "scrape";
  url += path.substr(slash + 1 + 8);
  if (query != std::string_view::npos) {
    url += announce_url.substr(query);
    url += '&';
  } else {
    url += '?';
  }
  url += "info_hash=";
  append_escaped(url, info_hash.raw());
  return url;
}

Expected<ScrapeCounts, TrackerError> parse_scrape_response(std::string_view body,
                                                           const Sha1Digest& info_hash) {
  auto doc = decode_reply(body);
  if (!doc) return unexpected(doc.error());
  auto root = doc->root();
  ScrapeCounts counts;
  auto files = root.find_dict("files");
  if (!files) return error(Errc::invalid_response, "no files dictionary");
  auto entry = files->find(info_hash.raw());
  if (!entry || !entry->is_dict()) return counts;  // unknown torrent: nobody there
  counts.seeders = entry->find_int("complete").value_or(0);
  counts.leechers = entry->find_int("incomplete").value_or(0);
  counts.completed = entry->find_int("downloaded").value_or(0);
  return counts;
}

}  // namespace shoal::tracker
