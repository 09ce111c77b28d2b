#include "net/scrape_client.hpp"

#include "net/http_client.hpp"
#include "net/udp_tracker_client.hpp"

namespace shoal::net {

boost::asio::awaitable<Expected<tracker::ScrapeCounts, std::string>> scrape(std::string url,
                                                                            Sha1Digest info_hash,
                                                                            std::chrono::seconds timeout) {
  if (url.rfind("udp://", 0) == 0) {
    tracker::udp::ConnectionCache cache;
    UdpTrackerOptions options;
    options.max_attempts = 2;
    options.base_timeout = std::chrono::seconds(std::max<std::int64_t>(1, timeout.count() / 3));
    std::vector<Sha1Digest> hashes(1, info_hash);
    auto reply = co_await udp_tracker_request(url, std::move(hashes), cache, options);
    if (!reply) co_return unexpected(reply.error());
    if (auto* error = std::get_if<tracker::udp::ErrorResponse>(&*reply))
      co_return unexpected("tracker error: " + error->message);
    const auto* s = std::get_if<tracker::udp::ScrapeResponse>(&*reply);
    if (!s || s->entries.empty()) co_return unexpected(std::string("empty scrape reply"));
    tracker::ScrapeCounts counts;
    counts.seeders = s->entries[0].seeders;
    counts.leechers = s->entries[0].leechers;
    counts.completed = s->entries[0].completed;
    co_return counts;
  }
  auto scrape_url = tracker::build_scrape_url(url, info_hash);
  if (!scrape_url) co_return unexpected(std::string("this tracker's URL does not support scrape (BEP 48)"));
  auto response = co_await http_get(*scrape_url, timeout);
  if (!response) co_return unexpected(response.error().message());
  if (response->status != 200) co_return unexpected("HTTP status " + std::to_string(response->status));
  auto counts = tracker::parse_scrape_response(response->body, info_hash);
  if (!counts) co_return unexpected(counts.error().message());
  co_return *counts;
}

}  // namespace shoal::net
