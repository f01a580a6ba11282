#include "mutualaid/core/clock.h"

namespace mutualaid {

const absl::TimeZone& ShanghaiTimeZone() {
  // Function-local static: initialised once, thread-safe, never destroyed.
  static const absl::TimeZone* const tz = [] {
    auto* zone = new absl::TimeZone;
    if (!absl::LoadTimeZone("Asia/Shanghai", zone)) {
      // No tzdata (e.g. a distroless image): China has had no DST since 1991,
      // so the fixed offset gives the same civil days for every date we handle.
      *zone = absl::FixedTimeZone(8 * 60 * 60);
    }
    return zone;
  }();
  return *tz;
}

absl::CivilDay ShanghaiDay(absl::Time t) {
  return absl::ToCivilDay(t, ShanghaiTimeZone());
}

absl::Time ShanghaiTime(absl::CivilDay day, int hour, int minute, int second) {
  return absl::FromCivil(
      absl::CivilSecond(day.year(), day.month(), day.day(), hour, minute,
                        second),
      ShanghaiTimeZone());
}

absl::Time SystemClock::Now() const { return absl::Now(); }

SystemClock& SystemClock::Default() {
  static SystemClock* const clock = new SystemClock;
  return *clock;
}

SimulatedClock::SimulatedClock()
    : SimulatedClock(ShanghaiTime(absl::CivilDay(2025, 1, 1), 9)) {}

SimulatedClock::SimulatedClock(absl::Time start) : now_(start) {}

absl::Time SimulatedClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

void SimulatedClock::Set(absl::Time t) {
  absl::MutexLock lock(&mu_);
  now_ = t;
}

void SimulatedClock::Advance(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  now_ += d;
}

void SimulatedClock::SetDay(absl::CivilDay day) { Set(ShanghaiTime(day, 9)); }

}  // namespace mutualaid
