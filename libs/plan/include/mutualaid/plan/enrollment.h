// §一-§四: deciding an enrollment record and folding the decision into state.
#ifndef MUTUALAID_PLAN_ENROLLMENT_H_
#define MUTUALAID_PLAN_ENROLLMENT_H_

#include "absl/status/status.h"
#include "mutualaid/plan/plan_data.h"
#include "mutualaid/plan/worker_file.h"

namespace mutualaid::plan {

// What the enrollment decision needs beyond the worker's own file.
struct EnrollmentContext {
  // The submitting platform is registered (id, name, payout account).
  bool platform_registered = false;
  // The phone number's usage in the application's plan year (may be empty
  // when the number was never seen or is invalid).
  PhoneUsage phone_usage;
};

// Decides `request` against `file`, the state of the worker with the same
// normalised ID number (an empty file for a new worker). Pure: the caller
// records the decision and folds it with ApplyEnrollment.
//
// A retry by the platform that holds the worker's enrollment in that plan
// year returns the original decision with `retry` set.
EnrollmentDecision DecideEnrollment(const PlanBook& book, const EnrollmentRequest& request,
                                    const WorkerFile& file, const EnrollmentContext& context);

// Folds a decision into the worker's file (a no-op for rejections and retries).
void ApplyEnrollment(WorkerFile& file, const EnrollmentDecision& decision);
// Folds a decision into the phone index of its plan year and phone.
void ApplyEnrollment(PhoneUsage& usage, const EnrollmentDecision& decision);
// Folds an ACCEPTED decision into the platform's statement for its month.
void ApplyEnrollment(PlatformMonthStatement& statement, const EnrollmentDecision& decision);

// A reviewer's verdict on the pending enrollment of `plan_year` (§二(二)).
// FailedPrecondition if there is no pending enrollment in that year.
absl::Status ApplyReviewVerdict(WorkerFile& file, int plan_year, bool approve);

// The enrollment holding `plan_year` (active or pending review), if any.
const EnrollmentRecord* HeldEnrollment(const WorkerFile& file, int plan_year);

}  // namespace mutualaid::plan

#endif  // MUTUALAID_PLAN_ENROLLMENT_H_
