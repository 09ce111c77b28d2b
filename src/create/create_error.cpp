#include "create/create_error.hpp"

namespace shoal::create {
namespace {

const char* describe(Errc e) {
  switch (e) {
    case Errc::not_found:
      return "no such file or directory";
    case Errc::not_regular:
      return "not a regular file or directory";
    case Errc::empty:
      return "no files with data to share";
    case Errc::io_error:
      return "read error";
    case Errc::file_changed:
      return "file changed while it was being hashed";
    case Errc::cancelled:
      return "cancelled";
  }
  return "create failed";
}

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "shoal.create"; }
  std::string message(int ev) const override { return describe(static_cast<Errc>(ev)); }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

std::string CreateError::message() const {
  if (detail.empty()) return describe(code);
  return std::string(describe(code)) + ": " + detail;
}

}  // namespace shoal::create
