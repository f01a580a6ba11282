#include "mutualaid/plan/claims.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "test_util.h"

namespace mutualaid::plan {
namespace {

using testing::AccidentalDeath;
using testing::Consolation;
using testing::Covid;
using testing::CriticalIllness;
using testing::Day;
using testing::Disability;
using testing::HospitalStay;
using testing::IllnessDeath;
using testing::Subsidy;
using testing::WorkerFixture;
using Reasons = std::vector<Reason>;
using Clauses = std::vector<std::string>;
using Category = CriticalIllnessCategory;

// Instant enrollment of 2022-05-10: S = 2022-06-01, end 2023-03-31.
WorkerFixture InstantWorker() {
  WorkerFixture w;
  w.Enroll(Day(2022, 5, 10));
  return w;
}

// Concentrated enrollment: 2022-04-01 .. 2023-03-31, no waiting periods.
WorkerFixture ConcentratedWorker() {
  WorkerFixture w;
  w.Enroll(Day(2022, 3, 15));
  return w;
}

void ExpectDenied(const ClaimDecision& d, const Reasons& reasons) {
  EXPECT_EQ(d.outcome, ClaimOutcome::kDenied);
  EXPECT_EQ(d.amount_fen, 0);
  EXPECT_FALSE(d.capped);
  EXPECT_EQ(d.reasons, reasons);
}

void ExpectApproved(const ClaimDecision& d, int64_t amount, bool capped = false) {
  EXPECT_EQ(d.outcome, ClaimOutcome::kApproved) << (d.reasons.empty() ? "" : ToString(d.reasons[0]));
  EXPECT_EQ(d.amount_fen, amount);
  EXPECT_EQ(d.capped, capped);
  EXPECT_TRUE(d.reasons.empty());
}

// ---------------------------------------------------------------- §五(一)

TEST(HospitalAllowanceTest, ScenarioFormatExample) {
  WorkerFixture w = InstantWorker();
  const ClaimDecision d =
      w.Claim(HospitalStay("C1", Day(2022, 8, 1), Day(2022, 8, 11), Day(2022, 8, 20)));
  ExpectApproved(d, 300000);
  EXPECT_EQ(d.plan_year, 2022);
  EXPECT_EQ(d.payee, Payee::kWorkerCard);
  EXPECT_EQ(d.due_by, Day(2022, 11, 18));
  EXPECT_EQ(d.clauses, Clauses{"§五(一)"});
  EXPECT_EQ(d.rule_set_version, "sh-gig-mutual-aid-2022");
  EXPECT_EQ(d.hospital_days_paid, 10);
}

TEST(HospitalAllowanceTest, SameDayStayIsOneDay) {
  WorkerFixture w = InstantWorker();
  ExpectApproved(w.Claim(HospitalStay("C1", Day(2022, 8, 1), Day(2022, 8, 1), Day(2022, 8, 2))),
                 30000);
}

TEST(HospitalAllowanceTest, WaitingPeriodBoundary) {
  // S + 30 = 2022-07-01.
  WorkerFixture before = InstantWorker();
  const ClaimDecision d =
      before.Claim(HospitalStay("C1", Day(2022, 6, 30), Day(2022, 7, 3), Day(2022, 7, 10)));
  ExpectDenied(d, {Reason::kWaitingPeriod});
  EXPECT_EQ(d.clauses, (Clauses{"§五(一)", "§三(三)"}));
  EXPECT_FALSE(before.Claim(HospitalStay("C2", Day(2022, 6, 1), Day(2022, 6, 2), Day(2022, 7, 10)))
                   .reasons.empty());
  WorkerFixture on = InstantWorker();
  ExpectApproved(on.Claim(HospitalStay("C1", Day(2022, 7, 1), Day(2022, 7, 3), Day(2022, 7, 10))),
                 60000);
  WorkerFixture after = InstantWorker();
  ExpectApproved(after.Claim(HospitalStay("C1", Day(2022, 7, 2), Day(2022, 7, 3), Day(2022, 7, 10))),
                 30000);
}

TEST(HospitalAllowanceTest, ConcentratedHasNoWaitingPeriod) {
  WorkerFixture w = ConcentratedWorker();
  ExpectApproved(w.Claim(HospitalStay("C1", Day(2022, 4, 1), Day(2022, 4, 2), Day(2022, 4, 10))),
                 30000);
}

TEST(HospitalAllowanceTest, NotCovered) {
  WorkerFixture nobody;
  const ClaimDecision none =
      nobody.Claim(HospitalStay("C1", Day(2022, 8, 1), Day(2022, 8, 2), Day(2022, 8, 10)));
  ExpectDenied(none, {Reason::kNotCovered});
  EXPECT_EQ(none.plan_year, 2022);  // the calendar plan year of the event
  EXPECT_EQ(none.due_by, Day(2022, 11, 8));
  WorkerFixture w = InstantWorker();
  ExpectDenied(w.Claim(HospitalStay("C1", Day(2022, 5, 31), Day(2022, 8, 2), Day(2022, 8, 10))),
               {Reason::kNotCovered});
  ExpectDenied(w.Claim(HospitalStay("C2", Day(2023, 4, 1), Day(2023, 4, 2), Day(2023, 4, 10))),
               {Reason::kNotCovered});
  ExpectApproved(w.Claim(HospitalStay("C3", Day(2023, 3, 31), Day(2023, 3, 31), Day(2023, 4, 10))),
                 30000);
}

TEST(HospitalAllowanceTest, AccidentStayAndHospitalTypes) {
  WorkerFixture w = ConcentratedWorker();
  ClaimRequest accident = HospitalStay("C1", Day(2022, 8, 1), Day(2022, 8, 3), Day(2022, 8, 10));
  accident.cause = Cause::kAccident;
  ExpectDenied(w.Claim(accident), {Reason::kNotIllness});
  ClaimRequest other = HospitalStay("C2", Day(2022, 8, 1), Day(2022, 8, 3), Day(2022, 8, 10));
  other.hospital = Hospital::kOtherHospital;
  ExpectDenied(w.Claim(other), {Reason::kIneligibleHospital});
  ClaimRequest community = HospitalStay("C3", Day(2022, 8, 1), Day(2022, 8, 3), Day(2022, 8, 10));
  community.hospital = Hospital::kCommunityHealthCenter;
  ExpectApproved(w.Claim(community), 60000);
}

TEST(HospitalAllowanceTest, InvalidDates) {
  WorkerFixture w = ConcentratedWorker();
  ExpectDenied(w.Claim(HospitalStay("C1", Day(2022, 8, 3), Day(2022, 8, 2), Day(2022, 8, 10))),
               {Reason::kInvalidDates});
  // Filed before the discharge it claims.
  ExpectDenied(w.Claim(HospitalStay("C2", Day(2022, 8, 1), Day(2022, 8, 11), Day(2022, 8, 10))),
               {Reason::kInvalidDates});
}

TEST(HospitalAllowanceTest, DaysAfterCoverageEndAreNotPaid) {
  WorkerFixture w = InstantWorker();
  const ClaimDecision d =
      w.Claim(HospitalStay("C1", Day(2023, 3, 25), Day(2023, 4, 5), Day(2023, 4, 10)));
  ExpectApproved(d, 7 * 30000);  // 25..31 March
  EXPECT_EQ(d.hospital_days_paid, 7);
}

TEST(HospitalAllowanceTest, AYearCapOf180Days) {
  WorkerFixture w = ConcentratedWorker();
  // 179 days, then 1 more reaches the cap exactly; then nothing is left.
  ExpectApproved(w.Claim(HospitalStay("C1", Day(2022, 4, 1), Day(2022, 4, 1) + 179, Day(2022, 10, 1))),
                 179 * 30000);
  ExpectApproved(w.Claim(HospitalStay("C2", Day(2022, 11, 1), Day(2022, 11, 2), Day(2022, 11, 5))),
                 30000);
  const ClaimDecision exhausted =
      w.Claim(HospitalStay("C3", Day(2022, 12, 1), Day(2022, 12, 2), Day(2022, 12, 5)));
  ExpectDenied(exhausted, {Reason::kBenefitExhausted});
  EXPECT_EQ(exhausted.clauses, Clauses{"§五(一)"});
}

TEST(HospitalAllowanceTest, AStayPassingTheCapIsPaidUpToIt) {
  WorkerFixture w = ConcentratedWorker();
  ExpectApproved(w.Claim(HospitalStay("C1", Day(2022, 4, 1), Day(2022, 4, 1) + 181, Day(2022, 10, 1))),
                 180 * 30000, /*capped=*/true);
  WorkerFixture v = ConcentratedWorker();
  ExpectApproved(v.Claim(HospitalStay("C1", Day(2022, 4, 1), Day(2022, 4, 1) + 170, Day(2022, 10, 1))),
                 170 * 30000);
  ExpectApproved(v.Claim(HospitalStay("C2", Day(2022, 11, 1), Day(2022, 11, 21), Day(2022, 12, 1))),
                 10 * 30000, /*capped=*/true);
}

TEST(HospitalAllowanceTest, TheCapIsPerPlanYear) {
  WorkerFixture w = ConcentratedWorker();
  w.Enroll(Day(2023, 3, 2));
  ExpectApproved(w.Claim(HospitalStay("C1", Day(2022, 4, 1), Day(2022, 4, 1) + 180, Day(2022, 10, 1))),
                 180 * 30000);
  const ClaimDecision next =
      w.Claim(HospitalStay("C2", Day(2023, 4, 10), Day(2023, 4, 12), Day(2023, 4, 20)));
  ExpectApproved(next, 60000);
  EXPECT_EQ(next.plan_year, 2023);
}

TEST(HospitalAllowanceTest, ADayIsPaidOnce) {
  WorkerFixture w = ConcentratedWorker();
  ExpectApproved(w.Claim(HospitalStay("C1", Day(2022, 8, 1), Day(2022, 8, 11), Day(2022, 8, 20))),
                 10 * 30000);
  // Overlapping stay: only 11..14 August are new.
  ExpectApproved(w.Claim(HospitalStay("C2", Day(2022, 8, 5), Day(2022, 8, 15), Day(2022, 8, 20))),
                 4 * 30000);
  ClaimRequest inside = HospitalStay("C3", Day(2022, 8, 2), Day(2022, 8, 4), Day(2022, 8, 20));
  inside.hospital = Hospital::kCommunityHealthCenter;  // other facts: not a duplicate
  ExpectDenied(w.Claim(inside), {Reason::kAlreadyPaid});
}

TEST(HospitalAllowanceTest, FilingDeadlineIsCoverageEndPlusTwoYears) {
  WorkerFixture w = InstantWorker();
  ExpectApproved(w.Claim(HospitalStay("C1", Day(2022, 8, 1), Day(2022, 8, 2), Day(2025, 3, 31))),
                 30000);
  const ClaimDecision late =
      w.Claim(HospitalStay("C2", Day(2022, 9, 1), Day(2022, 9, 2), Day(2025, 4, 1)));
  ExpectDenied(late, {Reason::kFilingDeadlinePassed});
  EXPECT_EQ(late.clauses, (Clauses{"§五(一)", "§六(二)"}));
}

TEST(HospitalAllowanceTest, PlatformCannotClaimForALivingWorker) {
  WorkerFixture w = InstantWorker();
  ClaimRequest r = HospitalStay("C1", Day(2022, 8, 1), Day(2022, 8, 2), Day(2022, 8, 20));
  r.claimant = Claimant::kPlatform;
  const ClaimDecision d = w.Claim(r);
  ExpectDenied(d, {Reason::kInvalidClaimant});
  EXPECT_EQ(d.clauses, (Clauses{"§五(一)", "§六(一)"}));
}

// ---------------------------------------------------------------- §五(二)1

TEST(CriticalIllnessTest, PaysOncePerPlanYear) {
  WorkerFixture w = InstantWorker();
  const ClaimDecision d =
      w.Claim(CriticalIllness("C1", Category::kMalignantTumor, Day(2022, 8, 1), Day(2022, 8, 20)));
  ExpectApproved(d, 2000000);
  EXPECT_EQ(d.clauses, Clauses{"§五(二)1"});
  ExpectDenied(
      w.Claim(CriticalIllness("C2", Category::kCoronaryBypass, Day(2022, 9, 1), Day(2022, 9, 20))),
      {Reason::kAlreadyPaid});
}

TEST(CriticalIllnessTest, WaitingPeriodBoundary) {
  // S + 60 = 2022-07-31.
  WorkerFixture before = InstantWorker();
  ExpectDenied(before.Claim(CriticalIllness("C1", Category::kStrokeSequelae, Day(2022, 7, 30),
                                            Day(2022, 8, 20))),
               {Reason::kWaitingPeriod});
  WorkerFixture on = InstantWorker();
  ExpectApproved(on.Claim(CriticalIllness("C1", Category::kStrokeSequelae, Day(2022, 7, 31),
                                          Day(2022, 8, 20))),
                 2000000);
  WorkerFixture after = InstantWorker();
  ExpectApproved(after.Claim(CriticalIllness("C1", Category::kStrokeSequelae, Day(2022, 8, 1),
                                             Day(2022, 8, 20))),
                 2000000);
}

TEST(CriticalIllnessTest, HospitalAndInpatientTreatment) {
  WorkerFixture w = ConcentratedWorker();
  ClaimRequest community =
      CriticalIllness("C1", Category::kSevereHepatitis, Day(2022, 8, 1), Day(2022, 8, 20));
  community.hospital = Hospital::kCommunityHealthCenter;
  ExpectDenied(w.Claim(community), {Reason::kIneligibleHospital});
  ClaimRequest other = community;
  other.claim_id = "C2";
  other.hospital = Hospital::kOtherHospital;
  ExpectDenied(w.Claim(other), {Reason::kIneligibleHospital});
  ClaimRequest outpatient =
      CriticalIllness("C3", Category::kSevereHepatitis, Day(2022, 8, 1), Day(2022, 8, 20));
  outpatient.hospitalized = false;
  ExpectDenied(w.Claim(outpatient), {Reason::kNotHospitalized});
  ClaimRequest both = outpatient;
  both.claim_id = "C4";
  both.hospital = Hospital::kOtherHospital;
  ExpectDenied(w.Claim(both), (Reasons{Reason::kIneligibleHospital, Reason::kNotHospitalized}));
}

TEST(CriticalIllnessTest, FirstDiagnosisAcrossPlanYears) {
  WorkerFixture w = ConcentratedWorker();
  w.Enroll(Day(2023, 3, 2));
  ExpectApproved(
      w.Claim(CriticalIllness("C1", Category::kMalignantTumor, Day(2022, 8, 1), Day(2022, 8, 20))),
      2000000);
  ExpectDenied(
      w.Claim(CriticalIllness("C2", Category::kMalignantTumor, Day(2023, 8, 1), Day(2023, 8, 20))),
      {Reason::kNotFirstDiagnosis});
  const ClaimDecision other =
      w.Claim(CriticalIllness("C3", Category::kAorticSurgery, Day(2023, 9, 1), Day(2023, 9, 20)));
  ExpectApproved(other, 2000000);
  EXPECT_EQ(other.plan_year, 2023);
}

// ---------------------------------------------------------------- COVID-19

TEST(Covid19Test, EpidemicPeriodBoundaries) {
  WorkerFixture w = ConcentratedWorker();
  ExpectApproved(w.Claim(Covid("C1", Day(2023, 1, 7), Day(2023, 1, 20))), 2000000);
  WorkerFixture late = ConcentratedWorker();
  const ClaimDecision d = late.Claim(Covid("C1", Day(2023, 1, 8), Day(2023, 1, 20)));
  ExpectDenied(d, {Reason::kOutsideEpidemicPeriod});
  EXPECT_EQ(d.clauses, Clauses{"§五(二)1"});
  WorkerFixture first_day = ConcentratedWorker();
  ExpectApproved(first_day.Claim(Covid("C1", Day(2022, 4, 1), Day(2022, 4, 20))), 2000000);
  WorkerFixture before;
  before.Enroll(Day(2021, 3, 10));  // plan year 2021
  ExpectDenied(before.Claim(Covid("C1", Day(2022, 3, 31), Day(2022, 4, 20))),
               {Reason::kOutsideEpidemicPeriod});
}

TEST(Covid19Test, OncePerEnrollmentThenTheLiabilityEnds) {
  WorkerFixture w = ConcentratedWorker();
  ExpectApproved(w.Claim(Covid("C1", Day(2022, 5, 1), Day(2022, 5, 20))), 2000000);
  ExpectDenied(w.Claim(Covid("C2", Day(2022, 12, 20), Day(2022, 12, 30))), {Reason::kAlreadyPaid});
}

TEST(Covid19Test, WaitingPeriodAndHospital) {
  WorkerFixture w = InstantWorker();  // S + 60 = 2022-07-31
  ExpectDenied(w.Claim(Covid("C1", Day(2022, 7, 30), Day(2022, 8, 20))), {Reason::kWaitingPeriod});
  ClaimRequest other = Covid("C2", Day(2022, 7, 31), Day(2022, 8, 20));
  other.hospital = Hospital::kOtherHospital;
  ExpectDenied(w.Claim(other), {Reason::kIneligibleHospital});
  ExpectApproved(w.Claim(Covid("C3", Day(2022, 7, 31), Day(2022, 8, 20))), 2000000);
}

// ---------------------------------------------------------------- §五(二)2

WorkerFixture WorkerWithCancerBenefit() {
  WorkerFixture w = ConcentratedWorker();
  w.Claim(CriticalIllness("CI", Category::kMalignantTumor, Day(2022, 5, 1), Day(2022, 5, 20)));
  return w;
}

TEST(CriticalIllnessSubsidyTest, NeedsTheBenefitForThatCategory) {
  WorkerFixture none = ConcentratedWorker();
  const ClaimDecision d = none.Claim(Subsidy("S1", Category::kMalignantTumor, Day(2022, 6, 1),
                                             Day(2022, 6, 10), 3000000, Day(2022, 6, 20)));
  ExpectDenied(d, {Reason::kNoCriticalIllnessBenefit});
  EXPECT_EQ(d.clauses, Clauses{"§五(二)2"});
  WorkerFixture w = WorkerWithCancerBenefit();
  ExpectDenied(w.Claim(Subsidy("S1", Category::kAorticSurgery, Day(2022, 6, 1), Day(2022, 6, 10),
                               3000000, Day(2022, 6, 20))),
               {Reason::kNoCriticalIllnessBenefit});
  ExpectApproved(w.Claim(Subsidy("S2", Category::kMalignantTumor, Day(2022, 6, 1), Day(2022, 6, 10),
                                 3000000, Day(2022, 6, 20))),
                 200000);
}

TEST(CriticalIllnessSubsidyTest, BandEdgesInFen) {
  struct Case {
    int64_t out_of_pocket;
    int64_t pays;
  };
  const Case cases[] = {
      {0, 0},
      {1999999, 0},                                    // 19 999.99 yuan
      {2000000, 200000},   {3999950, 200000},          // 39 999.50 yuan pays 2 000
      {3999999, 200000},   {4000000, 500000},
      {5999999, 500000},   {6000000, 1000000},
      {7999999, 1000000},  {8000000, 1800000},
      {9999999, 1800000},  {10000000, 3000000},
      {11999999, 3000000}, {12000000, 5000000},
      {14999999, 5000000}, {15000000, 8000000},
      {900000000, 8000000},
  };
  for (const Case& c : cases) {
    WorkerFixture w = WorkerWithCancerBenefit();
    const ClaimDecision d = w.Claim(Subsidy("S", Category::kMalignantTumor, Day(2022, 6, 1),
                                            Day(2022, 6, 10), c.out_of_pocket, Day(2022, 6, 20)));
    if (c.pays == 0) {
      ExpectDenied(d, {Reason::kBelowThreshold});
    } else {
      ExpectApproved(d, c.pays);
    }
  }
}

TEST(CriticalIllnessSubsidyTest, AYearCapOf32Wan) {
  WorkerFixture w = WorkerWithCancerBenefit();
  for (int i = 0; i < 4; ++i) {  // 4 × 8 万 = 32 万 exactly
    ExpectApproved(w.Claim(Subsidy("S" + std::to_string(i), Category::kMalignantTumor,
                                   Day(2022, 6, 1) + 20 * i, Day(2022, 6, 10) + 20 * i, 20000000,
                                   Day(2022, 12, 1))),
                   8000000);
  }
  ExpectDenied(w.Claim(Subsidy("S9", Category::kMalignantTumor, Day(2022, 10, 1), Day(2022, 10, 5),
                               3000000, Day(2022, 12, 1))),
               {Reason::kBenefitExhausted});

  WorkerFixture v = WorkerWithCancerBenefit();
  for (int i = 0; i < 3; ++i) {
    v.Claim(Subsidy("S" + std::to_string(i), Category::kMalignantTumor, Day(2022, 6, 1) + 20 * i,
                    Day(2022, 6, 10) + 20 * i, 20000000, Day(2022, 12, 1)));
  }
  ExpectApproved(v.Claim(Subsidy("S5", Category::kMalignantTumor, Day(2022, 10, 1),
                                 Day(2022, 10, 5), 12000000, Day(2022, 12, 1))),
                 5000000);
  ExpectApproved(v.Claim(Subsidy("S6", Category::kMalignantTumor, Day(2022, 11, 1),
                                 Day(2022, 11, 5), 20000000, Day(2022, 12, 1))),
                 3000000, /*capped=*/true);
}

TEST(CriticalIllnessSubsidyTest, HospitalWaitingPeriodAndDates) {
  WorkerFixture w = InstantWorker();
  w.Claim(CriticalIllness("CI", Category::kMalignantTumor, Day(2022, 8, 1), Day(2022, 8, 20)));
  ClaimRequest community = Subsidy("S1", Category::kMalignantTumor, Day(2022, 8, 5),
                                   Day(2022, 8, 10), 3000000, Day(2022, 8, 20));
  community.hospital = Hospital::kCommunityHealthCenter;
  ExpectDenied(w.Claim(community), {Reason::kIneligibleHospital});
  ExpectDenied(w.Claim(Subsidy("S2", Category::kMalignantTumor, Day(2022, 7, 30), Day(2022, 8, 10),
                               3000000, Day(2022, 8, 20))),
               {Reason::kWaitingPeriod});
  ExpectDenied(w.Claim(Subsidy("S3", Category::kMalignantTumor, Day(2022, 8, 10), Day(2022, 8, 5),
                               3000000, Day(2022, 8, 20))),
               {Reason::kInvalidDates});
  ExpectApproved(w.Claim(Subsidy("S4", Category::kMalignantTumor, Day(2022, 7, 31),
                                 Day(2022, 8, 10), 3000000, Day(2022, 8, 20))),
                 200000);
}

// ---------------------------------------------------------------- §五(三)

TEST(IllnessDeathTest, PaysThePlatformAccount) {
  WorkerFixture w = InstantWorker();
  const ClaimDecision d = w.Claim(IllnessDeath("D1", Day(2022, 9, 1), Day(2022, 9, 20)));
  ExpectApproved(d, 2000000);
  EXPECT_EQ(d.payee, Payee::kPlatformAccount);
  EXPECT_EQ(d.payee_platform_id, "P01");
  EXPECT_EQ(d.clauses, Clauses{"§五(三)"});
  EXPECT_EQ(DateOfDeath(w.file()), Day(2022, 9, 1));
}

TEST(IllnessDeathTest, ClaimantLocationWaitingPeriod) {
  WorkerFixture w = InstantWorker();  // S + 30 = 2022-07-01
  ClaimRequest by_worker = IllnessDeath("D1", Day(2022, 9, 1), Day(2022, 9, 20));
  by_worker.claimant = Claimant::kWorker;
  ExpectDenied(w.Claim(by_worker), {Reason::kInvalidClaimant});
  ClaimRequest away = IllnessDeath("D2", Day(2022, 9, 1), Day(2022, 9, 20));
  away.in_shanghai = false;
  ExpectDenied(w.Claim(away), {Reason::kOutsideShanghai});
  ExpectDenied(w.Claim(IllnessDeath("D3", Day(2022, 6, 30), Day(2022, 9, 20))),
               {Reason::kWaitingPeriod});
  ExpectApproved(w.Claim(IllnessDeath("D4", Day(2022, 7, 1), Day(2022, 9, 20))), 2000000);
}

TEST(IllnessDeathTest, FilingDeadlineIsCoverageEndPlusSixMonthsClamped) {
  // Coverage end 2023-03-31 + 6 months = 2023-09-30 (no 31 September).
  WorkerFixture on = InstantWorker();
  ExpectApproved(on.Claim(IllnessDeath("D1", Day(2023, 3, 1), Day(2023, 9, 30))), 2000000);
  WorkerFixture late = InstantWorker();
  ExpectDenied(late.Claim(IllnessDeath("D1", Day(2023, 3, 1), Day(2023, 10, 1))),
               {Reason::kFilingDeadlinePassed});
}

// ---------------------------------------------------------------- §5.7

TEST(AfterDeathTest, LiabilitiesEndAfterTheDateOfDeath) {
  WorkerFixture w = ConcentratedWorker();
  ASSERT_EQ(w.Claim(IllnessDeath("D1", Day(2022, 9, 1), Day(2022, 9, 20))).outcome,
            ClaimOutcome::kApproved);
  // A stay admitted the day of death is still covered; the day after is not.
  ExpectApproved(w.Claim(HospitalStay("C1", Day(2022, 9, 1), Day(2022, 9, 1), Day(2022, 9, 20))),
                 30000);
  // A stay admitted before the death pays no day after it.
  ExpectApproved(w.Claim(HospitalStay("C0", Day(2022, 8, 28), Day(2022, 9, 5), Day(2022, 9, 20))),
                 4 * 30000);  // 28..31 August; 1 September was paid by C1
  const ClaimDecision after =
      w.Claim(HospitalStay("C2", Day(2022, 9, 2), Day(2022, 9, 3), Day(2022, 9, 20)));
  ExpectDenied(after, {Reason::kWorkerDeceased});
  EXPECT_EQ(after.clauses, (Clauses{"§五(一)", "§五"}));
  // One death benefit per worker.
  ExpectDenied(w.Claim(AccidentalDeath("D2", "A1", Day(2022, 8, 1), Day(2022, 9, 1), Day(2022, 9, 20))),
               {Reason::kAlreadyPaid});
}

// ---------------------------------------------------------------- §五(四)

TEST(AccidentalDeathTest, WithinOneHundredEightyDays) {
  const Day a(2022, 7, 10);
  WorkerFixture on = InstantWorker();  // no waiting period for accidents: S = 2022-06-01
  const ClaimDecision d = on.Claim(AccidentalDeath("D1", "A1", a, a + 180, a + 190));
  ExpectApproved(d, 15000000);
  EXPECT_EQ(d.payee, Payee::kPlatformAccount);
  EXPECT_EQ(d.clauses, Clauses{"§五(四)1"});
  WorkerFixture late = InstantWorker();
  ExpectDenied(late.Claim(AccidentalDeath("D1", "A1", a, a + 181, a + 190)),
               {Reason::kDeathAfter180Days});
  WorkerFixture first_day = InstantWorker();
  ExpectApproved(first_day.Claim(AccidentalDeath("D1", "A1", Day(2022, 6, 1), Day(2022, 6, 2),
                                                 Day(2022, 6, 10))),
                 15000000);
  WorkerFixture before = InstantWorker();
  ExpectDenied(before.Claim(AccidentalDeath("D1", "A1", Day(2022, 5, 31), Day(2022, 6, 2),
                                            Day(2022, 6, 10))),
               {Reason::kNotCovered});
}

TEST(AccidentalDeathTest, ClaimantLocationDates) {
  const Day a(2022, 7, 10);
  WorkerFixture w = InstantWorker();
  ClaimRequest by_worker = AccidentalDeath("D1", "A1", a, a + 1, a + 10);
  by_worker.claimant = Claimant::kWorker;
  ExpectDenied(w.Claim(by_worker), {Reason::kInvalidClaimant});
  ClaimRequest away = AccidentalDeath("D2", "A1", a, a + 1, a + 10);
  away.in_shanghai = false;
  ExpectDenied(w.Claim(away), {Reason::kOutsideShanghai});
  ExpectDenied(w.Claim(AccidentalDeath("D3", "A1", a, a - 1, a + 10)), {Reason::kInvalidDates});
}

TEST(AccidentalDeathTest, ReducedByWhatTheAccidentAlreadyPaid) {
  const Day a(2022, 7, 10);
  WorkerFixture w = InstantWorker();
  ExpectApproved(w.Claim(Disability("B1", "A1", a, a + 30, 5, a + 40)), 9000000);
  const ClaimDecision d = w.Claim(AccidentalDeath("D1", "A1", a, a + 60, a + 70));
  ExpectApproved(d, 6000000, /*capped=*/true);
  EXPECT_EQ(d.clauses, (Clauses{"§五(四)1", "§五(四)4"}));
}

TEST(AccidentalDisabilityTest, GradesPayTheirShare) {
  const Day a(2022, 7, 10);
  for (int grade = 1; grade <= 10; ++grade) {
    WorkerFixture w = InstantWorker();
    const ClaimDecision d = w.Claim(Disability("B1", "A1", a, a + 30, grade, a + 40));
    ExpectApproved(d, 150000 * (110 - 10 * grade));
    EXPECT_EQ(d.payee, Payee::kWorkerCard);
  }
}

TEST(AccidentalDisabilityTest, AssessmentAndFilingWithin180Days) {
  const Day a(2022, 7, 10);
  WorkerFixture on = InstantWorker();
  ExpectApproved(on.Claim(Disability("B1", "A1", a, a + 180, 10, a + 180)), 1500000);
  WorkerFixture late = InstantWorker();
  ExpectDenied(late.Claim(Disability("B1", "A1", a, a + 181, 10, a + 181)),
               (Reasons{Reason::kFilingDeadlinePassed, Reason::kAssessedAfter180Days}));
  WorkerFixture filed_late = InstantWorker();
  ExpectDenied(filed_late.Claim(Disability("B1", "A1", a, a + 100, 10, a + 181)),
               {Reason::kFilingDeadlinePassed});
  WorkerFixture away = InstantWorker();
  ClaimRequest r = Disability("B1", "A1", a, a + 100, 10, a + 120);
  r.in_shanghai = false;
  ExpectDenied(away.Claim(r), {Reason::kOutsideShanghai});
  ExpectDenied(away.Claim(Disability("B2", "A1", a, a - 1, 10, a + 120)), {Reason::kInvalidDates});
}

TEST(AccidentalDisabilityTest, ALaterAssessmentPaysTheDifference) {
  const Day a(2022, 7, 10);
  WorkerFixture w = InstantWorker();
  ExpectApproved(w.Claim(Disability("B1", "A1", a, a + 30, 5, a + 40)), 9000000);
  ExpectApproved(w.Claim(Disability("B2", "A1", a, a + 90, 3, a + 100)), 3000000);
  ExpectDenied(w.Claim(Disability("B3", "A1", a, a + 120, 3, a + 130)), {Reason::kAlreadyPaid});
  ExpectDenied(w.Claim(Disability("B4", "A1", a, a + 150, 6, a + 160)), {Reason::kAlreadyPaid});
}

TEST(AccidentalDisabilityTest, AYearCapOf15Wan) {
  WorkerFixture w = ConcentratedWorker();
  ExpectApproved(w.Claim(Disability("B1", "A1", Day(2022, 5, 1), Day(2022, 6, 1), 3,
                                    Day(2022, 6, 10))),
                 12000000);
  ExpectApproved(w.Claim(Disability("B2", "A2", Day(2022, 7, 1), Day(2022, 8, 1), 9,
                                    Day(2022, 8, 10))),
                 3000000);  // grade 9: 20% = 3 万, reaching 15 万 exactly
  const ClaimDecision exhausted =
      w.Claim(Disability("B3", "A3", Day(2022, 9, 1), Day(2022, 10, 1), 10, Day(2022, 10, 10)));
  ExpectDenied(exhausted, {Reason::kBenefitExhausted});
}

TEST(AccidentalDisabilityTest, TheYearCapReachedExactly) {
  WorkerFixture w = ConcentratedWorker();
  ExpectApproved(w.Claim(Disability("B1", "A1", Day(2022, 5, 1), Day(2022, 6, 1), 3,
                                    Day(2022, 6, 10))),
                 12000000);
  ExpectApproved(w.Claim(Disability("B2", "A2", Day(2022, 7, 1), Day(2022, 8, 1), 9,
                                    Day(2022, 8, 10))),
                 3000000);
  WorkerFixture v = ConcentratedWorker();
  ExpectApproved(v.Claim(Disability("B1", "A1", Day(2022, 5, 1), Day(2022, 6, 1), 3,
                                    Day(2022, 6, 10))),
                 12000000);
  ExpectApproved(v.Claim(Disability("B2", "A2", Day(2022, 7, 1), Day(2022, 8, 1), 7,
                                    Day(2022, 8, 10))),
                 6000000 - 3000000, /*capped=*/true);
}

TEST(PerAccidentCapTest, DeathDisabilityAndConsolationTogetherAtMost15Wan) {
  const Day a(2022, 7, 10);
  WorkerFixture w = InstantWorker();
  ExpectApproved(w.Claim(Consolation("K1", "A1", a, a + 10)), 50000);
  const ClaimDecision disability = w.Claim(Disability("B1", "A1", a, a + 30, 1, a + 40));
  ExpectApproved(disability, 15000000 - 50000, /*capped=*/true);
  EXPECT_EQ(disability.clauses, (Clauses{"§五(四)2", "§五(四)4"}));
  const ClaimDecision death = w.Claim(AccidentalDeath("D1", "A1", a, a + 60, a + 70));
  ExpectDenied(death, {Reason::kBenefitExhausted});
  EXPECT_EQ(death.clauses, (Clauses{"§五(四)1", "§五(四)4"}));
  // Another accident has its own cap.
  WorkerFixture v = InstantWorker();
  ExpectApproved(v.Claim(Disability("B1", "A1", a, a + 30, 1, a + 40)), 15000000);
  ExpectApproved(v.Claim(Consolation("K1", "A2", a + 50, a + 60)), 50000);
}

TEST(AccidentConsolationTest, PaysPerAccident) {
  const Day a(2022, 7, 10);
  WorkerFixture w = InstantWorker();
  const ClaimDecision d = w.Claim(Consolation("K1", "A1", a, a + 10));
  ExpectApproved(d, 50000);
  EXPECT_EQ(d.clauses, Clauses{"§五(四)3"});
  // §五(四)3: a second one for the same accident (its facts are the accident's).
  ClaimRequest again = Consolation("K2", "A1", a, a + 20);
  again.site = Site::kHall;
  ExpectDenied(w.Claim(again), {Reason::kAlreadyPaid});
  ExpectApproved(w.Claim(Consolation("K3", "A2", a + 1, a + 20)), 50000);
}

TEST(AccidentConsolationTest, CriteriaLocationAndDisability) {
  const Day a(2022, 7, 10);
  WorkerFixture w = InstantWorker();
  ClaimRequest no = Consolation("K1", "A1", a, a + 10);
  no.meets_criteria = false;
  ExpectDenied(w.Claim(no), {Reason::kCriteriaNotMet});
  ClaimRequest away = Consolation("K2", "A2", a, a + 10);
  away.in_shanghai = false;
  ExpectDenied(w.Claim(away), {Reason::kOutsideShanghai});
  w.Claim(Disability("B1", "A3", a, a + 30, 10, a + 40));
  ExpectDenied(w.Claim(Consolation("K3", "A3", a, a + 50)), {Reason::kCriteriaNotMet});
  ExpectDenied(w.Claim(Consolation("K4", "A4", a, a + 181)), {Reason::kFilingDeadlinePassed});
  ExpectApproved(w.Claim(Consolation("K5", "A5", a, a + 180)), 50000);
}

TEST(AccidentConsolationTest, AYearCapOf6000Yuan) {
  WorkerFixture w = ConcentratedWorker();
  for (int i = 0; i < 12; ++i) {  // 12 × 500 = 6 000 yuan exactly
    const Day a = Day(2022, 4, 10) + 20 * i;
    ExpectApproved(w.Claim(Consolation("K" + std::to_string(i), "A" + std::to_string(i), a, a + 5)),
                   50000);
  }
  ExpectDenied(w.Claim(Consolation("K12", "A12", Day(2023, 3, 20), Day(2023, 3, 25))),
               {Reason::kBenefitExhausted});
}

TEST(AccidentTest, AKnownAccidentWithAnotherDateIsInvalid) {
  WorkerFixture w = InstantWorker();
  ExpectApproved(w.Claim(Consolation("K1", "A1", Day(2022, 7, 10), Day(2022, 7, 20))), 50000);
  ExpectDenied(w.Claim(Disability("B1", "A1", Day(2022, 7, 11), Day(2022, 8, 1), 10, Day(2022, 8, 5))),
               {Reason::kInvalidDates});
}

// ---------------------------------------------------------------- §七

TEST(ClaimsHandlingTest, DuplicateOfAnApprovedClaim) {
  WorkerFixture w = InstantWorker();
  ExpectApproved(w.Claim(HospitalStay("C1", Day(2022, 8, 1), Day(2022, 8, 11), Day(2022, 8, 20))),
                 300000);
  ClaimRequest again = HospitalStay("C2", Day(2022, 8, 1), Day(2022, 8, 11), Day(2022, 8, 25));
  again.site = Site::kHall;
  const ClaimDecision d = w.Claim(again);
  ExpectDenied(d, {Reason::kDuplicateClaim});
  EXPECT_EQ(d.clauses, (Clauses{"§五(一)", "§六(三)"}));
}

TEST(ClaimsHandlingTest, DuplicateOfAClaimAwaitingInvestigation) {
  WorkerFixture w = InstantWorker();
  w.Claim(CriticalIllness("C1", Category::kMalignantTumor, Day(2022, 8, 1), Day(2022, 8, 20)),
          /*awaiting_investigation=*/true);
  EXPECT_EQ(w.file().claims[0].status, ClaimStatus::kAwaitingInvestigation);
  ExpectDenied(
      w.Claim(CriticalIllness("C2", Category::kMalignantTumor, Day(2022, 8, 1), Day(2022, 8, 21))),
      {Reason::kDuplicateClaim});
}

TEST(ClaimsHandlingTest, ARefiledDeniedClaimIsDecidedAfresh) {
  WorkerFixture w = InstantWorker();
  ClaimRequest wrong = IllnessDeath("D1", Day(2022, 9, 1), Day(2022, 9, 20));
  wrong.claimant = Claimant::kWorker;
  ExpectDenied(w.Claim(wrong), {Reason::kInvalidClaimant});
  ExpectApproved(w.Claim(IllnessDeath("D2", Day(2022, 9, 1), Day(2022, 9, 21))), 2000000);
}

TEST(ClaimsHandlingTest, ARetryReturnsTheOriginalDecision) {
  WorkerFixture w = InstantWorker();
  const ClaimDecision first =
      w.Claim(HospitalStay("C1", Day(2022, 8, 1), Day(2022, 8, 11), Day(2022, 8, 20)));
  const ClaimDecision retry =
      w.Claim(HospitalStay("C1", Day(2022, 8, 1), Day(2022, 8, 11), Day(2022, 8, 22)));
  EXPECT_TRUE(retry.retry);
  EXPECT_EQ(retry.outcome, ClaimOutcome::kApproved);
  EXPECT_EQ(retry.amount_fen, first.amount_fen);
  EXPECT_EQ(retry.due_by, first.due_by);
  EXPECT_EQ(w.file().claims.size(), 1u);
  // A retry of a denied claim is the denial again.
  ClaimRequest denied = HospitalStay("C2", Day(2022, 6, 5), Day(2022, 6, 6), Day(2022, 8, 20));
  ExpectDenied(w.Claim(denied), {Reason::kWaitingPeriod});
  const ClaimDecision denied_retry = w.Claim(denied);
  EXPECT_TRUE(denied_retry.retry);
  EXPECT_EQ(denied_retry.reasons, Reasons{Reason::kWaitingPeriod});
}

TEST(ClaimsHandlingTest, DueByIsNinetyDaysAfterReceipt) {
  WorkerFixture w = InstantWorker();
  EXPECT_EQ(w.Claim(HospitalStay("C1", Day(2022, 8, 1), Day(2022, 8, 2), Day(2022, 12, 31))).due_by,
            Day(2023, 3, 31));
}

TEST(ClaimsHandlingTest, PendingReviewEnrollmentCovers) {
  WorkerFixture w;
  EnrollmentRequest r = testing::EnrollmentOn(Day(2022, 3, 10));
  r.industry = "OTHER";
  ASSERT_EQ(w.Enroll(r).outcome, EnrollmentOutcome::kPendingReview);
  ExpectApproved(w.Claim(HospitalStay("C1", Day(2022, 8, 1), Day(2022, 8, 2), Day(2022, 8, 20))),
                 30000);
  ASSERT_TRUE(ApplyReviewVerdict(w.file(), 2022, false).ok());
  ExpectDenied(w.Claim(HospitalStay("C2", Day(2022, 9, 1), Day(2022, 9, 2), Day(2022, 9, 20))),
               {Reason::kNotCovered});
}

TEST(InvestigationTest, WhichClaimsAreInvestigated) {
  const PlanData& plan = BuiltInPlanBook().ForPlanYear(2022);
  WorkerFixture w = InstantWorker();
  const ClaimDecision hospital =
      w.Claim(HospitalStay("C1", Day(2022, 8, 1), Day(2022, 8, 11), Day(2022, 8, 20)));
  EXPECT_FALSE(MustInvestigate(plan, hospital));
  const ClaimDecision consolation = w.Claim(Consolation("K1", "A1", Day(2022, 7, 1), Day(2022, 7, 5)));
  EXPECT_FALSE(MustInvestigate(plan, consolation));
  const ClaimDecision disability =
      w.Claim(Disability("B1", "A2", Day(2022, 7, 1), Day(2022, 8, 1), 10, Day(2022, 8, 5)));
  EXPECT_TRUE(MustInvestigate(plan, disability));
  const ClaimDecision illness =
      w.Claim(CriticalIllness("C2", Category::kMalignantTumor, Day(2022, 8, 1), Day(2022, 8, 20)));
  EXPECT_TRUE(MustInvestigate(plan, illness));  // 2 万 > 1 万
  const ClaimDecision denied =
      w.Claim(HospitalStay("C3", Day(2022, 6, 5), Day(2022, 6, 6), Day(2022, 8, 20)));
  EXPECT_FALSE(MustInvestigate(plan, denied));
  const ClaimDecision death = w.Claim(IllnessDeath("D1", Day(2022, 9, 1), Day(2022, 9, 20)));
  EXPECT_TRUE(MustInvestigate(plan, death));

  PlanData strict = plan;
  strict.investigation_threshold_fen = 100000;
  EXPECT_TRUE(MustInvestigate(strict, hospital));
}

TEST(InvestigationTest, ANotUpheldClaimNoLongerCounts) {
  WorkerFixture w = InstantWorker();
  w.Claim(CriticalIllness("C1", Category::kMalignantTumor, Day(2022, 8, 1), Day(2022, 8, 20)),
          /*awaiting_investigation=*/true);
  ExpectDenied(
      w.Claim(CriticalIllness("C2", Category::kCoronaryBypass, Day(2022, 9, 1), Day(2022, 9, 20))),
      {Reason::kAlreadyPaid});
  EXPECT_TRUE(ConcludeInvestigation(w.file(), "C1", /*upheld=*/false).ok());
  EXPECT_EQ(ConcludeInvestigation(w.file(), "C1", true).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ConcludeInvestigation(w.file(), "nope", true).code(), absl::StatusCode::kNotFound);
  ExpectApproved(
      w.Claim(CriticalIllness("C3", Category::kCoronaryBypass, Day(2022, 9, 1), Day(2022, 9, 21))),
      2000000);
}

TEST(InvestigationTest, AnUpheldClaimIsApproved) {
  WorkerFixture w = InstantWorker();
  w.Claim(IllnessDeath("D1", Day(2022, 9, 1), Day(2022, 9, 20)), /*awaiting_investigation=*/true);
  EXPECT_TRUE(ConcludeInvestigation(w.file(), "D1", /*upheld=*/true).ok());
  EXPECT_EQ(w.file().claims[0].status, ClaimStatus::kApproved);
  EXPECT_EQ(DateOfDeath(w.file()), Day(2022, 9, 1));
}

TEST(EventFactsTest, EventDateAndSameFacts) {
  const ClaimRequest stay = HospitalStay("C1", Day(2022, 8, 1), Day(2022, 8, 3), Day(2022, 8, 20));
  EXPECT_EQ(EventDate(stay), Day(2022, 8, 1));
  ClaimRequest refiled = stay;
  refiled.claim_id = "C2";
  refiled.received_on = Day(2022, 9, 1);
  refiled.site = Site::kHall;
  EXPECT_TRUE(SameEventFacts(stay, refiled));
  refiled.discharge = Day(2022, 8, 4);
  EXPECT_FALSE(SameEventFacts(stay, refiled));
  EXPECT_EQ(EventDate(Covid("C", Day(2022, 5, 1), Day(2022, 6, 1))), Day(2022, 5, 1));
  EXPECT_EQ(EventDate(IllnessDeath("D", Day(2022, 5, 2), Day(2022, 6, 1))), Day(2022, 5, 2));
  EXPECT_EQ(EventDate(Consolation("K", "A", Day(2022, 5, 3), Day(2022, 6, 1))), Day(2022, 5, 3));
}

}  // namespace
}  // namespace mutualaid::plan
