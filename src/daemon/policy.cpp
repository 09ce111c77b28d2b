#include "daemon/policy.hpp"

namespace shoal::daemon {

bool alt_speed_active(const rpc::SessionValues& v, int weekday, int minute) {
  if (v.alt_speed_enabled) return true;
  if (!v.alt_speed_time_enabled) return false;
  int begin = v.alt_speed_time_begin, end = v.alt_speed_time_end;
  if (begin == end) return false;
  // A window across midnight (begin > end) belongs to the day it began on.
  bool in_window;
  int day = weekday;
  if (begin < end) {
    in_window = minute >= begin && minute < end;
  } else if (minute >= begin) {
    in_window = true;
  } else {
    in_window = minute < end;
    day = (weekday + 6) % 7;
  }
  return in_window && (v.alt_speed_time_day & (1 << day)) != 0;
}

SpeedLimits speed_limits(const rpc::SessionValues& v, int weekday, int minute) {
  if (alt_speed_active(v, weekday, minute)) return {v.alt_speed_down, v.alt_speed_up, true};
  return {v.speed_limit_down_enabled ? v.speed_limit_down : 0,
          v.speed_limit_up_enabled ? v.speed_limit_up : 0, false};
}

bool seeding_done(const rpc::SessionValues& v, const SeedingFacts& t) {
  std::optional<double> ratio = t.own_ratio;
  if (!ratio && v.seed_ratio_limited) ratio = v.seed_ratio_limit;
  if (ratio && *ratio >= 0 && t.ratio >= *ratio) return true;
  std::optional<std::int64_t> idle = t.own_idle_minutes;
  if (!idle && v.idle_seeding_limit_enabled) idle = v.idle_seeding_limit;
  return idle && *idle >= 0 && t.idle_seconds >= *idle * 60;
}

}  // namespace shoal::daemon
