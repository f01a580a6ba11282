#include "services/payout/payout_logic.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mutualaid/core/clock.h"
#include "mutualaid/events/convert.h"
#include "mutualaid/events/envelope.h"
#include "mutualaid/store/keys.h"

namespace mutualaid::payout {
namespace {

using events::FromProto;
using events::ToProto;

template <typename M>
absl::StatusOr<std::optional<M>> Read(const processor::State& state, const char* cf,
                                      const std::string& key) {
  absl::StatusOr<std::optional<std::string>> raw = state.Get(cf, key);
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return std::optional<M>();
  M m;
  if (!m.ParseFromString(**raw)) return absl::InternalError(absl::StrCat("unreadable state in ", cf));
  return std::optional<M>(std::move(m));
}

bool IsDeath(v1::Benefit b) {
  return b == v1::BENEFIT_ILLNESS_DEATH || b == v1::BENEFIT_ACCIDENTAL_DEATH;
}

std::string Last4(const std::string& account) {
  return account.size() <= 4 ? account : account.substr(account.size() - 4);
}

std::string OutboxKey(int32_t partition, const std::string& payout_id) {
  return store::KeyBuilder().Int64(partition).Text(payout_id).Build();
}

std::string StatusKey(v1::PayoutStatus s, const std::string& payout_id) {
  return store::KeyBuilder().Int64(s).Text(payout_id).Build();
}

absl::CivilDay DayOf(const v1::Date& d) {
  return FromProto(d, "date").value_or(absl::CivilDay(1970, 1, 1));
}

bool Final(v1::PayoutStatus s) {
  return s == v1::PAYOUT_STATUS_CONFIRMED || s == v1::PAYOUT_STATUS_FAILED ||
         s == v1::PAYOUT_STATUS_RETURNED;
}

// The transfer of `p` to `account` (the opened card of a sealed payout).
Transfer TransferOf(const v1::Payout& p, std::string account, std::string name) {
  Transfer t;
  t.idempotency_key = p.bank_key();
  t.amount_fen = p.amount_fen();
  t.payee_kind = p.payee() == v1::PAYEE_KIND_PLATFORM_ACCOUNT ? "PLATFORM_ACCOUNT" : "WORKER_CARD";
  t.payee_account = std::move(account);
  t.payee_name = std::move(name);
  t.memo = absl::StrCat("claim ", p.claim_id(), p.issue() > 1 ? absl::StrCat(" issue ", p.issue()) : "");
  return t;
}

// "ACCOUNT_CLOSED" from "ACCOUNT_CLOSED", "INVALID_ROW" from "INVALID_ROW: line 4: …".
std::string CodeOf(const std::string& reason) {
  size_t colon = reason.find(':');
  return colon == std::string::npos ? reason : reason.substr(0, colon);
}

}  // namespace

std::string PayoutIdFor(const std::string& claim_id) { return absl::StrCat("PO-", claim_id); }

std::string BankKeyFor(const std::string& claim_id, int32_t issue) {
  return issue <= 1 ? claim_id : absl::StrCat(claim_id, "#", issue);
}

int64_t DayNumber(absl::CivilDay day) { return day - absl::CivilDay(1970, 1, 1); }

std::string DayKey(absl::CivilDay day, const std::string& payout_id) {
  return store::KeyBuilder().Int64(DayNumber(day)).Text(payout_id).Build();
}

bool ResultRowChanges(const v1::PayoutState& state, const v1::BankResultRow& row) {
  const v1::Payout& p = state.payout();
  if (row.idempotency_key() != p.bank_key()) return false;  // an earlier issue's row
  const std::string& s = row.status();
  if (s == "RETURNED") return p.status() == v1::PAYOUT_STATUS_CONFIRMED;
  if (Final(p.status())) return false;
  return s == "CONFIRMED" || s == "FAILED" || s == "REJECTED";
}

absl::StatusOr<AtRiskCounts> CountAtRisk(const store::StateStore& store, absl::CivilDay today,
                                         int warning_days) {
  AtRiskCounts counts;
  const int64_t today_n = DayNumber(today);
  absl::Status s = store.Scan(kByDue, "", "", [&](absl::string_view key, absl::string_view) {
    store::KeyReader r(key);
    std::optional<int64_t> due = r.Int64();
    if (!due) return true;
    if (*due < today_n) {
      ++counts.overdue;
    } else if (*due <= today_n + warning_days) {
      ++counts.due_soon;
    } else {
      return false;  // in due order: the rest are later
    }
    return true;
  });
  if (!s.ok()) return s;
  return counts;
}

std::vector<std::string> PayoutLogic::ColumnFamilies() const {
  return {kPayouts, kBankKeys,  kOutbox,  kByStatus,  kByDay,
          kByDue,   kByConfirmed, kBatches, kPlatforms, kInvestigating};
}

namespace {

// Why a sealed payee card could not be opened to send: the failure's bank
// code, and whether a later attempt may succeed.
struct OpenFailure {
  std::string code;
  bool retriable = false;
};
OpenFailure ClassifyOpenFailure(const absl::Status& s) {
  // Erased (EraseWorkerData): never again; finance may re-issue to a card.
  if (crypto::IsErased(s)) return {"PAYEE_DATA_ERASED", false};
  if (s.code() == absl::StatusCode::kFailedPrecondition) return {"NO_KEY_RING", true};
  // Tampered, or bound to another worker or field.
  if (s.code() == absl::StatusCode::kDataLoss || s.code() == absl::StatusCode::kInvalidArgument) {
    return {"PAYEE_DATA_UNREADABLE", false};
  }
  if (s.code() == absl::StatusCode::kNotFound) return {"PAYEE_KEY_UNKNOWN", true};
  return {"KEY_RING_UNAVAILABLE", true};  // the keys topic unreachable: try again
}

}  // namespace

absl::StatusOr<PayoutLogic::Payee> PayoutLogic::OpenPayee(const v1::Payout& p) const {
  if (!p.has_sealed_account()) return Payee{p.payee_account(), p.payee_name()};
  if (ring_ == nullptr) {
    return absl::FailedPreconditionError(
        "the payee card is sealed and this service runs without a key ring "
        "(crypto.master_key_file)");
  }
  absl::StatusOr<std::string> opened =
      crypto::OpenField(*ring_, p.worker_key(), crypto::kFieldCard, p.sealed_account());
  if (!opened.ok()) return opened.status();
  v1::PayeeCard card;
  if (!card.ParseFromString(*opened)) return absl::DataLossError("sealed payee card: not a PayeeCard");
  return Payee{card.card_number(), card.holder_name()};
}

absl::StatusOr<PayoutLogic::Payee> PayoutLogic::OpenPayeeFresh(
    const v1::Payout& p, std::optional<absl::Status>* caught_up) const {
  // Before the first sealed card of a tick is opened, the ring reads every
  // key record appended so far: an erasure acknowledged before this tick
  // stops the payment (without it, another service's erasure reaches this
  // ring only at its next refresh, a fraction of a second later). A broker
  // round trip per tick that pays a sealed card, none otherwise.
  if (p.has_sealed_account() && ring_ != nullptr) {
    if (!caught_up->has_value()) *caught_up = ring_->CatchUp();
    if (!(*caught_up)->ok()) {
      return absl::UnavailableError(absl::StrCat("key ring: ", (*caught_up)->message()));
    }
  }
  return OpenPayee(p);
}

bool PayoutLogic::NeedsInputs(const kafka::Message& request, absl::string_view commands_topic) {
  if (request.topic == commands_topic) return false;  // a PayoutCommand: needs no input topic
  v1::Envelope env;
  if (!env.ParseFromString(request.value)) return false;
  if (env.has_claim_investigation_decided()) return env.claim_investigation_decided().approved();
  if (env.has_claim_decided()) {
    const v1::ClaimDecision& c = env.claim_decided().claim();
    return c.status() == v1::CLAIM_STATUS_APPROVED &&
           (IsDeath(c.benefit()) || c.payee() == v1::PAYEE_KIND_PLATFORM_ACCOUNT);
  }
  return false;
}

v1::Envelope PayoutLogic::Event(const v1::Payout& payout, const std::string& id_suffix,
                                absl::Time at, const std::string& causation) const {
  events::EnvelopeHeader h;
  h.event_id = absl::StrCat("payout/", payout.bank_key(), "/", id_suffix);
  h.worker_key = payout.worker_key();
  h.occurred_on = ShanghaiDay(at);
  h.recorded_at = at;
  h.causation_id = causation;
  h.producer = o_.producer;
  return events::NewEnvelope(h);
}

absl::Time PayoutLogic::NextAttempt(absl::Time now, int32_t attempts) const {
  absl::Duration wait = o_.retry_base;
  for (int32_t i = 1; i < attempts && wait < o_.retry_max; ++i) wait *= 2;
  return now + std::min(wait, o_.retry_max);
}

// --- Decide ---------------------------------------------------------------------

absl::Status PayoutLogic::Decide(const processor::State& state, const kafka::Message& request,
                                 std::vector<kafka::Record>* out) {
  if (request.topic == o_.commands_topic) {
    v1::PayoutCommand command;
    if (!command.ParseFromString(request.value)) {
      return absl::InvalidArgumentError("not a PayoutCommand");
    }
    if (command.worker_key() != request.key) {
      return absl::InvalidArgumentError("command worker key differs from the record key");
    }
    return DecideCommand(state, command, out);
  }
  // The claims service's events: only approvals concern payout; anything
  // else (denials, paid notices, records this version does not know) is
  // not ours to dead-letter.
  v1::Envelope env;
  if (!env.ParseFromString(request.value)) return absl::OkStatus();
  if (env.worker_key() != request.key) return absl::OkStatus();
  return DecideClaimEvent(state, env, out);
}

absl::Status PayoutLogic::DecideClaimEvent(const processor::State& state, const v1::Envelope& event,
                                           std::vector<kafka::Record>* out) {
  const v1::ClaimDecision* c = nullptr;
  std::optional<v1::ClaimFiled> filed;
  if (event.has_claim_decided()) {
    c = &event.claim_decided().claim();
    if (c->status() != v1::CLAIM_STATUS_APPROVED) return absl::OkStatus();
    filed = event.claim_decided().filed();
  } else if (event.has_claim_investigation_decided()) {
    const v1::ClaimInvestigationDecided& x = event.claim_investigation_decided();
    c = &x.claim();
    if (!x.approved() || c->status() != v1::CLAIM_STATUS_APPROVED) return absl::OkStatus();
    // The payee card was given at filing: remembered from the ClaimDecided
    // that sent the claim to the investigator.
    auto waiting = Read<v1::ClaimDecided>(state, kInvestigating, c->claim_id());
    if (!waiting.ok()) return waiting.status();
    if (waiting->has_value()) filed = (*waiting)->filed();
  } else {
    return absl::OkStatus();
  }
  if (c->claim_id().empty() || c->amount_fen() <= 0) return absl::OkStatus();
  const std::string payout_id = PayoutIdFor(c->claim_id());
  // Exactly one payout per claim, whatever the claims topic repeats.
  auto existing = state.Get(kPayouts, payout_id);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) return absl::OkStatus();

