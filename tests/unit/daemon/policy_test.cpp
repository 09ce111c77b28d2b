#include "daemon/policy.hpp"

#include <gtest/gtest.h>

#include "daemon/hook_runner.hpp"

namespace shoal::daemon {
namespace {

rpc::SessionValues scheduled(int begin, int end, int days) {
  rpc::SessionValues v;
  v.speed_limit_down = 1000;
  v.speed_limit_down_enabled = true;
  v.alt_speed_down = 50;
  v.alt_speed_up = 20;
  v.alt_speed_time_enabled = true;
  v.alt_speed_time_begin = begin;
  v.alt_speed_time_end = end;
  v.alt_speed_time_day = days;
  return v;
}

TEST(AltSpeed, ScheduleWithinADay) {
  auto v = scheduled(9 * 60, 17 * 60, 0b0111110);  // weekdays
  EXPECT_EQ(speed_limits(v, 1, 10 * 60), (SpeedLimits{50, 20, true}));
  EXPECT_EQ(speed_limits(v, 1, 8 * 60), (SpeedLimits{1000, 0, false}));
  EXPECT_EQ(speed_limits(v, 1, 17 * 60), (SpeedLimits{1000, 0, false}));  // the end is not included
  EXPECT_FALSE(alt_speed_active(v, 0, 10 * 60));                          // Sunday
}

TEST(AltSpeed, ScheduleAcrossMidnightBelongsToTheDayItBegan) {
  auto v = scheduled(22 * 60, 6 * 60, 1 << 5);  // Friday night
  EXPECT_TRUE(alt_speed_active(v, 5, 23 * 60));
  EXPECT_TRUE(alt_speed_active(v, 6, 5 * 60));    // Saturday morning: Friday's window
  EXPECT_FALSE(alt_speed_active(v, 5, 5 * 60));   // Friday morning: Thursday's window, not scheduled
  EXPECT_FALSE(alt_speed_active(v, 6, 23 * 60));  // Saturday night
}

TEST(AltSpeed, ManualSwitchWins) {
  rpc::SessionValues v;
  v.alt_speed_enabled = true;
  v.alt_speed_down = 7;
  EXPECT_EQ(speed_limits(v, 3, 0).download, 7);
}

TEST(SeedingLimits, OwnLimitsBeatTheSessionAndNegativeMeansUnlimited) {
  rpc::SessionValues v;
  v.seed_ratio_limited = true;
  v.seed_ratio_limit = 2.0;
  EXPECT_TRUE(seeding_done(v, {2.0, 0, std::nullopt, std::nullopt}));
  EXPECT_FALSE(seeding_done(v, {1.9, 0, std::nullopt, std::nullopt}));
  EXPECT_FALSE(seeding_done(v, {5.0, 0, -1.0, std::nullopt}));
  EXPECT_TRUE(seeding_done(v, {0.5, 0, 0.5, std::nullopt}));
  v.idle_seeding_limit_enabled = true;
  v.idle_seeding_limit = 10;
  EXPECT_TRUE(seeding_done(v, {0, 600, -1.0, std::nullopt}));
  EXPECT_FALSE(seeding_done(v, {0, 599, -1.0, std::nullopt}));
  EXPECT_FALSE(seeding_done(v, {0, 100000, -1.0, -1}));
}

TEST(HookArgv, PlaceholdersStayOneArgumentAndAreNotReexpanded) {
  HookTorrent t{3, "ab", "$(touch x); rm -rf ~ {dir}", "/dl"};
  auto argv = expand_hook_argv({"/bin/hook", "{name}", "--id={id}", "{hash}{dir}", "{unknown}"}, t);
  ASSERT_EQ(argv.size(), 5u);
  EXPECT_EQ(argv[1], "$(touch x); rm -rf ~ {dir}");
  EXPECT_EQ(argv[2], "--id=3");
  EXPECT_EQ(argv[3], "ab/dl");
  EXPECT_EQ(argv[4], "{unknown}");
  auto env = hook_environment(t);
  EXPECT_NE(std::find(env.begin(), env.end(), "TR_TORRENT_NAME=$(touch x); rm -rf ~ {dir}"), env.end());
}

}  // namespace
}  // namespace shoal::daemon
