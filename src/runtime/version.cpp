#include "shoal/version.hpp"

namespace shoal {

std::string_view version() noexcept {
  return "0.1.0";
}

}  // namespace shoal
