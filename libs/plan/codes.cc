#include "mutualaid/plan/codes.h"

#include <array>
#include <utility>

namespace mutualaid::plan {
namespace {

template <typename E, size_t N>
std::string_view Lookup(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [e, text] : table) {
    if (e == value) return text;
  }
  return "?";
}

template <typename E, size_t N>
std::optional<E> ReverseLookup(const std::array<std::pair<E, std::string_view>, N>& table,
                               std::string_view text) {
  for (const auto& [e, t] : table) {
    if (t == text) return e;
  }
  return std::nullopt;
}

constexpr std::array<std::pair<Reason, std::string_view>, 28> kReasons{{
    {Reason::kUnknownPlatform, "UNKNOWN_PLATFORM"},
    {Reason::kInvalidIdNumber, "INVALID_ID_NUMBER"},
    {Reason::kInvalidName, "INVALID_NAME"},
    {Reason::kInvalidPhone, "INVALID_PHONE"},
    {Reason::kAge60OrOver, "AGE_60_OR_OVER"},
    {Reason::kAgeBelow16, "AGE_BELOW_16"},
    {Reason::kUnsupportedIndustry, "UNSUPPORTED_INDUSTRY"},
    {Reason::kDuplicateInPlanYear, "DUPLICATE_IN_PLAN_YEAR"},
    {Reason::kWorkerDeceased, "WORKER_DECEASED"},
    {Reason::kNotCovered, "NOT_COVERED"},
    {Reason::kWaitingPeriod, "WAITING_PERIOD"},
    {Reason::kNotIllness, "NOT_ILLNESS"},
    {Reason::kIneligibleHospital, "INELIGIBLE_HOSPITAL"},
    {Reason::kBenefitExhausted, "BENEFIT_EXHAUSTED"},
    {Reason::kInvalidDates, "INVALID_DATES"},
    {Reason::kNotHospitalized, "NOT_HOSPITALIZED"},
    {Reason::kAlreadyPaid, "ALREADY_PAID"},
    {Reason::kNotFirstDiagnosis, "NOT_FIRST_DIAGNOSIS"},
    {Reason::kOutsideEpidemicPeriod, "OUTSIDE_EPIDEMIC_PERIOD"},
    {Reason::kNoCriticalIllnessBenefit, "NO_CRITICAL_ILLNESS_BENEFIT"},
    {Reason::kBelowThreshold, "BELOW_THRESHOLD"},
    {Reason::kOutsideShanghai, "OUTSIDE_SHANGHAI"},
    {Reason::kDeathAfter180Days, "DEATH_AFTER_180_DAYS"},
    {Reason::kAssessedAfter180Days, "ASSESSED_AFTER_180_DAYS"},
    {Reason::kCriteriaNotMet, "CRITERIA_NOT_MET"},
    {Reason::kFilingDeadlinePassed, "FILING_DEADLINE_PASSED"},
    {Reason::kInvalidClaimant, "INVALID_CLAIMANT"},
    {Reason::kDuplicateClaim, "DUPLICATE_CLAIM"},
}};

constexpr std::array<Reason, kReasons.size()> MakeAllReasons() {
  std::array<Reason, kReasons.size()> all{};
  for (size_t i = 0; i < kReasons.size(); ++i) all[i] = kReasons[i].first;
  return all;
}
constexpr std::array<Reason, kReasons.size()> kAllReasons = MakeAllReasons();

constexpr std::array<std::pair<Field, std::string_view>, 6> kFields{{
    {Field::kNone, ""},
    {Field::kPlatform, "platform"},
    {Field::kIdNumber, "id_number"},
    {Field::kName, "name"},
    {Field::kPhone, "phone"},
    {Field::kIndustry, "industry"},
}};

constexpr std::array<std::pair<Industry, std::string_view>, 6> kIndustries{{
    {Industry::kIntracityFreight, "INTRACITY_FREIGHT"},
    {Industry::kFoodDelivery, "FOOD_DELIVERY"},
    {Industry::kInstantDelivery, "INSTANT_DELIVERY"},
    {Industry::kRideHailing, "RIDE_HAILING"},
    {Industry::kExpressDelivery, "EXPRESS_DELIVERY"},
    {Industry::kOther, "OTHER"},
}};

constexpr std::array<std::pair<EnrollmentKind, std::string_view>, 2> kKinds{{
    {EnrollmentKind::kConcentrated, "CONCENTRATED"},
    {EnrollmentKind::kInstant, "INSTANT"},
}};

constexpr std::array<std::pair<EnrollmentOutcome, std::string_view>, 3> kEnrollmentOutcomes{{
    {EnrollmentOutcome::kAccepted, "ACCEPTED"},
    {EnrollmentOutcome::kRejected, "REJECTED"},
    {EnrollmentOutcome::kPendingReview, "PENDING_REVIEW"},
}};

constexpr std::array<std::pair<ReviewFlag, std::string_view>, 3> kReviewFlags{{
    {ReviewFlag::kIndustryOther, "INDUSTRY_OTHER"},
    {ReviewFlag::kNameDiffersFromEarlierYear, "NAME_DIFFERS_FROM_EARLIER_YEAR"},
    {ReviewFlag::kSharedPhone, "SHARED_PHONE"},
}};

constexpr std::array<std::pair<Benefit, std::string_view>, 8> kBenefits{{
    {Benefit::kHospitalAllowance, "HOSPITAL_ALLOWANCE"},
    {Benefit::kCriticalIllness, "CRITICAL_ILLNESS"},
    {Benefit::kCovid19, "COVID19"},
    {Benefit::kCriticalIllnessSubsidy, "CRITICAL_ILLNESS_SUBSIDY"},
    {Benefit::kIllnessDeath, "ILLNESS_DEATH"},
    {Benefit::kAccidentalDeath, "ACCIDENTAL_DEATH"},
    {Benefit::kAccidentalDisability, "ACCIDENTAL_DISABILITY"},
    {Benefit::kAccidentConsolation, "ACCIDENT_CONSOLATION"},
}};

constexpr std::array<std::pair<Hospital, std::string_view>, 3> kHospitals{{
    {Hospital::kDesignatedHospital, "DESIGNATED_HOSPITAL"},
    {Hospital::kCommunityHealthCenter, "COMMUNITY_HEALTH_CENTER"},
    {Hospital::kOtherHospital, "OTHER_HOSPITAL"},
}};

constexpr std::array<std::pair<Cause, std::string_view>, 2> kCauses{{
    {Cause::kIllness, "ILLNESS"},
    {Cause::kAccident, "ACCIDENT"},
}};

constexpr std::array<std::pair<CriticalIllnessCategory, std::string_view>, 12> kCategories{{
    {CriticalIllnessCategory::kMalignantTumor, "MALIGNANT_TUMOR"},
    {CriticalIllnessCategory::kAcuteMyocardialInfarction, "ACUTE_MYOCARDIAL_INFARCTION"},
    {CriticalIllnessCategory::kStrokeSequelae, "STROKE_SEQUELAE"},
    {CriticalIllnessCategory::kMajorOrganOrStemCellTransplant, "MAJOR_ORGAN_OR_STEM_CELL_TRANSPLANT"},
    {CriticalIllnessCategory::kCoronaryBypass, "CORONARY_BYPASS"},
    {CriticalIllnessCategory::kEndStageRenalDisease, "END_STAGE_RENAL_DISEASE"},
    {CriticalIllnessCategory::kSevereHepatitis, "SEVERE_HEPATITIS"},
    {CriticalIllnessCategory::kBenignBrainTumor, "BENIGN_BRAIN_TUMOR"},
    {CriticalIllnessCategory::kHeartValveSurgery, "HEART_VALVE_SURGERY"},
    {CriticalIllnessCategory::kSevereThirdDegreeBurn, "SEVERE_THIRD_DEGREE_BURN"},
    {CriticalIllnessCategory::kSevereAplasticAnemia, "SEVERE_APLASTIC_ANEMIA"},
    {CriticalIllnessCategory::kAorticSurgery, "AORTIC_SURGERY"},
}};

constexpr std::array<std::pair<Claimant, std::string_view>, 2> kClaimants{{
    {Claimant::kWorker, "WORKER"},
    {Claimant::kPlatform, "PLATFORM"},
}};

constexpr std::array<std::pair<Payee, std::string_view>, 2> kPayees{{
    {Payee::kWorkerCard, "WORKER_CARD"},
    {Payee::kPlatformAccount, "PLATFORM_ACCOUNT"},
}};

constexpr std::array<std::pair<ClaimOutcome, std::string_view>, 2> kClaimOutcomes{{
    {ClaimOutcome::kApproved, "APPROVED"},
    {ClaimOutcome::kDenied, "DENIED"},
}};

// §六(一): the hall and the 16 districts, as the plan lists them.
constexpr std::array<std::pair<Site, std::string_view>, 17> kSites{{
    {Site::kHall, "上海市职工保障互助会服务大厅"},
    {Site::kPudong, "浦东新区"},
    {Site::kHuangpu, "黄浦"},
    {Site::kJingan, "静安"},
    {Site::kXuhui, "徐汇"},
    {Site::kChangning, "长宁"},
    {Site::kPutuo, "普陀"},
    {Site::kHongkou, "虹口"},
    {Site::kYangpu, "杨浦"},
    {Site::kBaoshan, "宝山"},
    {Site::kMinhang, "闵行"},
    {Site::kJiading, "嘉定"},
    {Site::kJinshan, "金山"},
    {Site::kSongjiang, "松江"},
    {Site::kQingpu, "青浦"},
    {Site::kFengxian, "奉贤"},
    {Site::kChongming, "崇明"},
}};

}  // namespace

