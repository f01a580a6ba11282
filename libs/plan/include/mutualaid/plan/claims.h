// §五-§七: deciding a benefit claim and folding the decision into state.
#ifndef MUTUALAID_PLAN_CLAIMS_H_
#define MUTUALAID_PLAN_CLAIMS_H_

#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "mutualaid/plan/plan_data.h"
#include "mutualaid/plan/worker_file.h"

namespace mutualaid::plan {

// Decides `request` against the worker's file. Pure. A retry of a claim id
// already in the file returns that claim's decision with `retry` set.
ClaimDecision DecideClaim(const PlanBook& book, const ClaimRequest& request, const WorkerFile& file);

// Folds a decision into the file (a no-op for retries). An approved claim is
// recorded as kApproved, or as kAwaitingInvestigation when
// `awaiting_investigation` (the claims service: see MustInvestigate).
void ApplyClaim(WorkerFile& file, const ClaimRequest& request, const ClaimDecision& decision,
                bool awaiting_investigation = false);

// Whether an approved claim goes to 调查核实 before payment [reading]: death
// and disability claims, and any claim above plan.investigation_threshold_fen.
bool MustInvestigate(const PlanData& plan, const ClaimDecision& decision);

// The end of an investigation: upheld → kApproved; not upheld → kDenied (its
// amount no longer counts against any cap). FailedPrecondition unless the claim
// is awaiting investigation; NotFound for an unknown claim id.
absl::Status ConcludeInvestigation(WorkerFile& file, std::string_view claim_id, bool upheld);

// The date of death established by an approved death claim (§五 liability end).
std::optional<absl::CivilDay> DateOfDeath(const WorkerFile& file);

// The enrollment whose coverage period contains `date` (active or pending review).
const EnrollmentRecord* CoveringEnrollment(const WorkerFile& file, absl::CivilDay date);

// The date that decides coverage for a claim: admission, diagnosis, death or accident.
absl::CivilDay EventDate(const ClaimRequest& request);

// Same worker, benefit and event facts (§七 DUPLICATE_CLAIM).
bool SameEventFacts(const ClaimRequest& a, const ClaimRequest& b);

}  // namespace mutualaid::plan

#endif  // MUTUALAID_PLAN_CLAIMS_H_
