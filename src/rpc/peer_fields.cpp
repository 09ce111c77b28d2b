#include "rpc/peer_fields.hpp"

#include <cstdint>
#include <string>

#include "rpc/base64.hpp"

namespace shoal::rpc {

namespace {

using nlohmann::json;

bool downloading_from(const PeerInfo& p) {
  return p.am_interested && !p.peer_choking;
}
bool uploading_to(const PeerInfo& p) {
  return p.peer_interested && !p.am_choking;
}

// The address without its port and brackets, as Transmission reports `address`.
std::string host_of(const std::string& address) {
  auto colon = address.rfind(':');
  std::string host = colon == std::string::npos ? address : address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return host;
}

int port_of(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) return 0;
  try {
    return std::stoi(address.substr(colon + 1));
  } catch (...) {
    return 0;
  }
}

json peer_json(const PeerInfo& p) {
  return {{"address", host_of(p.address)},
          {"clientIsChoked", p.peer_choking},
          {"clientIsInterested", p.am_interested},
          {"clientName", p.client},
          {"flagStr", peer_flags(p)},
          {"isDownloadingFrom", downloading_from(p)},
          {"isEncrypted", false},
          {"isIncoming", p.incoming},
          {"isUTP", false},
          {"isUploadingTo", uploading_to(p)},
          {"peerIsChoked", p.am_choking},
          {"peerIsInterested", p.peer_interested},
          {"port", port_of(p.address)},
          {"progress", p.progress},
          {"rateToClient", static_cast<std::int64_t>(p.download_rate)},
          {"rateToPeer", static_cast<std::int64_t>(p.upload_rate)}};
}

json peers_from(const TorrentView& t) {
  int dht = 0, incoming = 0, lpd = 0, pex = 0, tracker = 0, cache = 0;
  for (const auto& p : t.details.peers) {
    switch (p.origin) {
      case PeerOrigin::dht:
        ++dht;
        break;
      case PeerOrigin::incoming:
        ++incoming;
        break;
      case PeerOrigin::lsd:
        ++lpd;
        break;
      case PeerOrigin::pex:
        ++pex;
        break;
      case PeerOrigin::tracker:
        ++tracker;
        break;
      case PeerOrigin::user:
        ++cache;  // Transmission's nearest: addresses it already knew
        break;
    }
  }
  return {{"fromCache", cache}, {"fromDht", dht}, {"fromIncoming", incoming}, {"fromLpd", lpd},
          {"fromLtep", 0},      {"fromPex", pex}, {"fromTracker", tracker}};
}

bool has_piece(const std::string& bits, std::size_t piece) {
  auto byte = piece / 8;
  return byte < bits.size() && (static_cast<unsigned char>(bits[byte]) & (0x80u >> (piece % 8))) != 0;
}

}  // namespace

std::string peer_flags(const PeerInfo& p) {
  std::string f;
  if (downloading_from(p)) {
    f += 'D';
  } else if (p.am_interested) {
    f += 'd';
  }
  if (uploading_to(p)) {
    f += 'U';
  } else if (p.peer_interested) {
    f += 'u';
  }
  if (!p.peer_choking && !p.am_interested) f += 'K';
  if (!p.am_choking && !p.peer_interested) f += '?';
  if (p.origin == PeerOrigin::dht) f += 'H';
  if (p.origin == PeerOrigin::pex) f += 'X';
  if (p.incoming) f += 'I';
  return f;
}

std::optional<json> peer_field(const TorrentView& t, std::string_view f) {
  const auto& d = t.details;
  if (f == "peers") {
    json out = json::array();
    for (const auto& p : d.peers)
      out.push_back(peer_json(p));
    return out;
  }
  if (f == "peersFrom") return peers_from(t);
  if (f == "peersSendingToUs") {
    int n = 0;
    for (const auto& p : d.peers)
      n += p.download_rate > 0 ? 1 : 0;
    return n;
  }
  if (f == "peersGettingFromUs") {
    int n = 0;
    for (const auto& p : d.peers)
      n += p.upload_rate > 0 ? 1 : 0;
    return n;
  }
  if (f == "pieces") return base64_encode(d.pieces);
  if (f == "availability") {
    // Transmission: per piece, the connected peers that have it, or -1 for a piece we have.
    json out = json::array();
    for (std::size_t i = 0; i < d.availability.size(); ++i)
      out.push_back(has_piece(d.pieces, i) ? -1 : d.availability[i]);
    return out;
  }
  return std::nullopt;
}

void add_details_needed(std::string_view f, DetailsQuery& query) {
  if (f == "peers" || f == "peersFrom" || f == "peersSendingToUs" || f == "peersGettingFromUs")
    query.peers = true;
  if (f == "pieces") query.pieces = true;
  if (f == "availability") query.availability = query.pieces = true;
}

}  // namespace shoal::rpc
