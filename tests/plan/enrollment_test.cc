#include "mutualaid/plan/enrollment.h"

#include <vector>

#include "gtest/gtest.h"
#include "test_util.h"

namespace mutualaid::plan {
namespace {

using testing::Day;
using testing::EnrollmentOn;
using testing::IdFor;
using testing::WorkerFixture;
using Reasons = std::vector<Reason>;

TEST(EnrollmentTest, InstantEnrollmentInMay) {
  WorkerFixture w;
  const EnrollmentDecision d = w.Enroll(Day(2022, 5, 10));
  EXPECT_EQ(d.outcome, EnrollmentOutcome::kAccepted);
  EXPECT_EQ(d.plan_year, 2022);
  EXPECT_EQ(d.kind, EnrollmentKind::kInstant);
  EXPECT_EQ(d.coverage_start, Day(2022, 6, 1));
  EXPECT_EQ(d.coverage_end, Day(2023, 3, 31));
  EXPECT_EQ(d.fee_fen, 7200);
  EXPECT_FALSE(d.review);
  EXPECT_TRUE(d.reasons.empty());
  EXPECT_EQ(d.field, Field::kNone);
  EXPECT_EQ(d.rule_set_version, "sh-gig-mutual-aid-2022");
  EXPECT_EQ(d.clauses, (std::vector<std::string>{"§三(二)", "§四(一)"}));
  ASSERT_EQ(w.file().enrollments.size(), 1u);
  EXPECT_EQ(w.file().enrollments[0].status, EnrollmentStatus::kActive);
}

TEST(EnrollmentTest, FebruaryIsInstantInThePlanYearEndingInMarch) {
  WorkerFixture w;
  const EnrollmentDecision d = w.Enroll(Day(2023, 2, 14));
  EXPECT_EQ(d.kind, EnrollmentKind::kInstant);
  EXPECT_EQ(d.plan_year, 2022);
  EXPECT_EQ(d.coverage_start, Day(2023, 3, 1));
  EXPECT_EQ(d.coverage_end, Day(2023, 3, 31));
  EXPECT_EQ(d.fee_fen, 3600);
}

TEST(EnrollmentTest, MarchIsConcentrated) {
  WorkerFixture w;
  const EnrollmentDecision d = w.Enroll(Day(2023, 3, 2));
  EXPECT_EQ(d.kind, EnrollmentKind::kConcentrated);
  EXPECT_EQ(d.plan_year, 2023);
  EXPECT_EQ(d.coverage_start, Day(2023, 4, 1));
  EXPECT_EQ(d.coverage_end, Day(2024, 3, 31));
  EXPECT_EQ(d.fee_fen, 7200);
  EXPECT_EQ(d.clauses, (std::vector<std::string>{"§三(一)", "§四(一)"}));
}

TEST(EnrollmentTest, AprilAugustSeptemberFees) {
  struct Case {
    Day on;
    int64_t fee;
    Day start;
  };
  for (const Case& c : {Case{Day(2022, 4, 1), 7200, Day(2022, 5, 1)},
                        Case{Day(2022, 8, 31), 7200, Day(2022, 9, 1)},
                        Case{Day(2022, 9, 1), 3600, Day(2022, 10, 1)},
                        Case{Day(2023, 1, 31), 3600, Day(2023, 2, 1)}}) {
    WorkerFixture w;
    const EnrollmentDecision d = w.Enroll(c.on);
    EXPECT_EQ(d.fee_fen, c.fee) << FormatIsoDate(c.on);
    EXPECT_EQ(d.coverage_start, c.start) << FormatIsoDate(c.on);
    EXPECT_EQ(d.kind, EnrollmentKind::kInstant);
    EXPECT_EQ(d.plan_year, 2022);
  }
}

TEST(EnrollmentTest, AdjacentPlanYearsBothHold) {
  WorkerFixture w;
  EXPECT_EQ(w.Enroll(Day(2023, 2, 14)).outcome, EnrollmentOutcome::kAccepted);
  EXPECT_EQ(w.Enroll(Day(2023, 3, 2)).outcome, EnrollmentOutcome::kAccepted);
  EXPECT_EQ(w.file().enrollments.size(), 2u);
  EXPECT_NE(HeldEnrollment(w.file(), 2022), nullptr);
  EXPECT_NE(HeldEnrollment(w.file(), 2023), nullptr);
  EXPECT_EQ(HeldEnrollment(w.file(), 2024), nullptr);
}

TEST(EnrollmentTest, Age60Boundary) {
  const Day birth(1962, 5, 10);
  WorkerFixture before;
  EXPECT_EQ(before.Enroll(EnrollmentOn(Day(2022, 5, 9), "P01", birth)).outcome,
            EnrollmentOutcome::kAccepted);
  for (Day on : {Day(2022, 5, 10), Day(2022, 5, 11)}) {
    WorkerFixture w;
    const EnrollmentDecision d = w.Enroll(EnrollmentOn(on, "P01", birth));
    EXPECT_EQ(d.outcome, EnrollmentOutcome::kRejected);
    EXPECT_EQ(d.reasons, Reasons{Reason::kAge60OrOver});
    EXPECT_EQ(d.field, Field::kIdNumber);
    EXPECT_EQ(d.fee_fen, 0);
    EXPECT_EQ(d.clauses, std::vector<std::string>{"§一"});
  }
}

TEST(EnrollmentTest, Age16Boundary) {
  const Day birth(2006, 5, 10);
  WorkerFixture before;
  const EnrollmentDecision d = before.Enroll(EnrollmentOn(Day(2022, 5, 9), "P01", birth));
  EXPECT_EQ(d.reasons, Reasons{Reason::kAgeBelow16});
  EXPECT_EQ(d.field, Field::kIdNumber);
  for (Day on : {Day(2022, 5, 10), Day(2022, 5, 11)}) {
    WorkerFixture w;
    EXPECT_EQ(w.Enroll(EnrollmentOn(on, "P01", birth)).outcome, EnrollmentOutcome::kAccepted);
  }
}

TEST(EnrollmentTest, TwentyNinthOfFebruaryBirthday) {
  // 16 on 2024-02-29 (a leap year); the day before is still 15.
  const Day birth(2008, 2, 29);
  WorkerFixture a;
  EXPECT_EQ(a.Enroll(EnrollmentOn(Day(2024, 2, 28), "P01", birth)).reasons,
            Reasons{Reason::kAgeBelow16});
  WorkerFixture b;
  EXPECT_EQ(b.Enroll(EnrollmentOn(Day(2024, 2, 29), "P01", birth)).outcome,
            EnrollmentOutcome::kAccepted);
  // 59 on 28 Feb 2023 (non-leap) for someone born 29 Feb 1964: still under 60.
  WorkerFixture c;
  EXPECT_EQ(c.Enroll(EnrollmentOn(Day(2023, 2, 28), "P01", Day(1964, 2, 29))).outcome,
            EnrollmentOutcome::kAccepted);
  WorkerFixture d;
  EXPECT_EQ(d.Enroll(EnrollmentOn(Day(2024, 2, 29), "P01", Day(1964, 2, 29))).reasons,
            Reasons{Reason::kAge60OrOver});
}

TEST(EnrollmentTest, UnknownPlatform) {
  WorkerFixture w;
  const EnrollmentDecision d = w.Enroll(EnrollmentOn(Day(2022, 5, 10)), /*registered=*/false);
  EXPECT_EQ(d.outcome, EnrollmentOutcome::kRejected);
  EXPECT_EQ(d.reasons, Reasons{Reason::kUnknownPlatform});
  EXPECT_EQ(d.field, Field::kPlatform);
  EXPECT_TRUE(w.file().enrollments.empty());
}

TEST(EnrollmentTest, InvalidFieldsNameTheField) {
  struct Case {
    void (*mutate)(EnrollmentRequest&);
    Reason reason;
    Field field;
  };
  const Case cases[] = {
      {[](EnrollmentRequest& r) { r.id_number = "310101199001011235"; }, Reason::kInvalidIdNumber,
       Field::kIdNumber},
      {[](EnrollmentRequest& r) { r.id_number = "310101900101123"; }, Reason::kInvalidIdNumber,
       Field::kIdNumber},
      {[](EnrollmentRequest& r) { r.name = "张3"; }, Reason::kInvalidName, Field::kName},
      {[](EnrollmentRequest& r) { r.phone = "12800138000"; }, Reason::kInvalidPhone, Field::kPhone},
      {[](EnrollmentRequest& r) { r.industry = "FARMING"; }, Reason::kUnsupportedIndustry,
       Field::kIndustry},
  };
  for (const Case& c : cases) {
    WorkerFixture w;
    EnrollmentRequest r = EnrollmentOn(Day(2022, 5, 10));
    c.mutate(r);
    const EnrollmentDecision d = w.Enroll(r);
    EXPECT_EQ(d.outcome, EnrollmentOutcome::kRejected);
    EXPECT_EQ(d.reasons, Reasons{c.reason});
    EXPECT_EQ(d.field, c.field);
    EXPECT_TRUE(w.file().enrollments.empty());
  }
}

TEST(EnrollmentTest, AllFaultsListedFirstFieldBlamed) {
  WorkerFixture w;
  EnrollmentRequest r = EnrollmentOn(Day(2022, 5, 10));
  r.name = "";
  r.phone = "123";
  r.industry = "X";
  const EnrollmentDecision d = w.Enroll(r, /*registered=*/false);
  EXPECT_EQ(d.reasons, (Reasons{Reason::kUnknownPlatform, Reason::kInvalidName,
                                Reason::kInvalidPhone, Reason::kUnsupportedIndustry}));
  EXPECT_EQ(d.field, Field::kPlatform);
}

TEST(EnrollmentTest, IndustryOtherWaitsForReview) {
  WorkerFixture w;
  EnrollmentRequest r = EnrollmentOn(Day(2022, 5, 10));
  r.industry = "OTHER";
  const EnrollmentDecision d = w.Enroll(r);
  EXPECT_EQ(d.outcome, EnrollmentOutcome::kPendingReview);
  EXPECT_TRUE(d.review);
  EXPECT_EQ(d.review_flags, std::vector<ReviewFlag>{ReviewFlag::kIndustryOther});
  EXPECT_TRUE(d.reasons.empty());
  EXPECT_EQ(d.fee_fen, 7200);
  ASSERT_EQ(w.file().enrollments.size(), 1u);
  EXPECT_EQ(w.file().enrollments[0].status, EnrollmentStatus::kPendingReview);
}

TEST(EnrollmentTest, EveryAutoApprovedIndustry) {
  for (const char* industry : {"INTRACITY_FREIGHT", "FOOD_DELIVERY", "INSTANT_DELIVERY",
                               "RIDE_HAILING", "EXPRESS_DELIVERY"}) {
    WorkerFixture w;
    EnrollmentRequest r = EnrollmentOn(Day(2022, 5, 10));
    r.industry = industry;
    EXPECT_EQ(w.Enroll(r).outcome, EnrollmentOutcome::kAccepted) << industry;
  }
}

TEST(EnrollmentTest, FirstPlatformWinsTheYear) {
  WorkerFixture w;
  EXPECT_EQ(w.Enroll(EnrollmentOn(Day(2022, 5, 10), "P01")).outcome, EnrollmentOutcome::kAccepted);
  const EnrollmentDecision second = w.Enroll(EnrollmentOn(Day(2022, 6, 10), "P02"));
  EXPECT_EQ(second.outcome, EnrollmentOutcome::kRejected);
  EXPECT_EQ(second.reasons, Reasons{Reason::kDuplicateInPlanYear});
  EXPECT_EQ(second.field, Field::kIdNumber);
  EXPECT_EQ(second.clauses, std::vector<std::string>{"§二(五)"});
  EXPECT_EQ(w.file().enrollments.size(), 1u);
}

TEST(EnrollmentTest, RetryBySamePlatformReturnsTheOriginal) {
  WorkerFixture w;
  const EnrollmentDecision first = w.Enroll(EnrollmentOn(Day(2022, 5, 10), "P01"));
  const EnrollmentDecision retry = w.Enroll(EnrollmentOn(Day(2022, 7, 3), "P01"));
  EXPECT_TRUE(retry.retry);
  EXPECT_EQ(retry.outcome, EnrollmentOutcome::kAccepted);
  EXPECT_EQ(retry.coverage_start, first.coverage_start);  // not August
  EXPECT_EQ(retry.received_on, first.received_on);
  EXPECT_EQ(retry.fee_fen, first.fee_fen);
  EXPECT_EQ(w.file().enrollments.size(), 1u);  // folding a retry changes nothing
}

TEST(EnrollmentTest, RejectedRecordIsDecidedAfreshWhenResent) {
  WorkerFixture w;
  EnrollmentRequest bad = EnrollmentOn(Day(2022, 5, 10));
  bad.phone = "123";
  EXPECT_EQ(w.Enroll(bad).outcome, EnrollmentOutcome::kRejected);
  const EnrollmentDecision fixed = w.Enroll(EnrollmentOn(Day(2022, 5, 11)));
  EXPECT_EQ(fixed.outcome, EnrollmentOutcome::kAccepted);
  EXPECT_FALSE(fixed.retry);
}

TEST(EnrollmentTest, DeceasedWorkerCannotEnrol) {
  WorkerFixture w;
  w.Enroll(Day(2022, 3, 10));
  ASSERT_EQ(w.Claim(testing::IllnessDeath("D1", Day(2022, 9, 1), Day(2022, 9, 20))).outcome,
            ClaimOutcome::kApproved);
  const EnrollmentDecision d = w.Enroll(EnrollmentOn(Day(2023, 3, 5), "P01"));
  EXPECT_EQ(d.outcome, EnrollmentOutcome::kRejected);
  EXPECT_EQ(d.reasons, Reasons{Reason::kWorkerDeceased});
  EXPECT_EQ(d.field, Field::kIdNumber);
}

TEST(EnrollmentTest, NameDifferentFromAnEarlierYearWaitsForReview) {
  WorkerFixture w;
  w.Enroll(Day(2022, 5, 10));
  EnrollmentRequest renamed = EnrollmentOn(Day(2023, 3, 5));
  renamed.name = "张叁";
  const EnrollmentDecision d = w.Enroll(renamed);
  EXPECT_EQ(d.outcome, EnrollmentOutcome::kPendingReview);
  EXPECT_EQ(d.review_flags, std::vector<ReviewFlag>{ReviewFlag::kNameDiffersFromEarlierYear});

  WorkerFixture same;
  same.Enroll(Day(2022, 5, 10));
  EXPECT_EQ(same.Enroll(Day(2023, 3, 5)).outcome, EnrollmentOutcome::kAccepted);
}

TEST(EnrollmentTest, PhoneOnMoreThanThreeWorkersWaitsForReview) {
  PhoneUsage usage;
  for (int i = 0; i < 4; ++i) {
    EnrollmentRequest r = EnrollmentOn(Day(2022, 5, 10));
    r.id_number = IdFor(Day(1990, 1, 1), "12" + std::to_string(i));
    EnrollmentContext context{true, usage};
    const EnrollmentDecision d = DecideEnrollment(BuiltInPlanBook(), r, WorkerFile{}, context);
    if (i < 3) {
      EXPECT_EQ(d.outcome, EnrollmentOutcome::kAccepted) << i;
    } else {
      EXPECT_EQ(d.outcome, EnrollmentOutcome::kPendingReview);
      EXPECT_EQ(d.review_flags, std::vector<ReviewFlag>{ReviewFlag::kSharedPhone});
    }
    ApplyEnrollment(usage, d);
  }
  EXPECT_EQ(usage.id_numbers.size(), 4u);
  EXPECT_EQ(usage.phone, "13800138000");
  EXPECT_EQ(usage.plan_year, 2022);

  // Another plan year's usage does not count.
  EnrollmentRequest next_year = EnrollmentOn(Day(2023, 3, 5));
  next_year.id_number = IdFor(Day(1990, 1, 1), "999");
  EXPECT_EQ(DecideEnrollment(BuiltInPlanBook(), next_year, WorkerFile{}, {true, usage}).outcome,
            EnrollmentOutcome::kAccepted);
  // A worker already counted is not a new one.
  EnrollmentRequest again = EnrollmentOn(Day(2022, 5, 10));
  again.id_number = usage.id_numbers[0];
  PhoneUsage three = usage;
  three.id_numbers.pop_back();
  EXPECT_EQ(DecideEnrollment(BuiltInPlanBook(), again, WorkerFile{}, {true, three}).outcome,
            EnrollmentOutcome::kAccepted);
}

TEST(EnrollmentTest, ReviewVerdicts) {
  WorkerFixture w;
  EnrollmentRequest r = EnrollmentOn(Day(2022, 5, 10), "P01");
  r.industry = "OTHER";
  w.Enroll(r);
  EXPECT_TRUE(ApplyReviewVerdict(w.file(), 2022, /*approve=*/false).ok());
  EXPECT_EQ(w.file().enrollments[0].status, EnrollmentStatus::kRejectedInReview);
  EXPECT_EQ(HeldEnrollment(w.file(), 2022), nullptr);
  EXPECT_FALSE(ApplyReviewVerdict(w.file(), 2022, true).ok());
  // The year is free again: another platform may enrol the worker.
  const EnrollmentDecision other = w.Enroll(EnrollmentOn(Day(2022, 6, 1), "P02"));
  EXPECT_EQ(other.outcome, EnrollmentOutcome::kAccepted);

  WorkerFixture v;
  v.Enroll(r);
  EXPECT_TRUE(ApplyReviewVerdict(v.file(), 2022, /*approve=*/true).ok());
  EXPECT_EQ(v.file().enrollments[0].status, EnrollmentStatus::kActive);
}

TEST(EnrollmentTest, PlatformMonthStatementAndFeeSplit) {
  PlatformMonthStatement statement;
  EnrollmentRequest r = EnrollmentOn(Day(2022, 5, 10), "P01");
  r.worker_share_fen = 2000;
  const EnrollmentDecision a = DecideEnrollment(BuiltInPlanBook(), r, WorkerFile{}, {true, {}});
  EXPECT_EQ(a.worker_share_fen, 2000);
  EXPECT_EQ(a.platform_share_fen, 5200);
  ApplyEnrollment(statement, a);
  EnrollmentRequest b_request = EnrollmentOn(Day(2022, 5, 20), "P01");
  b_request.id_number = IdFor(Day(1991, 2, 3));
  ApplyEnrollment(statement, DecideEnrollment(BuiltInPlanBook(), b_request, WorkerFile{}, {true, {}}));
  // Another month, and a rejection, do not count.
  ApplyEnrollment(statement, DecideEnrollment(BuiltInPlanBook(), EnrollmentOn(Day(2022, 6, 1)),
                                              WorkerFile{}, {true, {}}));
  ApplyEnrollment(statement, DecideEnrollment(BuiltInPlanBook(), EnrollmentOn(Day(2022, 5, 2)),
                                              WorkerFile{}, {false, {}}));
  EXPECT_EQ(statement.platform_id, "P01");
  EXPECT_EQ(statement.year, 2022);
  EXPECT_EQ(statement.month, 5);
  EXPECT_EQ(statement.approved_count, 2);
  EXPECT_EQ(statement.fee_total_fen, 14400);
  EXPECT_EQ(statement.worker_share_fen, 2000);
  EXPECT_EQ(statement.platform_share_fen, 12400);
}

}  // namespace
}  // namespace mutualaid::plan