  const absl::Time at = events::FromProto(event.recorded_at());
  v1::Payout p;
  p.set_payout_id(payout_id);
  p.set_claim_id(c->claim_id());
  p.set_worker_key(event.worker_key());
  p.set_benefit(c->benefit());
  p.set_amount_fen(c->amount_fen());
  p.set_platform_id(c->platform_id());
  // §六: death benefits to the enrolling platform's account, all others to
  // the worker's card.
  const bool to_platform = IsDeath(c->benefit()) || c->payee() == v1::PAYEE_KIND_PLATFORM_ACCOUNT;
  p.set_payee(to_platform ? v1::PAYEE_KIND_PLATFORM_ACCOUNT : v1::PAYEE_KIND_WORKER_CARD);
  if (to_platform) {
    auto platform = Read<v1::Platform>(state, kPlatforms, c->platform_id());
    if (!platform.ok()) return platform.status();
    if (platform->has_value()) {
      p.set_payee_account((*platform)->payout_account());
      p.set_payee_name((*platform)->name());
    }
    p.set_account_last4(Last4(p.payee_account()));
  } else if (filed.has_value() && filed->has_sealed_card()) {
    // The worker's card stays sealed; the outbox opens it to send.
    *p.mutable_sealed_account() = filed->sealed_card();
    p.set_account_last4(filed->payee_card_last4());
    p.set_card_kind(filed->application().payee_card().kind());
  } else if (filed.has_value()) {
    const v1::PayeeCard& card = filed->application().payee_card();
    p.set_payee_account(card.card_number());
    p.set_payee_name(card.holder_name());
    p.set_card_kind(card.kind());
    p.set_account_last4(Last4(p.payee_account()));
  }
  if (c->has_due_by() && c->due_by().year() != 0) {
    *p.mutable_due_by() = c->due_by();
  } else {
    *p.mutable_due_by() = ToProto(DayOf(c->received_on()) + kPaymentDays);
  }
  p.set_status(v1::PAYOUT_STATUS_REQUESTED);
  p.set_issue(1);
  p.set_bank_key(BankKeyFor(c->claim_id(), 1));
  *p.mutable_requested_on() = ToProto(ShanghaiDay(at));

