// Builders shared by the plan unit tests.
#ifndef MUTUALAID_TESTS_PLAN_TEST_UTIL_H_
#define MUTUALAID_TESTS_PLAN_TEST_UTIL_H_

#include <string>
#include <string_view>

#include "absl/time/civil_time.h"
#include "mutualaid/plan/calendar.h"
#include "mutualaid/plan/claims.h"
#include "mutualaid/plan/enrollment.h"
#include "mutualaid/plan/plan_data.h"
#include "mutualaid/plan/validation.h"

namespace mutualaid::plan::testing {

using Day = absl::CivilDay;

// A valid 18-character ID number for a birth date (region 310101 = 上海黄浦).
inline std::string IdFor(Day birth, std::string_view sequence = "123",
                         std::string_view region = "310101") {
  std::string first17 = std::string(region) + FormatIsoDate(birth).substr(0, 4) +
                        FormatIsoDate(birth).substr(5, 2) + FormatIsoDate(birth).substr(8, 2) +
                        std::string(sequence);
  return first17 + IdNumberCheckChar(first17);
}

inline EnrollmentRequest EnrollmentOn(Day received_on, std::string platform = "P01",
                                      Day birth = Day(1990, 1, 1)) {
  EnrollmentRequest r;
  r.platform_id = std::move(platform);
  r.id_number = IdFor(birth);
  r.name = "张三";
  r.phone = "13800138000";
  r.industry = "FOOD_DELIVERY";
  r.received_on = received_on;
  return r;
}

inline ClaimRequest HospitalStay(std::string id, Day admission, Day discharge, Day received_on) {
  ClaimRequest r;
  r.claim_id = std::move(id);
  r.benefit = Benefit::kHospitalAllowance;
  r.received_on = received_on;
  r.claimant = Claimant::kWorker;
  r.site = Site::kPudong;
  r.cause = Cause::kIllness;
  r.hospital = Hospital::kDesignatedHospital;
  r.admission = admission;
  r.discharge = discharge;
  return r;
}

inline ClaimRequest CriticalIllness(std::string id, CriticalIllnessCategory category, Day diagnosed,
                                    Day received_on) {
  ClaimRequest r;
  r.claim_id = std::move(id);
  r.benefit = Benefit::kCriticalIllness;
  r.received_on = received_on;
  r.claimant = Claimant::kWorker;
  r.site = Site::kHall;
  r.category = category;
  r.hospital = Hospital::kDesignatedHospital;
  r.diagnosed_on = diagnosed;
  r.hospitalized = true;
  return r;
}

inline ClaimRequest Covid(std::string id, Day diagnosed, Day received_on) {
  ClaimRequest r;
  r.claim_id = std::move(id);
  r.benefit = Benefit::kCovid19;
  r.received_on = received_on;
  r.claimant = Claimant::kWorker;
  r.site = Site::kXuhui;
  r.hospital = Hospital::kDesignatedHospital;
  r.diagnosed_on = diagnosed;
  return r;
}

inline ClaimRequest Subsidy(std::string id, CriticalIllnessCategory category, Day admission,
                            Day discharge, int64_t out_of_pocket_fen, Day received_on) {
  ClaimRequest r;
  r.claim_id = std::move(id);
  r.benefit = Benefit::kCriticalIllnessSubsidy;
  r.received_on = received_on;
  r.claimant = Claimant::kWorker;
  r.site = Site::kHall;
  r.category = category;
  r.hospital = Hospital::kDesignatedHospital;
  r.admission = admission;
  r.discharge = discharge;
  r.out_of_pocket_fen = out_of_pocket_fen;
  return r;
}

inline ClaimRequest IllnessDeath(std::string id, Day died_on, Day received_on) {
  ClaimRequest r;
  r.claim_id = std::move(id);
  r.benefit = Benefit::kIllnessDeath;
  r.received_on = received_on;
  r.claimant = Claimant::kPlatform;
  r.site = Site::kHall;
  r.died_on = died_on;
  r.in_shanghai = true;
  return r;
}

inline ClaimRequest AccidentalDeath(std::string id, std::string accident, Day accident_on,
                                    Day died_on, Day received_on) {
  ClaimRequest r;
  r.claim_id = std::move(id);
  r.benefit = Benefit::kAccidentalDeath;
  r.received_on = received_on;
  r.claimant = Claimant::kPlatform;
  r.site = Site::kHall;
  r.accident_id = std::move(accident);
  r.accident_on = accident_on;
  r.died_on = died_on;
  r.in_shanghai = true;
  return r;
}

inline ClaimRequest Disability(std::string id, std::string accident, Day accident_on,
                               Day assessed_on, int grade, Day received_on) {
  ClaimRequest r;
  r.claim_id = std::move(id);
  r.benefit = Benefit::kAccidentalDisability;
  r.received_on = received_on;
  r.claimant = Claimant::kWorker;
  r.site = Site::kMinhang;
  r.accident_id = std::move(accident);
  r.accident_on = accident_on;
  r.assessed_on = assessed_on;
  r.grade = grade;
  r.in_shanghai = true;
  return r;
}

inline ClaimRequest Consolation(std::string id, std::string accident, Day accident_on,
                                Day received_on) {
  ClaimRequest r;
  r.claim_id = std::move(id);
  r.benefit = Benefit::kAccidentConsolation;
  r.received_on = received_on;
  r.claimant = Claimant::kWorker;
  r.site = Site::kChongming;
  r.accident_id = std::move(accident);
  r.accident_on = accident_on;
  r.meets_criteria = true;
  r.in_shanghai = true;
  return r;
}

// One worker's file driven through the same Decide/Apply functions as the services.
class WorkerFixture {
 public:
  explicit WorkerFixture(PlanBook book = BuiltInPlanBook()) : book_(std::move(book)) {}

  EnrollmentDecision Enroll(const EnrollmentRequest& request, bool registered = true) {
    EnrollmentContext context;
    context.platform_registered = registered;
    EnrollmentDecision d = DecideEnrollment(book_, request, file_, context);
    ApplyEnrollment(file_, d);
    return d;
  }
  EnrollmentDecision Enroll(Day received_on) { return Enroll(EnrollmentOn(received_on)); }

  ClaimDecision Claim(const ClaimRequest& request, bool awaiting_investigation = false) {
    ClaimDecision d = DecideClaim(book_, request, file_);
    ApplyClaim(file_, request, d, awaiting_investigation);
    return d;
  }

  WorkerFile& file() { return file_; }
  PlanBook& book() { return book_; }

 private:
  PlanBook book_;
  WorkerFile file_;
};

}  // namespace mutualaid::plan::testing

#endif  // MUTUALAID_TESTS_PLAN_TEST_UTIL_H_
