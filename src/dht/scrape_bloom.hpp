// BEP 33 DHT scrapes: the 2048-bit bloom filter (k = 2, indices from SHA-1 of the bare IP address) in which a
// node reports the seeds and peers it stores for a torrent, and the size estimate a scraper takes from the
// union (bitwise OR) of many nodes' filters. The parameters are fixed by the BEP so every client's filters
// combine.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dht/krpc.hpp"

namespace shoal::dht {

class ScrapeBloom {
 public:
  ScrapeBloom() = default;
  // A filter as received ("BFsd"/"BFpe"); nullopt unless exactly kScrapeBloomSize bytes.
  static std::optional<ScrapeBloom> from_bytes(std::string_view bytes);

  // The two bits an address sets (SHA-1 of the bare address, the port not part of it). A node computes
  // them once per announce, so that answering a scrape costs no hashing.
  using Bits = std::array<std::uint16_t, 2>;
  static Bits bits_of(const Endpoint& peer);
  void insert(const Bits& bits);
  void insert(const Endpoint& peer) { insert(bits_of(peer)); }
  void merge(const ScrapeBloom& other);
  // Estimated number of distinct addresses inserted (meaningful up to a few thousand).
  double estimate() const;
  std::string bytes() const;

 private:
  std::array<std::uint8_t, kScrapeBloomSize> bits_{};
};

}  // namespace shoal::dht
