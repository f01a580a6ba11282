// The plain data the rules read and write: requests, decisions, and the
// per-worker state (WorkerFile) that the decisions are folded into.
//
// Everything here is plain values (no pointers, no references, no clocks) so a
// service can serialise it into RocksDB and a replay rebuilds it exactly by
// re-applying recorded decisions (ApplyEnrollment / ApplyClaim).
#ifndef MUTUALAID_PLAN_WORKER_FILE_H_
#define MUTUALAID_PLAN_WORKER_FILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "mutualaid/plan/codes.h"

namespace mutualaid::plan {

// ---------------------------------------------------------------- enrollment

// A record a gig platform uploaded (§二(一)), as received.
struct EnrollmentRequest {
  std::string platform_id;
  std::string id_number;  // as uploaded; validated and normalised by the rules
  std::string name;
  std::string phone;
  std::string industry;  // as uploaded: an unknown value is a rejection, not an error
  // Stamped by the system on receipt, never supplied by the platform [reading].
  absl::CivilDay received_on;
  // §四(二): the worker's share of the fee if the platform reports a split;
  // the platform pays the rest (default: all of it).
  int64_t worker_share_fen = 0;
};

struct EnrollmentDecision {
  EnrollmentOutcome outcome = EnrollmentOutcome::kRejected;
  int plan_year = 0;
  EnrollmentKind kind = EnrollmentKind::kInstant;
  // Meaningful unless rejected.
  absl::CivilDay coverage_start;
  absl::CivilDay coverage_end;
  int64_t fee_fen = 0;           // 0 when rejected
  int64_t platform_share_fen = 0;
  int64_t worker_share_fen = 0;
  bool review = false;
  std::vector<ReviewFlag> review_flags;
  std::vector<Reason> reasons;   // empty unless rejected
  Field field = Field::kNone;    // the field at fault of a rejection
  std::vector<std::string> clauses;
  std::string rule_set_version;
  // True when this answers a retry: the original decision is returned as is.
  bool retry = false;

  // The normalised record the decision is about (inputs used).
  std::string platform_id;
  std::string id_number;
  std::string name;
  std::string phone;
  Industry industry = Industry::kOther;  // meaningful unless UNSUPPORTED_INDUSTRY
  absl::CivilDay received_on;
};

enum class EnrollmentStatus {
  kActive,            // accepted (automatically or by a reviewer)
  kPendingReview,     // in the review queue; treated as enrolled
  kRejectedInReview,  // a reviewer rejected it; holds nothing
};

struct EnrollmentRecord {
  EnrollmentDecision decision;  // as first decided
  EnrollmentStatus status = EnrollmentStatus::kActive;
};

// ---------------------------------------------------------------- claims

// A claim as filed at the hall or a district centre (§六(一)). Which fact
// fields apply depends on `benefit` (see scenario-format.md); the rest stay
// at their defaults and are ignored.
struct ClaimRequest {
  std::string claim_id;
  Benefit benefit = Benefit::kHospitalAllowance;
  absl::CivilDay received_on;  // the date the complete application was received
  Claimant claimant = Claimant::kWorker;
  Site site = Site::kHall;

  // Event facts.
  Cause cause = Cause::kIllness;
  Hospital hospital = Hospital::kDesignatedHospital;
  absl::CivilDay admission;
  absl::CivilDay discharge;
  CriticalIllnessCategory category = CriticalIllnessCategory::kMalignantTumor;
  absl::CivilDay diagnosed_on;
  bool hospitalized = false;
  int64_t out_of_pocket_fen = 0;
  absl::CivilDay died_on;
  bool in_shanghai = false;
  std::string accident_id;
  absl::CivilDay accident_on;
  absl::CivilDay assessed_on;
  int grade = 0;  // 1..10
  bool meets_criteria = false;
};

// [from, until) — inpatient days paid by a hospitalisation-allowance claim.
struct DayRange {
  absl::CivilDay from;
  absl::CivilDay until;
};

struct ClaimDecision {
  std::string claim_id;
  Benefit benefit = Benefit::kHospitalAllowance;
  ClaimOutcome outcome = ClaimOutcome::kDenied;
  int64_t amount_fen = 0;  // 0 on a denial
  int plan_year = 0;       // the covering enrollment's, else the calendar plan year of the event
  bool capped = false;     // a cap cut the amount
  Payee payee = Payee::kWorkerCard;  // meaningful on approval
  std::string payee_platform_id;     // for PLATFORM_ACCOUNT: the enrolling platform
  absl::CivilDay due_by;             // received_on + 90 days
  std::vector<Reason> reasons;       // at least one on a denial
  std::vector<std::string> clauses;  // "§五(一)" …
  std::string rule_set_version;
  bool retry = false;  // answers a retry of an already decided claim id

  // What the amount consumed (kept so caps can be summed from the history).
  int hospital_days_paid = 0;
  std::vector<DayRange> hospital_days;  // the paid inpatient days
};

enum class ClaimStatus {
  kApproved,               // approved (and investigation, if any, upheld it)
  kAwaitingInvestigation,  // approved by the rules, waiting for 调查核实
  kDenied,                 // denied by the rules, or after investigation
};

struct ClaimRecord {
  ClaimRequest request;
  ClaimDecision decision;
  ClaimStatus status = ClaimStatus::kDenied;
};

// ---------------------------------------------------------------- state

// Everything the rules know about one worker (keyed by normalised ID number).
// Caps, categories paid, per-accident totals, days used and the date of death
// are all derived from the records, so reversing one claim (an investigation
// that does not uphold it) needs no bookkeeping.
struct WorkerFile {
  std::string id_number;  // normalised (NormalizeIdNumberText)
  std::vector<EnrollmentRecord> enrollments;
  std::vector<ClaimRecord> claims;  // in decision order, denials included
};

// The cross-worker index §二's shared-phone review flag needs: the distinct
// workers enrolled with one phone number in one plan year.
struct PhoneUsage {
  int plan_year = 0;
  std::string phone;                     // normalised 11 digits
  std::vector<std::string> id_numbers;   // distinct, normalised
};

// §四: a platform's monthly statement of approved enrollments.
struct PlatformMonthStatement {
  std::string platform_id;
  int year = 0;
  int month = 0;  // of the application date
  int64_t approved_count = 0;
  int64_t fee_total_fen = 0;
  int64_t platform_share_fen = 0;
  int64_t worker_share_fen = 0;
};

}  // namespace mutualaid::plan

#endif  // MUTUALAID_PLAN_WORKER_FILE_H_
