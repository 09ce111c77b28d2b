/// @file
/// Settings of a whole shoal::Session: what every torrent in it shares (one listen port, one DHT node, one
/// LSD service, one disk pool, global rate limits and connection caps, queueing, the state directory).
/// Plain values; see Session::apply_settings() for which ones take effect on a running session.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace shoal {

/// The session's Mainline DHT node (BEP 5), shared by all its torrents.
struct DhtSettings {
  bool enabled = true;                 ///< private torrents never use it (BEP 27)
  std::vector<std::string> bootstrap;  ///< HOST:PORT; empty: the public Mainline routers
  std::uint16_t port = 0;              ///< the session's UDP port (DHT and udp:// announces); 0: any free
  bool read_only = false;              ///< BEP 43: ask without answering
  bool allow_same_ip = false;          ///< keep many nodes of one address (private test networks)
};

/// Local Service Discovery (BEP 14): finding peers on the local network by multicast.
struct LsdSettings {
  bool enabled = true;            ///< never used for private torrents
  std::string interface_address;  ///< IPv4 address of the interface; empty: as routing says (IPv4 and IPv6)
};

/// Message Stream Encryption (MSE/PE) on peer connections: the handshake is obfuscated by a Diffie-Hellman
/// exchange and the stream is RC4-encrypted, so that traffic shapers do not recognise BitTorrent. It is not
/// meant for secrecy (RC4, no authentication of the peer).
enum class EncryptionMode {
  plain,    ///< never encrypt: plain handshakes only, encrypted incoming connections are refused
  prefer,   ///< outgoing: try MSE (RC4 or plaintext offered), reconnect plain if it fails; incoming: either
  require,  ///< MSE with RC4 only, both ways; plain peers are refused
};

/// Which transports peer connections use. uTP (BEP 29) runs over the session's UDP port with LEDBAT
/// congestion control, which yields to TCP and other traffic on a shared link.
enum class Transport {
  tcp,   ///< TCP only: no uTP connections either way
  utp,   ///< uTP only, both ways: incoming TCP connections are closed at once
  both,  ///< outgoing: uTP first, TCP if uTP does not answer (as libtorrent does); incoming: both
};

/// Everything a Session is configured with.
struct SessionSettings {
  /// Where resume data, the DHT routing table and partial edge pieces live. Empty: a session that keeps no
  /// state across restarts except what it writes into save paths (nothing).
  std::filesystem::path state_dir;
  /// With a state_dir: keep the list of torrents (how each was added, and its metainfo) there, saved
  /// atomically on every change, and add them all again when a session starts on the same state_dir (an
  /// always-on node). Off for one-shot users such as `shoal get`.
  bool remember_torrents = false;
  /// Resume data (which pieces are verified, and the files' stamps when that was true) goes to the embedder
  /// as ResumeDataSaved events instead of files under state_dir, and comes back through
  /// AddTorrentParams::resume_data: for an embedder that keeps all its state in a database of its own.
  bool resume_data_events = false;

  std::string listen_address = "::";  ///< "::" = IPv6 and IPv4 (falls back to 0.0.0.0 without IPv6)
  std::uint16_t listen_port = 0;      ///< TCP port; 0: any free port (see SessionStats::listen_port)
  /// MSE/PE on every peer connection of every torrent (outgoing and incoming). apply_settings() changes it
  /// for connections made from then on; those already open keep what they negotiated.
  EncryptionMode encryption = EncryptionMode::prefer;
  /// Transports of peer connections (see Transport). uTP listens on the UDP port shared with the DHT, which
  /// then defaults to listen_port so peers reach uTP where they reach TCP. Read when the session starts.
  Transport transport = Transport::both;
  /// @name Port mapping
  /// Ask the home router to forward the listen port (TCP) and the UDP port (DHT) from outside, renew the
  /// lease at half its length and remove the mapping on shutdown; the router's external port is then what
  /// trackers and the DHT are told (see the PortMapped event). Off by default (a library user opts in; the
  /// CLI turns them on). Never tried when listen_address is a loopback address. Read when the session starts.
  /// @{
  bool upnp = false;    ///< UPnP IGD: discovery by SSDP multicast on the local network, then SOAP calls
  bool natpmp = false;  ///< NAT-PMP (RFC 6886) to the default gateway
  /// PCP (RFC 6887, NAT-PMP's successor) to the default gateway, falling back to NAT-PMP when natpmp is on
  /// and the router answers as a NAT-PMP-only one (or not at all).
  bool pcp = false;
  /// @}

  /// @name Global limits
  /// Split across torrents. Rates in bytes per second; 0 = unlimited.
  /// @{
  std::int64_t max_download_rate = 0;
  std::int64_t max_upload_rate = 0;
  int max_connections = 500;         ///< peer connections of all torrents together
  int max_half_open = 32;            ///< outgoing dials in progress at once
  int max_dials_per_second = 20;     ///< new outgoing connections per second
  int max_incoming_handshakes = 64;  ///< incoming connections not yet past the handshake
  int max_unchoked = 0;  ///< upload slots of all torrents together, split evenly; 0 = each torrent's own only
  /// Bytes of pieces cached for serving, all torrents together (each torrent keeps at least the two pieces it
  /// serves from, and at most 64 MiB).
  std::int64_t read_cache_bytes = 256 * 1024 * 1024;
  /// Bytes of block requests one torrent keeps in flight to all its peers together. Each peer's queue grows
  /// to its rate times its round trip plus a second (long fat links need deep queues), cut to what the
  /// torrent's other peers leave of this. Read when a torrent starts.
  std::int64_t request_budget_bytes = 64 * 1024 * 1024;
  /// @}

  /// @name Queueing
  /// Torrents beyond these wait (state `queued`). 0 = no limit.
  /// @{
  int max_active_downloads = 0;
  int max_active_seeds = 0;
  int max_concurrent_checks = 1;  ///< full rechecks run one at a time by default
  /// @}

  unsigned disk_threads = 2;  ///< threads of the shared disk and hashing pool
  /// Files and folders of all torrents kept open at once (least recently used closed first). 0: a quarter
  /// of the open-file limit (raised to its hard limit when the session starts), at most 512.
  unsigned max_open_files = 0;

  DhtSettings dht;           ///< the DHT node
  LsdSettings lsd;           ///< local peer discovery
  bool use_trackers = true;  ///< a torrent may still opt out in AddTorrentParams
  bool log_events = false;   ///< LogLine events: connections and why they close, DHT and LSD details
};

}  // namespace shoal
