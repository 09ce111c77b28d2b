/// @file
/// The costly parts of a torrent's state, copied out only on request: its connected peers, which pieces it
/// has, and how many connected peers have each piece. See Session::details() (many torrents in one trip to
/// the network thread) and TorrentHandle::details().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace shoal {

/// Where the address of a connected peer came from.
enum class PeerOrigin {
  user,      ///< given by the embedder (AddTorrentParams::peers, TorrentHandle::add_peer)
  tracker,   ///< a tracker's reply
  dht,       ///< the DHT
  pex,       ///< peer exchange (BEP 11) from another peer
  lsd,       ///< local service discovery (BEP 14)
  incoming,  ///< it connected to us
};

/// The origin's name ("tracker", "dht", ...), a static string. Thread-safe.
const char* to_string(PeerOrigin origin) noexcept;

/// One connected peer of a torrent, a snapshot. Rates in payload bytes per second.
struct PeerInfo {
  std::string address;  ///< "IP:PORT" or "[IPv6]:PORT" of the connection
  std::string client;   ///< what the peer calls its software (BEP 10 "v"); empty if it did not say
  PeerOrigin origin = PeerOrigin::tracker;
  bool incoming = false;         ///< it connected to us
  bool am_choking = true;        ///< we do not upload to it
  bool am_interested = false;    ///< we want pieces it has
  bool peer_choking = true;      ///< it does not upload to us
  bool peer_interested = false;  ///< it wants pieces we have
  bool snubbed = false;          ///< it has sent us nothing for a while although it unchoked us
  bool seed = false;             ///< it has every piece
  double progress = 0;           ///< 0..1: the share of the torrent's pieces it has
  double download_rate = 0;      ///< from it to us
  double upload_rate = 0;        ///< from us to it
  std::int64_t downloaded = 0;   ///< payload bytes received from it on this connection
  std::int64_t uploaded = 0;     ///< payload bytes sent to it on this connection
};

/// Which parts of TorrentDetails to fill in: each costs time on the network thread, so ask only for what
/// is shown.
struct DetailsQuery {
  bool peers = false;         ///< TorrentDetails::peers
  bool pieces = false;        ///< TorrentDetails::pieces
  bool availability = false;  ///< TorrentDetails::availability
};

/// The parts of one torrent's state that DetailsQuery asked for.
struct TorrentDetails {
  std::string info_hash;        ///< 40 hex digits; empty when the torrent is not in the session
  std::vector<PeerInfo> peers;  ///< connected peers (those past both handshakes), in no set order
  /// Verified pieces as a bitfield in the BEP 3 wire layout: piece 0 is the high bit of the first byte,
  /// spare bits are 0. Empty until a magnet's metadata arrives. Kept while the torrent is paused.
  std::string pieces;
  /// Per piece: how many connected peers have it (seeds included). Empty while the torrent does not run.
  std::vector<std::int32_t> availability;
};

}  // namespace shoal
