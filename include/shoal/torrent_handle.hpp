// A handle to one torrent of a session. Cheap to copy; it stays valid (and harmless) after the torrent is
// removed or the session is gone: calls then do nothing and status() reports an empty status with
// valid() == false. Every call is thread-safe: it runs on the session's network thread and, where it
// returns something, waits for it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "shoal/expected.hpp"
#include "shoal/torrent_status.hpp"

namespace shoal {

namespace detail {
class SessionCore;
}

class TorrentHandle {
 public:
  TorrentHandle() = default;
  TorrentHandle(std::weak_ptr<detail::SessionCore> core, std::string info_hash)
      : core_(std::move(core)), info_hash_(std::move(info_hash)) {}

  // 40 hex digits; the torrent's key in the session.
  const std::string& info_hash() const { return info_hash_; }
  // True while the torrent is in a live session.
  bool valid() const;

  TorrentStatus status() const;
  void pause();
  void resume();
  void force_recheck();     // hashes the data again (queued behind other checks)
  void force_reannounce();  // asks every tracker and the DHT now
  // "IP:PORT" or "[IPv6]:PORT"; false if it does not parse.
  bool add_peer(const std::string& endpoint);
  // 0 = skip the file, anything else = download it. Index as in the torrent's file list.
  void set_file_priority(int file_index, int priority);
  // Bytes verified on disk per file, in the torrent's file order (pad files included, as 0).
  std::vector<std::int64_t> file_progress() const;
  // Moves the data to a new save path (the torrent pauses while the files move). Error text on failure.
  Expected<void, std::string> move_storage(const std::filesystem::path& new_save_path);

  bool operator==(const TorrentHandle& other) const { return info_hash_ == other.info_hash_; }

 private:
  std::weak_ptr<detail::SessionCore> core_;
  std::string info_hash_;
};

}  // namespace shoal
