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

namespace shoal::storage {
namespace {

std::error_code last_error() {
  return {errno, std::generic_category()};
}

// Creates each directory below root on the way to `relative`'s parent, refusing symbolic links, and returns
// an O_PATH descriptor of the parent directory (or -1 with ec set). Walking with openat and O_NOFOLLOW means
// a link planted inside the download folder cannot redirect a write outside it.
int open_parent(const std::filesystem::path& root, const std::string& relative, bool create,
                std::error_code& ec) {
  int dir = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    if (create && errno == ENOENT) {
      std::filesystem::create_directories(root, ec);
      if (ec) return -1;
      dir = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
    if (dir < 0) {
      ec = last_error();
      return -1;
    }
  }
  std::size_t start = 0;
  for (auto slash = relative.find('/'); slash != std::string::npos; slash = relative.find('/', start)) {
    std::string part = relative.substr(start, slash - start);
    start = slash + 1;
    if (part.empty() || part == "." || part == "..") {
      ::close(dir);
      ec = std::make_error_code(std::errc::invalid_argument);
      return -1;
    }
    if (create && ::mkdirat(dir, part.c_str(), 0755) != 0 && errno != EEXIST) {
      ec = last_error();
      ::close(dir);
      return -1;
    }
    int next = ::openat(dir, part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) {
      ec = last_error();
      if (errno == ELOOP || errno == ENOTDIR) {
        // O_PATH | O_NOFOLLOW | O_DIRECTORY on a link says ENOTDIR: tell a link from a file for the message.
        struct stat st {};
        bool link = ::fstatat(dir, part.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
        ec = link ? Errc::symlink : Errc::not_a_directory;
      }
      ::close(dir);
      return -1;
    }
    ::close(dir);
    dir = next;
  }
  return dir;
}

std::string leaf_of(const std::string& relative) {
  auto slash = relative.rfind('/');
  return slash == std::string::npos ? relative : relative.substr(slash + 1);
}

}  // namespace

PieceStorage::PieceStorage(FileLayout layout, std::filesystem::path root, std::vector<bool> file_wanted,
                           std::filesystem::path parts_file)
    : layout_(std::move(layout)),
      root_(std::move(root)),
      file_wanted_(std::move(file_wanted)),
      parts_file_(std::move(parts_file)),
      read_fds_(layout_.files().size(), -1),
      write_fds_(layout_.files().size(), -1) {
  std::error_code ignored;
  root_length_ = std::filesystem::absolute(root_, ignored).native().size();
  if (file_wanted_.size() != layout_.files().size()) file_wanted_.assign(layout_.files().size(), true);
  // Edge pieces: those with bytes in both a wanted and a skipped (non-pad) file.
  std::vector<FileSlice> slices;
  for (PieceIndex p{0}; p.get() < layout_.num_pieces(); ++p) {
    slices.clear();
    layout_.map_range(p, 0, layout_.piece_size(p), slices);
    bool wanted = false, skipped = false;
    for (const auto& sl : slices) {
      const auto& spec = layout_.files()[static_cast<std::size_t>(sl.file.get())];
      if (spec.pad) continue;
      (file_wanted_[static_cast<std::size_t>(sl.file.get())] ? wanted : skipped) = true;
    }
    if (wanted && skipped) edge_pieces_.push_back(p);
  }
}

std::int64_t PieceStorage::parts_offset(PieceIndex piece, std::int64_t offset_in_piece) const {
  if (parts_file_.empty()) return -1;
  auto it = std::lower_bound(edge_pieces_.begin(), edge_pieces_.end(), piece);
  if (it == edge_pieces_.end() || *it != piece) return -1;
  return (it - edge_pieces_.begin()) * layout_.piece_length() + offset_in_piece;
}

int PieceStorage::open_parts(bool for_write, std::error_code& ec) {
  std::lock_guard lock(mutex_);
  if (parts_write_fd_ >= 0) return parts_write_fd_;
  if (!for_write && parts_read_fd_ >= 0) return parts_read_fd_;
  if (for_write) {
    std::error_code ignored;
    std::filesystem::create_directories(parts_file_.parent_path(), ignored);
  }
  int fd =
      ::open(parts_file_.c_str(), (for_write ? O_RDWR | O_CREAT : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    ec = last_error();
    return -1;
  }
  (for_write ? parts_write_fd_ : parts_read_fd_) = fd;
  return fd;
}

PieceStorage::~PieceStorage() {
  close_all();
}

std::filesystem::path PieceStorage::path_of(FileIndex file) const {
  return root_ / layout_.files()[static_cast<std::size_t>(file.get())].path;
}

void PieceStorage::close_all() {
  std::lock_guard lock(mutex_);
  for (auto* fds : {&read_fds_, &write_fds_}) {
    for (auto& fd : *fds) {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
  }
  for (int* fd : {&parts_read_fd_, &parts_write_fd_}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

int PieceStorage::open_file(FileIndex file, bool for_write, std::error_code& ec) {
  std::lock_guard lock(mutex_);
  auto i = static_cast<std::size_t>(file.get());
  if (write_fds_[i] >= 0) return write_fds_[i];
  if (!for_write && read_fds_[i] >= 0) return read_fds_[i];
  const std::string& relative = layout_.files()[i].path;
  if (root_length_ + 1 + relative.size() >= kMaxPathBytes) {
    ec = Errc::path_too_long;
    return -1;
  }
  int dir = open_parent(root_, relative, for_write, ec);
  if (dir < 0) return -1;
  std::string leaf = leaf_of(relative);
  // Only regular files are ever opened: a FIFO would block open() (and so a recheck) forever, and opening a
  // device can have effects of its own. The type is checked before opening, and again on the descriptor,
  // which O_NONBLOCK keeps from blocking if a FIFO is planted between the two.
  struct stat st {};
  if (::fstatat(dir, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (auto refused = refusal_for_mode(st.st_mode)) {
      ::close(dir);
      ec = refused;
      return -1;
    }
  }
  int flags = (for_write ? O_RDWR | O_CREAT : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
  int fd = ::openat(dir, leaf.c_str(), flags, 0644);
  ::close(dir);
  if (fd < 0) {
    ec = errno == ELOOP ? make_error_code(Errc::symlink) : last_error();
    return -1;
  }
  ec = ::fstat(fd, &st) != 0 ? last_error() : refusal_for_mode(st.st_mode);
  if (ec) {
    ::close(fd);
    return -1;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);  // a regular file from here on: plain I/O
  if (for_write) {
    // Sparse pre-allocation: the file gets its final size at once, without writing zeros.
    if (st.st_size < layout_.files()[i].length) {
      if (::ftruncate(fd, layout_.files()[i].length) != 0) {
        ec = last_error();
        ::close(fd);
        return -1;
      }
    }
  }
  (for_write ? write_fds_ : read_fds_)[i] = fd;
  return fd;
}

std::error_code PieceStorage::write_piece(PieceIndex piece, std::span<const std::uint8_t> data) {
  std::vector<FileSlice> slices;
  layout_.map_range(piece, 0, static_cast<std::int64_t>(data.size()), slices);
  std::int64_t consumed = 0;
  for (const auto& s : slices) {
    const auto& spec = layout_.files()[static_cast<std::size_t>(s.file.get())];
    const std::uint8_t* src = data.data() + consumed;
    std::int64_t in_piece = consumed;
    consumed += s.length;
    if (spec.pad) continue;
    std::error_code ec;
    int fd = -1;
    std::int64_t offset = s.file_offset;
    if (!file_wanted_[static_cast<std::size_t>(s.file.get())]) {
      offset = parts_offset(piece, in_piece);
      if (offset < 0) continue;  // a piece wholly inside skipped files: nothing to keep
      fd = open_parts(true, ec);
    } else {
      fd = open_file(s.file, true, ec);
    }
    if (fd < 0) return ec;
    std::int64_t done = 0;
    while (done < s.length) {
      ssize_t n = ::pwrite(fd, src + done, static_cast<std::size_t>(s.length - done), offset + done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return last_error();
      done += n;
    }
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
    const auto& spec = layout_.files()[static_cast<std::size_t>(s.file.get())];
    if (spec.pad) {
      std::memset(dst, 0, static_cast<std::size_t>(s.length));
      continue;
    }
    std::error_code ec;
    int fd = -1;
    std::int64_t offset = s.file_offset;
    if (!file_wanted_[static_cast<std::size_t>(s.file.get())] && parts_offset(piece, 0) >= 0) {
      offset = parts_offset(piece, begin + (produced - s.length));
      fd = open_parts(false, ec);
    } else {
      fd = open_file(s.file, false, ec);
    }
    if (fd < 0) return ec;
    std::int64_t done = 0;
    while (done < s.length) {
      ssize_t n = ::pread(fd, dst + done, static_cast<std::size_t>(s.length - done), offset + done);
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
    const auto& spec = layout_.files()[static_cast<std::size_t>(s.file.get())];
    auto fail = [&](std::error_code ec) {
      if (failed_file != nullptr) *failed_file = s.file;
      return ec;
    };
    if (spec.pad || !file_wanted_[static_cast<std::size_t>(s.file.get())]) {
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
    int fd = open_file(s.file, false, ec);
    if (fd < 0) return fail(ec);
    // A file shorter than the layout says is refused before it is mapped: reading a mapping past the end of
    // its file is a SIGBUS (see runtime/mapped_read.hpp).
    struct stat st {};
    if (::fstat(fd, &st) != 0) return fail(last_error());
    if (st.st_size < s.file_offset + s.length)
      return fail(std::make_error_code(std::errc::no_message_available));
    if (read_options_.map && !populate_missing_.load(std::memory_order_relaxed)) {
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
    // No mapping wanted, none to be had, or no way to fault one in safely: read().
    if (auto read_error = runtime::pread_range(fd, s.file_offset, s.length, buffer, consume))
      return fail(read_error);
  }
  return {};
}

std::optional<FileError> PieceStorage::check_paths() const {
  // Files of one folder are usually listed together: the parent of the previous file is kept open.
  std::string parent_of_last;
  int parent = -1;
  std::error_code parent_error;
  auto close_parent = [&] {
    if (parent >= 0) ::close(parent);
    parent = -1;
  };
  std::optional<FileError> problem;
  for (std::size_t i = 0; i < layout_.files().size() && !problem; ++i) {
    const auto& spec = layout_.files()[i];
    if (spec.pad || !file_wanted_[i]) continue;
    FileIndex file{static_cast<std::int32_t>(i)};
    if (root_length_ + 1 + spec.path.size() >= kMaxPathBytes) {
      problem = FileError{path_of(file), Errc::path_too_long};
      break;
    }
    auto slash = spec.path.rfind('/');
    std::string dir = slash == std::string::npos ? std::string() : spec.path.substr(0, slash + 1);
    if (parent < 0 || dir != parent_of_last) {
      close_parent();
      parent_error.clear();
      parent = open_parent(root_, dir, false, parent_error);
      parent_of_last = dir;
    }
    if (parent < 0) {
      // A folder that does not exist yet holds nothing to refuse; anything else in the way is refused.
      if (parent_error != std::errc::no_such_file_or_directory)
        problem = FileError{path_of(file), parent_error};
      continue;
    }
    struct stat st {};
    if (::fstatat(parent, leaf_of(spec.path).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) problem = FileError{path_of(file), last_error()};
      continue;
    }
    if (auto refused = refusal_for_mode(st.st_mode)) problem = FileError{path_of(file), refused};
  }
  close_parent();
  return problem;
}

std::error_code PieceStorage::create_empty_files() {
  for (std::size_t i = 0; i < layout_.files().size(); ++i) {
    const auto& spec = layout_.files()[i];
    if (spec.length != 0 || spec.pad || !file_wanted_[i]) continue;
    std::error_code ec;
    if (open_file(FileIndex{static_cast<std::int32_t>(i)}, true, ec) < 0) return ec;
  }
  return {};
}

std::optional<std::filesystem::path> PieceStorage::find_deleted_file() {
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < write_fds_.size(); ++i) {
    for (int fd : {write_fds_[i], read_fds_[i]}) {
      struct stat st {};
      // An open descriptor keeps a deleted file's inode alive with no links left.
      if (fd >= 0 && ::fstat(fd, &st) == 0 && st.st_nlink == 0)
        return path_of(FileIndex{static_cast<std::int32_t>(i)});
    }
  }
  return std::nullopt;
}

std::error_code PieceStorage::sync() {
  std::lock_guard lock(mutex_);
  for (int fd : write_fds_) {
    if (fd >= 0 && ::fdatasync(fd) != 0) return last_error();
  }
  if (parts_write_fd_ >= 0 && ::fdatasync(parts_write_fd_) != 0) return last_error();
  return {};
}

}  // namespace shoal::storage
