#include "runtime/file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>

namespace shoal::runtime {
namespace {

std::error_code last_error() {
  return {errno, std::generic_category()};
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

}  // namespace

Expected<std::string, std::error_code> read_file(const std::filesystem::path& path, std::size_t max_size) {
  // O_NONBLOCK: open() of a FIFO would otherwise wait for a writer forever; the type is checked right after.
  Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) return unexpected(last_error());
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return unexpected(last_error());
  if (S_ISDIR(st.st_mode)) return unexpected(std::make_error_code(std::errc::is_a_directory));
  if (!S_ISREG(st.st_mode)) return unexpected(std::make_error_code(std::errc::invalid_argument));
  ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
  if (static_cast<std::uint64_t>(st.st_size) > max_size) {
    return unexpected(std::make_error_code(std::errc::file_too_large));
  }
  std::string data(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::read(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return unexpected(last_error());
    if (n == 0) break;  // shrank while reading
    done += static_cast<std::size_t>(n);
  }
  data.resize(done);
  return data;
}

std::error_code write_file_atomically(const std::filesystem::path& path, std::string_view data) {
  std::filesystem::path dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  std::random_device rd;
  std::filesystem::path tmp = dir / (".shoal-tmp-" + std::to_string(rd()) + "-" + path.filename().string());
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (fd.get() < 0) return last_error();
    std::size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        auto ec = last_error();
        ::unlink(tmp.c_str());
        return ec;
      }
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0 || ::close(fd.release()) != 0) {
      auto ec = last_error();
      ::unlink(tmp.c_str());
      return ec;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto ec = last_error();
    ::unlink(tmp.c_str());
    return ec;
  }
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() >= 0) ::fsync(dir_fd.get());
  return {};
}

}  // namespace shoal::runtime
