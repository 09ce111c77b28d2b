// Why a torrent stopped on an error: a typed code for programs, with the message text beside it in events
// and status for people.
#pragma once

namespace shoal {

enum class ErrorCode {
  none,
  invalid_torrent,  // the .torrent or the fetched metadata does not parse
  invalid_magnet,
  metadata_not_found,  // no peer delivered a magnet's info dictionary
  no_dht_nodes,        // a magnet with no peers and no DHT node answering
  file_error,          // cannot create, open, read or write a file (disk full, permission...)
  file_deleted,        // a file was removed under a running torrent
  duplicate_torrent,   // the same info-hash is in the session already
  listen_failed,
};

const char* to_string(ErrorCode code) noexcept;

}  // namespace shoal
