#include "dht/scrape_bloom.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "hash/sha.hpp"

namespace shoal::dht {
namespace {

constexpr std::size_t kBits = kScrapeBloomSize * 8;

}  // namespace

std::optional<ScrapeBloom> ScrapeBloom::from_bytes(std::string_view bytes) {
  if (bytes.size() != kScrapeBloomSize) return std::nullopt;
  ScrapeBloom b;
  std::memcpy(b.bits_.data(), bytes.data(), kScrapeBloomSize);
  return b;
}

void ScrapeBloom::insert(const Endpoint& peer) {
  std::string_view ip(reinterpret_cast<const char*>(peer.address.data()), peer.v6 ? 16 : 4);
  auto hash = hash::sha1(ip);
  std::size_t index1 = (hash.bytes[0] | (std::size_t{hash.bytes[1]} << 8)) % kBits;
  std::size_t index2 = (hash.bytes[2] | (std::size_t{hash.bytes[3]} << 8)) % kBits;
  bits_[index1 / 8] |= static_cast<std::uint8_t>(1u << (index1 % 8));
  bits_[index2 / 8] |= static_cast<std::uint8_t>(1u << (index2 % 8));
}

void ScrapeBloom::merge(const ScrapeBloom& other) {
  for (std::size_t i = 0; i < bits_.size(); ++i)
    bits_[i] |= other.bits_[i];
}

double ScrapeBloom::estimate() const {
  std::size_t ones = 0;
  for (auto b : bits_)
    ones += static_cast<std::size_t>(std::popcount(b));
  // BEP 33: c = min(m - 1, zero bits); size = log(c / m) / (k * log(1 - 1 / m)).
  double m = kBits;
  double zeros = std::min(m - 1, static_cast<double>(kBits - ones));
  return std::log(zeros / m) / (2 * std::log(1 - 1 / m));
}

std::string ScrapeBloom::bytes() const {
  return std::string(reinterpret_cast<const char*>(bits_.data()), bits_.size());
}

}  // namespace shoal::dht
