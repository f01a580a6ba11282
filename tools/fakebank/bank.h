// The fake bank's books: transfers by idempotency key, the ledger of credits,
// and the rules a real transfer gateway applies. Thread-safe. Every change is
// in the journal (fsync'd) before the call returns.
#ifndef MUTUALAID_TOOLS_FAKEBANK_BANK_H_
#define MUTUALAID_TOOLS_FAKEBANK_BANK_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/fake_gateway.h"
#include "mutualaid/core/clock.h"
#include "mutualaid/json/json.h"

namespace mutualaid::fakebank {

struct TransferRequest {
  std::string idempotency_key;
  int64_t amount_fen = 0;
  std::string payee_kind;  // WORKER_CARD | PLATFORM_ACCOUNT
  std::string payee_account;
  std::string payee_name;
  std::string memo;
};

struct Transfer {
  TransferRequest request;
  std::string transfer_id;
  std::string status;  // PENDING | CONFIRMED | FAILED
  std::string reason;  // "" unless FAILED
  std::string day;     // the day it was credited ("" unless CONFIRMED)
  int64_t queries = 0; // status queries seen (not persisted)
};

// Checks the shape of a request (not the bank's verdict on the account).
// InvalidArgument naming the field.
absl::Status ValidateRequest(const TransferRequest& request);
absl::StatusOr<TransferRequest> RequestFromJson(const json::Value& body);

// The bank's verdict on an account: "" (fine), "ACCOUNT_CLOSED" or "INVALID_ACCOUNT".
std::string RefusalReason(std::string_view payee_kind, std::string_view account);

json::Value TransferJson(const Transfer& t);

// The bank's business day: the system clock's, or a day it has been told
// (--today, POST /v1/clock) so its credits carry the simulated day the
// services run on. Thread-safe.
class BusinessClock final : public Clock {
 public:
  explicit BusinessClock(const Clock& system) : system_(system) {}
  absl::Time Now() const override;
  // From now on the bank's day is `day` (09:00 Shanghai), until set again.
  void SetDay(absl::CivilDay day);
  bool simulated() const;

 private:
  const Clock& system_;
  mutable absl::Mutex mu_;
  std::optional<absl::Time> now_ ABSL_GUARDED_BY(mu_);
};

class Bank {
 public:
  // `confirm_after_queries`: 0 confirms at once; N keeps a transfer PENDING
  // for N status queries and confirms it on the next. The business day is in
  // the journal too, so a restart keeps it: `clock` is set to the last day
  // the journal holds. `start_day` (--today) is journaled and wins unless it
  // is the --today the journal already has (a restart with the same flags
  // keeps a day POST /v1/clock moved to since); with neither, the bank
  // follows the system clock.
  static absl::StatusOr<std::unique_ptr<Bank>> Open(const std::string& ledger_path,
                                                    BusinessClock& clock,
                                                    int64_t confirm_after_queries,
                                                    std::optional<absl::CivilDay> start_day = {});

  // Moves the business day (POST /v1/clock): journaled (fsync'd) first, so a
  // restarted bank is on it. Unavailable if the journal write fails.
  absl::Status SetDay(absl::CivilDay day);

  enum class Outcome { kCreated, kReplayed, kConflict };
  struct Result {
    Outcome outcome;
    Transfer transfer;   // for kCreated / kReplayed
    std::string reason;  // for kConflict
  };
  // Carries out (or replays) one transfer. `final_only` (batch files) never
  // leaves a new transfer PENDING. Unavailable if the journal write fails.
  absl::StatusOr<Result> Submit(const TransferRequest& request, bool final_only = false);

  // A status query: may confirm a PENDING transfer. NotFound if unknown.
  absl::StatusOr<Transfer> Query(std::string_view idempotency_key);

  // Every credit in the order it was made; `day` "" for all days.
  json::Value Ledger(std::string_view day) const;

 private:
  Bank(BusinessClock& clock, int64_t confirm_after_queries)
      : clock_(clock), confirm_after_queries_(confirm_after_queries) {}
  absl::Status Replay(const json::Value& line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Record(Transfer& t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `set_by`: "--today" or "POST /v1/clock".
  absl::Status JournalDay(absl::CivilDay day, std::string_view set_by)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  BusinessClock& clock_;
  const int64_t confirm_after_queries_;
  mutable absl::Mutex mu_;
  std::unique_ptr<fakes::Journal> journal_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Transfer, std::less<>> transfers_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> credits_ ABSL_GUARDED_BY(mu_);  // keys, in credit order
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  // The last --today the journal holds.
  std::optional<absl::CivilDay> journaled_today_ ABSL_GUARDED_BY(mu_);
};

// Batch files: reads a payout batch CSV, returns the bank's result CSV.
// InvalidArgument if the file is not UTF-8 or its header is wrong; a bad row
// gets a REJECTED result line and does not stop the file.
absl::StatusOr<std::string> ProcessBatch(Bank& bank, std::string_view csv_bytes);

}  // namespace mutualaid::fakebank

#endif  // MUTUALAID_TOOLS_FAKEBANK_BANK_H_
