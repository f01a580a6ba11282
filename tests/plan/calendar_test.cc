#include "mutualaid/plan/calendar.h"

#include "gtest/gtest.h"
#include "mutualaid/plan/plan_data.h"

namespace mutualaid::plan {
namespace {

using Day = absl::CivilDay;

const PlanData& Plan() { return BuiltInPlanBook().ForPlanYear(2022); }

TEST(CalendarTest, PlanYearRunsAprilToMarch) {
  EXPECT_EQ(PlanYearContaining(Day(2022, 3, 31)), 2021);
  EXPECT_EQ(PlanYearContaining(Day(2022, 4, 1)), 2022);
  EXPECT_EQ(PlanYearContaining(Day(2023, 3, 31)), 2022);
  EXPECT_EQ(PlanYearStart(2022), Day(2022, 4, 1));
  EXPECT_EQ(PlanYearEnd(2022), Day(2023, 3, 31));
}

TEST(CalendarTest, MarchApplicationIsConcentrated) {
  const CoverageTerms t = CoverageFor(Day(2023, 3, 2));
  EXPECT_EQ(t.kind, EnrollmentKind::kConcentrated);
  EXPECT_EQ(t.plan_year, 2023);
  EXPECT_EQ(t.start, Day(2023, 4, 1));
  EXPECT_EQ(t.end, Day(2024, 3, 31));
  EXPECT_EQ(CoverageFor(Day(2023, 3, 1)).kind, EnrollmentKind::kConcentrated);
  EXPECT_EQ(CoverageFor(Day(2023, 3, 31)).kind, EnrollmentKind::kConcentrated);
}

TEST(CalendarTest, FebruaryApplicationIsInstantInThePreviousPlanYear) {
  const CoverageTerms t = CoverageFor(Day(2023, 2, 14));
  EXPECT_EQ(t.kind, EnrollmentKind::kInstant);
  EXPECT_EQ(t.plan_year, 2022);
  EXPECT_EQ(t.start, Day(2023, 3, 1));
  EXPECT_EQ(t.end, Day(2023, 3, 31));
  EXPECT_EQ(CoverageFor(Day(2023, 2, 28)).start, Day(2023, 3, 1));
}

TEST(CalendarTest, InstantCoverStartsTheFirstOfTheNextMonth) {
  EXPECT_EQ(CoverageFor(Day(2022, 4, 1)).start, Day(2022, 5, 1));
  EXPECT_EQ(CoverageFor(Day(2022, 4, 30)).start, Day(2022, 5, 1));
  EXPECT_EQ(CoverageFor(Day(2022, 5, 10)).start, Day(2022, 6, 1));
  EXPECT_EQ(CoverageFor(Day(2022, 8, 31)).start, Day(2022, 9, 1));
  EXPECT_EQ(CoverageFor(Day(2022, 9, 1)).start, Day(2022, 10, 1));
  const CoverageTerms december = CoverageFor(Day(2022, 12, 15));
  EXPECT_EQ(december.start, Day(2023, 1, 1));
  EXPECT_EQ(december.plan_year, 2022);
  EXPECT_EQ(december.end, Day(2023, 3, 31));
  EXPECT_EQ(CoverageFor(Day(2023, 1, 31)).start, Day(2023, 2, 1));
}

TEST(CalendarTest, FeeByApplicationMonth) {
  EXPECT_EQ(FeeFor(Plan(), Day(2022, 3, 1)), 7200);    // March: one-year rate
  EXPECT_EQ(FeeFor(Plan(), Day(2022, 4, 15)), 7200);   // April
  EXPECT_EQ(FeeFor(Plan(), Day(2022, 8, 31)), 7200);   // last day of August
  EXPECT_EQ(FeeFor(Plan(), Day(2022, 9, 1)), 3600);    // September: half-year rate
  EXPECT_EQ(FeeFor(Plan(), Day(2022, 12, 31)), 3600);
  EXPECT_EQ(FeeFor(Plan(), Day(2023, 1, 1)), 3600);
  EXPECT_EQ(FeeFor(Plan(), Day(2023, 2, 28)), 3600);   // February
  EXPECT_EQ(FeeFor(Plan(), Day(2023, 3, 1)), 7200);
}

TEST(CalendarTest, WaitingPeriodsFromCoverageStart) {
  const Day s(2022, 6, 1);
  const auto instant = EnrollmentKind::kInstant;
  EXPECT_EQ(FirstCoveredDate(Plan(), Benefit::kHospitalAllowance, instant, s), Day(2022, 7, 1));
  EXPECT_EQ(FirstCoveredDate(Plan(), Benefit::kCriticalIllness, instant, s), Day(2022, 7, 31));
  EXPECT_EQ(FirstCoveredDate(Plan(), Benefit::kCovid19, instant, s), Day(2022, 7, 31));
  EXPECT_EQ(FirstCoveredDate(Plan(), Benefit::kCriticalIllnessSubsidy, instant, s), Day(2022, 7, 31));
  EXPECT_EQ(FirstCoveredDate(Plan(), Benefit::kIllnessDeath, instant, s), Day(2022, 7, 1));
  EXPECT_EQ(FirstCoveredDate(Plan(), Benefit::kAccidentalDeath, instant, s), s);
  EXPECT_EQ(FirstCoveredDate(Plan(), Benefit::kAccidentalDisability, instant, s), s);
  EXPECT_EQ(FirstCoveredDate(Plan(), Benefit::kAccidentConsolation, instant, s), s);
  // §三(三): concentrated enrollments have none.
  const Day april(2022, 4, 1);
  for (Benefit b : {Benefit::kHospitalAllowance, Benefit::kCriticalIllness, Benefit::kIllnessDeath}) {
    EXPECT_EQ(FirstCoveredDate(Plan(), b, EnrollmentKind::kConcentrated, april), april);
  }
}

TEST(CalendarTest, AddMonthsClampsToMonthEnd) {
  EXPECT_EQ(AddMonthsClamped(Day(2023, 3, 31), 6), Day(2023, 9, 30));
  EXPECT_EQ(AddMonthsClamped(Day(2023, 8, 31), 6), Day(2024, 2, 29));
  EXPECT_EQ(AddMonthsClamped(Day(2022, 8, 31), 6), Day(2023, 2, 28));
  EXPECT_EQ(AddMonthsClamped(Day(2023, 1, 15), 6), Day(2023, 7, 15));
  EXPECT_EQ(AddMonthsClamped(Day(2023, 3, 30), 6), Day(2023, 9, 30));
  EXPECT_EQ(AddYearsClamped(Day(2023, 3, 31), 2), Day(2025, 3, 31));
  EXPECT_EQ(AddYearsClamped(Day(2024, 2, 29), 2), Day(2026, 2, 28));
  EXPECT_EQ(AddYearsClamped(Day(2024, 2, 29), 4), Day(2028, 2, 29));
}

TEST(CalendarTest, FilingDeadlines) {
  const Day end(2023, 3, 31);
  const Day accident(2022, 7, 10);
  EXPECT_EQ(FilingDeadline(Plan(), Benefit::kAccidentConsolation, end, accident), Day(2023, 1, 6));
  EXPECT_EQ(FilingDeadline(Plan(), Benefit::kAccidentalDisability, end, accident), Day(2023, 1, 6));
  EXPECT_EQ(FilingDeadline(Plan(), Benefit::kIllnessDeath, end, accident), Day(2023, 9, 30));
  for (Benefit b : {Benefit::kAccidentalDeath, Benefit::kHospitalAllowance, Benefit::kCriticalIllness,
                    Benefit::kCovid19, Benefit::kCriticalIllnessSubsidy}) {
    EXPECT_EQ(FilingDeadline(Plan(), b, end, accident), Day(2025, 3, 31)) << ToString(b);
  }
}

TEST(CalendarTest, PaymentDueNinetyDaysAfterReceipt) {
  EXPECT_EQ(PaymentDueBy(Plan(), Day(2022, 8, 20)), Day(2022, 11, 18));
  EXPECT_EQ(PaymentDueBy(Plan(), Day(2022, 12, 31)), Day(2023, 3, 31));
}

TEST(CalendarTest, AgeIsReachedOnTheAnniversary) {
  const Day birth(1962, 5, 10);
  EXPECT_EQ(AgeOn(birth, Day(2022, 5, 9)), 59);
  EXPECT_EQ(AgeOn(birth, Day(2022, 5, 10)), 60);
  EXPECT_EQ(AgeOn(birth, Day(2022, 5, 11)), 60);
  EXPECT_EQ(AgeOn(birth, Day(2022, 4, 30)), 59);
  EXPECT_EQ(AgeOn(birth, Day(2022, 6, 1)), 60);
  EXPECT_EQ(AgeOn(birth, birth), 0);
}

TEST(CalendarTest, TwentyNinthOfFebruaryBirthdays) {
  const Day birth(2000, 2, 29);
  EXPECT_EQ(AgeOn(birth, Day(2016, 2, 28)), 15);
  EXPECT_EQ(AgeOn(birth, Day(2016, 2, 29)), 16);  // leap year: the day itself
  EXPECT_EQ(AgeOn(birth, Day(2017, 2, 28)), 16);  // not yet 17
  EXPECT_EQ(AgeOn(birth, Day(2017, 3, 1)), 17);   // non-leap year: 1 March
}

TEST(CalendarTest, ParseIsoDateIsStrict) {
  Day d;
  ASSERT_TRUE(ParseIsoDate("2022-08-01", &d));
  EXPECT_EQ(d, Day(2022, 8, 1));
  EXPECT_TRUE(ParseIsoDate("2024-02-29", &d));
  EXPECT_FALSE(ParseIsoDate("2023-02-29", &d));
  EXPECT_FALSE(ParseIsoDate("2022-02-30", &d));
  EXPECT_FALSE(ParseIsoDate("2022-13-01", &d));
  EXPECT_FALSE(ParseIsoDate("2022-00-10", &d));
  EXPECT_FALSE(ParseIsoDate("2022-01-00", &d));
  EXPECT_FALSE(ParseIsoDate("2022-1-01", &d));
  EXPECT_FALSE(ParseIsoDate("2022/01/01", &d));
  EXPECT_FALSE(ParseIsoDate("20220101", &d));
  EXPECT_FALSE(ParseIsoDate(" 2022-01-01", &d));
  EXPECT_FALSE(ParseIsoDate("2022-01-01T00:00", &d));
  EXPECT_FALSE(ParseIsoDate("+202-01-01", &d));
  EXPECT_FALSE(ParseIsoDate("", &d));
}

TEST(CalendarTest, FormatIsoDate) {
  EXPECT_EQ(FormatIsoDate(Day(2022, 8, 1)), "2022-08-01");
  EXPECT_EQ(FormatIsoDate(Day(2024, 12, 31)), "2024-12-31");
}

}  // namespace
}  // namespace mutualaid::plan
