#include "bencode/error.hpp"

#include <string>

namespace shoal::bencode {
namespace {

const char* describe(Errc e) {
  switch (e) {
    case Errc::unexpected_end:
      return "unexpected end of input";
    case Errc::unexpected_character:
      return "unexpected character";
    case Errc::invalid_integer:
      return "invalid integer";
    case Errc::leading_zero:
      return "number with a leading zero";
    case Errc::negative_zero:
      return "negative zero";
    case Errc::integer_overflow:
      return "integer does not fit in 64 bits";
    case Errc::invalid_string_length:
      return "invalid string length";
    case Errc::string_too_long:
      return "string runs past the end of input";
    case Errc::non_string_key:
      return "dictionary key is not a string";
    case Errc::unsorted_keys:
      return "unsorted dictionary keys";
    case Errc::duplicate_key:
      return "duplicate dictionary key";
    case Errc::depth_exceeded:
      return "nesting too deep";
    case Errc::too_many_items:
      return "too many items";
    case Errc::input_too_large:
      return "input too large";
    case Errc::trailing_data:
      return "trailing data after the value";
  }
  return "unknown bencode error";
}

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "shoal.bencode"; }
  std::string message(int ev) const override { return describe(static_cast<Errc>(ev)); }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

std::string DecodeError::message() const {
  return std::string("bencode: ") + describe(code) + " at byte " + std::to_string(offset);
}

}  // namespace shoal::bencode
