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

ScrapeBloom::Bits ScrapeBloom::bits_of(const Endpoint& peer) {
  std::string_view ip(reinterpret_cast<const char*>(peer.address.data()), peer.v6 ? 16 : 4);
  auto hash = hash::sha1(ip);
  auto index = [&](std::size_t i) {
    return static_cast<std::uint16_t>((hash.bytes[i] | (std::size_t{hash.bytes[i + 1]} << 8)) % kBits);
  };
  return {index(0), index(2)};
}

void ScrapeBloom::insert(const Bits& bits) {
  for (auto index : bits)
    bits_[index / 8] |= static_cast<std::uint8_t>(1u << (index % 8));
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
