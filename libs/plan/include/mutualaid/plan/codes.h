// The plan's vocabulary: every code that appears in a decision or a request.
//
// ToString gives the exact text used in plan-rules.md, scenario files and
// events; Parse* accepts exactly that text (and nothing else) so that the
// services, the simulator and the audit tools spell every code one way.
#ifndef MUTUALAID_PLAN_CODES_H_
#define MUTUALAID_PLAN_CODES_H_

#include <optional>
#include <span>
#include <string_view>

namespace mutualaid::plan {

// Every reason code of plan-rules.md, enrollment and claims together.
enum class Reason {
  // §1 enrollment
  kUnknownPlatform,
  kInvalidIdNumber,
  kInvalidName,
  kInvalidPhone,
  kAge60OrOver,
  kAgeBelow16,
  kUnsupportedIndustry,
  kDuplicateInPlanYear,
  kWorkerDeceased,  // also a claim reason (§5.7)
  // §5 benefits
  kNotCovered,
  kWaitingPeriod,
  kNotIllness,
  kIneligibleHospital,
  kBenefitExhausted,
  kInvalidDates,
  kNotHospitalized,
  kAlreadyPaid,
  kNotFirstDiagnosis,
  kOutsideEpidemicPeriod,
  kNoCriticalIllnessBenefit,
  kBelowThreshold,
  kOutsideShanghai,
  kDeathAfter180Days,
  kAssessedAfter180Days,
  kCriteriaNotMet,
  // §6, §7 claims handling
  kFilingDeadlinePassed,
  kInvalidClaimant,
  kDuplicateClaim,
};
std::string_view ToString(Reason reason);
std::optional<Reason> ParseReason(std::string_view text);
// Every Reason value, in declaration order (for coverage checks and audits).
std::span<const Reason> AllReasons();

// The input field an enrollment rejection blames.
enum class Field { kNone, kPlatform, kIdNumber, kName, kPhone, kIndustry };
std::string_view ToString(Field field);  // "platform", "id_number", … ("" for kNone)

enum class Industry {
  kIntracityFreight,  // 同城货运
  kFoodDelivery,      // 网约送餐
  kInstantDelivery,   // 即时递送
  kRideHailing,       // 网约车
  kExpressDelivery,   // 快递
  kOther,             // accepted for manual review only
};
std::string_view ToString(Industry industry);
std::optional<Industry> ParseIndustry(std::string_view text);

enum class EnrollmentKind { kConcentrated, kInstant };  // 集中参保 / 即时参保
std::string_view ToString(EnrollmentKind kind);

enum class EnrollmentOutcome { kAccepted, kRejected, kPendingReview };
std::string_view ToString(EnrollmentOutcome outcome);

// Why an otherwise valid enrollment waits for a reviewer [reading] (§二).
enum class ReviewFlag {
  kIndustryOther,        // industry OTHER
  kNameDiffersFromEarlierYear,  // same ID number, earlier plan year, other name
  kSharedPhone,          // one phone number on more than N workers in the plan year
};
std::string_view ToString(ReviewFlag flag);

enum class Benefit {
  kHospitalAllowance,       // §五(一)
  kCriticalIllness,         // §五(二)1
  kCovid19,                 // §五(二)1, epidemic paragraph
  kCriticalIllnessSubsidy,  // §五(二)2
  kIllnessDeath,            // §五(三)
  kAccidentalDeath,         // §五(四)1
  kAccidentalDisability,    // §五(四)2
  kAccidentConsolation,     // §五(四)3
};
std::string_view ToString(Benefit benefit);
std::optional<Benefit> ParseBenefit(std::string_view text);
bool IsDeathBenefit(Benefit benefit);
bool IsAccidentBenefit(Benefit benefit);

enum class Hospital { kDesignatedHospital, kCommunityHealthCenter, kOtherHospital };
std::string_view ToString(Hospital hospital);
std::optional<Hospital> ParseHospital(std::string_view text);

enum class Cause { kIllness, kAccident };
std::string_view ToString(Cause cause);
std::optional<Cause> ParseCause(std::string_view text);

// The 12 critical-illness categories of §五(二)1, in the plan's order.
enum class CriticalIllnessCategory {
  kMalignantTumor,
  kAcuteMyocardialInfarction,
  kStrokeSequelae,
  kMajorOrganOrStemCellTransplant,
  kCoronaryBypass,
  kEndStageRenalDisease,
  kSevereHepatitis,
  kBenignBrainTumor,
  kHeartValveSurgery,
  kSevereThirdDegreeBurn,
  kSevereAplasticAnemia,
  kAorticSurgery,
};
std::string_view ToString(CriticalIllnessCategory category);
std::optional<CriticalIllnessCategory> ParseCriticalIllnessCategory(std::string_view text);

enum class Claimant { kWorker, kPlatform };
std::string_view ToString(Claimant claimant);
std::optional<Claimant> ParseClaimant(std::string_view text);

enum class Payee { kWorkerCard, kPlatformAccount };
std::string_view ToString(Payee payee);

enum class ClaimOutcome { kApproved, kDenied };
std::string_view ToString(ClaimOutcome outcome);

// Where a claim was filed (§六(一), 全市通办): the association's hall or one of
// the 16 district union worker-service centres.
enum class Site {
  kHall,  // 上海市职工保障互助会服务大厅
  kPudong,
  kHuangpu,
  kJingan,
  kXuhui,
  kChangning,
  kPutuo,
  kHongkou,
  kYangpu,
  kBaoshan,
  kMinhang,
  kJiading,
  kJinshan,
  kSongjiang,
  kQingpu,
  kFengxian,
  kChongming,
};
// The district's name as the plan lists it ("浦东新区", "黄浦", …) or the hall's
// full name.
std::string_view ToString(Site site);
// Accepts the listed name, a district name with its 区 suffix ("黄浦区"), the
// hall's full name or "服务大厅".
std::optional<Site> ParseSite(std::string_view text);

}  // namespace mutualaid::plan

#endif  // MUTUALAID_PLAN_CODES_H_
