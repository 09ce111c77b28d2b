#include "wire/wire_error.hpp"

namespace shoal::wire {
namespace {

const char* describe(Errc e) {
  switch (e) {
    case Errc::invalid_handshake:
      return "invalid handshake";
    case Errc::message_too_large:
      return "message too large";
    case Errc::bad_message_length:
      return "wrong message length";
    case Errc::bad_extension_payload:
      return "malformed extension message";
    case Errc::too_many_entries:
      return "too many entries";
    case Errc::metadata_too_large:
      return "metadata too large";
    case Errc::metadata_mismatch:
      return "metadata does not match the info-hash";
    case Errc::bad_hash_request:
      return "malformed hash request";
  }
  return "protocol error";
}

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "shoal.wire"; }
  std::string message(int ev) const override { return describe(static_cast<Errc>(ev)); }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

std::string WireError::message() const {
  std::string out = describe(code);
  if (detail != nullptr && *detail != '\0') out += std::string(" (") + detail + ")";
  return out;
}

}  // namespace shoal::wire
