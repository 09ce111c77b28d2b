// Synchronous piece I/O on the files of one torrent: pread/pwrite through file slices, files opened lazily.
// Called from disk worker threads (one call at a time per file descriptor is not required: pread/pwrite are
// positioned). Every path is joined below the download folder and checked to stay there: components are
// sanitized by the metainfo parser already, and opening refuses symbolic links anywhere below the root.
//
// What is opened, and why (a download folder may hold anything a hostile user or torrent planted there):
//  - only regular files. A FIFO would block open() forever (a planted FIFO hung a recheck), a device or a
//    socket is not data, and a directory where a file belongs cannot hold it: each is refused with a
//    storage::Errc naming the file type, checked before open() and again on the descriptor (opened with
//    O_NONBLOCK, so a FIFO swapped in between cannot block either);
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
#include <mutex>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

#include "runtime/mapped_read.hpp"
#include "storage/file_layout.hpp"
#include "storage/storage_error.hpp"

namespace shoal::storage {

class PieceStorage {
 public:
  // file_wanted: files with false are never created. A piece that spans a wanted and a skipped file keeps the
  // skipped file's part in `parts_file` (one slot per such edge piece), so the piece can still be served,
  // rechecked and hashed. Without a parts file those parts are dropped.
  PieceStorage(FileLayout layout, std::filesystem::path root, std::vector<bool> file_wanted = {},
               std::filesystem::path parts_file = {});
  ~PieceStorage();
  PieceStorage(const PieceStorage&) = delete;
  PieceStorage& operator=(const PieceStorage&) = delete;

  const FileLayout& layout() const { return layout_; }
  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path path_of(FileIndex file) const;

  // Writes a whole verified piece.
  std::error_code write_piece(PieceIndex piece, std::span<const std::uint8_t> data);
  // Reads [begin, begin + out.size()) of a piece; missing files or short files are errors.
  std::error_code read(PieceIndex piece, std::int64_t begin, std::span<std::uint8_t> out);
  // Hands a whole piece to `consume` in order, in one or more spans, for hashing: slices of wanted files are
  // read-only mappings of the page cache (no copy), each checked against the file's size and faulted in
  // before it is handed over so a file shorter than expected is an error (errc::no_message_available), not a
  // SIGBUS; without MADV_POPULATE_READ (Linux before 5.14), or with read_options.map off, they are pread()
  // into a buffer, as pad files and parts-file slices always are.
  // On an error, *failed_file (when given) is the file whose slice could not be read.
  std::error_code visit_piece(PieceIndex piece,
                              const std::function<void(std::span<const std::uint8_t>)>& consume,
                              FileIndex* failed_file = nullptr);
  // The first wanted file that could never be used, before any I/O: its path is too long, or something other
  // than a regular file (or a real folder on its way) already stands there. Missing files are fine.
  std::optional<FileError> check_paths() const;
  // How visit_piece() reads (the default maps; tests stand in an older kernel). Before any I/O.
  void set_read_options(runtime::MappedReadOptions options) { read_options_ = std::move(options); }
  // Creates the wanted zero-length files: no piece ever touches them, so writes never would.
  std::error_code create_empty_files();
  // Flushes written data to the device (before resume data that claims it is saved).
  std::error_code sync();
  // The first open file that was deleted (or replaced) under us since we opened it, if any: writes to it
  // would go nowhere and reads would serve data that is no longer the user's.
  std::optional<std::filesystem::path> find_deleted_file();
  // Closes every open file. Only when no read or write is in flight (e.g. at shutdown).
  void close_all();

 private:
  int open_file(FileIndex file, bool for_write, std::error_code& ec);
  int open_parts(bool for_write, std::error_code& ec);
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
  int parts_read_fd_ = -1;  // like the file descriptors below: opened once, closed by close_all()
  int parts_write_fd_ = -1;
  // Descriptors are opened once and only closed by close_all() (when no I/O is in flight), so a worker never
  // sees a descriptor closed under it. A file first opened read-only gets a second, writable descriptor.
  std::mutex mutex_;  // guards the two vectors (opening only; never held during reads or writes)
  std::vector<int> read_fds_;
  std::vector<int> write_fds_;
};

}  // namespace shoal::storage
