// Civil-date arithmetic of the plan: plan years, coverage, waiting periods,
// deadlines, ages. All dates are Asia/Shanghai civil days; "D + n days" is
// calendar-day arithmetic (absl::CivilDay + n).
#ifndef MUTUALAID_PLAN_CALENDAR_H_
#define MUTUALAID_PLAN_CALENDAR_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/time/civil_time.h"
#include "mutualaid/plan/codes.h"
#include "mutualaid/plan/plan_data.h"

namespace mutualaid::plan {

// §三: plan year Y runs from Y-04-01 to (Y+1)-03-31.
int PlanYearContaining(absl::CivilDay date);
absl::CivilDay PlanYearStart(int plan_year);  // Y-04-01
absl::CivilDay PlanYearEnd(int plan_year);    // (Y+1)-03-31

// §三(一)(二): what an application received on `application_date` buys.
// March of Y → CONCENTRATED, plan year Y, Y-04-01..(Y+1)-03-31.
// April of Y … February of Y+1 → INSTANT, plan year Y, from the first day of
// the next month to (Y+1)-03-31.
struct CoverageTerms {
  int plan_year = 0;
  EnrollmentKind kind = EnrollmentKind::kInstant;
  absl::CivilDay start;
  absl::CivilDay end;
};
CoverageTerms CoverageFor(absl::CivilDay application_date);

// §四(一): the fee for an application in that month.
int64_t FeeFor(const PlanData& plan, absl::CivilDay application_date);

// The first date an event of `benefit` is covered under an enrollment of
// `kind` starting `coverage_start` (§三(三): concentrated has no waiting period).
absl::CivilDay FirstCoveredDate(const PlanData& plan, Benefit benefit, EnrollmentKind kind,
                                absl::CivilDay coverage_start);

// Same day-of-month `months` later, clamped to the month's end
// (2023-03-31 + 6 months = 2023-09-30; 2023-08-31 + 6 months = 2024-02-29).
absl::CivilDay AddMonthsClamped(absl::CivilDay day, int months);
absl::CivilDay AddYearsClamped(absl::CivilDay day, int years);

// §六(二): the last day a claim may be filed. `coverage_end` is the end of the
// covering enrollment; `accident_on` is used by the accident benefits.
absl::CivilDay FilingDeadline(const PlanData& plan, Benefit benefit, absl::CivilDay coverage_end,
                              absl::CivilDay accident_on);

// §六(三): received_on + 90 days.
absl::CivilDay PaymentDueBy(const PlanData& plan, absl::CivilDay received_on);

// Full years of age on `on` (周岁). An age is reached on the anniversary of the
// birth date; born 29 February → 1 March in non-leap years.
int AgeOn(absl::CivilDay birth_date, absl::CivilDay on);

// Strict "YYYY-MM-DD" of a real date (no time, no sign, no spaces).
bool ParseIsoDate(std::string_view text, absl::CivilDay* day);
std::string FormatIsoDate(absl::CivilDay day);

}  // namespace mutualaid::plan

#endif  // MUTUALAID_PLAN_CALENDAR_H_
