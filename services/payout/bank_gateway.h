// How the payout service pays: the bank gateway adapter and its two real
// implementations, HTTP/JSON (tools/fakebank's API) and the daily batch file.
//
// Exactly once rests on the bank honouring the idempotency key (the claim id,
// "<claim id>#<issue>" for re-issues): a transfer sent twice with one key is
// credited once. Still, a transfer whose outcome is unknown (timeout, broken
// connection, 5xx) is never sent again blindly: the next attempt asks the bank
// for the key's status first and sends only if the bank has no record.
#ifndef MUTUALAID_SERVICES_PAYOUT_BANK_GATEWAY_H_
#define MUTUALAID_SERVICES_PAYOUT_BANK_GATEWAY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "mutualaid/http/client.h"

namespace mutualaid::payout {

// One credit to make.
struct Transfer {
  std::string idempotency_key;
  int64_t amount_fen = 0;
  std::string payee_kind;  // "WORKER_CARD" or "PLATFORM_ACCOUNT"
  std::string payee_account;
  std::string payee_name;
  std::string memo;
};

// What the bank says about a transfer.
struct TransferAnswer {
  enum class Status {
    kConfirmed,  // credited
    kPending,    // accepted, not yet credited: ask again later
    kFailed,     // refused, nothing credited, final (reason: ACCOUNT_CLOSED, …)
    kNotFound,   // the bank has no record of the key: safe to send
    kSubmitted,  // handed over in a batch file: the result file will tell
  };
  Status status = Status::kNotFound;
  std::string transfer_id;
  std::string reason;
  int64_t amount_fen = 0;
};

// One credit in the bank's ledger (its statement).
struct LedgerEntry {
  std::string idempotency_key;
  std::string transfer_id;
  int64_t amount_fen = 0;
  std::string payee_account;
  std::string day;  // YYYY-MM-DD, the bank's business day
};

// Errors of Send/Query say whether the bank may have acted:
//   Unavailable              not sent (connection refused …): nothing happened.
//   DeadlineExceeded/Unknown outcome unknown: ask (Query) before sending again.
//   Internal                 a 5xx answer: treated as outcome unknown too.
//   FailedPrecondition       4xx (malformed request, IDEMPOTENCY_CONFLICT):
//                            the bank recorded nothing; sending again will not help.
class BankGateway {
 public:
  virtual ~BankGateway() = default;

  // "http" or "file".
  virtual std::string mode() const = 0;

  // Hands transfers to the bank; one answer per transfer, in order. `batch`
  // names the batch (file mode: the exported file's name).
  virtual std::vector<absl::StatusOr<TransferAnswer>> Send(const std::vector<Transfer>& transfers,
                                                           const std::string& batch) = 0;

  // The bank's record of `key` (kNotFound if none). Unimplemented in file mode.
  virtual absl::StatusOr<TransferAnswer> Query(const std::string& key) = 0;

  // The bank's ledger of one day (every day if nullopt). Unimplemented in
  // file mode (the statement comes with the reconciliation request).
  virtual absl::StatusOr<std::vector<LedgerEntry>> Ledger(std::optional<absl::CivilDay> day) = 0;
};

// True when an error of Send means the bank may have carried the transfer out.
bool OutcomeUnknown(const absl::Status& status);

// --- HTTP/JSON --------------------------------------------------------------

struct HttpBankOptions {
  std::string url = "http://127.0.0.1:7201";
  absl::Duration connect_timeout = absl::Seconds(2);
  absl::Duration timeout = absl::Seconds(10);
};

class HttpBankGateway final : public BankGateway {
 public:
  static absl::StatusOr<std::unique_ptr<HttpBankGateway>> Create(const HttpBankOptions& options);

  std::string mode() const override { return "http"; }
  std::vector<absl::StatusOr<TransferAnswer>> Send(const std::vector<Transfer>& transfers,
                                                   const std::string& batch) override;
  absl::StatusOr<TransferAnswer> Query(const std::string& key) override;
  absl::StatusOr<std::vector<LedgerEntry>> Ledger(std::optional<absl::CivilDay> day) override;

 private:
  explicit HttpBankGateway(http::Client client) : client_(std::move(client)) {}
  absl::StatusOr<TransferAnswer> SendOne(const Transfer& t);
  http::Client client_;
};

// --- batch files -------------------------------------------------------------

// The payout batch (the bank's input), header row exactly
//   idempotency_key,amount_fen,payee_kind,payee_account,payee_name,memo
// UTF-8, RFC 4180 quoting, CRLF line ends.
std::string FormatBatchFile(const std::vector<Transfer>& transfers);

// One row of the bank's result file, header row exactly
//   idempotency_key,status,transfer_id,reason
struct ResultRow {
  std::string idempotency_key;
  std::string status;  // CONFIRMED, FAILED, REJECTED, PENDING (and RETURNED from a return file)
  std::string transfer_id;
  std::string reason;
  int line = 0;
};
// Rows in order; `errors` gets "line L: …" for unreadable rows. InvalidArgument
// when the header is not the result file's.
absl::StatusOr<std::vector<ResultRow>> ParseResultFile(std::string_view text,
                                                       std::vector<std::string>* errors);

// The bank's ledger JSON (GET /v1/ledger layout): the statement finance gets.
absl::StatusOr<std::vector<LedgerEntry>> ParseLedger(std::string_view json);

// Writes each batch into `export_dir` as <batch> (written to .tmp, fsync'd,
// renamed, so the bank never picks up half a file). Answers kSubmitted.
class FileBankGateway final : public BankGateway {
 public:
  explicit FileBankGateway(std::string export_dir) : dir_(std::move(export_dir)) {}

  std::string mode() const override { return "file"; }
  std::vector<absl::StatusOr<TransferAnswer>> Send(const std::vector<Transfer>& transfers,
                                                   const std::string& batch) override;
  absl::StatusOr<TransferAnswer> Query(const std::string& key) override;
  absl::StatusOr<std::vector<LedgerEntry>> Ledger(std::optional<absl::CivilDay> day) override;

 private:
  std::string dir_;
};

}  // namespace mutualaid::payout

#endif  // MUTUALAID_SERVICES_PAYOUT_BANK_GATEWAY_H_
