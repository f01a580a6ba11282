#include "mutualaid/plan/plan_data.h"

#include "gtest/gtest.h"
#include "test_util.h"

namespace mutualaid::plan {
namespace {

using testing::Day;

TEST(PlanDataTest, The2022Table) {
  const PlanData& p = BuiltInPlanBook().ForPlanYear(2022);
  EXPECT_EQ(p.rule_set_version, "sh-gig-mutual-aid-2022");
  EXPECT_EQ(p.plan_year, 2022);
  EXPECT_EQ(p.hospital_daily_fen * p.hospital_max_days_per_plan_year, 5400000);  // 5.4 万
  EXPECT_EQ(p.critical_illness_fen, 2000000);
  EXPECT_EQ(p.covid19_fen, 2000000);
  EXPECT_EQ(p.subsidy_cap_per_plan_year_fen, 32000000);
  EXPECT_EQ(p.illness_death_fen, 2000000);
  EXPECT_EQ(p.accidental_death_fen, 15000000);
  EXPECT_EQ(p.per_accident_cap_fen, 15000000);
  EXPECT_EQ(p.consolation_fen, 50000);
  EXPECT_EQ(p.consolation_cap_per_plan_year_fen, 600000);
  EXPECT_EQ(p.epidemic_start, Day(2022, 4, 1));
  EXPECT_EQ(p.epidemic_end, Day(2023, 1, 7));
  EXPECT_EQ(p.min_age, 16);
  EXPECT_EQ(p.max_age_exclusive, 60);
  ASSERT_EQ(p.subsidy_bands.size(), 7u);
  for (size_t i = 1; i < p.subsidy_bands.size(); ++i) {
    EXPECT_LT(p.subsidy_bands[i - 1].from_fen, p.subsidy_bands[i].from_fen);
    EXPECT_LT(p.subsidy_bands[i - 1].pays_fen, p.subsidy_bands[i].pays_fen);
  }
  // Grade 1 pays 15 万, grade 10 pays 1.5 万.
  EXPECT_EQ(p.disability_full_fen * p.disability_percent_by_grade[0] / 100, 15000000);
  EXPECT_EQ(p.disability_full_fen * p.disability_percent_by_grade[9] / 100, 1500000);
}

TEST(PlanDataTest, LaterYearsCarryTheNewestTableForward) {
  EXPECT_EQ(BuiltInPlanBook().ForPlanYear(2023).rule_set_version, "sh-gig-mutual-aid-2022");
  EXPECT_EQ(BuiltInPlanBook().ForPlanYear(2021).rule_set_version, "sh-gig-mutual-aid-2022");
}

TEST(PlanDataTest, FindPlanBookByVersion) {
  ASSERT_TRUE(FindPlanBook("sh-gig-mutual-aid-2022").ok());
  EXPECT_EQ(*FindPlanBook("sh-gig-mutual-aid-2022"), &BuiltInPlanBook());
  EXPECT_FALSE(FindPlanBook("sh-gig-mutual-aid-2019").ok());
}

// A 2023 plan is new data, not new code: its table governs its year only.
TEST(PlanDataTest, ANewYearIsANewTable) {
  PlanBook book = BuiltInPlanBook();
  PlanData y2023 = Plan2022();
  y2023.rule_set_version = "sh-gig-mutual-aid-2023";
  y2023.plan_year = 2023;
  y2023.fee_fen_by_application_month.fill(9000);
  y2023.hospital_daily_fen = 40000;
  book.tables.push_back(y2023);

  testing::WorkerFixture w(book);
  const EnrollmentDecision old_year = w.Enroll(Day(2022, 3, 15));
  EXPECT_EQ(old_year.fee_fen, 7200);
  EXPECT_EQ(old_year.rule_set_version, "sh-gig-mutual-aid-2022");
  const EnrollmentDecision new_year = w.Enroll(Day(2023, 3, 2));
  EXPECT_EQ(new_year.fee_fen, 9000);
  EXPECT_EQ(new_year.rule_set_version, "sh-gig-mutual-aid-2023");

  const ClaimDecision march = w.Claim(testing::HospitalStay("C1", Day(2023, 3, 10), Day(2023, 3, 12), Day(2023, 4, 1)));
  EXPECT_EQ(march.amount_fen, 2 * 30000);
  EXPECT_EQ(march.plan_year, 2022);
  const ClaimDecision april = w.Claim(testing::HospitalStay("C2", Day(2023, 4, 10), Day(2023, 4, 12), Day(2023, 5, 1)));
  EXPECT_EQ(april.amount_fen, 2 * 40000);
  EXPECT_EQ(april.plan_year, 2023);
  EXPECT_EQ(april.rule_set_version, "sh-gig-mutual-aid-2023");
}

// Each [reading] is data: changing it changes the decision.
TEST(PlanDataTest, ReadingsAreChangeableAsData) {
  PlanBook book = BuiltInPlanBook();
  book.tables[0].min_age = 18;
  book.tables[0].epidemic_end = Day(2022, 12, 31);
  testing::WorkerFixture w(book);
  const EnrollmentDecision young = w.Enroll(testing::EnrollmentOn(Day(2022, 3, 15), "P01", Day(2005, 1, 1)));
  EXPECT_EQ(young.outcome, EnrollmentOutcome::kRejected);
  EXPECT_EQ(young.reasons, std::vector<Reason>{Reason::kAgeBelow16});

  testing::WorkerFixture v(book);
  v.Enroll(Day(2022, 3, 15));
  const ClaimDecision covid = v.Claim(testing::Covid("C1", Day(2023, 1, 5), Day(2023, 1, 20)));
  EXPECT_EQ(covid.reasons, std::vector<Reason>{Reason::kOutsideEpidemicPeriod});
}

}  // namespace
}  // namespace mutualaid::plan
