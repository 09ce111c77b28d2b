// What a session tells its user. Events queue inside the session and are taken with Session::pop_events();
// the session calls the wake-up callback (SessionSettings-independent, see Session::set_wakeup) when the
// queue goes from empty to non-empty, so an embedder with its own event loop needs no thread of its own.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "shoal/error_code.hpp"
#include "shoal/torrent_status.hpp"

namespace shoal {

// Every torrent event names its torrent by info-hash (40 hex digits), the key of Session::find_torrent.
struct TorrentAdded {
  std::string info_hash;
  std::string name;  // empty for a magnet until its metadata arrives
};
struct MetadataReceived {  // a magnet link's info dictionary arrived and matched its hash
  std::string info_hash;
  std::string name;
};
struct CheckFinished {  // data found on disk was hashed
  std::string info_hash;
  std::int32_t pieces_have = 0;
};
struct PieceFinished {  // one piece verified and written
  std::string info_hash;
  std::int32_t piece = 0;
};
struct TorrentFinished {  // every wanted piece is verified on disk (resume data saved)
  std::string info_hash;
};
struct TorrentError {  // the torrent stopped: see code and message
  std::string info_hash;
  ErrorCode code = ErrorCode::none;
  std::string message;
};
struct TorrentStopped {  // its job is done (seed ratio reached) or it was paused
  std::string info_hash;
};
struct TorrentRemoved {  // everything it started has finished or been cancelled; data kept or deleted
  std::string info_hash;
};
struct TrackerReply {
  std::string info_hash;
  std::string url;
  std::int64_t peers = 0;
  std::string warning;
};
struct TrackerError {
  std::string info_hash;
  std::string url;
  std::string message;
};
struct PeerBanned {
  std::string info_hash;
  std::string address;
  std::string reason;
};
struct FileError {
  std::string info_hash;
  std::string path;
  std::string message;
};
struct LogLine {          // details for a verbose log (connections, DHT, LSD), only when SessionSettings asks
  std::string info_hash;  // empty for session-wide lines
  std::string text;
};
struct SessionWarning {  // something degraded but did not stop (e.g. LSD cannot multicast)
  std::string text;
};

using Event = std::variant<TorrentAdded, MetadataReceived, CheckFinished, PieceFinished, TorrentFinished,
                           TorrentError, TorrentStopped, TorrentRemoved, TrackerReply, TrackerError,
                           PeerBanned, FileError, LogLine, SessionWarning>;

}  // namespace shoal
