#include "storage/storage_error.hpp"

#include <sys/stat.h>

namespace shoal::storage {
namespace {

const char* describe(Errc e) {
  switch (e) {
    case Errc::fifo:
      return "is a FIFO (named pipe), not a regular file: refused";
    case Errc::device:
      return "is a device, not a regular file: refused";
    case Errc::socket:
      return "is a socket, not a regular file: refused";
    case Errc::directory:
      return "is a directory where the torrent has a file: refused";
    case Errc::symlink:
      return "is a symbolic link: links inside the download folder are never followed";
    case Errc::not_a_directory:
      return "a part of this path is not a directory (a file or a link where a folder is needed)";
    case Errc::path_too_long:
      return "path longer than the file system allows (PATH_MAX, 4096 bytes)";
    case Errc::deleted:
      return "was deleted while the torrent was running";
  }
  return "refused";
}

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "shoal.storage"; }
  std::string message(int ev) const override { return describe(static_cast<Errc>(ev)); }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

std::error_code refusal_for_mode(unsigned mode) noexcept {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return {};
    case S_IFIFO:
      return Errc::fifo;
    case S_IFCHR:
    case S_IFBLK:
      return Errc::device;
    case S_IFSOCK:
      return Errc::socket;
    case S_IFDIR:
      return Errc::directory;
    case S_IFLNK:
      return Errc::symlink;
    default:
      return Errc::device;
  }
}

}  // namespace shoal::storage
