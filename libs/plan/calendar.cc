#include "mutualaid/plan/calendar.h"

#include <cstdio>

namespace mutualaid::plan {
namespace {

// §三: the plan year begins in April; March applications are the next plan
// year's concentrated enrollment.
constexpr int kPlanYearFirstMonth = 4;
constexpr int kConcentratedMonth = 3;

}  // namespace

int PlanYearContaining(absl::CivilDay date) {
  return date.month() >= kPlanYearFirstMonth ? static_cast<int>(date.year())
                                             : static_cast<int>(date.year()) - 1;
}

absl::CivilDay PlanYearStart(int plan_year) {
  return absl::CivilDay(plan_year, kPlanYearFirstMonth, 1);
}

absl::CivilDay PlanYearEnd(int plan_year) { return PlanYearStart(plan_year + 1) - 1; }

CoverageTerms CoverageFor(absl::CivilDay application_date) {
  CoverageTerms terms;
  if (application_date.month() == kConcentratedMonth) {
    // §三(一) 集中参保.
    terms.plan_year = static_cast<int>(application_date.year());
    terms.kind = EnrollmentKind::kConcentrated;
    terms.start = PlanYearStart(terms.plan_year);
  } else {
    // §三(二) 即时参保: from the first day of the next month.
    terms.plan_year = PlanYearContaining(application_date);
    terms.kind = EnrollmentKind::kInstant;
    terms.start = absl::CivilDay(absl::CivilMonth(application_date) + 1);
  }
  terms.end = PlanYearEnd(terms.plan_year);
  return terms;
}

int64_t FeeFor(const PlanData& plan, absl::CivilDay application_date) {
  return plan.fee_fen_by_application_month[application_date.month() - 1];
}

absl::CivilDay FirstCoveredDate(const PlanData& plan, Benefit benefit, EnrollmentKind kind,
                                absl::CivilDay coverage_start) {
  if (kind == EnrollmentKind::kConcentrated) return coverage_start;  // §三(三)
  switch (benefit) {
    case Benefit::kHospitalAllowance:
      return coverage_start + plan.hospital_waiting_days;
    case Benefit::kCriticalIllness:
    case Benefit::kCovid19:
    case Benefit::kCriticalIllnessSubsidy:
      return coverage_start + plan.critical_illness_waiting_days;
    case Benefit::kIllnessDeath:
      return coverage_start + plan.illness_death_waiting_days;
    case Benefit::kAccidentalDeath:
    case Benefit::kAccidentalDisability:
    case Benefit::kAccidentConsolation:
      return coverage_start + plan.accident_waiting_days;
  }
  return coverage_start;
}

absl::CivilDay AddMonthsClamped(absl::CivilDay day, int months) {
  const absl::CivilMonth target = absl::CivilMonth(day) + months;
  const absl::CivilDay last = absl::CivilDay(target + 1) - 1;
  return day.day() > last.day() ? last : absl::CivilDay(target.year(), target.month(), day.day());
}

absl::CivilDay AddYearsClamped(absl::CivilDay day, int years) {
  return AddMonthsClamped(day, 12 * years);
}

absl::CivilDay FilingDeadline(const PlanData& plan, Benefit benefit, absl::CivilDay coverage_end,
                              absl::CivilDay accident_on) {
  switch (benefit) {
    case Benefit::kAccidentConsolation:
    case Benefit::kAccidentalDisability:
      return accident_on + plan.accident_filing_days;
    case Benefit::kIllnessDeath:
      return AddMonthsClamped(coverage_end, plan.illness_death_filing_months);
    case Benefit::kAccidentalDeath:
    case Benefit::kHospitalAllowance:
    case Benefit::kCriticalIllness:
    case Benefit::kCovid19:
    case Benefit::kCriticalIllnessSubsidy:
      return AddYearsClamped(coverage_end, plan.other_filing_years);
  }
  return coverage_end;
}

absl::CivilDay PaymentDueBy(const PlanData& plan, absl::CivilDay received_on) {
  return received_on + plan.payment_due_days;
}

int AgeOn(absl::CivilDay birth_date, absl::CivilDay on) {
  int age = static_cast<int>(on.year() - birth_date.year());
  // Before the anniversary this year? (29 Feb: on 28 Feb of a non-leap year
  // the anniversary has not come; it comes on 1 Mar.)
  if (on.month() < birth_date.month() ||
      (on.month() == birth_date.month() && on.day() < birth_date.day())) {
    --age;
  }
  return age;
}

bool ParseIsoDate(std::string_view text, absl::CivilDay* day) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  int parts[3] = {0, 0, 0};
  const int starts[3] = {0, 5, 8};
  const int lengths[3] = {4, 2, 2};
  for (int i = 0; i < 3; ++i) {
    for (int k = 0; k < lengths[i]; ++k) {
      const char c = text[starts[i] + k];
      if (c < '0' || c > '9') return false;
      parts[i] = parts[i] * 10 + (c - '0');
    }
  }
  const absl::CivilDay parsed(parts[0], parts[1], parts[2]);
  // CivilDay normalises 2022-02-30 to 2022-03-02: a real date survives unchanged.
  if (parsed.year() != parts[0] || parsed.month() != parts[1] || parsed.day() != parts[2]) {
    return false;
  }
  *day = parsed;
  return true;
}

std::string FormatIsoDate(absl::CivilDay day) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04lld-%02d-%02d", static_cast<long long>(day.year()),
                day.month(), day.day());
  return buffer;
}

}  // namespace mutualaid::plan
