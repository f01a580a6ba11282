#include "mutualaid/plan/codes.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace mutualaid::plan {
namespace {

// The codes exactly as plan-rules.md spells them.
const std::set<std::string> kPlanRulesReasonCodes = {
    "UNKNOWN_PLATFORM", "INVALID_ID_NUMBER", "INVALID_NAME", "INVALID_PHONE",
    "AGE_60_OR_OVER", "AGE_BELOW_16", "UNSUPPORTED_INDUSTRY", "DUPLICATE_IN_PLAN_YEAR",
    "WORKER_DECEASED", "NOT_COVERED", "WAITING_PERIOD", "NOT_ILLNESS", "INELIGIBLE_HOSPITAL",
    "BENEFIT_EXHAUSTED", "INVALID_DATES", "NOT_HOSPITALIZED", "ALREADY_PAID",
    "NOT_FIRST_DIAGNOSIS", "OUTSIDE_EPIDEMIC_PERIOD", "NO_CRITICAL_ILLNESS_BENEFIT",
    "BELOW_THRESHOLD", "OUTSIDE_SHANGHAI", "DEATH_AFTER_180_DAYS", "ASSESSED_AFTER_180_DAYS",
    "CRITERIA_NOT_MET", "FILING_DEADLINE_PASSED", "INVALID_CLAIMANT", "DUPLICATE_CLAIM",
};

TEST(CodesTest, EveryReasonOfPlanRulesAndNoOther) {
  std::set<std::string> ours;
  for (Reason reason : AllReasons()) {
    const std::string text(ToString(reason));
    EXPECT_TRUE(ours.insert(text).second) << "twice: " << text;
    EXPECT_EQ(ParseReason(text), reason);
  }
  EXPECT_EQ(ours, kPlanRulesReasonCodes);
  EXPECT_EQ(ParseReason("not_covered"), std::nullopt);
}

TEST(CodesTest, BenefitsRoundTrip) {
  for (std::string_view text : {"HOSPITAL_ALLOWANCE", "CRITICAL_ILLNESS", "COVID19",
                                "CRITICAL_ILLNESS_SUBSIDY", "ILLNESS_DEATH", "ACCIDENTAL_DEATH",
                                "ACCIDENTAL_DISABILITY", "ACCIDENT_CONSOLATION"}) {
    const std::optional<Benefit> b = ParseBenefit(text);
    ASSERT_TRUE(b.has_value()) << text;
    EXPECT_EQ(ToString(*b), text);
  }
  EXPECT_EQ(ParseBenefit("COVID-19"), std::nullopt);
  EXPECT_TRUE(IsDeathBenefit(Benefit::kIllnessDeath));
  EXPECT_TRUE(IsDeathBenefit(Benefit::kAccidentalDeath));
  EXPECT_FALSE(IsDeathBenefit(Benefit::kAccidentalDisability));
  EXPECT_TRUE(IsAccidentBenefit(Benefit::kAccidentConsolation));
  EXPECT_FALSE(IsAccidentBenefit(Benefit::kIllnessDeath));
}

TEST(CodesTest, IndustriesHospitalsCausesClaimants) {
  for (std::string_view text : {"INTRACITY_FREIGHT", "FOOD_DELIVERY", "INSTANT_DELIVERY",
                                "RIDE_HAILING", "EXPRESS_DELIVERY", "OTHER"}) {
    ASSERT_TRUE(ParseIndustry(text).has_value()) << text;
    EXPECT_EQ(ToString(*ParseIndustry(text)), text);
  }
  EXPECT_EQ(ParseIndustry("FARMING"), std::nullopt);
  EXPECT_EQ(ParseIndustry("food_delivery"), std::nullopt);
  for (std::string_view text : {"DESIGNATED_HOSPITAL", "COMMUNITY_HEALTH_CENTER", "OTHER_HOSPITAL"}) {
    EXPECT_EQ(ToString(*ParseHospital(text)), text);
  }
  EXPECT_EQ(ToString(*ParseCause("ILLNESS")), "ILLNESS");
  EXPECT_EQ(ToString(*ParseCause("ACCIDENT")), "ACCIDENT");
  EXPECT_EQ(ToString(*ParseClaimant("WORKER")), "WORKER");
  EXPECT_EQ(ToString(*ParseClaimant("PLATFORM")), "PLATFORM");
  EXPECT_EQ(ParseClaimant("EMPLOYER"), std::nullopt);
  EXPECT_EQ(ToString(Payee::kWorkerCard), "WORKER_CARD");
  EXPECT_EQ(ToString(Payee::kPlatformAccount), "PLATFORM_ACCOUNT");
  EXPECT_EQ(ToString(EnrollmentKind::kConcentrated), "CONCENTRATED");
  EXPECT_EQ(ToString(EnrollmentKind::kInstant), "INSTANT");
  EXPECT_EQ(ToString(EnrollmentOutcome::kPendingReview), "PENDING_REVIEW");
  EXPECT_EQ(ToString(ClaimOutcome::kApproved), "APPROVED");
  EXPECT_EQ(ToString(ClaimOutcome::kDenied), "DENIED");
  EXPECT_EQ(ToString(Field::kIdNumber), "id_number");
}

TEST(CodesTest, TwelveCriticalIllnessCategories) {
  int count = 0;
  for (std::string_view text :
       {"MALIGNANT_TUMOR", "ACUTE_MYOCARDIAL_INFARCTION", "STROKE_SEQUELAE",
        "MAJOR_ORGAN_OR_STEM_CELL_TRANSPLANT", "CORONARY_BYPASS", "END_STAGE_RENAL_DISEASE",
        "SEVERE_HEPATITIS", "BENIGN_BRAIN_TUMOR", "HEART_VALVE_SURGERY", "SEVERE_THIRD_DEGREE_BURN",
        "SEVERE_APLASTIC_ANEMIA", "AORTIC_SURGERY"}) {
    ASSERT_TRUE(ParseCriticalIllnessCategory(text).has_value()) << text;
    EXPECT_EQ(ToString(*ParseCriticalIllnessCategory(text)), text);
    ++count;
  }
  EXPECT_EQ(count, 12);
  EXPECT_EQ(ParseCriticalIllnessCategory("FLU"), std::nullopt);
}

TEST(CodesTest, TheHallAndSixteenDistricts) {
  std::set<Site> sites;
  for (std::string_view name : {"浦东新区", "黄浦", "静安", "徐汇", "长宁", "普陀", "虹口", "杨浦",
                                "宝山", "闵行", "嘉定", "金山", "松江", "青浦", "奉贤", "崇明"}) {
    const std::optional<Site> site = ParseSite(name);
    ASSERT_TRUE(site.has_value()) << name;
    EXPECT_EQ(ToString(*site), name);
    sites.insert(*site);
  }
  EXPECT_EQ(sites.size(), 16u);
  EXPECT_EQ(ParseSite("上海市职工保障互助会服务大厅"), Site::kHall);
  EXPECT_EQ(ParseSite("服务大厅"), Site::kHall);
  EXPECT_EQ(ParseSite("黄浦区"), Site::kHuangpu);
  EXPECT_EQ(ParseSite("浦东新区区"), std::nullopt);
  EXPECT_EQ(ParseSite("浦东"), std::nullopt);
  EXPECT_EQ(ParseSite("南汇"), std::nullopt);  // merged into 浦东新区 in 2009
  EXPECT_EQ(ParseSite("区"), std::nullopt);
  EXPECT_EQ(ParseSite(""), std::nullopt);
}

}  // namespace
}  // namespace mutualaid::plan
