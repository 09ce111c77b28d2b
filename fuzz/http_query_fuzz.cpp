// The tracker server's HTTP announce and scrape query strings, as anyone on the network may send them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tracker/http_query.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view query(reinterpret_cast<const char*>(data), size);
  (void)shoal::tracker::parse_announce_query(query);
  auto scrape = shoal::tracker::parse_scrape_query(query);
  if (scrape && scrape->info_hashes.size() > shoal::tracker::kMaxScrapeHashesPerRequest) __builtin_trap();
  return 0;
}
