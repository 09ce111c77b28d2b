// BEP 12 multitracker, with no I/O: tiers tried in order, trackers shuffled within a tier once, a tracker
// that answers moved to the front of its tier, and per-tracker state (last error, next announce, peers
// returned, swarm counts) that the session reports through its stats.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace shoal::tracker {

struct TrackerStatus {
  std::string url;
  int tier = 0;
  std::string last_error;  // empty after a success
  std::string warning;     // the tracker's "warning message", if it sent one
  std::int64_t peers_returned = 0;
  std::optional<std::int64_t> seeders;
  std::optional<std::int64_t> leechers;
  std::int64_t interval = 0;
  int failures = 0;  // consecutive
  std::chrono::steady_clock::time_point next_announce{};
  bool working = false;
};

class TrackerList {
 public:
  // announce_to_all_tiers: each announce goes to the first working tracker of every tier (what most clients
  // do for public torrents); otherwise only until one tier answers, as BEP 12 describes.
  TrackerList(const std::vector<std::vector<std::string>>& tiers, std::uint64_t seed,
              bool announce_to_all_tiers);

  // The order to try: tier by tier, in each tier's current order. The caller announces along it, reporting
  // each result, and stops a tier at its first success (and everything after, unless announcing to all).
  struct Target {
    int tier;
    std::size_t index;  // into tiers()[tier]
  };
  std::vector<Target> order() const;
  bool announce_to_all_tiers() const { return all_tiers_; }

  // Results: success moves the tracker to the front of its tier (BEP 12).
  void succeeded(Target t, std::int64_t peers, std::optional<std::int64_t> seeders,
                 std::optional<std::int64_t> leechers, std::int64_t interval, std::string warning,
                 std::chrono::steady_clock::time_point now);
  void failed(Target t, std::string error, std::chrono::steady_clock::time_point now);

  const std::vector<std::vector<TrackerStatus>>& tiers() const { return tiers_; }
  std::vector<TrackerStatus> all() const;
  bool empty() const { return tiers_.empty(); }

 private:
  std::vector<std::vector<TrackerStatus>> tiers_;
  bool all_tiers_;
};

}  // namespace shoal::tracker