std::string_view ToString(Reason reason) { return Lookup(kReasons, reason); }
std::optional<Reason> ParseReason(std::string_view text) { return ReverseLookup(kReasons, text); }
std::span<const Reason> AllReasons() { return kAllReasons; }

std::string_view ToString(Field field) { return Lookup(kFields, field); }

std::string_view ToString(Industry industry) { return Lookup(kIndustries, industry); }
std::optional<Industry> ParseIndustry(std::string_view text) {
  return ReverseLookup(kIndustries, text);
}

std::string_view ToString(EnrollmentKind kind) { return Lookup(kKinds, kind); }
std::string_view ToString(EnrollmentOutcome outcome) {
  return Lookup(kEnrollmentOutcomes, outcome);
}
std::string_view ToString(ReviewFlag flag) { return Lookup(kReviewFlags, flag); }

std::string_view ToString(Benefit benefit) { return Lookup(kBenefits, benefit); }
std::optional<Benefit> ParseBenefit(std::string_view text) {
  return ReverseLookup(kBenefits, text);
}
bool IsDeathBenefit(Benefit benefit) {
  return benefit == Benefit::kIllnessDeath || benefit == Benefit::kAccidentalDeath;
}
bool IsAccidentBenefit(Benefit benefit) {
  return benefit == Benefit::kAccidentalDeath || benefit == Benefit::kAccidentalDisability ||
         benefit == Benefit::kAccidentConsolation;
}

