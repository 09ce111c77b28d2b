/// @file
/// Why a torrent stopped on an error: a typed code for programs, with the message text beside it in events
/// and status for people.
#pragma once

namespace shoal {

/// The kind of error that stopped a torrent (TorrentError::code, TorrentStatus::error_code).
enum class ErrorCode {
  none,                ///< no error
  invalid_torrent,     ///< the .torrent or the fetched metadata does not parse
  invalid_magnet,      ///< the magnet link does not parse
  metadata_not_found,  ///< no peer delivered a magnet's info dictionary in time
  no_dht_nodes,        ///< a magnet with no peers and no DHT node answering
  file_error,          ///< cannot create, open, read or write a file (disk full, permission...)
  file_deleted,        ///< a file was removed under a running torrent
  duplicate_torrent,   ///< the same info-hash is in the session already
  listen_failed,       ///< the listen socket could not be opened
};

/// A short phrase naming the code for people ("file error"), a static string. Thread-safe.
const char* to_string(ErrorCode code) noexcept;

}  // namespace shoal
