#pragma once

#include <array>
#include <cstdint>
#include <random>
#include <string>

#include "shoal/version.hpp"

namespace shoal::session {

// Azureus-style peer id: "-SH0100-" then 12 random alphanumerics (clients show "Shoal 0.1.0").
inline std::array<std::uint8_t, 20> make_peer_id() {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::array<std::uint8_t, 20> id{};
  std::string prefix = "-SH0100-";
  for (std::size_t i = 0; i < prefix.size(); ++i)
    id[i] = static_cast<std::uint8_t>(prefix[i]);
  std::random_device rd;
  for (std::size_t i = prefix.size(); i < id.size(); ++i) {
    id[i] = static_cast<std::uint8_t>(kAlphabet[rd() % (sizeof kAlphabet - 1)]);
  }
  return id;
}

}  // namespace shoal::session