std::string_view ToString(Hospital hospital) { return Lookup(kHospitals, hospital); }
std::optional<Hospital> ParseHospital(std::string_view text) {
  return ReverseLookup(kHospitals, text);
}

std::string_view ToString(Cause cause) { return Lookup(kCauses, cause); }
std::optional<Cause> ParseCause(std::string_view text) { return ReverseLookup(kCauses, text); }

std::string_view ToString(CriticalIllnessCategory category) {
  return Lookup(kCategories, category);
}
std::optional<CriticalIllnessCategory> ParseCriticalIllnessCategory(std::string_view text) {
  return ReverseLookup(kCategories, text);
}

std::string_view ToString(Claimant claimant) { return Lookup(kClaimants, claimant); }
std::optional<Claimant> ParseClaimant(std::string_view text) {
  return ReverseLookup(kClaimants, text);
}

std::string_view ToString(Payee payee) { return Lookup(kPayees, payee); }
std::string_view ToString(ClaimOutcome outcome) { return Lookup(kClaimOutcomes, outcome); }

std::string_view ToString(Site site) { return Lookup(kSites, site); }
std::optional<Site> ParseSite(std::string_view text) {
  if (auto site = ReverseLookup(kSites, text)) return site;
  if (text == "服务大厅") return Site::kHall;
  // "黄浦区" for "黄浦" (浦东新区 already carries its 区).
  constexpr std::string_view kDistrictSuffix = "区";
  if (text.size() > kDistrictSuffix.size() && text.ends_with(kDistrictSuffix)) {
    std::string_view base = text.substr(0, text.size() - kDistrictSuffix.size());
    if (auto site = ReverseLookup(kSites, base); site && *site != Site::kHall &&
                                                  *site != Site::kPudong) {
      return site;
    }
  }
  return std::nullopt;
}

}  // namespace mutualaid::plan
