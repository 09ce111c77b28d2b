// Synchronous piece I/O on the files of one torrent: pread/pwrite through file slices, files opened lazily
// through the session's FilePool (a bounded number of descriptors for all torrents: a file may be closed
// between two calls and is reopened transparently). Called from disk worker threads; pread/pwrite are
// positioned, and a pool lease keeps a descriptor open while a call uses it.
//
// Opening is cheap because the walk is done once per folder, not per file: each folder of the torrent is
// created once (mkdirat; not again per file) and kept as a descriptor in the pool, and files are opened with
// openat() relative to it, O_NOFOLLOW on the last component. A file written for the first time is created
// with O_EXCL, which proves it a new regular file in one call; a file seen as a regular file before (by
// check_paths() or an earlier open) is reopened with one openat(), O_NONBLOCK so that a FIFO swapped in
// meanwhile cannot block (pread/pwrite on it then fail); only other files get the checks below. A file
// reopened without O_CREAT that is gone was deleted under us (Errc::deleted), never silently recreated.
// Durability is batched: sync() flushes only the files written since the last sync(), once (syncfs() per
// file system when many are), and file_stamps() restats only the files written since the last call.
//
// Every path is joined below the download folder and checked to stay there: components are sanitized by the
// metainfo parser already, and opening refuses symbolic links anywhere below the root.
//
// What is opened, and why (a download folder may hold anything a hostile user or torrent planted there):
//  - only regular files. A FIFO would block open() forever (a planted FIFO hung a recheck), a device or a
//    socket is not data, and a directory where a file belongs cannot hold it: each is refused with a
//    storage::Errc naming the file type, checked before open() and again on the descriptor (opened with
//    O_NONBLOCK, so a FIFO swapped in between cannot block either). A file already seen as a regular file
//    is reopened without the two checks: a FIFO swapped in since cannot block (O_NONBLOCK) and its reads
//    and writes fail, and planting a device takes root;
//  - no symbolic links below the download folder, for reading or writing, whether they point inside it or
//    out: nothing is ever read or written outside the download folder, and a link inside it is refused too
//    because telling the two apart race-free costs more than it is worth. The download folder itself may be
//    a link: the user chose it;
//  - no path of PATH_MAX bytes or more once joined below the download folder (storage::Errc::path_too_long).
// check_paths() says all of this up front, naming the file, so a torrent stops with a clear error instead of
// pieces that silently never verify.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "runtime/mapped_read.hpp"
#include "storage/file_layout.hpp"
#include "storage/file_pool.hpp"
#include "storage/resume_data.hpp"
#include "storage/storage_error.hpp"

namespace shoal::storage {

class PieceStorage {
 public:
  // file_wanted: files with false are never created. A piece that spans a wanted and a skipped file keeps the
  // skipped file's part in `parts_file` (one slot per such edge piece), so the piece can still be served,
  // rechecked and hashed. Without a parts file those parts are dropped.
  // pool: the session's file-handle pool (outlives this storage); null: a pool of this storage's own.
  PieceStorage(FileLayout layout, std::filesystem::path root, std::vector<bool> file_wanted = {},
               std::filesystem::path parts_file = {}, FilePool* pool = nullptr);
  ~PieceStorage();
  PieceStorage(const PieceStorage&) = delete;
  PieceStorage& operator=(const PieceStorage&) = delete;

  const FileLayout& layout() const { return layout_; }
  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path path_of(FileIndex file) const;

  // Writes a whole verified piece.
  std::error_code write_piece(PieceIndex piece, std::span<const std::uint8_t> data);
  // Writes [begin, begin + data.size()) of a piece not yet verified (blocks of an unfinished piece, kept by
  // resume data); the piece is written whole again once it verifies.
  std::error_code write_blocks(PieceIndex piece, std::int64_t begin, std::span<const std::uint8_t> data);
  // Reads [begin, begin + out.size()) of a piece; missing files or short files are errors.
  std::error_code read(PieceIndex piece, std::int64_t begin, std::span<std::uint8_t> out);
  // Hands a whole piece to `consume` in order, in one or more spans, for hashing: slices of wanted files of
  // 32 KiB or more are read-only mappings of the page cache (no copy), each checked against the file's size
  // and faulted in before it is handed over so a file shorter than expected is an error
  // (errc::no_message_available), not a SIGBUS; without MADV_POPULATE_READ (Linux before 5.14), with
  // read_options.map off, or for smaller slices (where the fstat, mmap and munmap cost more than the copy),
  // they are pread() into a buffer, as pad files and parts-file slices always are.
  // On an error, *failed_file (when given) is the file whose slice could not be read.
  std::error_code visit_piece(PieceIndex piece,
                              const std::function<void(std::span<const std::uint8_t>)>& consume,
                              FileIndex* failed_file = nullptr);
  // The first wanted file that could never be used, before any I/O: its path is too long, or something other
  // than a regular file (or a real folder on its way) already stands there. Missing files are fine.
  // Also notes what it saw of every file (so file_stamps() and later opens need not look again).
  std::optional<FileError> check_paths();
  // After check_paths(): whether any file of the torrent (wanted or not) exists at all.
  bool any_file_exists() const { return any_file_exists_; }
  // How visit_piece() reads (the default maps; tests stand in an older kernel). Before any I/O.
  void set_read_options(runtime::MappedReadOptions options) { read_options_ = std::move(options); }
  // Creates the wanted zero-length files: no piece ever touches them, so writes never would.
  std::error_code create_empty_files();
  // Flushes the data written since the last sync() to the device (before resume data that claims it is
  // saved): fdatasync() of each such file, or syncfs() once per file system when there are many.
  std::error_code sync();
  // The size and modification time of every file (what resume data records): those written since the last
  // call are looked at again, the others were seen before (by check_paths() or an earlier call).
  std::vector<FileStamp> file_stamps();
  // The first file that was deleted (or replaced) under us, if any: one of those open and used since the last
  // call (and not written whole since), or one found gone when it was reopened. Writes to it would go nowhere
  // and reads would serve data no longer the user's.
  std::optional<std::filesystem::path> find_deleted_file();
  // Closes every open file and folder. Only when no read or write is in flight (e.g. at shutdown).
  void close_all();

