#include "tracker/tracker_list.hpp"

#include <algorithm>
#include <random>

namespace shoal::tracker {

TrackerList::TrackerList(const std::vector<std::vector<std::string>>& tiers, std::uint64_t seed,
                         bool announce_to_all_tiers)
    : all_tiers_(announce_to_all_tiers) {
  std::mt19937_64 rng(seed);
  int index = 0;
  for (const auto& tier : tiers) {
    if (tier.empty()) continue;
    std::vector<TrackerStatus> entries;
    for (const auto& url : tier) {
      TrackerStatus s;
      s.url = url;
      s.tier = index;
      entries.push_back(std::move(s));
    }
    std::shuffle(entries.begin(), entries.end(), rng);  // BEP 12: shuffle each tier once
    tiers_.push_back(std::move(entries));
    ++index;
  }
}

std::vector<TrackerList::Target> TrackerList::order() const {
  std::vector<Target> out;
  for (std::size_t t = 0; t < tiers_.size(); ++t)
    for (std::size_t i = 0; i < tiers_[t].size(); ++i)
      out.push_back({static_cast<int>(t), i});
  return out;
}

void TrackerList::succeeded(Target t, std::int64_t peers, std::optional<std::int64_t> seeders,
                            std::optional<std::int64_t> leechers, std::int64_t interval, std::string warning,
                            std::chrono::steady_clock::time_point now) {
  auto& tier = tiers_[static_cast<std::size_t>(t.tier)];
  TrackerStatus& s = tier[t.index];
  s.last_error.clear();
  s.warning = std::move(warning);
  s.peers_returned = peers;
  s.seeders = seeders;
  s.leechers = leechers;
  s.interval = interval;
  s.failures = 0;
  s.working = true;
  s.next_announce = now + std::chrono::seconds(interval);
  // Move to the front of its tier, keeping the others' order.
  std::rotate(tier.begin(), tier.begin() + static_cast<std::ptrdiff_t>(t.index),
              tier.begin() + static_cast<std::ptrdiff_t>(t.index) + 1);
}

void TrackerList::failed(Target t, std::string error, std::chrono::steady_clock::time_point now) {
  TrackerStatus& s = tiers_[static_cast<std::size_t>(t.tier)][t.index];
  s.last_error = std::move(error);
  s.working = false;
  ++s.failures;
  // Retry later, backing off with repeated failures (60 s, 2 min, 4 min ... at most an hour).
  s.next_announce =
      now + std::chrono::seconds(std::min<std::int64_t>(3600, 60LL << std::min(s.failures - 1, 6)));
}

std::vector<TrackerStatus> TrackerList::all() const {
  std::vector<TrackerStatus> out;
  for (const auto& tier : tiers_)
    out.insert(out.end(), tier.begin(), tier.end());
  return out;
}

}  // namespace shoal::tracker
