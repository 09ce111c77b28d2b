#include "storage/piece_storage.hpp"

#include "runtime/mapped_read.hpp"
#include "storage/storage_error.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <unordered_map>

namespace shoal::storage {
namespace {

std::error_code last_error() {
  return {errno, std::generic_category()};
}

// Slices smaller than this are pread() by visit_piece(): for a small file the fstat, mmap, madvise and munmap
// a mapping needs cost more than copying the bytes.
constexpr std::int64_t kMapAtLeast = 32 * 1024;

// Why openat() of something that should be a folder failed: a link or a file stands there, or errno's reason.
std::error_code folder_refusal(int parent, const char* name) {
  std::error_code ec = last_error();
  if (errno == ELOOP || errno == ENOTDIR) {
    struct stat st {};
    bool link = ::fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
    ec = link ? Errc::symlink : Errc::not_a_directory;
  }
  return ec;
}

FileStamp stamp_of(const struct stat& st) {
  if (!S_ISREG(st.st_mode)) return FileStamp{};
  return FileStamp{st.st_size, st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec};
}

}  // namespace

// Opens a file of the torrent relative to its folder's descriptor (see the header for the rules).
class PieceStorage::FileOpener final : public PoolOpener {
 public:
  FileOpener(PieceStorage& storage, int dir) : storage_(storage), dir_(dir) {}

