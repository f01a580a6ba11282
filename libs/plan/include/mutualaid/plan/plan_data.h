// The plan's numbers, one table per plan year.
//
// Everything an actuary might change between plan years — amounts, bands,
// periods, waiting days, caps, deadlines and every [reading] of plan-rules.md —
// is a field of PlanData. A 2023 plan is a new PlanData instance, not new code.
// The built-in tables live in plan_data.cc.
//
// Readings of the rules that are decisions of logic rather than numbers are
// marked [reading] where they are applied (claims.cc, enrollment.cc):
//   - a second consolation for one accident is ALREADY_PAID (§五(四)3) rather
//     than DUPLICATE_CLAIM; an accident is identified by its accident_id, and a
//     claim giving a known accident another date is INVALID_DATES;
//   - one death benefit per worker: after an approved death claim another death
//     claim is ALREADY_PAID; inpatient days after the date of death are not paid;
//   - a denial lists every reason found at one stage: claimant and dates first
//     (INVALID_DATES stops there), then coverage, deadline and the benefit's own
//     conditions together, then what the history leaves to pay;
//   - enrollments pending review cover claims; claims awaiting investigation
//     count against caps and as duplicates until the investigation ends;
//   - a retry returns the original decision even if the resent record differs.
#ifndef MUTUALAID_PLAN_PLAN_DATA_H_
#define MUTUALAID_PLAN_PLAN_DATA_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "mutualaid/plan/codes.h"

namespace mutualaid::plan {

// One band of the §五(二)2 subsidy table: out-of-pocket amounts in
// [from_fen, next band's from_fen) pay pays_fen. Half-open in fen [reading].
struct SubsidyBand {
  int64_t from_fen = 0;
  int64_t pays_fen = 0;
};

// Which hospital types a benefit accepts.
struct HospitalRule {
  bool designated_hospital = false;
  bool community_health_center = false;
  bool other_hospital = false;
};

// Fields default to zero: the values are set in exactly one place, the plan
// year's table (Plan2022() in plan_data.cc).
struct PlanData {
  // Rule-set version recorded on every decision: plan id + first plan year.
  std::string rule_set_version;  // "sh-gig-mutual-aid-2022"
  std::string plan_id;           // "sh-gig-mutual-aid"
  int plan_year = 0;             // the plan year this table was published for

  // §一 who may enrol.
  int max_age_exclusive = 0;  // 未满 60 周岁
  int min_age = 0;            // [reading] labour law's minimum working age
  std::vector<Industry> auto_approved_industries;
  std::vector<Industry> review_industries;  // [reading] OTHER → manual review

  // §二 review flags [reading].
  bool review_name_change_across_years = false;
  int max_workers_per_phone = 0;  // more than this in one plan year → review

  // §四 fees: months March..August pay the one-year rate, the rest half.
  std::array<int64_t, 12> fee_fen_by_application_month{};  // index 0 = January

  // §三(三), §五 waiting periods (instant enrollments only), in days from
  // coverage start S: an event is covered from S + n.
  int hospital_waiting_days = 0;
  int critical_illness_waiting_days = 0;  // also its subsidy and COVID-19
  int illness_death_waiting_days = 0;
  int accident_waiting_days = 0;

  // §五(一) hospitalisation allowance.
  int64_t hospital_daily_fen = 0;
  int hospital_max_days_per_plan_year = 0;
  bool hospital_pays_days_after_coverage_end = false;  // [reading]
  bool hospital_pays_each_day_once = false;  // [reading] a day already paid by an earlier stay is not paid again
  HospitalRule hospital_allowance_hospitals;

  // §五(二)1 critical illness.
  int64_t critical_illness_fen = 0;
  int critical_illness_per_plan_year = 0;
  HospitalRule critical_illness_hospitals;

  // §五(二)1 COVID-19.
  int64_t covid19_fen = 0;
  absl::CivilDay epidemic_start;  // [reading]
  absl::CivilDay epidemic_end;    // [reading] inclusive
  HospitalRule covid19_hospitals;  // [reading] 本市定点医院

  // §五(二)2 critical-illness hospitalisation subsidy.
  std::vector<SubsidyBand> subsidy_bands;  // ascending from_fen; below the first pays nothing
  int64_t subsidy_cap_per_plan_year_fen = 0;
  HospitalRule subsidy_hospitals;
  bool subsidy_requires_benefit_in_same_plan_year = false;  // [reading] any plan year

  // §五(三) illness death.
  int64_t illness_death_fen = 0;

  // §五(四) accidents.
  int64_t accidental_death_fen = 0;
  int64_t disability_full_fen = 0;
  std::array<int, 10> disability_percent_by_grade{};  // percent of disability_full_fen, index grade - 1
  int64_t disability_cap_per_plan_year_fen = 0;
  int64_t consolation_fen = 0;
  int64_t consolation_cap_per_plan_year_fen = 0;
  int64_t per_accident_cap_fen = 0;
  int accident_window_days = 0;  // death / assessment within A + 180

  // §六(二) filing deadlines.
  int accident_filing_days = 0;        // consolation, disability: A + 180 days
  int illness_death_filing_months = 0;   // coverage end + 6 months, clamped
  int other_filing_years = 0;            // coverage end + 2 years ([reading] for COVID-19 and the subsidy)

  // §六(三) payment.
  int payment_due_days = 0;
  // [reading] claims the claims service sends to 调查核实 before payment: every
  // death and disability claim, and any claim paying more than this.
  int64_t investigation_threshold_fen = 0;
};

// The per-year tables the rules consult, ordered by plan_year.
struct PlanBook {
  std::vector<PlanData> tables;  // never empty

  // The table for a plan year: the newest one published for that year or
  // earlier [reading] (the 2022 rules carry forward until a new table is
  // published). Years before the first table use the first.
  const PlanData& ForPlanYear(int plan_year) const;
};

// The tables this build knows (today: the 2022 plan).
const PlanBook& BuiltInPlanBook();
// The built-in book if `rule_set_version` names one of its tables.
absl::StatusOr<const PlanBook*> FindPlanBook(std::string_view rule_set_version);

// The 2022 plan's table as published (plan-rules.md).
PlanData Plan2022();

}  // namespace mutualaid::plan

#endif  // MUTUALAID_PLAN_PLAN_DATA_H_
