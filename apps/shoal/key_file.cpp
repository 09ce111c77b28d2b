#include "key_file.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstdio>

namespace shoal::cli {
namespace {

constexpr std::size_t kSeedSize = 32;

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

Expected<std::string, std::string> load_or_create_key_seed(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    struct stat st {};
    std::array<char, kSeedSize + 1> buffer{};
    bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    ssize_t n = ok ? ::read(fd, buffer.data(), buffer.size()) : -1;
    ::close(fd);
    if (!ok) return unexpected("key file " + path + " is not a regular file");
    if ((st.st_mode & 077) != 0)
      return unexpected("key file " + path + " may be read or written by others (chmod 600 " + path + ")");
    if (n != static_cast<ssize_t>(kSeedSize))
      return unexpected("key file " + path + " does not hold a 32-byte Ed25519 seed");
    return std::string(buffer.data(), kSeedSize);
  }
  std::string seed(kSeedSize, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(seed.data()), static_cast<int>(seed.size())) != 1)
    return unexpected(std::string("no random bytes for a new key"));
  fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return unexpected("cannot create key file " + path);
  bool written = write_all(fd, seed.data(), seed.size());
  written = ::close(fd) == 0 && written;
  if (!written) return unexpected("cannot write key file " + path);
  return seed;
}

std::optional<std::int64_t> read_stored_seq(const std::string& key_path) {
  std::string path = key_path + ".seq";
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return std::nullopt;
  std::array<char, 32> buffer{};
  std::size_t n = std::fread(buffer.data(), 1, buffer.size(), f);
  std::fclose(f);
  std::int64_t seq = 0;
  auto [end, ec] = std::from_chars(buffer.data(), buffer.data() + n, seq);
  if (ec != std::errc() || seq < 0) return std::nullopt;
  return seq;
}

Expected<void, std::string> write_stored_seq(const std::string& key_path, std::int64_t seq) {
  std::string path = key_path + ".seq";
  std::string temporary = path + ".tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return unexpected("cannot write " + temporary);
  std::string text = std::to_string(seq) + "\n";
  bool written = write_all(fd, text.data(), text.size()) && ::fsync(fd) == 0;
  written = ::close(fd) == 0 && written;
  if (!written || std::rename(temporary.c_str(), path.c_str()) != 0)
    return unexpected("cannot write " + path);
  return {};
}

}  // namespace shoal::cli
