/// @file
/// Reading and writing torrents without a session: what a .torrent or a magnet link describes, and a new
/// .torrent made from a file or folder. The same parsers the session uses, with limits on every size, so they
/// are safe on untrusted bytes.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shoal/expected.hpp"

namespace shoal {

/// One file of a torrent, in the torrent's file order.
struct TorrentFileEntry {
  /// Relative, '/'-separated, sanitized (no "..", no absolute path); starts with the torrent name for a
  /// multi-file torrent.
  std::string path;
  std::int64_t size = 0;  ///< bytes
  bool pad = false;       ///< a BEP 47 pad file: zeros aligning the next file, never written to disk
};

/// What a .torrent describes (BitTorrent v1 metainfo, BEP 3, with BEP 12, 19, 27 and 47 fields).
/// A file or folder name too long for a file system (over 255 bytes), as Shoal stores it instead.
struct ShortenedName {
  std::string original;  ///< as the torrent gives it: untrusted bytes, escape before printing
  std::string used;      ///< the name on disk: a prefix, a hash of the original, the extension
};

struct TorrentFileInfo {
  /// SHA-1 of the info dictionary, 40 lower-case hex digits; for a v2-only torrent (BEP 52) the v2 info-hash
  /// truncated to 20 bytes, which is what peers, trackers and the DHT know it by
  std::string info_hash;
  std::string info_hash_v2;         ///< BEP 52: SHA-256 of the info dictionary, 64 hex digits; empty for v1
  std::string meta_version = "v1";  ///< "v1", "v2" (BEP 52 only) or "hybrid" (both in one torrent)
  std::string name;                 ///< sanitized suggested name of the file or folder
  std::int64_t total_size = 0;      ///< bytes of all files, pad files included
  std::int64_t piece_length = 0;    ///< bytes per piece (the last piece may be shorter)
  std::int32_t num_pieces = 0;
  std::vector<TorrentFileEntry> files;             ///< one entry even for a single-file torrent
  std::vector<std::vector<std::string>> trackers;  ///< announce URLs by tier (BEP 12), first tier first
  std::vector<std::string> web_seeds;              ///< BEP 19 url-list
  bool is_private = false;                         ///< BEP 27: no DHT, PEX or LSD for it
  std::string comment;
  std::string created_by;
  std::optional<std::int64_t> creation_date;  ///< seconds since 1970-01-01 UTC; absent if not in the file
  std::string source;                         ///< "source" tag inside the info dictionary (part of the hash)
  std::string magnet;  ///< a magnet URI for the torrent: info-hash, name, trackers and web seeds
  std::vector<ShortenedName> shortened_names;  ///< names that were too long, each once, in order
};

/// Parses the bytes of a .torrent file.
/// @return the summary, or an error message naming the first problem found (not bencode, missing or
///         malformed field, a size beyond Shoal's limits...). Never throws on malformed input.
/// Thread-safety: pure function, callable from any thread.
Expected<TorrentFileInfo, std::string> parse_torrent(std::string_view bytes);

/// What a magnet link (BEP 9) names.
struct MagnetInfo {
  std::string info_hash;     ///< v1 info-hash (urn:btih), 40 lower-case hex digits; empty for a v2-only link
  std::string info_hash_v2;  ///< v2 info-hash (urn:btmh, SHA-256), 64 hex digits; empty if absent
  std::string name;          ///< dn, the display name; may be empty
  std::vector<std::string> trackers;   ///< tr, in order, without duplicates
  std::vector<std::string> web_seeds;  ///< ws
  std::vector<std::string> peers;      ///< x.pe: "host:port" or "[IPv6]:port"
  /// BEP 46 (xs=urn:btpk): the Ed25519 public key, 64 hex digits, whose signed DHT item names the current
  /// info-hash; empty if absent. Such a link is resolved first (shoal get does it), not added as it is.
  std::string public_key;
  std::string salt;  ///< BEP 46 s=: the salt that item is stored under, raw bytes; empty: none
};

/// Parses a magnet URI ("magnet:?xt=urn:btih:...").
/// @return the summary, or an error message (not a magnet link, no or an invalid info-hash, bad percent
///         encoding, too long...). Unknown parameters are ignored. Never throws on malformed input.
/// Thread-safety: pure function, callable from any thread.
Expected<MagnetInfo, std::string> parse_magnet(std::string_view uri);

/// Smallest and largest piece size create_torrent() accepts, in bytes.
inline constexpr std::int64_t kMinCreatePieceSize = 16 * 1024;
inline constexpr std::int64_t kMaxCreatePieceSize = 256 * 1024 * 1024;

/// Which kind of .torrent create_torrent() writes.
enum class TorrentVersion {
  v1,      ///< BitTorrent v1 (BEP 3): read by every client
  v2,      ///< v2 only (BEP 52): SHA-256 merkle trees per file; read by v2 clients only
  hybrid,  ///< both in one torrent (BEP 52 with BEP 47 pad files): v1 and v2 clients share one swarm
};

/// What create_torrent() makes: a .torrent of one file, or of every regular file below a folder.
struct CreateTorrentParams {
  /// The file or folder to share. Symbolic links below a folder are not followed; hidden files are included.
  std::filesystem::path path;
  /// Announce URLs by tier (BEP 12); the first URL becomes "announce". Empty: a trackerless torrent.
  std::vector<std::vector<std::string>> trackers;
  /// Bytes per piece: 0 picks one for about 1000-2000 pieces; otherwise a power of two from
  /// kMinCreatePieceSize to kMaxCreatePieceSize.
  std::int64_t piece_size = 0;
  bool is_private = false;             ///< BEP 27
  std::vector<std::string> web_seeds;  ///< BEP 19 url-list
  std::string comment;
  /// "source" tag in the info dictionary: the same data with another source has another info-hash.
  std::string source;
  /// Seconds since 1970-01-01 UTC. Absent (the default): no creation date, so the same input always gives
  /// the same bytes.
  std::optional<std::int64_t> creation_date;
  unsigned threads = 0;                         ///< hashing threads; 0 = one per core
  TorrentVersion version = TorrentVersion::v1;  ///< v1 by default until most clients read v2
  /// Called on the calling thread, about ten times a second at most, with the bytes hashed so far and the
  /// total. May be empty.
  std::function<void(std::int64_t done, std::int64_t total)> progress;
  /// When set, hashing stops soon after *cancel becomes true (from any thread) and the error is "cancelled".
  const std::atomic<bool>* cancel = nullptr;
};

/// Hashes the data and returns the bytes of the new .torrent (write them to a file yourself).
/// @return the .torrent bytes, or an error message: the path does not exist or holds no file, a read
///         failed, an invalid piece size, "cancelled".
/// Blocking: runs for as long as hashing takes (reads every byte of the data).
/// Thread-safety: independent calls may run on several threads at once.
Expected<std::string, std::string> create_torrent(const CreateTorrentParams& params);

}  // namespace shoal
