#include "mutualaid/plan/plan_data.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace mutualaid::plan {

// The 2022 plan (上海市总工会 2022, item 5; plan-rules.md). Every [reading]
// of plan-rules.md, and every reading this library adds where the plan is
// silent, is a field here so that a later plan year can change it as data.
PlanData Plan2022() {
  PlanData p;
  p.rule_set_version = "sh-gig-mutual-aid-2022";
  p.plan_id = "sh-gig-mutual-aid";
  p.plan_year = 2022;

  // §一: under 60 full years; [reading] at least 16 (minimum working age).
  p.max_age_exclusive = 60;
  p.min_age = 16;
  p.auto_approved_industries = {Industry::kIntracityFreight, Industry::kFoodDelivery,
                                Industry::kInstantDelivery, Industry::kRideHailing,
                                Industry::kExpressDelivery};
  p.review_industries = {Industry::kOther};  // [reading] 等行业: accepted for review

  // §二 review flags [reading].
  p.review_name_change_across_years = true;
  p.max_workers_per_phone = 3;

  // §四(一): 72 yuan for March..August, 36 yuan for September..February.
  p.fee_fen_by_application_month = {3600, 3600, 7200, 7200, 7200, 7200,
                                    7200, 7200, 3600, 3600, 3600, 3600};

  // §三(三), §五(一)(二)(三): instant enrollments' waiting periods.
  p.hospital_waiting_days = 30;
  p.critical_illness_waiting_days = 60;
  p.illness_death_waiting_days = 30;
  p.accident_waiting_days = 0;

  // §五(一): 300 yuan a day, 180 days (54 000 yuan) a plan year, in a Shanghai
  // medical-insurance designated hospital (community health centres included).
  p.hospital_daily_fen = 30000;
  p.hospital_max_days_per_plan_year = 180;
  p.hospital_pays_days_after_coverage_end = false;  // [reading]
  p.hospital_pays_each_day_once = true;              // [reading] overlapping stays
  p.hospital_allowance_hospitals = {true, true, false};

  // §五(二)1: 2 万, designated hospitals other than community health centres.
  p.critical_illness_fen = 2000000;
  p.critical_illness_per_plan_year = 1;
  p.critical_illness_hospitals = {true, false, false};

  // §五(二)1 epidemic paragraph: 2 万 once; epidemic period [reading].
  p.covid19_fen = 2000000;
  p.epidemic_start = absl::CivilDay(2022, 4, 1);
  p.epidemic_end = absl::CivilDay(2023, 1, 7);
  p.covid19_hospitals = {true, true, false};  // [reading] "本市定点医院" has no exclusion

  // §五(二)2, 表一: bands half-open in fen [reading]; 32 万 a plan year.
  p.subsidy_bands = {
      {2000000, 200000},    // 20 000 yuan → 2 000
      {4000000, 500000},    // 40 000 → 5 000
      {6000000, 1000000},   // 60 000 → 10 000
      {8000000, 1800000},   // 80 000 → 18 000
      {10000000, 3000000},  // 100 000 → 30 000
      {12000000, 5000000},  // 120 000 → 50 000
      {15000000, 8000000},  // 150 000 and above → 80 000
  };
  p.subsidy_cap_per_plan_year_fen = 32000000;
  p.subsidy_hospitals = {true, false, false};
  p.subsidy_requires_benefit_in_same_plan_year = false;  // [reading]

  // §五(三).
  p.illness_death_fen = 2000000;

  // §五(四).
  p.accidental_death_fen = 15000000;
  p.disability_full_fen = 15000000;
  p.disability_percent_by_grade = {100, 90, 80, 70, 60, 50, 40, 30, 20, 10};
  p.disability_cap_per_plan_year_fen = 15000000;
  p.consolation_fen = 50000;
  p.consolation_cap_per_plan_year_fen = 600000;
  p.per_accident_cap_fen = 15000000;
  p.accident_window_days = 180;

  // §六(二); the subsidy and COVID-19 take the 2-year deadline [reading].
  p.accident_filing_days = 180;
  p.illness_death_filing_months = 6;
  p.other_filing_years = 2;

  // §六(三).
  p.payment_due_days = 90;
  p.investigation_threshold_fen = 1000000;  // [reading] above 1 万 yuan
  return p;
}

const PlanData& PlanBook::ForPlanYear(int plan_year) const {
  const PlanData* best = &tables.front();
  for (const PlanData& table : tables) {
    if (table.plan_year <= plan_year && table.plan_year >= best->plan_year) best = &table;
  }
  return *best;
}

const PlanBook& BuiltInPlanBook() {
  static const PlanBook* const book = new PlanBook{{Plan2022()}};
  return *book;
}

absl::StatusOr<const PlanBook*> FindPlanBook(std::string_view rule_set_version) {
  const PlanBook& book = BuiltInPlanBook();
  for (const PlanData& table : book.tables) {
    if (table.rule_set_version == rule_set_version) return &book;
  }
  return absl::NotFoundError(absl::StrCat("unknown plan \"", std::string(rule_set_version), "\""));
}

}  // namespace mutualaid::plan
