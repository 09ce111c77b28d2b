// Verifies existing data against the piece hashes on all cores: the start-up recheck of `shoal get`/`shoal
// seed` and `shoal check`. Missing or short files just leave their pieces unverified; a file that cannot be
// read for any other reason (not a regular file, a link, permission denied, an I/O error) stops the check
// and is reported, since downloading over it could only fail later, or quietly never verify.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "metainfo/torrent_info.hpp"
#include "shoal/strong_index.hpp"
#include "storage/piece_storage.hpp"
#include "swarm/bitfield.hpp"

namespace shoal::storage {

struct CheckOptions {
  unsigned threads = 0;                                // 0 = one per core
  std::function<bool(PieceIndex piece)> wanted;        // empty: every piece
  std::atomic<std::int64_t>* bytes_checked = nullptr;  // progress, updated as pieces finish
  const std::atomic<bool>* cancel = nullptr;
  std::optional<FileError>* error =
      nullptr;  // set to the file that stopped the check, or reset when none did
};

// True for the errors that only mean "this data is not there (yet)": a missing or short file.
bool is_missing_data(std::error_code ec);

// Returns the pieces whose data on disk hashes to piece_hashes (20 bytes per piece).
swarm::Bitfield check_pieces(PieceStorage& storage, std::string_view piece_hashes,
                             const CheckOptions& options);
// The same for any torrent: by the SHA-1 piece hashes when it has them (v1, hybrid), else by each piece's
// merkle subtree (BEP 52, metainfo/v2_pieces.hpp).
swarm::Bitfield check_pieces(PieceStorage& storage, const metainfo::TorrentInfo& info,
                             const CheckOptions& options);

}  // namespace shoal::storage
