#include "lsd/lsd_error.hpp"

namespace shoal::lsd {
namespace {

const char* text(Errc e) {
  switch (e) {
    case Errc::packet_too_large:
      return "LSD packet too large";
    case Errc::not_bt_search:
      return "not a BT-SEARCH request";
    case Errc::unterminated:
      return "LSD headers not ended by an empty line";
    case Errc::malformed_header:
      return "malformed LSD header line";
    case Errc::duplicate_header:
      return "LSD header given twice";
    case Errc::missing_host:
      return "LSD announce without Host";
    case Errc::unknown_host:
      return "LSD Host is not an LSD multicast group";
    case Errc::missing_port:
      return "LSD announce without Port";
    case Errc::bad_port:
      return "LSD Port not in 1..65535";
    case Errc::missing_info_hash:
      return "LSD announce without Infohash";
    case Errc::bad_info_hash:
      return "LSD Infohash is not 40 hex digits";
    case Errc::too_many_info_hashes:
      return "too many Infohash headers in one LSD announce";
    case Errc::bad_cookie:
      return "malformed LSD cookie";
  }
  return "LSD protocol error";
}

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "shoal.lsd"; }
  std::string message(int ev) const override { return text(static_cast<Errc>(ev)); }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

std::string describe(Errc e) {
  return text(e);
}

}  // namespace shoal::lsd