  int open(std::int32_t index, bool writable, std::error_code& ec) override {
    auto i = static_cast<std::size_t>(index);
    std::string leaf = storage_.leaf_of(i);
    // No pre-allocation: a piece written past a file's end leaves a hole before it (sparse, as a truncate
    // would), and the file reaches its length with the write of its last bytes. One call per new file.
    char& known = storage_.file_known_[i];
    if (writable && known == 0) {
      // The common case of a download: the file is new. O_EXCL proves it a regular file we just made.
      int fd = ::openat(dir_, leaf.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (fd >= 0) {
        known = 1;
        return fd;
      }
      if (errno != EEXIST) {
        ec = last_error();
        return -1;
      }
    }
    struct stat st {};
    if (known == 0) {
      // Not seen before: only a regular file is ever opened. A FIFO would block open() (and so a recheck)
      // forever, and opening a device can have effects of its own. The type is checked before opening, and
      // again on the descriptor, which O_NONBLOCK keeps from blocking if a FIFO is planted between the two.
      if (::fstatat(dir_, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (auto refused = refusal_for_mode(st.st_mode)) {
          ec = refused;
          return -1;
        }
      } else if (!writable) {
        ec = last_error();
        return -1;
      }
    }
    int flags = (writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
    if (writable && known == 0) flags |= O_CREAT;
    int fd = ::openat(dir_, leaf.c_str(), flags, 0644);
    if (fd < 0) {
      if (errno == ENOENT && known != 0) {
        ec = Errc::deleted;
        std::lock_guard lock(storage_.dirty_mutex_);
        if (!storage_.deleted_) storage_.deleted_ = storage_.path_of(FileIndex{index});
      } else {
        ec = errno == ELOOP ? make_error_code(Errc::symlink) : last_error();
      }
      return -1;
    }
    // O_NONBLOCK stays: Linux ignores it for regular files, and it keeps a FIFO swapped in later from
    // blocking a reader.
    if (known == 0) {
      ec = ::fstat(fd, &st) != 0 ? last_error() : refusal_for_mode(st.st_mode);
      if (ec) {
        ::close(fd);
        return -1;
      }
    }
    known = 1;
    return fd;
  }

 private:
  PieceStorage& storage_;
  int dir_;
};

// Opens one folder below its parent's descriptor, creating it first (once) when asked to.
class PieceStorage::DirOpener final : public PoolOpener {
 public:
  DirOpener(PieceStorage& storage, int parent, bool create)
      : storage_(storage), parent_(parent), create_(create) {}

  int open(std::int32_t index, bool, std::error_code& ec) override {
    auto d = index - static_cast<std::int32_t>(storage_.layout_.files().size()) - 1;
    const Dir& dir = storage_.dirs_[static_cast<std::size_t>(d)];
    char& created = storage_.dir_created_[static_cast<std::size_t>(d)];
    constexpr int kFlags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    if (dir.parent < 0) {
      // The download folder may be a link: the user chose it.
      int fd = ::open(storage_.root_.c_str(), kFlags);
      if (fd < 0 && create_ && errno == ENOENT) {
        std::filesystem::create_directories(storage_.root_, ec);
        if (ec) return -1;
        fd = ::open(storage_.root_.c_str(), kFlags);
      }
      if (fd < 0) ec = last_error();
      if (fd >= 0) created = 1;
      return fd;
    }
    if (create_ && created == 0 && ::mkdirat(parent_, dir.name.c_str(), 0755) != 0 && errno != EEXIST) {
      ec = last_error();
      return -1;
    }
    int fd = ::openat(parent_, dir.name.c_str(), kFlags | O_NOFOLLOW);
    if (fd < 0) {
      ec = folder_refusal(parent_, dir.name.c_str());
      return -1;
    }
    created = 1;  // there now: never made again (not even after its descriptor is closed)
    return fd;
  }

 private:
  PieceStorage& storage_;
  int parent_;
  bool create_;
};

class PieceStorage::PartsOpener final : public PoolOpener {
 public:
  explicit PartsOpener(PieceStorage& storage) : storage_(storage) {}

  int open(std::int32_t, bool writable, std::error_code& ec) override {
    if (writable && !storage_.parts_dir_created_) {
      std::error_code ignored;
      std::filesystem::create_directories(storage_.parts_file_.parent_path(), ignored);
      storage_.parts_dir_created_ = true;
    }
    int fd = ::open(storage_.parts_file_.c_str(),
                    (writable ? O_RDWR | O_CREAT : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) ec = last_error();
    return fd;
  }

 private:
  PieceStorage& storage_;
};

PieceStorage::PieceStorage(FileLayout layout, std::filesystem::path root, std::vector<bool> file_wanted,
                           std::filesystem::path parts_file, FilePool* pool)
    : layout_(std::move(layout)),
      root_(std::move(root)),
      file_wanted_(std::move(file_wanted)),
      parts_file_(std::move(parts_file)),
      own_pool_(pool == nullptr ? std::make_unique<FilePool>() : nullptr),
      pool_(pool == nullptr ? own_pool_.get() : pool),
      owner_(pool_->add_owner()) {
  std::error_code ignored;
  root_length_ = std::filesystem::absolute(root_, ignored).native().size();
  const auto& files = layout_.files();
  if (file_wanted_.size() != files.size()) file_wanted_.assign(files.size(), true);
  // Edge pieces: those with bytes in both a wanted and a skipped (non-pad) file.
  std::vector<FileSlice> slices;
  for (PieceIndex p{0}; p.get() < layout_.num_pieces(); ++p) {
    slices.clear();
    layout_.map_range(p, 0, layout_.piece_size(p), slices);
    bool wanted = false, skipped = false;
    for (const auto& sl : slices) {
      const auto& spec = files[static_cast<std::size_t>(sl.file.get())];
      if (spec.pad) continue;
      (file_wanted_[static_cast<std::size_t>(sl.file.get())] ? wanted : skipped) = true;
    }
    if (wanted && skipped) edge_pieces_.push_back(p);
  }
  // The folder tree: one entry per folder on the way to any file, each named once.
  dirs_.push_back(Dir{});
  std::unordered_map<std::string, std::int32_t> index_of;
  file_dir_.reserve(files.size());
  for (const auto& f : files) {
    auto slash = f.path.rfind('/');
    if (slash == std::string::npos) {
      file_dir_.push_back(0);
      continue;
    }
    std::string folder = f.path.substr(0, slash);
    if (auto it = index_of.find(folder); it != index_of.end()) {
      file_dir_.push_back(it->second);
      continue;
    }
    std::int32_t parent = 0;
    std::size_t start = 0;
    for (;;) {
      auto end = folder.find('/', start);
      std::string prefix = folder.substr(0, end);
      auto [it, inserted] = index_of.try_emplace(prefix, static_cast<std::int32_t>(dirs_.size()));
      if (inserted) {
        std::string name = folder.substr(start, end == std::string::npos ? std::string::npos : end - start);
        bool valid = !name.empty() && name != "." && name != "..";
        dirs_.push_back(Dir{parent, std::move(name), valid});
      }
      parent = it->second;
      if (end == std::string::npos) break;
      start = end + 1;
    }
    file_dir_.push_back(parent);
  }
  dir_created_.assign(dirs_.size(), 0);
  dir_device_.assign(dirs_.size(), 0);
  file_known_.assign(files.size(), 0);
  unwritten_ = std::make_unique<std::atomic<std::int64_t>[]>(files.size());
  for (std::size_t i = 0; i < files.size(); ++i)
    unwritten_[i].store(files[i].length, std::memory_order_relaxed);
  unsynced_.assign(files.size() + 1, 0);
  unstamped_.assign(files.size() + 1, 0);
}

std::int64_t PieceStorage::parts_offset(PieceIndex piece, std::int64_t offset_in_piece) const {
  if (parts_file_.empty()) return -1;
  auto it = std::lower_bound(edge_pieces_.begin(), edge_pieces_.end(), piece);
  if (it == edge_pieces_.end() || *it != piece) return -1;
  return (it - edge_pieces_.begin()) * layout_.piece_length() + offset_in_piece;
}

PieceStorage::~PieceStorage() {
  close_all();
}

std::filesystem::path PieceStorage::path_of(FileIndex file) const {
  return root_ / layout_.files()[static_cast<std::size_t>(file.get())].path;
}

std::string PieceStorage::leaf_of(std::size_t file) const {
  const std::string& relative = layout_.files()[file].path;
  auto slash = relative.rfind('/');
  return slash == std::string::npos ? relative : relative.substr(slash + 1);
}

void PieceStorage::close_all() {
  pool_->drop_owner(owner_);
}

Lease PieceStorage::lease_dir(std::int32_t dir, bool create, std::error_code& ec) {
  if (auto lease = pool_->try_acquire(dir_key(dir), false)) return lease;
  const Dir& d = dirs_[static_cast<std::size_t>(dir)];
  if (!d.valid) {
    ec = std::make_error_code(std::errc::invalid_argument);
    return {};
  }
  Lease parent;
  if (d.parent >= 0) {
    parent = lease_dir(d.parent, create, ec);
    if (!parent) return {};
  }
  DirOpener opener(*this, parent.fd(), create);
  return pool_->acquire(dir_key(dir), false, opener, ec);
}

Lease PieceStorage::lease_file(std::size_t file, bool writable, std::error_code& ec) {
  if (auto lease = pool_->try_acquire(file_key(file), writable)) return lease;
  if (root_length_ + 1 + layout_.files()[file].path.size() >= kMaxPathBytes) {
    ec = Errc::path_too_long;
    return {};
  }
  Lease dir = lease_dir(file_dir_[file], writable, ec);
  if (!dir) return {};
  FileOpener opener(*this, dir.fd());
  return pool_->acquire(file_key(file), writable, opener, ec);
}

Lease PieceStorage::lease_parts(bool writable, std::error_code& ec) {
  if (auto lease = pool_->try_acquire(parts_key(), writable)) return lease;
  PartsOpener opener(*this);
  return pool_->acquire(parts_key(), writable, opener, ec);
}

void PieceStorage::note_written(std::size_t index, bool data) {
  std::lock_guard lock(dirty_mutex_);
  if (data && unsynced_[index] == 0) {
    unsynced_[index] = 1;
    unsynced_list_.push_back(static_cast<std::int32_t>(index));
  }
  if (unstamped_[index] == 0) {
    unstamped_[index] = 1;
    unstamped_list_.push_back(static_cast<std::int32_t>(index));
  }
}

std::error_code PieceStorage::write_piece(PieceIndex piece, std::span<const std::uint8_t> data) {
  return write_range(piece, 0, data, true);
}

std::error_code PieceStorage::write_blocks(PieceIndex piece, std::int64_t begin,
                                           std::span<const std::uint8_t> data) {
  // Not counted towards a file written whole: the verified piece is written again over these bytes.
  return write_range(piece, begin, data, false);
}

std::error_code PieceStorage::write_range(PieceIndex piece, std::int64_t begin,
                                          std::span<const std::uint8_t> data, bool whole) {
  std::vector<FileSlice> slices;
  layout_.map_range(piece, begin, static_cast<std::int64_t>(data.size()), slices);
  std::int64_t consumed = 0;
  for (const auto& s : slices) {
    auto file = static_cast<std::size_t>(s.file.get());
    const auto& spec = layout_.files()[file];
    const std::uint8_t* src = data.data() + consumed;
    std::int64_t in_piece = begin + consumed;
    consumed += s.length;
    if (spec.pad) continue;
    std::error_code ec;
    Lease lease;
    std::int64_t offset = s.file_offset;
    std::size_t dirty = file;
    if (!file_wanted_[file]) {
      offset = parts_offset(piece, in_piece);
      if (offset < 0) continue;  // a piece wholly inside skipped files: nothing to keep
      lease = lease_parts(true, ec);
      dirty = layout_.files().size();
    } else {
      lease = lease_file(file, true, ec);
    }
    if (!lease) return ec;
    std::int64_t done = 0;
    while (done < s.length) {
      ssize_t n = ::pwrite(lease.fd(), src + done, static_cast<std::size_t>(s.length - done), offset + done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return last_error();
      done += n;
    }
    // Noted after the bytes are written: the sync() that takes this note flushes them. A sync() that took
    // the file's note earlier may miss them, but it cannot vouch for this piece: the piece is marked
    // verified only after write_piece() returns, and resume data takes the verified pieces before syncing.
    note_written(dirty, true);
    // A file written whole in this session (the usual small file: by one piece, or two) is not wanted
    // again while downloading: it goes first when the pool needs room, before files still being filled.
    if (whole && dirty == file && unwritten_[file].fetch_sub(s.length, std::memory_order_relaxed) <= s.length)
      lease.release_cold();
  }
  return {};
}

std::error_code PieceStorage::read(PieceIndex piece, std::int64_t begin, std::span<std::uint8_t> out) {
  std::vector<FileSlice> slices;
  layout_.map_range(piece, begin, static_cast<std::int64_t>(out.size()), slices);
  std::int64_t produced = 0;
  for (const auto& s : slices) {
    std::uint8_t* dst = out.data() + produced;
    produced += s.length;
    auto file = static_cast<std::size_t>(s.file.get());
    const auto& spec = layout_.files()[file];
    if (spec.pad) {
      std::memset(dst, 0, static_cast<std::size_t>(s.length));
      continue;
    }
    std::error_code ec;
    Lease lease;
    std::int64_t offset = s.file_offset;
    if (!file_wanted_[file] && parts_offset(piece, 0) >= 0) {
      offset = parts_offset(piece, begin + (produced - s.length));
      lease = lease_parts(false, ec);
    } else {
      lease = lease_file(file, false, ec);
    }
    if (!lease) return ec;
    std::int64_t done = 0;
    while (done < s.length) {
      ssize_t n = ::pread(lease.fd(), dst + done, static_cast<std::size_t>(s.length - done), offset + done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return last_error();
      if (n == 0) return std::make_error_code(std::errc::no_message_available);  // file shorter than expected
      done += n;
    }
  }
  if (produced != static_cast<std::int64_t>(out.size()))
    return std::make_error_code(std::errc::invalid_argument);
  return {};
}

std::error_code PieceStorage::visit_piece(PieceIndex piece,
                                          const std::function<void(std::span<const std::uint8_t>)>& consume,
                                          FileIndex* failed_file) {
  std::vector<FileSlice> slices;
  layout_.map_range(piece, 0, layout_.piece_size(piece), slices);
  std::vector<std::uint8_t> buffer;
  const auto page = static_cast<std::int64_t>(::sysconf(_SC_PAGESIZE));
  std::int64_t in_piece = 0;
  for (const auto& s : slices) {
    std::int64_t begin = in_piece;
    in_piece += s.length;
    if (s.length == 0) continue;
    auto file = static_cast<std::size_t>(s.file.get());
    const auto& spec = layout_.files()[file];
    auto fail = [&](std::error_code ec) {
      if (failed_file != nullptr) *failed_file = s.file;
      return ec;
    };
    if (spec.pad || !file_wanted_[file]) {
      // Pad files and parts-file slices: through read(), which knows where those bytes live.
      buffer.resize(static_cast<std::size_t>(std::min<std::int64_t>(s.length, 1 << 20)));
      for (std::int64_t off = 0; off < s.length;) {
        auto n = std::min<std::int64_t>(s.length - off, static_cast<std::int64_t>(buffer.size()));
        auto chunk = std::span(buffer.data(), static_cast<std::size_t>(n));
        if (auto ec = read(piece, begin + off, chunk)) return fail(ec);
        consume(chunk);
        off += n;
      }
      continue;
    }
    std::error_code ec;
    Lease lease = lease_file(file, false, ec);
    if (!lease) return fail(ec);
    int fd = lease.fd();
    if (read_options_.map && s.length >= kMapAtLeast && !populate_missing_.load(std::memory_order_relaxed)) {
      // A file shorter than the layout says is refused before it is mapped: reading a mapping past the end
      // of its file is a SIGBUS (see runtime/mapped_read.hpp).
      struct stat st {};
      if (::fstat(fd, &st) != 0) return fail(last_error());
      if (st.st_size < s.file_offset + s.length)
        return fail(std::make_error_code(std::errc::no_message_available));
      std::int64_t aligned = s.file_offset / page * page;
      auto map_length = static_cast<std::size_t>(s.file_offset + s.length - aligned);
      void* map = ::mmap(nullptr, map_length, PROT_READ, MAP_SHARED, fd, aligned);
      if (map != MAP_FAILED) {
        auto populated = runtime::populate_read(map, map_length, read_options_);
        if (populated == runtime::Populate::done) {
          consume(std::span(static_cast<const std::uint8_t*>(map) + (s.file_offset - aligned),
                            static_cast<std::size_t>(s.length)));
        }
        ::munmap(map, map_length);
        if (populated == runtime::Populate::done) continue;
        if (populated == runtime::Populate::failed) {
          return fail(std::make_error_code(std::errc::no_message_available));  // shrank since the fstat
        }
        populate_missing_.store(true, std::memory_order_relaxed);  // an old kernel: pread from now on
      }
    }
    // No mapping wanted, none to be had, a small slice, or no way to fault one in safely: read(). A short
    // file ends the read early, which is an error (no_message_available).
    if (auto read_error = runtime::pread_range(fd, s.file_offset, s.length, buffer, consume))
      return fail(read_error);
  }
  return {};
}

std::optional<FileError> PieceStorage::check_paths() {
  const auto& files = layout_.files();
  stamps_.assign(files.size(), FileStamp{});
  stamps_valid_ = false;
  any_file_exists_ = false;
  // Files of one folder are usually listed together: the last folder's lease is kept.
  std::int32_t last_dir = -1;
  Lease parent;
  std::error_code parent_error;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& spec = files[i];
    if (spec.pad) continue;
    FileIndex file{static_cast<std::int32_t>(i)};
    bool wanted = file_wanted_[i];
    if (root_length_ + 1 + spec.path.size() >= kMaxPathBytes) {
      if (wanted) return FileError{path_of(file), Errc::path_too_long};
      continue;
    }
    if (file_dir_[i] != last_dir) {
      parent.reset();
      parent_error.clear();
      parent = lease_dir(file_dir_[i], false, parent_error);
      last_dir = file_dir_[i];
    }
    if (!parent) {
      // A folder that does not exist yet holds nothing to refuse; anything else in the way is refused.
      if (wanted && parent_error != std::errc::no_such_file_or_directory)
        return FileError{path_of(file), parent_error};
      continue;
    }
    struct stat st {};
    if (::fstatat(parent.fd(), leaf_of(i).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT && wanted) return FileError{path_of(file), last_error()};
      continue;
    }
    any_file_exists_ = true;
    stamps_[i] = stamp_of(st);
    if (auto refused = refusal_for_mode(st.st_mode)) {
      if (wanted) return FileError{path_of(file), refused};
      continue;
    }
    file_known_[i] = 1;
  }
  stamps_valid_ = true;
  std::lock_guard lock(dirty_mutex_);
  for (auto i : unstamped_list_)
    unstamped_[static_cast<std::size_t>(i)] = 0;
  unstamped_list_.clear();
  return std::nullopt;
}

std::error_code PieceStorage::create_empty_files() {
  for (std::size_t i = 0; i < layout_.files().size(); ++i) {
    const auto& spec = layout_.files()[i];
    if (spec.length != 0 || spec.pad || !file_wanted_[i]) continue;
    if (file_known_[i] != 0 && stamps_valid_ && stamps_[i].size == 0) continue;  // there already
    std::error_code ec;
    if (!lease_file(i, true, ec)) return ec;
    note_written(i, false);  // no data to flush: only its stamp changed
  }
  return {};
}

std::optional<std::filesystem::path> PieceStorage::find_deleted_file() {
  {
    std::lock_guard lock(dirty_mutex_);
    if (deleted_) return deleted_;
  }
  std::optional<std::filesystem::path> gone;
  auto files = static_cast<std::int32_t>(layout_.files().size());
  // Only descriptors used since the last look: a file idle since cannot have had bytes written into nowhere
  // (it is looked at again as soon as it is used, and one closed meanwhile says Errc::deleted on reopen).
  // Files written whole are left out until read again, so a download of 50,000 files does not fstat each.
  pool_->for_each_used(owner_, [&](std::int32_t index, int fd) {
    struct stat st {};
    // An open descriptor keeps a deleted file's inode alive with no links left.
    if (!gone && index < files && ::fstat(fd, &st) == 0 && st.st_nlink == 0) gone = path_of(FileIndex{index});
  });
  return gone;
}

std::size_t PieceStorage::unsynced_files() const {
  std::lock_guard lock(dirty_mutex_);
  return unsynced_list_.size();
}

std::error_code PieceStorage::sync() {
  std::vector<std::int32_t> dirty;
  {
    std::lock_guard lock(dirty_mutex_);
    dirty.swap(unsynced_list_);
    for (auto i : dirty)
      unsynced_[static_cast<std::size_t>(i)] = 0;
  }
  auto put_back = [&](std::error_code ec) {
    // Not durable yet: the next sync() tries again, and nothing may vouch for these files meanwhile.
    std::lock_guard lock(dirty_mutex_);
    for (auto i : dirty) {
      if (unsynced_[static_cast<std::size_t>(i)] == 0) {
        unsynced_[static_cast<std::size_t>(i)] = 1;
        unsynced_list_.push_back(i);
      }
    }
    return ec;
  };
  const auto files = layout_.files().size();
  auto sync_one = [&](std::size_t index) -> std::error_code {
    std::error_code ec;
    Lease lease = index == files ? lease_parts(false, ec) : lease_file(index, false, ec);
    if (!lease) return ec;
    return ::fdatasync(lease.fd()) != 0 ? last_error() : std::error_code{};
  };
  if (dirty.size() <= kSyncEachUpTo) {
    for (auto i : dirty) {
      if (auto ec = sync_one(static_cast<std::size_t>(i))) return put_back(ec);
    }
    return {};
  }
  // Many files: one syncfs() per file system they live on (a folder's, since only a folder can be a mount
  // point), instead of one journal commit per file.
  std::set<std::int32_t> folders;
  for (auto i : dirty) {
    if (static_cast<std::size_t>(i) == files) {
      if (auto ec = sync_one(files)) return put_back(ec);
    } else {
      folders.insert(file_dir_[static_cast<std::size_t>(i)]);
    }
  }
  std::set<std::uint64_t> synced;
  for (auto d : folders) {
    auto& device = dir_device_[static_cast<std::size_t>(d)];
    if (device != 0 && synced.count(device) != 0) continue;
    std::error_code ec;
    Lease lease = lease_dir(d, false, ec);
    if (!lease) return put_back(ec);
    struct stat st {};
    if (device == 0 && ::fstat(lease.fd(), &st) == 0) device = st.st_dev + 1;  // + 1: 0 means unknown
    if (device != 0 && synced.count(device) != 0) continue;
    if (::syncfs(lease.fd()) != 0) return put_back(last_error());
    synced.insert(device);
  }
  return {};
}

std::vector<FileStamp> PieceStorage::file_stamps() {
  std::vector<std::int32_t> changed;
  {
    std::lock_guard lock(dirty_mutex_);
    changed.swap(unstamped_list_);
    for (auto i : changed)
      unstamped_[static_cast<std::size_t>(i)] = 0;
  }
  if (!stamps_valid_) {
    stamps_ = collect_file_stamps(root_, layout_);
    stamps_valid_ = true;
    return stamps_;
  }
  for (auto i : changed) {
    auto index = static_cast<std::size_t>(i);
    if (index >= layout_.files().size()) continue;  // the parts file has no stamp
    struct stat st {};
    stamps_[index] = ::fstatat(AT_FDCWD, path_of(FileIndex{i}).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0
                         ? stamp_of(st)
                         : FileStamp{};
  }
  return stamps_;
}

}  // namespace shoal::storage