  events::EnvelopeHeader h;
  h.event_id = absl::StrCat(event.event_id(), "/payout");
  h.worker_key = event.worker_key();
  h.occurred_on = ShanghaiDay(at);
  h.recorded_at = at;
  h.causation_id = event.event_id();
  h.producer = o_.producer;
  v1::Envelope answer = events::NewEnvelope(h);
  *answer.mutable_payout_requested()->mutable_payout() = std::move(p);
  out->push_back(events::ToRecord("", std::move(answer)));
  return absl::OkStatus();
}

absl::Status PayoutLogic::DecideCommand(const processor::State& state,
                                        const v1::PayoutCommand& command,
                                        std::vector<kafka::Record>* out) {
  const absl::Time at = events::FromProto(command.recorded_at());
  if (command.has_reissue()) {
    const v1::PayoutReissueRequested& req = command.reissue();
    auto held = Read<v1::PayoutState>(state, kPayouts, PayoutIdFor(req.claim_id()));
    if (!held.ok()) return held.status();
    if (!held->has_value()) return absl::InvalidArgumentError("claim_id: no payout");
    const v1::Payout& old = (*held)->payout();
    if (old.worker_key() != command.worker_key()) {
      return absl::InvalidArgumentError("claim_id: another worker's payout");
    }
    // Re-issued or paid meanwhile (two operators at once): nothing to do.
    if (old.status() != v1::PAYOUT_STATUS_FAILED && old.status() != v1::PAYOUT_STATUS_RETURNED) {
      return absl::OkStatus();
    }
    v1::Payout next = old;
    next.set_issue(old.issue() + 1);
    next.set_bank_key(BankKeyFor(old.claim_id(), next.issue()));
    next.set_status(v1::PAYOUT_STATUS_REQUESTED);
    next.set_attempts(0);
    next.clear_bank_reference();
    next.clear_failure_reason();
    next.clear_confirmed_on();
    next.clear_returned_on();
    const v1::PayeeCard& card = req.corrected_card();
    if (req.has_sealed_card()) {
      // A worker's corrected card, sealed at the edge: copied, never opened here.
      *next.mutable_sealed_account() = req.sealed_card();
      next.clear_payee_account();
      next.clear_payee_name();
      next.set_account_last4(req.card_last4());
      if (card.kind() != v1::CARD_KIND_UNSPECIFIED) next.set_card_kind(card.kind());
    } else if (!card.card_number().empty()) {
      next.clear_sealed_account();
      next.set_payee_account(card.card_number());
      if (!card.holder_name().empty()) next.set_payee_name(card.holder_name());
      if (card.kind() != v1::CARD_KIND_UNSPECIFIED) next.set_card_kind(card.kind());
      next.set_account_last4(Last4(next.payee_account()));
    } else if (old.payee() == v1::PAYEE_KIND_PLATFORM_ACCOUNT) {
      auto platform = Read<v1::Platform>(state, kPlatforms, old.platform_id());
      if (!platform.ok()) return platform.status();
      if (platform->has_value()) {
        next.set_payee_account((*platform)->payout_account());
        next.set_payee_name((*platform)->name());
      }
      next.set_account_last4(Last4(next.payee_account()));
    }
    v1::Envelope e = Event(next, "reissued", at, command.request_id());
    v1::PayoutReissued* x = e.mutable_payout_reissued();
    *x->mutable_payout() = std::move(next);
    x->set_operator_id(command.caller());
    x->set_reason(req.reason());
    out->push_back(events::ToRecord("", std::move(e)));
    return absl::OkStatus();
  }
  if (command.has_bank_result()) {
    const v1::BankResultRow& row = command.bank_result();
    auto id = state.Get(kBankKeys, row.idempotency_key());
    if (!id.ok()) return id.status();
    if (!id->has_value()) return absl::InvalidArgumentError("idempotency_key: no payout");
    auto held = Read<v1::PayoutState>(state, kPayouts, **id);
    if (!held.ok()) return held.status();
    if (!held->has_value()) return absl::InternalError("bank key of a missing payout");
    if (!ResultRowChanges(**held, row)) return absl::OkStatus();  // already reflected
    const v1::Payout& p = (*held)->payout();
    const std::string where = absl::StrCat(row.file_name(), ":", row.line());
    if (row.status() == "CONFIRMED") {
      v1::Envelope e = Event(p, "confirmed", at, command.request_id());
      v1::PayoutConfirmed* x = e.mutable_payout_confirmed();
      *x->mutable_payout() = p;
      x->mutable_payout()->set_status(v1::PAYOUT_STATUS_CONFIRMED);
      x->mutable_payout()->set_bank_reference(row.transfer_id());
      *x->mutable_payout()->mutable_confirmed_on() = command.recorded_on();
      x->set_bank_reference(row.transfer_id());
      *x->mutable_confirmed_on() = command.recorded_on();
      out->push_back(events::ToRecord("", std::move(e)));
    } else if (row.status() == "RETURNED") {
      v1::Envelope e = Event(p, "returned", at, command.request_id());
      v1::PayoutReturned* x = e.mutable_payout_returned();
      x->set_payout_id(p.payout_id());
      x->set_claim_id(p.claim_id());
      x->set_reason(row.reason());
      *x->mutable_returned_on() = command.recorded_on();
      out->push_back(events::ToRecord("", std::move(e)));
    } else {  // FAILED, REJECTED: final for this issue
      v1::Envelope e = Event(p, absl::StrCat("failed/file/", p.attempts()), at, command.request_id());
      v1::PayoutFailed* x = e.mutable_payout_failed();
      x->set_payout_id(p.payout_id());
      x->set_claim_id(p.claim_id());
      x->set_bank_code(row.status() == "REJECTED" ? CodeOf(row.reason()) : row.reason());
      x->set_reason(absl::StrCat(row.status(), " ", row.reason(), " (", where, ")"));
      x->set_retriable(false);
      x->set_attempt(p.attempts());
      x->set_bank_key(p.bank_key());
      *x->mutable_failed_on() = command.recorded_on();
      out->push_back(events::ToRecord("", std::move(e)));
    }
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError("PayoutCommand: no body");
}

// --- Tick: the outbox -----------------------------------------------------------

absl::StatusOr<std::vector<v1::PayoutState>> PayoutLogic::DuePayouts(const processor::State& state,
                                                                     int32_t partition,
                                                                     absl::Time now,
                                                                     bool include_awaiting) const {
  std::vector<v1::PayoutState> due;
  absl::Status bad = absl::OkStatus();
  absl::Status s = state.ScanPrefix(
      kOutbox, store::KeyBuilder().Int64(partition).Prefix(),
      [&](absl::string_view key, absl::string_view) {
        store::KeyReader r(key);
        r.Int64();
        std::optional<absl::string_view> id = r.Text();
        if (!id) return true;
        auto held = Read<v1::PayoutState>(state, kPayouts, std::string(*id));
        if (!held.ok()) {
          bad = held.status();
          return false;
        }
        if (!held->has_value()) return true;
        const v1::PayoutState& ps = **held;
        if (Final(ps.payout().status())) return true;
        if (ps.awaiting_bank() && !include_awaiting) return true;
        if (events::FromProto(ps.next_attempt_at()) > now) return true;
        due.push_back(ps);
        return static_cast<int>(due.size()) < o_.max_per_tick;
      });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  return due;
}

absl::Status PayoutLogic::Tick(const processor::State& state, int32_t partition, absl::Time now,
                               std::vector<kafka::Record>* out) {
  if (o_.gateway == nullptr) return absl::OkStatus();
  if (o_.gateway->mode() == "file") return TickFile(state, partition, now, out);
  return TickHttp(state, partition, now, out);
}

absl::Status PayoutLogic::TickHttp(const processor::State& state, int32_t partition, absl::Time now,
                                   std::vector<kafka::Record>* out) {
  absl::StatusOr<std::vector<v1::PayoutState>> due = DuePayouts(state, partition, now, true);
  if (!due.ok()) return due.status();
  const auto started = std::chrono::steady_clock::now();
  const absl::CivilDay today = ShanghaiDay(now);

  std::optional<absl::Status> caught_up;  // see OpenPayeeFresh
  for (const v1::PayoutState& ps : *due) {
    if (std::chrono::steady_clock::now() - started > absl::ToChronoNanoseconds(o_.tick_budget)) break;
    const v1::Payout& p = ps.payout();
    const int32_t attempt = p.attempts() + 1;
    auto fail = [&](const std::string& code, const std::string& reason, bool retriable,
                    bool query_first) {
      v1::Envelope e = Event(p, absl::StrCat("failed/", attempt), now, p.payout_id());
      v1::PayoutFailed* x = e.mutable_payout_failed();
      x->set_payout_id(p.payout_id());
      x->set_claim_id(p.claim_id());
      x->set_bank_code(code);
      x->set_reason(reason);
      x->set_retriable(retriable);
      x->set_attempt(attempt);
      x->set_bank_key(p.bank_key());
      x->set_query_first(query_first);
      *x->mutable_failed_on() = ToProto(today);
      if (retriable) *x->mutable_next_attempt_at() = ToProto(NextAttempt(now, attempt));
      out->push_back(events::ToRecord("", std::move(e)));
    };
    auto confirm = [&](const TransferAnswer& a) {
      v1::Envelope e = Event(p, "confirmed", now, p.payout_id());
      v1::PayoutConfirmed* x = e.mutable_payout_confirmed();
      *x->mutable_payout() = p;
      x->mutable_payout()->set_status(v1::PAYOUT_STATUS_CONFIRMED);
      x->mutable_payout()->set_bank_reference(a.transfer_id);
      *x->mutable_payout()->mutable_confirmed_on() = ToProto(today);
      x->set_bank_reference(a.transfer_id);
      *x->mutable_confirmed_on() = ToProto(today);
      out->push_back(events::ToRecord("", std::move(e)));
    };
    auto sent = [&](const std::string& bank_status, absl::Time next) {
      v1::Envelope e = Event(p, absl::StrCat("sent/", attempt), now, p.payout_id());
      v1::PayoutSent* x = e.mutable_payout_sent();
      x->set_payout_id(p.payout_id());
      x->set_claim_id(p.claim_id());
      x->set_attempt(attempt);
      *x->mutable_sent_at() = ToProto(now);
      x->set_bank_key(p.bank_key());
      *x->mutable_next_attempt_at() = ToProto(next);
      x->set_bank_status(bank_status);
      out->push_back(events::ToRecord("", std::move(e)));
    };
    auto answered = [&](const TransferAnswer& a) {
      switch (a.status) {
        case TransferAnswer::Status::kConfirmed:
          confirm(a);
          break;
        case TransferAnswer::Status::kFailed:
          fail(a.reason, absl::StrCat("the bank refused: ", a.reason), false, false);
          break;
        default:
          break;
      }
    };

    if (p.payee_account().empty() && !p.has_sealed_account()) {
      fail("NO_PAYEE_ACCOUNT",
           p.payee() == v1::PAYEE_KIND_PLATFORM_ACCOUNT
               ? absl::StrCat("platform ", p.platform_id(), " has no registered payout account")
               : "no payee card on the claim",
           false, false);
      continue;
    }
    if (ps.query_first()) {
      // The bank may have it (timeout, broken connection, 5xx, PENDING):
      // ask before sending again.
      absl::StatusOr<TransferAnswer> q = o_.gateway->Query(p.bank_key());
      if (!q.ok()) {
        fail("STATUS_QUERY_FAILED", std::string(q.status().message()), true, true);
        continue;
      }
      if (q->status == TransferAnswer::Status::kPending) continue;  // asked again next tick
      if (q->status != TransferAnswer::Status::kNotFound) {
        answered(*q);
        continue;
      }
      // No record at the bank: it never got the transfer. Send it.
    }
    // A sealed card is opened only now, to hand the transfer to the bank.
    absl::StatusOr<Payee> payee = OpenPayeeFresh(p, &caught_up);
    if (!payee.ok()) {
      const OpenFailure f = ClassifyOpenFailure(payee.status());
      fail(f.code, absl::StrCat("the payee card cannot be opened: ", payee.status().message()),
           f.retriable, f.retriable && ps.query_first());
      continue;
    }
    if (payee->account.empty()) {
      fail("NO_PAYEE_ACCOUNT", "the sealed payee card holds no card number", false, false);
      continue;
    }
    std::vector<absl::StatusOr<TransferAnswer>> r =
        o_.gateway->Send({TransferOf(p, payee->account, payee->name)}, "");
    const absl::StatusOr<TransferAnswer>& a = r.front();
    if (a.ok()) {
      sent(a->status == TransferAnswer::Status::kPending ? "PENDING" : "",
           a->status == TransferAnswer::Status::kPending ? now + o_.pending_recheck
                                                        : NextAttempt(now, attempt));
      answered(*a);
    } else if (OutcomeUnknown(a.status())) {
      sent("", NextAttempt(now, attempt));  // no answer: the next attempt asks first
    } else if (a.status().code() == absl::StatusCode::kUnavailable) {
      fail("UNAVAILABLE", std::string(a.status().message()), true, ps.query_first());
    } else {
      fail(CodeOf(std::string(a.status().message())), std::string(a.status().message()), false, false);
    }
  }
  return absl::OkStatus();
}

absl::Status PayoutLogic::TickFile(const processor::State& state, int32_t partition, absl::Time now,
                                   std::vector<kafka::Record>* out) {
  auto batch = Read<v1::PayoutBatchState>(state, kBatches, store::KeyBuilder().Int64(partition).Build());
  if (!batch.ok()) return batch.status();
  const v1::PayoutBatchState b = batch->value_or(v1::PayoutBatchState());
  if (b.seq() > 0 && events::FromProto(b.last_export_at()) + o_.export_interval > now) {
    return absl::OkStatus();  // one file per export interval ("daily")
  }
  absl::StatusOr<std::vector<v1::PayoutState>> due = DuePayouts(state, partition, now, false);
  if (!due.ok()) return due.status();
  std::vector<v1::PayoutState> ready;
  std::vector<Transfer> transfers;
  std::optional<absl::Status> caught_up;  // see OpenPayeeFresh
  const absl::CivilDay today = ShanghaiDay(now);
  for (const v1::PayoutState& ps : *due) {
    const v1::Payout& p = ps.payout();
    if (p.payee_account().empty() && !p.has_sealed_account()) continue;  // the HTTP path reports these
    // A sealed card is opened only now, to write it into the bank's file.
    absl::StatusOr<Payee> payee = OpenPayeeFresh(p, &caught_up);
    if (!payee.ok() || payee->account.empty()) {
      const OpenFailure f = payee.ok() ? OpenFailure{"NO_PAYEE_ACCOUNT", false}
                                       : ClassifyOpenFailure(payee.status());
      const int32_t attempt = p.attempts() + 1;
      v1::Envelope e = Event(p, absl::StrCat("failed/", attempt), now, p.payout_id());
      v1::PayoutFailed* x = e.mutable_payout_failed();
      x->set_payout_id(p.payout_id());
      x->set_claim_id(p.claim_id());
      x->set_bank_code(f.code);
      x->set_reason(payee.ok() ? std::string("the sealed payee card holds no card number")
                               : absl::StrCat("the payee card cannot be opened: ",
                                              payee.status().message()));
      x->set_retriable(f.retriable);
      x->set_attempt(attempt);
      x->set_bank_key(p.bank_key());
      *x->mutable_failed_on() = ToProto(today);
      if (f.retriable) *x->mutable_next_attempt_at() = ToProto(NextAttempt(now, attempt));
      out->push_back(events::ToRecord("", std::move(e)));
      continue;
    }
    ready.push_back(ps);
    transfers.push_back(TransferOf(p, payee->account, payee->name));
  }
  if (ready.empty()) return absl::OkStatus();
  const int64_t seq = b.seq() + 1;
  const std::string name = absl::StrFormat("payouts-%04d%02d%02d-p%d-%d.csv", today.year(),
                                           today.month(), today.day(), partition, seq);
  std::vector<absl::StatusOr<TransferAnswer>> r = o_.gateway->Send(transfers, name);
  for (size_t i = 0; i < ready.size(); ++i) {
    const v1::Payout& p = ready[i].payout();
    const int32_t attempt = p.attempts() + 1;
    if (r[i].ok()) {
      v1::Envelope e = Event(p, absl::StrCat("sent/", attempt), now, p.payout_id());
      v1::PayoutSent* x = e.mutable_payout_sent();
      x->set_payout_id(p.payout_id());
      x->set_claim_id(p.claim_id());
      x->set_attempt(attempt);
      *x->mutable_sent_at() = ToProto(now);
      x->set_bank_key(p.bank_key());
      *x->mutable_next_attempt_at() = ToProto(absl::InfiniteFuture());
      x->set_batch_file(name);
      x->set_batch_seq(seq);
      out->push_back(events::ToRecord("", std::move(e)));
    } else {
      v1::Envelope e = Event(p, absl::StrCat("failed/", attempt), now, p.payout_id());
      v1::PayoutFailed* x = e.mutable_payout_failed();
      x->set_payout_id(p.payout_id());
      x->set_claim_id(p.claim_id());
      x->set_bank_code("EXPORT_FAILED");
      x->set_reason(std::string(r[i].status().message()));
      x->set_retriable(true);
      x->set_attempt(attempt);
      x->set_bank_key(p.bank_key());
      *x->mutable_failed_on() = ToProto(today);
      *x->mutable_next_attempt_at() = ToProto(NextAttempt(now, attempt));
      out->push_back(events::ToRecord("", std::move(e)));
    }
  }
  return absl::OkStatus();
}

// --- Apply ----------------------------------------------------------------------

absl::Status PayoutLogic::Apply(processor::State& state, const kafka::Message& message) {
  absl::StatusOr<v1::Envelope> env = events::ParseEnvelope(message);
  if (!env.ok()) return env.status();

  auto load = [&](const std::string& payout_id) -> absl::StatusOr<v1::PayoutState> {
    auto held = Read<v1::PayoutState>(state, kPayouts, payout_id);
    if (!held.ok()) return held.status();
    if (!held->has_value()) {
      return absl::InvalidArgumentError(absl::StrCat("event for an unknown payout ", payout_id));
    }
    return **held;
  };
  // Writes the payout and moves it between the status indexes.
  auto store_payout = [&](const v1::PayoutState& before, const v1::PayoutState& after) {
    const v1::Payout& b = before.payout();
    const v1::Payout& a = after.payout();
    if (b.status() != a.status()) {
      if (b.status() != v1::PAYOUT_STATUS_UNSPECIFIED) state.Delete(kByStatus, StatusKey(b.status(), b.payout_id()));
      state.Put(kByStatus, StatusKey(a.status(), a.payout_id()), "");
    }
    const std::string outbox = OutboxKey(after.partition(), a.payout_id());
    if (Final(a.status())) {
      state.Delete(kOutbox, outbox);
    } else {
      state.Put(kOutbox, outbox, "");
    }
    // Unpaid: watched against the 90-day due date.
    const std::string due = DayKey(DayOf(a.due_by()), a.payout_id());
    if (a.status() == v1::PAYOUT_STATUS_CONFIRMED) {
      state.Delete(kByDue, due);
    } else {
      state.Put(kByDue, due, "");
    }
    state.Put(kPayouts, a.payout_id(), after.SerializeAsString());
  };

  switch (env->body_case()) {
    case v1::Envelope::kPayoutRequested: {
      const v1::Payout& p = env->payout_requested().payout();
      v1::PayoutState ps;
      *ps.mutable_payout() = p;
      ps.set_partition(message.partition);
      *ps.mutable_next_attempt_at() = env->recorded_at();
      state.Put(kBankKeys, p.bank_key(), p.payout_id());
      state.Put(kByDay, DayKey(DayOf(p.requested_on()), p.payout_id()), "");
      state.Delete(kInvestigating, p.claim_id());
      store_payout(v1::PayoutState(), ps);
      return absl::OkStatus();
    }
    case v1::Envelope::kPayoutSent: {
      const v1::PayoutSent& x = env->payout_sent();
      absl::StatusOr<v1::PayoutState> before = load(x.payout_id());
      if (!before.ok()) return before.status();
      if (x.bank_key() != before->payout().bank_key()) return absl::OkStatus();  // an earlier issue
      v1::PayoutState after = *before;
      if (!Final(after.payout().status())) after.mutable_payout()->set_status(v1::PAYOUT_STATUS_SENT);
      after.mutable_payout()->set_attempts(x.attempt());
      after.set_awaiting_bank(true);
      after.set_query_first(true);
      *after.mutable_next_attempt_at() = x.next_attempt_at();
      if (!x.batch_file().empty()) {
        after.set_batch_file(x.batch_file());
        v1::PayoutBatchState b;
        b.set_seq(x.batch_seq());
        *b.mutable_last_export_at() = x.sent_at();
        state.Put(kBatches, store::KeyBuilder().Int64(after.partition()).Build(), b.SerializeAsString());
      }
      store_payout(*before, after);
      return absl::OkStatus();
    }
    case v1::Envelope::kPayoutConfirmed: {
      const v1::PayoutConfirmed& x = env->payout_confirmed();
      absl::StatusOr<v1::PayoutState> before = load(x.payout().payout_id());
      if (!before.ok()) return before.status();
      if (x.payout().bank_key() != before->payout().bank_key()) return absl::OkStatus();
      v1::PayoutState after = *before;
      v1::Payout* p = after.mutable_payout();
      p->set_status(v1::PAYOUT_STATUS_CONFIRMED);
      p->set_bank_reference(x.bank_reference());
      *p->mutable_confirmed_on() = x.confirmed_on();
      p->clear_failure_reason();
      after.set_awaiting_bank(false);
      after.set_query_first(false);
      state.Put(kByConfirmed, DayKey(DayOf(x.confirmed_on()), p->payout_id()), "");
      store_payout(*before, after);
      return absl::OkStatus();
    }
    case v1::Envelope::kPayoutFailed: {
      const v1::PayoutFailed& x = env->payout_failed();
      absl::StatusOr<v1::PayoutState> before = load(x.payout_id());
      if (!before.ok()) return before.status();
      if (!x.bank_key().empty() && x.bank_key() != before->payout().bank_key()) return absl::OkStatus();
      v1::PayoutState after = *before;
      v1::Payout* p = after.mutable_payout();
      p->set_failure_reason(x.bank_code().empty() ? x.reason() : absl::StrCat(x.bank_code(), ": ", x.reason()));
      if (x.attempt() > p->attempts()) p->set_attempts(x.attempt());
      if (x.retriable()) {
        // Status stays (REQUESTED or SENT): the outbox tries again.
        after.set_query_first(x.query_first());
        after.set_awaiting_bank(x.query_first());
        *after.mutable_next_attempt_at() = x.next_attempt_at();
      } else {
        p->set_status(v1::PAYOUT_STATUS_FAILED);
        after.set_query_first(false);
        after.set_awaiting_bank(false);
      }
      store_payout(*before, after);
      return absl::OkStatus();
    }
    case v1::Envelope::kPayoutReturned: {
      const v1::PayoutReturned& x = env->payout_returned();
      absl::StatusOr<v1::PayoutState> before = load(x.payout_id());
      if (!before.ok()) return before.status();
      v1::PayoutState after = *before;
      after.mutable_payout()->set_status(v1::PAYOUT_STATUS_RETURNED);
      *after.mutable_payout()->mutable_returned_on() = x.returned_on();
      after.mutable_payout()->set_failure_reason(absl::StrCat("RETURNED: ", x.reason()));
      store_payout(*before, after);
      return absl::OkStatus();
    }
    case v1::Envelope::kPayoutReissued: {
      const v1::Payout& p = env->payout_reissued().payout();
      absl::StatusOr<v1::PayoutState> before = load(p.payout_id());
      if (!before.ok()) return before.status();
      v1::PayoutState after;
      *after.mutable_payout() = p;
      after.set_partition(before->partition());
      *after.mutable_next_attempt_at() = env->recorded_at();
      state.Put(kBankKeys, p.bank_key(), p.payout_id());
      store_payout(*before, after);
      return absl::OkStatus();
    }
    // Inputs.
    case v1::Envelope::kPlatformRegistered:
      state.Put(kPlatforms, env->platform_registered().platform().platform_id(),
                env->platform_registered().platform().SerializeAsString());
      return absl::OkStatus();
    case v1::Envelope::kClaimDecided: {
      const v1::ClaimDecided& x = env->claim_decided();
      if (x.claim().status() == v1::CLAIM_STATUS_INVESTIGATING) {
        // Not once its payout exists: a replay applies this service's own
        // events before its input topics, so the PayoutRequested that removed
        // the entry live comes first there; without this check the replayed
        // state would keep entries the live one dropped (found by tests/chaos).
        auto paid = state.Get(kPayouts, PayoutIdFor(x.claim().claim_id()));
        if (!paid.ok()) return paid.status();
        if (!paid->has_value()) state.Put(kInvestigating, x.claim().claim_id(), x.SerializeAsString());
      }
      return absl::OkStatus();
    }
    case v1::Envelope::kClaimInvestigationDecided: {
      const v1::ClaimInvestigationDecided& x = env->claim_investigation_decided();
      if (!x.approved()) state.Delete(kInvestigating, x.claim().claim_id());
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();  // other events this service does not need
  }
}

}  // namespace mutualaid::payout
