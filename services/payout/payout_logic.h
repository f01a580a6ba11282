// The payout service's processor: approved claims become payouts (exactly one
// per claim), an outbox in RocksDB sends them through the bank gateway, and
// the bank's answers, operators' re-issues and imported result files become
// events.
//
// Inputs:
//   mutualaid.claims.events    decided like requests: an approved ClaimDecided
//                              or an approving ClaimInvestigationDecided makes
//                              a PayoutRequested; everything else is ignored.
//                              Also applied (input topic) to remember the
//                              filings of claims waiting for an investigator
//                              (their payee card).
//   mutualaid.payout.requests  PayoutCommand: re-issue, bank result row.
//   mutualaid.enrollment.events applied: the platform registry (death benefits
//                              are paid to the enrolling platform's account).
//
// State (column families), all derived from events:
//   payouts        payout_id                       -> PayoutState
//   bank_keys      bank idempotency key            -> payout_id (every issue)
//   outbox         partition/payout_id             -> "" (work for Tick)
//   by_status      status/payout_id                -> ""
//   by_day         requested day/payout_id         -> ""
//   by_due         due day/payout_id               -> "" (not paid yet)
//   by_confirmed   confirmed day/payout_id         -> ""
//   batches        partition                       -> PayoutBatchState (file mode)
//   platforms      platform_id                     -> Platform
//   investigating  claim_id                        -> ClaimDecided (waits for 调查核实)
#ifndef MUTUALAID_SERVICES_PAYOUT_PAYOUT_LOGIC_H_
#define MUTUALAID_SERVICES_PAYOUT_PAYOUT_LOGIC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "mutualaid/crypto/key_ring.h"
#include "mutualaid/processor/processor.h"
#include "mutualaid/store/state_store.h"
#include "mutualaid/v1/envelope.pb.h"
#include "mutualaid/v1/payout.pb.h"
#include "services/payout/bank_gateway.h"

namespace mutualaid::payout {

inline constexpr char kPayouts[] = "payouts";
inline constexpr char kBankKeys[] = "bank_keys";
inline constexpr char kOutbox[] = "outbox";
inline constexpr char kByStatus[] = "by_status";
inline constexpr char kByDay[] = "by_day";
inline constexpr char kByDue[] = "by_due";
inline constexpr char kByConfirmed[] = "by_confirmed";
inline constexpr char kBatches[] = "batches";
inline constexpr char kPlatforms[] = "platforms";
inline constexpr char kInvestigating[] = "investigating";

// §六: paid within 90 days of the complete application.
inline constexpr int kPaymentDays = 90;

std::string PayoutIdFor(const std::string& claim_id);
// The bank's idempotency key of one issue of a claim's payout.
std::string BankKeyFor(const std::string& claim_id, int32_t issue);
// Days since 1970-01-01: the order of the day-keyed indexes.
int64_t DayNumber(absl::CivilDay day);
std::string DayKey(absl::CivilDay day, const std::string& payout_id);

// Whether a bank result row would change `payout` (the gRPC edge appends only
// those; the processor decides the same way).
bool ResultRowChanges(const v1::PayoutState& state, const v1::BankResultRow& row);

// The 90-day promise at a glance, for the metrics endpoint.
struct AtRiskCounts {
  int64_t overdue = 0;   // not paid, due date passed
  int64_t due_soon = 0;  // not paid, due within the warning days
};
absl::StatusOr<AtRiskCounts> CountAtRisk(const store::StateStore& store, absl::CivilDay today,
                                         int warning_days);

struct PayoutOptions {
  std::string producer = "payout-0";
  std::string commands_topic = "mutualaid.payout.requests";  // as the processor sees it
  BankGateway* gateway = nullptr;  // nullptr: Tick sends nothing
  // Exponential backoff after a failure that allows a retry:
  // retry_base * 2^(attempts-1), at most retry_max.
  absl::Duration retry_base = absl::Seconds(30);
  absl::Duration retry_max = absl::Hours(1);
  // When to ask again about a transfer the bank says is PENDING.
  absl::Duration pending_recheck = absl::Minutes(1);
  // File mode: at most one batch file per partition per export_interval.
  absl::Duration export_interval = absl::Hours(24);
  // Bounds on one Tick of one partition (the processor polls between ticks).
  int max_per_tick = 50;
  absl::Duration tick_budget = absl::Seconds(5);  // real time, checked between bank calls
};

class PayoutLogic final : public processor::Logic {
 public:
  explicit PayoutLogic(PayoutOptions options) : o_(std::move(options)) {}

  std::vector<std::string> ColumnFamilies() const override;
  absl::Status Decide(const processor::State& state, const kafka::Message& request,
                      std::vector<kafka::Record>* events) override;
  absl::Status Apply(processor::State& state, const kafka::Message& event) override;
  absl::Status Tick(const processor::State& state, int32_t partition, absl::Time now,
                    std::vector<kafka::Record>* events) override;

  // The processor's input barrier: true when deciding `request` needs the
  // input topics read to their end first (a death benefit needs the platform
  // registry; an investigator's approval needs the filing). Commands (records
  // of `commands_topic`, PayoutCommand values, not envelopes) never do.
  static bool NeedsInputs(const kafka::Message& request, absl::string_view commands_topic);

  // The key ring the outbox opens a sealed payee card with, only to hand the
  // transfer to the bank (nullptr: no master key configured; a sealed card
  // then fails retriably as NO_KEY_RING). Decide and Apply never open: they
  // copy the sealed card (ClaimFiled.sealed_card, a re-issue's sealed card)
  // into Payout.sealed_account.
  void SetKeyRing(crypto::KeyRing* ring) { ring_ = ring; }

 private:
  absl::Status DecideClaimEvent(const processor::State& state, const v1::Envelope& event,
                                std::vector<kafka::Record>* out);
  absl::Status DecideCommand(const processor::State& state, const v1::PayoutCommand& command,
                             std::vector<kafka::Record>* out);
  absl::Status TickHttp(const processor::State& state, int32_t partition, absl::Time now,
                        std::vector<kafka::Record>* out);
  absl::Status TickFile(const processor::State& state, int32_t partition, absl::Time now,
                        std::vector<kafka::Record>* out);
  absl::StatusOr<std::vector<v1::PayoutState>> DuePayouts(const processor::State& state,
                                                          int32_t partition, absl::Time now,
                                                          bool include_awaiting) const;
  absl::Time NextAttempt(absl::Time now, int32_t attempts) const;
  v1::Envelope Event(const v1::Payout& payout, const std::string& id_suffix, absl::Time at,
                     const std::string& causation) const;

  // The account and name to send `payout` to: a sealed worker card opened.
  struct Payee {
    std::string account;
    std::string name;
  };
  absl::StatusOr<Payee> OpenPayee(const v1::Payout& payout) const;
  // OpenPayee after the ring caught up with the keys topic, once per tick
  // (*caught_up remembers it); Unavailable (retried) if it could not.
  absl::StatusOr<Payee> OpenPayeeFresh(const v1::Payout& payout,
                                       std::optional<absl::Status>* caught_up) const;

  PayoutOptions o_;
  crypto::KeyRing* ring_ = nullptr;
};

}  // namespace mutualaid::payout

#endif  // MUTUALAID_SERVICES_PAYOUT_PAYOUT_LOGIC_H_
