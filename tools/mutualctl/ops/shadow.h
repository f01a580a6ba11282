// Re-adjudicating recorded claims: a shadow claims processor folds one
// partition's enrollment and claims events in recorded order into a scratch
// store and, before each recorded ClaimDecided, asks ClaimsLogic (with a
// chosen PlanBook) to decide the recorded filing again. Nothing is written to
// Kafka. Used by `audit verify` (the built-in rules: a decision must repeat)
// and `audit what-if` (changed plan data: what would change).
#ifndef MUTUALAID_TOOLS_MUTUALCTL_OPS_SHADOW_H_
#define MUTUALAID_TOOLS_MUTUALCTL_OPS_SHADOW_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "mutualaid/kafka/config.h"
#include "mutualaid/plan/plan_data.h"
#include "mutualaid/v1/claims.pb.h"
#include "mutualaid/v1/envelope.pb.h"

namespace mutualaid::mutualctl::ops {

struct Redecision {
  int32_t partition = 0;
  int64_t offset = 0;              // of the recorded ClaimDecided (or ClaimInvestigationDecided)
  std::string event_id;
  v1::ClaimDecision recorded;
  v1::ClaimDecision again;         // status UNSPECIFIED when no decision came back
  std::string error;               // why it could not be decided again
  // An investigator's recorded verdict given again (fold_redecided only). Its
  // `again` is UNSPECIFIED with no error when the claim, decided again, does
  // not wait for an investigator: the verdict has nothing to decide.
  bool verdict = false;
};

struct ShadowOptions {
  kafka::ClientConfig client;
  std::string prefix;
  const plan::PlanBook* book = nullptr;  // nullptr: the built-in book
  // true: fold the decision made again instead of the recorded one, so later
  // claims see caps as the changed rules would have left them (what-if); the
  // investigators' recorded verdicts are given again too (same approve or
  // deny, same corrected facts) on the claim as decided again, and visited.
  bool fold_redecided = false;
  int plan_year = 0;  // 0: every plan year
};

// Calls `visit` for every recorded claim decision (of options.plan_year).
absl::Status Readjudicate(const ShadowOptions& options,
                          const std::function<void(const Redecision&)>& visit);

// What differs between two decisions ("" if they agree): status, amount,
// capped, reasons, clauses, plan year.
std::string DecisionDiff(const v1::ClaimDecision& a, const v1::ClaimDecision& b);

}  // namespace mutualaid::mutualctl::ops

#endif  // MUTUALAID_TOOLS_MUTUALCTL_OPS_SHADOW_H_
