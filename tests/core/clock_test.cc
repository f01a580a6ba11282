#include "mutualaid/core/clock.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace mutualaid {
namespace {

TEST(ClockTest, ShanghaiIsUtcPlusEight) {
  const absl::Time t = absl::FromCivil(absl::CivilSecond(2025, 6, 1, 0, 0, 0),
                                       absl::UTCTimeZone());
  EXPECT_EQ(ShanghaiTimeZone().At(t).offset, 8 * 3600);
}

TEST(ClockTest, SimulatedStartsAtFixedInstant) {
  SimulatedClock clock;
  EXPECT_EQ(clock.Today(), absl::CivilDay(2025, 1, 1));
  EXPECT_EQ(clock.Now(), ShanghaiTime(absl::CivilDay(2025, 1, 1), 9));
}

TEST(ClockTest, SetAndAdvance) {
  const absl::Time start = ShanghaiTime(absl::CivilDay(2025, 3, 1), 12, 30);
  SimulatedClock clock(start);
  EXPECT_EQ(clock.Now(), start);
  clock.Advance(absl::Minutes(90));
  EXPECT_EQ(clock.Now(), start + absl::Minutes(90));
  clock.Advance(absl::Hours(-2));
  EXPECT_EQ(clock.Now(), start - absl::Minutes(30));
  const absl::Time later = start + absl::Hours(24 * 400);
  clock.Set(later);
  EXPECT_EQ(clock.Now(), later);
}

TEST(ClockTest, SetDayIsNineInTheMorningShanghai) {
  SimulatedClock clock;
  clock.SetDay(absl::CivilDay(2026, 2, 28));
  EXPECT_EQ(clock.Today(), absl::CivilDay(2026, 2, 28));
  const absl::TimeZone::CivilInfo ci = ShanghaiTimeZone().At(clock.Now());
  EXPECT_EQ(ci.cs, absl::CivilSecond(2026, 2, 28, 9, 0, 0));
}

TEST(ClockTest, TodayTurnsAtShanghaiMidnightNotUtc) {
  // 2025-03-01 23:59:59 Shanghai == 2025-03-01 15:59:59 UTC.
  SimulatedClock clock(ShanghaiTime(absl::CivilDay(2025, 3, 1), 23, 59, 59));
  EXPECT_EQ(clock.Today(), absl::CivilDay(2025, 3, 1));
  clock.Advance(absl::Seconds(1));
  // Shanghai midnight: a new business day although UTC is still 16:00 on
  // the 1st.
  EXPECT_EQ(clock.Today(), absl::CivilDay(2025, 3, 2));
  EXPECT_EQ(absl::ToCivilDay(clock.Now(), absl::UTCTimeZone()),
            absl::CivilDay(2025, 3, 1));
  // UTC midnight is 08:00 in Shanghai: no change of business day there.
  clock.Set(absl::FromCivil(absl::CivilSecond(2025, 3, 2, 0, 0, 0),
                            absl::UTCTimeZone()) -
            absl::Seconds(1));
  EXPECT_EQ(clock.Today(), absl::CivilDay(2025, 3, 2));
  clock.Advance(absl::Seconds(2));
  EXPECT_EQ(clock.Today(), absl::CivilDay(2025, 3, 2));
}

TEST(ClockTest, YearEndAndLeapDay) {
  SimulatedClock clock(ShanghaiTime(absl::CivilDay(2027, 12, 31), 23, 0));
  clock.Advance(absl::Hours(1));
  EXPECT_EQ(clock.Today(), absl::CivilDay(2028, 1, 1));
  clock.SetDay(absl::CivilDay(2028, 2, 28));
  clock.Advance(absl::Hours(24));
  EXPECT_EQ(clock.Today(), absl::CivilDay(2028, 2, 29));
}

TEST(ClockTest, ShanghaiTimeRoundTrips) {
  const absl::CivilDay day(2025, 7, 15);
  EXPECT_EQ(ShanghaiDay(ShanghaiTime(day)), day);
  EXPECT_EQ(ShanghaiDay(ShanghaiTime(day, 23, 59, 59)), day);
  EXPECT_EQ(ShanghaiDay(ShanghaiTime(day) - absl::Seconds(1)), day - 1);
}

TEST(ClockTest, SimulatedIsThreadSafe) {
  SimulatedClock clock(absl::UnixEpoch());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&clock] {
      for (int i = 0; i < 1000; ++i) {
        clock.Advance(absl::Seconds(1));
        (void)clock.Today();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(clock.Now(), absl::UnixEpoch() + absl::Seconds(4000));
}

TEST(ClockTest, UsableThroughTheInterface) {
  SimulatedClock sim;
  sim.SetDay(absl::CivilDay(2025, 5, 20));
  const Clock& clock = sim;
  EXPECT_EQ(clock.Today(), absl::CivilDay(2025, 5, 20));
  // The system clock is only checked for being a Clock; its value is the
  // wall clock, which tests never assert on.
  const Clock& system = SystemClock::Default();
  (void)system;
}

}  // namespace
}  // namespace mutualaid
