// The claims service's gRPC edge: clerks at the hall and the district centres
// file claims, platforms file their workers' death claims, investigators give
// verdicts. Commands are stamped (received_on/received_at from the injected
// clock, caller, claim id) and appended to mutualaid.claims.requests in the
// worker's partition with the enrollment input barrier (see
// enrollment_barrier.h); the answer is the processor's committed decision
// (server::Answers). Reads come from the service's RocksDB state.
//
// Roles: FileClaim hall, district (its own district's site), platform (death
// claims of its own workers); DecideInvestigation investigator; the queries
// as each method says.
#ifndef MUTUALAID_SERVICES_CLAIMS_CLAIMS_API_H_
#define MUTUALAID_SERVICES_CLAIMS_CLAIMS_API_H_

#include <functional>
#include <memory>
#include <string>

#include "mutualaid/core/clock.h"
#include "mutualaid/core/worker_key.h"
#include "mutualaid/crypto/key_ring.h"
#include "mutualaid/kafka/admin.h"
#include "mutualaid/kafka/producer.h"
#include "mutualaid/plan/worker_file.h"
#include "absl/time/civil_time.h"
#include "mutualaid/plan/plan_data.h"
#include "mutualaid/server/answers.h"
#include "mutualaid/server/auth.h"
#include "mutualaid/store/state_store.h"
#include "mutualaid/v1/claims.grpc.pb.h"
#include "mutualaid/v1/state.pb.h"

namespace mutualaid::claims {

struct ApiOptions {
  int32_t partitions = 6;  // of every system topic
  absl::Duration decision_timeout = absl::Seconds(30);
  std::string producer = "claims";
  std::string requests_topic = "mutualaid.claims.requests";
  std::string enrollment_requests_topic = "mutualaid.enrollment.requests";
};

// The checks the edge makes before it reads the state or produces, as pure
// functions (the fuzz targets in tests/fuzz run them). Errors name the field.
struct CheckedFiling {
  v1::ClaimApplication application;  // as recorded: site and ID number normalised
  plan::ClaimRequest request;        // as the rules read it
};
// FileClaim's checks of an application filed by `who` on `today`.
absl::StatusOr<CheckedFiling> CheckFiling(const v1::ClaimApplication& application,
                                          const server::Principal& who, absl::CivilDay today);
// Seals the claimant's ID number (sealed_person, field "person") and payee
// card (sealed_card, field "card", with payee_card_last4) of `filed` under
// `worker_key` and clears them from the application (the card keeps its
// kind). What the rules read (the facts, dates, site) stays in clear.
absl::Status SealFiling(crypto::KeyRing& ring, const std::string& worker_key,
                        v1::ClaimFiled* filed);
// DecideInvestigation's checks of a verdict on `claim` (waiting for 调查核实).
absl::Status CheckVerdict(const v1::DecideInvestigationRequest& req,
                          const v1::ClaimDecision& claim);

class ClaimsApi final : public v1::ClaimsService::Service {
 public:
  // `plan_for` gives the plan table of a plan year (caps for entitlements).
  ClaimsApi(ApiOptions options, const server::TokenAuthenticator& auth, const Clock& clock,
            const WorkerKeyer& keyer, kafka::Producer& producer, kafka::Admin& admin,
            const store::StateStore& store, server::Answers& answers,
            std::function<plan::PlanData(int plan_year)> plan_for);

  grpc::Status FileClaim(grpc::ServerContext* ctx, const v1::FileClaimRequest* req,
                         v1::FileClaimResponse* resp) override;
  grpc::Status GetClaim(grpc::ServerContext* ctx, const v1::GetClaimRequest* req,
                        v1::GetClaimResponse* resp) override;
  grpc::Status ListClaims(grpc::ServerContext* ctx, const v1::ListClaimsRequest* req,
                          v1::ListClaimsResponse* resp) override;
  grpc::Status GetEntitlements(grpc::ServerContext* ctx, const v1::GetEntitlementsRequest* req,
                               v1::GetEntitlementsResponse* resp) override;
  grpc::Status ListInvestigations(grpc::ServerContext* ctx,
                                  const v1::ListInvestigationsRequest* req,
                                  v1::ListInvestigationsResponse* resp) override;
  grpc::Status DecideInvestigation(grpc::ServerContext* ctx,
                                   const v1::DecideInvestigationRequest* req,
                                   v1::DecideInvestigationResponse* resp) override;
  grpc::Status ListDueClaims(grpc::ServerContext* ctx, const v1::ListDueClaimsRequest* req,
                             v1::ListDueClaimsResponse* resp) override;

  // The key ring FileClaim seals the claimant's ID number and card with
  // before the filing is appended (libs/crypto); nullptr (no master key
  // configured): they travel in clear as before. The readers return no
  // personal data (decisions, verdicts, payments), so they open nothing.
  void SetKeyRing(crypto::KeyRing* ring) { ring_ = ring; }

 private:
  absl::StatusOr<std::optional<v1::ClaimState>> Stored(const std::string& claim_id) const;
  std::string NewId() const;

  ApiOptions o_;
  const server::TokenAuthenticator& auth_;
  const Clock& clock_;
  const WorkerKeyer& keyer_;
  kafka::Producer& producer_;
  kafka::Admin& admin_;
  const store::StateStore& store_;
  server::Answers& answers_;
  std::function<plan::PlanData(int plan_year)> plan_for_;
  crypto::KeyRing* ring_ = nullptr;
};

}  // namespace mutualaid::claims

#endif  // MUTUALAID_SERVICES_CLAIMS_CLAIMS_API_H_
