// The payout service's gRPC edge. Reads come from the service's RocksDB
// state; commands (re-issue, bank result rows) are stamped with the injected
// clock and the caller, appended to mutualaid.payout.requests, and answered
// with the processor's committed events (server::Answers).
//
// Roles: finance and operations read everything; the hall reads payouts and
// the at-risk list (account numbers shown as the last four digits only);
// finance re-issues; finance and operations import result files and
// reconcile.
#ifndef MUTUALAID_SERVICES_PAYOUT_PAYOUT_API_H_
#define MUTUALAID_SERVICES_PAYOUT_PAYOUT_API_H_

#include <string>

#include "mutualaid/core/clock.h"
#include "mutualaid/crypto/key_ring.h"
#include "mutualaid/kafka/producer.h"
#include "mutualaid/server/answers.h"
#include "mutualaid/server/auth.h"
#include "mutualaid/store/state_store.h"
#include "mutualaid/v1/payout.grpc.pb.h"
#include "services/payout/bank_gateway.h"

namespace mutualaid::payout {

struct ApiOptions {
  std::string producer = "payout-0";
  std::string requests_topic = "mutualaid.payout.requests";
  absl::Duration decision_timeout = absl::Seconds(30);
  int warning_days = 10;  // ListAtRisk's default window
  std::string import_dir;  // ImportBankResults by file name reads from here
};

// The checks the edge makes before it reads the state or produces, as pure
// functions (the fuzz targets in tests/fuzz run them). Errors name the field.
// ReissuePayout's checks of a corrected card for a payout to `payee`.
absl::Status CheckReissue(const v1::ReissuePayoutRequest& req, v1::PayeeKind payee);
// ImportBankResults: the content, or the name of a file in the import directory.
absl::Status CheckImport(const v1::ImportBankResultsRequest& req);

class PayoutApi final : public v1::PayoutService::Service {
 public:
  // `bank` serves reconciliation (its own connection, not the outbox's);
  // may be nullptr (then a statement must come with the request).
  PayoutApi(ApiOptions options, const server::TokenAuthenticator& auth, const Clock& clock,
            kafka::Producer& producer, const store::StateStore& store, server::Answers& answers,
            BankGateway* bank);

  grpc::Status GetPayout(grpc::ServerContext* ctx, const v1::GetPayoutRequest* req,
                         v1::GetPayoutResponse* resp) override;
  grpc::Status ListPayouts(grpc::ServerContext* ctx, const v1::ListPayoutsRequest* req,
                           v1::ListPayoutsResponse* resp) override;
  grpc::Status ReissuePayout(grpc::ServerContext* ctx, const v1::ReissuePayoutRequest* req,
                             v1::ReissuePayoutResponse* resp) override;
  grpc::Status GetReconciliationReport(grpc::ServerContext* ctx,
                                       const v1::GetReconciliationReportRequest* req,
                                       v1::GetReconciliationReportResponse* resp) override;
  grpc::Status ListAtRisk(grpc::ServerContext* ctx, const v1::ListAtRiskRequest* req,
                          v1::ListAtRiskResponse* resp) override;
  grpc::Status ImportBankResults(grpc::ServerContext* ctx, const v1::ImportBankResultsRequest* req,
                                 v1::ImportBankResultsResponse* resp) override;

  // The key ring ReissuePayout seals a worker's corrected card with before
  // the command is appended, and the readers open a sealed card with for the
  // finance role ("erased" once the worker's key is erased). nullptr (no
  // master key configured): cards travel in clear as before.
  void SetKeyRing(crypto::KeyRing* ring) { ring_ = ring; }

 private:
  // What `who` may see of `payout`: finance the account (opened), others
  // account_last4 only.
  absl::StatusOr<v1::Payout> Shown(const v1::Payout& payout, const server::Principal& who) const;
  absl::StatusOr<std::optional<v1::PayoutState>> Load(const std::string& payout_id) const;
  std::string NewId() const;

  ApiOptions o_;
  const server::TokenAuthenticator& auth_;
  const Clock& clock_;
  kafka::Producer& producer_;
  const store::StateStore& store_;
  server::Answers& answers_;
  BankGateway* bank_;
  absl::Mutex bank_mu_;  // one reconciliation at a time on the bank connection
  crypto::KeyRing* ring_ = nullptr;
};

}  // namespace mutualaid::payout

#endif  // MUTUALAID_SERVICES_PAYOUT_PAYOUT_API_H_
