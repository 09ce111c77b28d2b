/// @file
/// What a session tells its user. Events queue inside the session and are taken with Session::pop_events();
/// the session calls the wake-up callback (see Session::set_wakeup) when the queue goes from empty to
/// non-empty, so an embedder with its own event loop needs no thread of its own.
///
/// Every event is a plain value, safe to keep and to move to another thread. Every torrent event names its
/// torrent by info-hash (40 lower-case hex digits), the key of Session::find_torrent().
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "shoal/error_code.hpp"
#include "shoal/torrent_status.hpp"

namespace shoal {

/// A torrent joined the session (Session::add_torrent()).
struct TorrentAdded {
  std::string info_hash;  ///< 40 hex digits
  std::string name;       ///< empty for a magnet until its metadata arrives
};
/// A magnet link's info dictionary arrived and matched its hash; the torrent now has a name and files.
struct MetadataReceived {
  std::string info_hash;  ///< 40 hex digits
  std::string name;       ///< the torrent's name from the metadata
  /// Sent a second time, with this set, when a v2 torrent's piece layers (which a magnet's metadata lacks)
  /// have all come from peers: TorrentHandle::torrent_file() now carries them.
  bool piece_layers = false;
};
/// Data found on disk was hashed (at start or after TorrentHandle::force_recheck()).
struct CheckFinished {
  std::string info_hash;         ///< 40 hex digits
  std::int32_t pieces_have = 0;  ///< pieces that verified
};
/// One piece verified and written.
struct PieceFinished {
  std::string info_hash;   ///< 40 hex digits
  std::int32_t piece = 0;  ///< zero-based piece index
};
/// Every wanted piece is verified on disk (resume data saved).
struct TorrentFinished {
  std::string info_hash;  ///< 40 hex digits
};
/// The torrent stopped on an error: see code and message. It stays in the session (state `error`) until
/// removed.
struct TorrentError {
  std::string info_hash;             ///< 40 hex digits
  ErrorCode code = ErrorCode::none;  ///< for programs
  std::string message;               ///< for people
};
/// The torrent's job is done (seed ratio or time reached, or no seeding wanted) or it was paused.
struct TorrentStopped {
  std::string info_hash;  ///< 40 hex digits
};
/// After Session::remove_torrent(): everything the torrent started has finished or been cancelled; its data
/// was kept or deleted as asked.
struct TorrentRemoved {
  std::string info_hash;  ///< 40 hex digits
};
/// A tracker answered an announce.
struct TrackerReply {
  std::string info_hash;   ///< 40 hex digits
  std::string url;         ///< the tracker's announce URL
  std::int64_t peers = 0;  ///< peers in the reply
  std::string warning;     ///< the tracker's "warning message", empty if none
};
/// A tracker could not be reached or refused the announce; the torrent carries on with its other sources.
struct TrackerError {
  std::string info_hash;  ///< 40 hex digits
  std::string url;        ///< the tracker's announce URL
  std::string message;    ///< why, for people
};
/// A peer was banned from the torrent (e.g. it sent data that failed the hash check).
struct PeerBanned {
  std::string info_hash;  ///< 40 hex digits
  std::string address;    ///< "IP:PORT" or "[IPv6]:PORT"; for a BEP 19 web seed "web seed URL"
  std::string reason;     ///< why, for people
};
/// A file could not be created, read or written.
struct FileError {
  std::string info_hash;  ///< 40 hex digits
  std::string path;       ///< the file involved
  std::string message;    ///< the system's reason
};
/// With SessionSettings::resume_data_events: the torrent's resume data, at every point where it would have
/// been saved to a file (periodically while pieces verify, on completion, on stop and on
/// Session::save_state()). Keep the latest per torrent and pass it back in AddTorrentParams::resume_data.
struct ResumeDataSaved {
  std::string info_hash;  ///< 40 hex digits
  std::string data;       ///< opaque bytes
};
/// Details for a verbose log (connections, DHT, LSD), only when SessionSettings::log_events asks for them.
struct LogLine {
  std::string info_hash;  ///< empty for session-wide lines
  std::string text;       ///< one line, no newline
};
/// Something degraded but did not stop (e.g. LSD cannot multicast).
struct SessionWarning {
  std::string text;  ///< for people
};

/// The home router forwards a port of ours (SessionSettings::upnp, natpmp): peers outside reach us at
/// external_address:external_port. Said when first granted and when the external port changes, not on every
/// lease renewal.
struct PortMapped {
  std::string method;    ///< "UPnP", "NAT-PMP" or "PCP"
  std::string protocol;  ///< "TCP" (peer connections) or "UDP" (DHT and uTP)
  std::uint16_t internal_port = 0;
  std::uint16_t external_port = 0;
  std::string external_address;  ///< the router's public address, empty if it did not say
};
/// A port mapping could not be made, or one held was lost (its renewal failed). Retried with backoff; said
/// once per run of failures.
struct PortMappingError {
  std::string method;    ///< "UPnP", "NAT-PMP" or "PCP"
  std::string protocol;  ///< "TCP" or "UDP"
  std::uint16_t internal_port = 0;
  std::string message;  ///< for people
};

/// The answer to Session::dht_get_mutable_item() (BEP 44): the newest version the DHT holds of the item under
/// that key and salt. Only an item whose signature verified is reported; `found` is false if none came back.
struct DhtMutableItemReceived {
  std::uint64_t request = 0;  ///< what dht_get_mutable_item() returned
  bool found = false;
  std::string public_key;  ///< 64 hex digits, as asked
  std::string salt;        ///< raw, as asked
  std::int64_t seq = 0;    ///< the item's sequence number
  std::string value;       ///< its value, bencoded (what the signature covers)
  std::string signature;   ///< Ed25519, 128 hex digits
  int queries = 0;         ///< DHT queries the lookup sent
};
/// The answer to Session::dht_put_mutable_item(): how many of the closest nodes took the item.
struct DhtItemStored {
  std::uint64_t request = 0;  ///< what dht_put_mutable_item() returned
  std::string target;         ///< 40 hex digits: SHA-1 of the key and salt
  int stored_on = 0;          ///< nodes that acknowledged the put
  int sent = 0;               ///< nodes it was sent to
};

/// Any of the events above; take them apart with std::visit or std::get_if.
using Event = std::variant<TorrentAdded, MetadataReceived, CheckFinished, PieceFinished, TorrentFinished,
                           TorrentError, TorrentStopped, TorrentRemoved, TrackerReply, TrackerError,
                           PeerBanned, FileError, ResumeDataSaved, LogLine, SessionWarning, PortMapped,
                           PortMappingError, DhtMutableItemReceived, DhtItemStored>;

}  // namespace shoal
