// The claims service's processor: decides claims filed at the hall and the
// district centres with the plan's rules (libs/plan) over the worker's file
// rebuilt from its RocksDB state, records investigators' verdicts and payouts,
// and folds the enrollment service's events into a coverage view.
//
// Requests: mutualaid.claims.requests (ClaimFiled, InvestigationDecisionRequested)
// and mutualaid.payout.events (PayoutConfirmed -> ClaimPaid).
// Input events (Apply only): mutualaid.enrollment.events.
//
// State (column families), all derived from events:
//   coverage        worker_key/plan_year        -> HeldEnrollment (from enrollment events)
//   platforms       platform_id                 -> Platform (from enrollment events)
//   claims          claim_id                    -> ClaimState
//   worker_claims   worker_key/claim_id         -> "" (a worker's claims)
//   by_site         site/claim_id               -> "" (listing by filing site)
//   by_due          due yyyymmdd/claim_id       -> "" (every claim by its 90-day due date)
//   investigations  claim_id                    -> "" (the 调查核实 queue)
//   unpaid          due yyyymmdd/claim_id       -> "" (approved or investigating, not paid)
#ifndef MUTUALAID_SERVICES_CLAIMS_CLAIMS_LOGIC_H_
#define MUTUALAID_SERVICES_CLAIMS_CLAIMS_LOGIC_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mutualaid/plan/plan_data.h"
#include "mutualaid/plan/worker_file.h"
#include "mutualaid/processor/processor.h"
#include "mutualaid/v1/envelope.pb.h"
#include "mutualaid/v1/state.pb.h"

namespace mutualaid::claims {

inline constexpr char kCoverage[] = "coverage";
inline constexpr char kPlatforms[] = "platforms";
inline constexpr char kClaims[] = "claims";
inline constexpr char kWorkerClaims[] = "worker_claims";
inline constexpr char kBySite[] = "by_site";
inline constexpr char kByDue[] = "by_due";
inline constexpr char kInvestigations[] = "investigations";
inline constexpr char kUnpaid[] = "unpaid";

// The causation id a filing's decision answers: one per claim id, so a retry
// racing the original waits for the same answer.
std::string FilingCausation(const std::string& claim_id);
// Claim ids: 1-64 of [A-Za-z0-9._:-] (they are parts of state keys).
bool ValidClaimId(const std::string& claim_id);
// yyyymmdd of a date, the due-date indexes' order.
int64_t DayNumber(const v1::Date& date);

// The worker's file as the rules see it, with what the service adds.
struct LoadedFile {
  plan::WorkerFile file;
  // plan year -> the enrollment held in it (for the decision's enrollment id).
  std::map<int, v1::HeldEnrollment> enrollments;
};

// Rebuilds a worker's file from the state: enrollments from the coverage view,
// claims in decision order (current status), except `except_claim_id`.
absl::StatusOr<LoadedFile> LoadWorkerFile(const processor::State& state,
                                          const std::string& worker_key,
                                          const std::string& except_claim_id = "");

// Reads one claim; nullopt when unknown.
absl::StatusOr<std::optional<v1::ClaimState>> ReadClaim(const processor::State& state,
                                                        const std::string& claim_id);

struct LogicOptions {
  std::string producer = "claims";
  // Overrides the plan data's investigation_threshold_fen (config key
  // claims.investigation_threshold_fen).
  std::optional<int64_t> investigation_threshold_fen;
};

class ClaimsLogic final : public processor::Logic {
 public:
  explicit ClaimsLogic(LogicOptions options, const plan::PlanBook& book = plan::BuiltInPlanBook())
      : o_(std::move(options)), book_(book) {}

  std::vector<std::string> ColumnFamilies() const override;
  absl::Status Decide(const processor::State& state, const kafka::Message& request,
                      std::vector<kafka::Record>* events) override;
  absl::Status Apply(processor::State& state, const kafka::Message& event) override;

  // The plan table for `plan_year` with the configured investigation threshold.
  plan::PlanData PlanFor(int plan_year) const;

 private:
  absl::Status DecideFiling(const processor::State& state, const v1::Envelope& request,
                            std::vector<kafka::Record>* events);
  absl::Status DecideInvestigation(const processor::State& state, const v1::Envelope& request,
                                   std::vector<kafka::Record>* events);
  absl::Status DecidePayout(const processor::State& state, const v1::Envelope& request,
                            std::vector<kafka::Record>* events);
  absl::Status ApplyCoverage(processor::State& state, const v1::Envelope& event);
  absl::Status ApplyClaim(processor::State& state, const v1::Envelope& event);
  // The rules' decision on `request` as the event's ClaimDecision, with the
  // covering enrollment and the platform-filing check.
  v1::ClaimDecision Adjudicate(const LoadedFile& loaded, const plan::ClaimRequest& request,
                               const v1::ClaimFiled& filed) const;
  v1::Envelope Answer(const v1::Envelope& request, const std::string& suffix,
                      const v1::Date& occurred_on) const;

  LogicOptions o_;
  const plan::PlanBook& book_;
};

}  // namespace mutualaid::claims

#endif  // MUTUALAID_SERVICES_CLAIMS_CLAIMS_LOGIC_H_
