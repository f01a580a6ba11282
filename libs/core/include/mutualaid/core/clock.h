// The one source of time. No code reads the wall clock except SystemClock;
// everything else is handed a `Clock&` so tests and demos can run a whole plan
// year in minutes with a SimulatedClock.
//
// Business dates are civil days in Asia/Shanghai (UTC+08:00, no DST since 1991).

#ifndef MUTUALAID_CORE_CLOCK_H_
#define MUTUALAID_CORE_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace mutualaid {

// Asia/Shanghai, loaded once (thread-safe) with absl::LoadTimeZone. If the
// system has no tzdata the fixed offset +08:00 is used instead; for dates after
// 1991 the two are identical.
const absl::TimeZone& ShanghaiTimeZone();

// The Shanghai civil day containing `t`.
absl::CivilDay ShanghaiDay(absl::Time t);

// The instant `day` at hh:mm:ss Shanghai time.
absl::Time ShanghaiTime(absl::CivilDay day, int hour = 0, int minute = 0,
                        int second = 0);

class Clock {
 public:
  virtual ~Clock() = default;

  // The current instant. Thread-safe in every implementation.
  virtual absl::Time Now() const = 0;

  // The current Shanghai civil day: ShanghaiDay(Now()).
  absl::CivilDay Today() const { return ShanghaiDay(Now()); }
};

// The production clock: the only place in the code base that reads the wall
// clock (absl::Now()).
class SystemClock final : public Clock {
 public:
  absl::Time Now() const override;

  // A process-wide instance, never destroyed.
  static SystemClock& Default();
};

// A clock that moves only when told to. Thread-safe. It may be set backwards
// (tests do so on purpose); callers that need monotonic time must not rely on
// a SimulatedClock for it.
class SimulatedClock final : public Clock {
 public:
  // Starts at `start` (default: 2025-01-01 09:00 Shanghai, an arbitrary fixed
  // instant so tests never depend on the real date).
  SimulatedClock();
  explicit SimulatedClock(absl::Time start);

  SimulatedClock(const SimulatedClock&) = delete;
  SimulatedClock& operator=(const SimulatedClock&) = delete;

  absl::Time Now() const override;

  void Set(absl::Time t);
  // Adds `d` (which may be negative) to the current instant.
  void Advance(absl::Duration d);
  // Moves to `day` at 09:00 Shanghai time: a business-hours instant well away
  // from midnight, so "the same day" holds whatever small advances follow.
  void SetDay(absl::CivilDay day);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mutualaid

#endif  // MUTUALAID_CORE_CLOCK_H_
