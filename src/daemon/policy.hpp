// The daemon's rules over time, as pure functions: which speed limits are in force (the alternative-speed
// schedule) and when a seeding torrent has done its job (ratio and idle limits). The daemon's tick applies
// them.
#pragma once

#include <cstdint>
#include <optional>

#include "rpc/backend.hpp"

namespace shoal::daemon {

struct SpeedLimits {
  std::int64_t download = 0;  // bytes/s, 0 = unlimited
  std::int64_t upload = 0;
  bool alt = false;  // the alternative speeds are in force
  bool operator==(const SpeedLimits&) const = default;
};

// `weekday`: 0 Sunday .. 6 Saturday; `minute`: minutes after local midnight.
bool alt_speed_active(const rpc::SessionValues& v, int weekday, int minute);
SpeedLimits speed_limits(const rpc::SessionValues& v, int weekday, int minute);

struct SeedingFacts {
  double ratio = 0;                 // uploaded / size
  std::int64_t idle_seconds = 0;    // since the last upload
  std::optional<double> own_ratio;  // the torrent's: absent = the session's; negative = unlimited
  std::optional<std::int64_t> own_idle_minutes;
};

// True when a complete torrent should stop seeding.
bool seeding_done(const rpc::SessionValues& v, const SeedingFacts& t);

}  // namespace shoal::daemon
