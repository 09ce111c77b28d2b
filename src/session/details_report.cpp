#include "session/details_report.hpp"

namespace shoal {

const char* to_string(PeerOrigin origin) noexcept {
  switch (origin) {
    case PeerOrigin::user:
      return "user";
    case PeerOrigin::tracker:
      return "tracker";
    case PeerOrigin::dht:
      return "dht";
    case PeerOrigin::pex:
      return "pex";
    case PeerOrigin::lsd:
      return "lsd";
    case PeerOrigin::incoming:
      return "incoming";
  }
  return "unknown";
}

namespace session {

namespace {

PeerOrigin origin_of(const torrent::Torrent::PeerReport& r) {
  if (!r.outgoing || !r.source) return r.outgoing ? PeerOrigin::tracker : PeerOrigin::incoming;
  switch (*r.source) {
    case swarm::PeerSource::user:
      return PeerOrigin::user;
    case swarm::PeerSource::tracker:
      return PeerOrigin::tracker;
    case swarm::PeerSource::dht:
      return PeerOrigin::dht;
    case swarm::PeerSource::pex:
      return PeerOrigin::pex;
    case swarm::PeerSource::lsd:
      return PeerOrigin::lsd;
    case swarm::PeerSource::incoming:
      return PeerOrigin::incoming;
  }
  return PeerOrigin::tracker;
}

PeerInfo peer_info(const torrent::Torrent::PeerReport& r, std::int32_t num_pieces) {
  PeerInfo p;
  p.address = r.remote.to_string();
  p.origin = origin_of(r);
  p.incoming = !r.outgoing;
  p.download_rate = r.download_rate;
  p.upload_rate = r.upload_rate;
  p.downloaded = r.downloaded;
  p.uploaded = r.uploaded;
  if (const auto* proto = r.protocol) {
    p.client = proto->client();
    p.am_choking = proto->am_choking();
    p.am_interested = proto->am_interested();
    p.peer_choking = proto->peer_choking();
    p.peer_interested = proto->peer_interested();
    p.snubbed = proto->snubbed();
    p.seed = proto->is_seed();
    if (p.seed) {
      p.progress = 1;
    } else if (num_pieces > 0) {
      p.progress = static_cast<double>(proto->has().count()) / num_pieces;
    }
  }
  return p;
}

}  // namespace

std::string bitfield_bytes(const swarm::Bitfield& bits) {
  auto wire = bits.wire();
  return {reinterpret_cast<const char*>(wire.data()), wire.size()};
}

void fill_details(const torrent::Torrent& core, const DetailsQuery& query, TorrentDetails& out) {
  auto num_pieces = core.picker().num_pieces();
  if (query.peers) {
    auto reports = core.peer_reports();
    out.peers.reserve(reports.size());
    for (const auto& r : reports)
      out.peers.push_back(peer_info(r, num_pieces));
  }
  if (query.pieces && num_pieces > 0) out.pieces = bitfield_bytes(core.have());
  if (query.availability && num_pieces > 0) {
    out.availability.resize(static_cast<std::size_t>(num_pieces));
    for (PieceIndex p{0}; p.get() < num_pieces; ++p)
      out.availability[static_cast<std::size_t>(p.get())] = core.availability(p);
  }
}

}  // namespace session
}  // namespace shoal