  // Files written and not yet synced (tests and benchmarks).
  std::size_t unsynced_files() const;

  // Above this many files to flush, sync() uses syncfs() instead of one fdatasync() each.
  static constexpr std::size_t kSyncEachUpTo = 32;

 private:
  class FileOpener;
  class DirOpener;
  class PartsOpener;
  struct Dir {
    std::int32_t parent = -1;  // -1: the download folder itself
    std::string name;          // the last component below its parent
    bool valid = true;         // false: an empty, "." or ".." component (refused)
  };

  std::error_code write_range(PieceIndex piece, std::int64_t begin, std::span<const std::uint8_t> data,
                              bool whole);
  PoolKey file_key(std::size_t file) const { return {owner_, static_cast<std::int32_t>(file)}; }
  PoolKey parts_key() const { return {owner_, static_cast<std::int32_t>(layout_.files().size())}; }
  PoolKey dir_key(std::int32_t dir) const {
    return {owner_, static_cast<std::int32_t>(layout_.files().size()) + 1 + dir};
  }
  Lease lease_file(std::size_t file, bool writable, std::error_code& ec);
  Lease lease_dir(std::int32_t dir, bool create, std::error_code& ec);
  Lease lease_parts(bool writable, std::error_code& ec);
  // A file changed: its stamp must be taken again, and with `data`, its bytes flushed by the next sync().
  void note_written(std::size_t index, bool data);
  std::string leaf_of(std::size_t file) const;
  // Where a skipped file's slice of an edge piece lives in the parts file, or -1 when the piece has no slot.
  std::int64_t parts_offset(PieceIndex piece, std::int64_t offset_in_piece) const;

  FileLayout layout_;
  std::filesystem::path root_;
  std::size_t root_length_ = 0;  // bytes of the absolute download folder, for the PATH_MAX check
  std::vector<bool> file_wanted_;
  std::filesystem::path parts_file_;
  runtime::MappedReadOptions read_options_;
  std::atomic<bool> populate_missing_{false};  // the kernel said it has no MADV_POPULATE_READ
  std::vector<PieceIndex> edge_pieces_;        // sorted; a piece's slot is its index here

  std::unique_ptr<FilePool> own_pool_;
  FilePool* pool_;
  std::uint32_t owner_;
  // Folders: index 0 is the download folder; every folder on the way to a file has an entry.
  std::vector<Dir> dirs_;
  std::vector<std::int32_t> file_dir_;  // the folder of each file
  // Touched only by openers (and by check_paths(), before any I/O); the pool never runs two openers of one
  // key at once, and each element belongs to one key:
  std::vector<char> dir_created_;  // made (or found) by us: never mkdirat again
  std::vector<char> file_known_;   // a regular file seen or created by us: reopened with one openat
  bool parts_dir_created_ = false;
  // Bytes of each file not written yet in this session (for the pool: a file written whole goes cold).
  std::unique_ptr<std::atomic<std::int64_t>[]> unwritten_;

  // Written since the last sync() / file_stamps(): indexes, and a flag per file (the parts file included).
  mutable std::mutex dirty_mutex_;
  std::vector<char> unsynced_;
  std::vector<std::int32_t> unsynced_list_;
  std::vector<char> unstamped_;
  std::vector<std::int32_t> unstamped_list_;
  std::optional<std::filesystem::path> deleted_;  // a file found gone when reopened
  // Network thread (or the one caller) only.
  std::vector<FileStamp> stamps_;
  bool stamps_valid_ = false;
  bool any_file_exists_ = true;            // until check_paths() says otherwise
  std::vector<std::uint64_t> dir_device_;  // st_dev of each folder, 0 until sync() needs it
};

}  // namespace shoal::storage
