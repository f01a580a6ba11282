#include "services/payout/payout_api.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "mutualaid/events/claims_convert.h"
#include "mutualaid/events/convert.h"
#include "mutualaid/kafka/record.h"
#include "mutualaid/server/server.h"
#include "mutualaid/store/keys.h"
#include "services/payout/payout_logic.h"

namespace mutualaid::payout {
namespace {

using server::Role;
using server::ToGrpcStatus;

constexpr int kDefaultPage = 100;
constexpr int kMaxPage = 1000;

grpc::Status Error(grpc::StatusCode code, const std::string& message) {
  return grpc::Status(code, message);
}

int PageSize(const v1::PageRequest& page) {
  if (page.page_size() <= 0) return kDefaultPage;
  return std::min(page.page_size(), kMaxPage);
}

bool Digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string PayoutIdOf(absl::string_view index_key) {
  store::KeyReader r(index_key);
  r.Int64();
  return std::string(r.Text().value_or(""));
}

}  // namespace

PayoutApi::PayoutApi(ApiOptions options, const server::TokenAuthenticator& auth,
                     const Clock& clock, kafka::Producer& producer,
                     const store::StateStore& store, server::Answers& answers, BankGateway* bank)
    : o_(std::move(options)),
      auth_(auth),
      clock_(clock),
      producer_(producer),
      store_(store),
      answers_(answers),
      bank_(bank) {}

// What a caller may see of a payout: the full account number is for finance
// (a sealed card opened for it; "erased" once the worker's key is erased).
absl::StatusOr<v1::Payout> PayoutApi::Shown(const v1::Payout& p, const server::Principal& who) const {
  v1::Payout out = p;
  if (who.role != Role::kFinance) {
    out.clear_payee_account();
    out.clear_sealed_account();
    return out;
  }
  if (!out.has_sealed_account()) return out;
  if (ring_ == nullptr) {
    return absl::FailedPreconditionError("sealed payee card and no key ring (crypto.master_key_file)");
  }
  absl::StatusOr<std::string> opened =
      crypto::OpenField(*ring_, p.worker_key(), crypto::kFieldCard, p.sealed_account());
  out.clear_sealed_account();
  if (crypto::IsErased(opened.status())) {
    out.set_payee_account(crypto::kErased);
    out.set_payee_name(crypto::kErased);
    return out;
  }
  if (!opened.ok()) return opened.status();
  v1::PayeeCard card;
  if (!card.ParseFromString(*opened)) return absl::DataLossError("sealed payee card: not a PayeeCard");
  out.set_payee_account(card.card_number());
  out.set_payee_name(card.holder_name());
  return out;
}

absl::Status CheckReissue(const v1::ReissuePayoutRequest& req, v1::PayeeKind payee) {
  if (req.reason().empty()) return absl::InvalidArgumentError("reason: required");
  const v1::PayeeCard& card = req.corrected_card();
  if (payee == v1::PAYEE_KIND_WORKER_CARD) {
    // §六: the worker's union member card or own Shanghai debit card.
    if (!Digits(card.card_number()) || card.card_number().size() < 16 ||
        card.card_number().size() > 19) {
      return absl::InvalidArgumentError("corrected_card.card_number: 16-19 digits");
    }
    if (!events::IsValidCardNumber(card.card_number())) {
      return absl::InvalidArgumentError(
          "corrected_card.card_number: INVALID_CARD_NUMBER (the check digit is wrong)");
    }
    if (card.kind() != v1::CARD_KIND_UNION_MEMBER_CARD &&
        card.kind() != v1::CARD_KIND_SHANGHAI_DEBIT_CARD) {
      return absl::InvalidArgumentError("corrected_card.kind: union member card or Shanghai debit card");
    }
  } else if (!card.card_number().empty() &&
             (!Digits(card.card_number()) || card.card_number().size() < 8 ||
              card.card_number().size() > 32)) {
    return absl::InvalidArgumentError(
        "corrected_card.card_number: a platform account, 8-32 digits");
  }
  return absl::OkStatus();
}

absl::Status CheckImport(const v1::ImportBankResultsRequest& req) {
  if (!req.content().empty()) return absl::OkStatus();
  const std::string& name = req.file_name();
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    return absl::InvalidArgumentError("content, or file_name of a file in the import directory");
  }
  return absl::OkStatus();
}

std::string PayoutApi::NewId() const {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t a = rng(), b = rng();
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(&a), 8)) +
         absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(&b), 8));
}

absl::StatusOr<std::optional<v1::PayoutState>> PayoutApi::Load(const std::string& payout_id) const {
  absl::StatusOr<std::optional<std::string>> raw = store_.Get(kPayouts, payout_id);
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return std::optional<v1::PayoutState>();
  v1::PayoutState ps;
  if (!ps.ParseFromString(**raw)) return absl::InternalError("unreadable payout");
  return std::optional<v1::PayoutState>(std::move(ps));
}

grpc::Status PayoutApi::GetPayout(grpc::ServerContext* ctx, const v1::GetPayoutRequest* req,
                                  v1::GetPayoutResponse* resp) {
  auto who = server::CheckCall(auth_, *ctx, "GetPayout",
                               {Role::kFinance, Role::kOperations, Role::kHall});
  if (!who.ok()) return ToGrpcStatus(who.status());
  std::string id = req->payout_id();
  if (id.empty() && !req->claim_id().empty()) id = PayoutIdFor(req->claim_id());
  if (id.empty()) return Error(grpc::StatusCode::INVALID_ARGUMENT, "payout_id or claim_id: required");
  auto ps = Load(id);
  if (!ps.ok()) return ToGrpcStatus(ps.status());
  if (!ps->has_value()) return Error(grpc::StatusCode::NOT_FOUND, "no such payout");
  absl::StatusOr<v1::Payout> shown = Shown((*ps)->payout(), *who);
  if (!shown.ok()) return ToGrpcStatus(shown.status());
  *resp->mutable_payout() = *std::move(shown);
  return grpc::Status::OK;
}

grpc::Status PayoutApi::ListPayouts(grpc::ServerContext* ctx, const v1::ListPayoutsRequest* req,
                                    v1::ListPayoutsResponse* resp) {
  auto who = server::CheckCall(auth_, *ctx, "ListPayouts",
                               {Role::kFinance, Role::kOperations, Role::kHall});
  if (!who.ok()) return ToGrpcStatus(who.status());
  std::optional<absl::CivilDay> day;
  if (req->has_day() && req->day().year() != 0) {
    auto d = events::FromProto(req->day(), "day");
    if (!d.ok()) return ToGrpcStatus(absl::InvalidArgumentError(d.status().message()));
    day = *d;
  }
  auto matches = [&](const v1::Payout& p) {
    if (req->status() != v1::PAYOUT_STATUS_UNSPECIFIED && p.status() != req->status()) return false;
    if (!req->claim_id().empty() && p.claim_id() != req->claim_id()) return false;
    if (day && events::FromProto(p.requested_on(), "requested_on").value_or(absl::CivilDay()) != *day) {
      return false;
    }
    return true;
  };
  if (!req->claim_id().empty()) {
    auto ps = Load(PayoutIdFor(req->claim_id()));
    if (!ps.ok()) return ToGrpcStatus(ps.status());
    if (ps->has_value() && matches((*ps)->payout())) {
      absl::StatusOr<v1::Payout> shown = Shown((*ps)->payout(), *who);
      if (!shown.ok()) return ToGrpcStatus(shown.status());
      *resp->add_payouts() = *std::move(shown);
    }
    return grpc::Status::OK;
  }
  // The narrowest index: status, else day, else every payout.
  const char* cf = kPayouts;
  std::string prefix;
  if (req->status() != v1::PAYOUT_STATUS_UNSPECIFIED) {
    cf = kByStatus;
    prefix = store::KeyBuilder().Int64(req->status()).Prefix();
  } else if (day) {
    cf = kByDay;
    prefix = store::KeyBuilder().Int64(DayNumber(*day)).Prefix();
  }
  std::string after;
  if (!req->page().page_token().empty() &&
      !absl::WebSafeBase64Unescape(req->page().page_token(), &after)) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT, "page_token: not from this service");
  }
  const int limit = PageSize(req->page());
  std::string last;
  absl::Status bad = absl::OkStatus();
  absl::Status s = store_.ScanPrefix(cf, prefix, [&](absl::string_view key, absl::string_view value) {
    if (!after.empty() && key <= after) return true;
    v1::PayoutState ps;
    if (cf == kPayouts) {
      if (!ps.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        bad = absl::InternalError("unreadable payout");
        return false;
      }
    } else {
      auto loaded = Load(PayoutIdOf(key));
      if (!loaded.ok()) {
        bad = loaded.status();
        return false;
      }
      if (!loaded->has_value()) return true;
      ps = **loaded;
    }
    if (!matches(ps.payout())) return true;
    if (resp->payouts_size() == limit) {
      resp->set_next_page_token(absl::WebSafeBase64Escape(last));
      return false;
    }
    absl::StatusOr<v1::Payout> shown = Shown(ps.payout(), *who);
    if (!shown.ok()) {
      bad = shown.status();
      return false;
    }
    *resp->add_payouts() = *std::move(shown);
    last = std::string(key);
    return true;
  });
  if (!s.ok()) return ToGrpcStatus(s);
  return ToGrpcStatus(bad);
}

grpc::Status PayoutApi::ReissuePayout(grpc::ServerContext* ctx, const v1::ReissuePayoutRequest* req,
                                      v1::ReissuePayoutResponse* resp) {
  auto who = server::CheckCall(auth_, *ctx, "ReissuePayout", {Role::kFinance});
  if (!who.ok()) return ToGrpcStatus(who.status());
  if (req->reason().empty()) return Error(grpc::StatusCode::INVALID_ARGUMENT, "reason: required");
  auto ps = Load(PayoutIdFor(req->claim_id()));
  if (!ps.ok()) return ToGrpcStatus(ps.status());
  if (!ps->has_value()) return Error(grpc::StatusCode::NOT_FOUND, "no payout for that claim");
  const v1::Payout& p = (*ps)->payout();
  if (p.status() != v1::PAYOUT_STATUS_FAILED && p.status() != v1::PAYOUT_STATUS_RETURNED) {
    return Error(grpc::StatusCode::FAILED_PRECONDITION,
                 absl::StrCat("only a failed or returned payout is re-issued; this one is ",
                              v1::PayoutStatus_Name(p.status())));
  }
  if (absl::Status checked = CheckReissue(*req, p.payee()); !checked.ok()) {
    return ToGrpcStatus(checked);
  }
  const v1::PayeeCard& card = req->corrected_card();
  const absl::Time now = clock_.Now();
  const std::string request_id = absl::StrCat("reissue/", req->claim_id(), "/", NewId());
  v1::PayoutCommand command;
  command.set_request_id(request_id);
  command.set_worker_key(p.worker_key());
  *command.mutable_recorded_at() = events::ToProto(now);
  *command.mutable_recorded_on() = events::ToProto(ShanghaiDay(now));
  command.set_caller(who->ToString());
  v1::PayoutReissueRequested* x = command.mutable_reissue();
  x->set_claim_id(req->claim_id());
  *x->mutable_corrected_card() = card;
  x->set_reason(req->reason());
  if (ring_ != nullptr && p.payee() == v1::PAYEE_KIND_WORKER_CARD && !card.card_number().empty()) {
    // The worker's corrected card leaves this process only sealed (a
    // platform's account is a company's, not personal data: in clear).
    absl::StatusOr<v1::SealedPersonalData> sealed =
        crypto::SealField(*ring_, p.worker_key(), crypto::kFieldCard, card.SerializeAsString());
    if (!sealed.ok()) return ToGrpcStatus(sealed.status());
    *x->mutable_sealed_card() = *std::move(sealed);
    const std::string& number = card.card_number();
    x->set_card_last4(number.size() <= 4 ? number : number.substr(number.size() - 4));
    x->clear_corrected_card();
    x->mutable_corrected_card()->set_kind(card.kind());
  }
  auto ticket = answers_.Expect(request_id);
  kafka::Record record{o_.requests_topic, p.worker_key(), command.SerializeAsString(), {}, kafka::kAnyPartition};
  if (auto a = producer_.Append(record); !a.ok()) {
    answers_.Forget(request_id, ticket);
    return ToGrpcStatus(a.status());
  }
  auto got = ticket->Wait(o_.decision_timeout);
  if (!got.ok()) {
    answers_.Forget(request_id, ticket);
    return Error(grpc::StatusCode::ABORTED,
                 "the re-issue was not recorded in time (or another operator re-issued first): "
                 "read the payout again");
  }
  absl::StatusOr<v1::Payout> shown = Shown(got->front().payout_reissued().payout(), *who);
  if (!shown.ok()) return ToGrpcStatus(shown.status());
  *resp->mutable_payout() = *std::move(shown);
  return grpc::Status::OK;
}

grpc::Status PayoutApi::ImportBankResults(grpc::ServerContext* ctx,
                                          const v1::ImportBankResultsRequest* req,
                                          v1::ImportBankResultsResponse* resp) {
  auto who = server::CheckCall(auth_, *ctx, "ImportBankResults", {Role::kFinance, Role::kOperations});
  if (!who.ok()) return ToGrpcStatus(who.status());
  std::string content = req->content();
  if (content.empty()) {
    // By name from the import directory (where the bank's files are dropped).
    const std::string& name = req->file_name();
    if (absl::Status checked = CheckImport(*req); !checked.ok()) return ToGrpcStatus(checked);
    if (o_.import_dir.empty()) {
      return Error(grpc::StatusCode::FAILED_PRECONDITION, "no bank.import_dir configured: send the content");
    }
    std::ifstream in(std::filesystem::path(o_.import_dir) / name, std::ios::binary);
    if (!in) return Error(grpc::StatusCode::NOT_FOUND, absl::StrCat("no file ", name, " in the import directory"));
    content.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::vector<std::string> errors;
  absl::StatusOr<std::vector<ResultRow>> rows = ParseResultFile(content, &errors);
  if (!rows.ok()) return ToGrpcStatus(rows.status());
  for (const std::string& e : errors) resp->add_errors(e);
  resp->set_rows(static_cast<int32_t>(rows->size() + errors.size()));

  const absl::Time now = clock_.Now();
  const std::string batch_id = NewId();
  struct Pending {
    std::string request_id;
    std::shared_ptr<server::Answers::Ticket> ticket;
  };
  std::vector<Pending> pending;
  std::vector<kafka::Record> records;
  std::set<std::string> seen;
  for (const ResultRow& row : *rows) {
    if (!seen.insert(row.idempotency_key).second) {
      resp->set_unchanged(resp->unchanged() + 1);
      continue;
    }
    auto id = store_.Get(kBankKeys, row.idempotency_key);
    if (!id.ok()) return ToGrpcStatus(id.status());
    if (!id->has_value()) {
      resp->add_unmatched(row.idempotency_key);
      continue;
    }
    auto ps = Load(**id);
    if (!ps.ok()) return ToGrpcStatus(ps.status());
    if (!ps->has_value()) {
      resp->add_unmatched(row.idempotency_key);
      continue;
    }
    v1::PayoutCommand command;
    command.set_request_id(absl::StrCat("import/", batch_id, "/", row.line));
    command.set_worker_key((*ps)->payout().worker_key());
    *command.mutable_recorded_at() = events::ToProto(now);
    *command.mutable_recorded_on() = events::ToProto(ShanghaiDay(now));
    command.set_caller(who->ToString());
    v1::BankResultRow* x = command.mutable_bank_result();
    x->set_idempotency_key(row.idempotency_key);
    x->set_status(row.status);
    x->set_transfer_id(row.transfer_id);
    x->set_reason(row.reason);
    x->set_file_name(req->file_name());
    x->set_line(row.line);
    if (!ResultRowChanges(**ps, *x)) {
      resp->set_unchanged(resp->unchanged() + 1);
      continue;
    }
    pending.push_back({command.request_id(), answers_.Expect(command.request_id())});
    records.push_back({o_.requests_topic, command.worker_key(), command.SerializeAsString(), {},
                       kafka::kAnyPartition});
  }
  auto forget_all = [&] {
    for (const Pending& p : pending) answers_.Forget(p.request_id, p.ticket);
  };
  for (const auto& a : producer_.AppendBatch(records)) {
    if (!a.ok()) {
      forget_all();
      return ToGrpcStatus(a.status());
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(o_.decision_timeout);
  for (const Pending& p : pending) {
    auto got = p.ticket->Wait(std::max(absl::FromChrono(deadline - std::chrono::steady_clock::now()),
                                       absl::ZeroDuration()));
    if (got.ok()) {
      resp->set_applied(resp->applied() + 1);
    } else {
      // Raced by another import of the same file: the payout says what holds.
      answers_.Forget(p.request_id, p.ticket);
      resp->set_unchanged(resp->unchanged() + 1);
    }
  }
  return grpc::Status::OK;
}

grpc::Status PayoutApi::GetReconciliationReport(grpc::ServerContext* ctx,
                                                const v1::GetReconciliationReportRequest* req,
                                                v1::GetReconciliationReportResponse* resp) {
  auto who = server::CheckCall(auth_, *ctx, "GetReconciliationReport",
                               {Role::kFinance, Role::kOperations});
  if (!who.ok()) return ToGrpcStatus(who.status());
  auto day = events::FromProto(req->day(), "day");
  if (!day.ok()) return ToGrpcStatus(absl::InvalidArgumentError(day.status().message()));
  std::vector<LedgerEntry> bank;
  if (!req->statement().empty()) {
    auto parsed = ParseLedger(req->statement());
    if (!parsed.ok()) return ToGrpcStatus(parsed.status());
    const std::string want = absl::FormatCivilTime(*day);
    for (LedgerEntry& e : *parsed) {
      if (e.day.empty() || e.day == want) bank.push_back(std::move(e));
    }
  } else {
    if (bank_ == nullptr) {
      return Error(grpc::StatusCode::FAILED_PRECONDITION, "no bank connection: give the statement");
    }
    absl::MutexLock l(&bank_mu_);
    auto fetched = bank_->Ledger(*day);
    if (!fetched.ok()) return ToGrpcStatus(fetched.status());
    bank = *std::move(fetched);
  }
  *resp->mutable_day() = req->day();
  resp->set_bank_entries(static_cast<int64_t>(bank.size()));

  // Ours: the payouts confirmed that day, by bank key.
  std::map<std::string, v1::Payout> ours;
  absl::Status bad = absl::OkStatus();
  absl::Status s = store_.ScanPrefix(
      kByConfirmed, store::KeyBuilder().Int64(DayNumber(*day)).Prefix(),
      [&](absl::string_view key, absl::string_view) {
        auto ps = Load(PayoutIdOf(key));
        if (!ps.ok()) {
          bad = ps.status();
          return false;
        }
        if (ps->has_value()) ours[(*ps)->payout().bank_key()] = (*ps)->payout();
        return true;
      });
  if (!s.ok()) return ToGrpcStatus(s);
  if (!bad.ok()) return ToGrpcStatus(bad);
  resp->set_payouts(static_cast<int64_t>(ours.size()));

  auto add = [&](const std::string& claim_id, const char* kind, int64_t our, int64_t theirs,
                 std::string detail) {
    v1::ReconciliationDifference* d = resp->add_differences();
    d->set_claim_id(claim_id);
    d->set_kind(kind);
    d->set_our_amount_fen(our);
    d->set_bank_amount_fen(theirs);
    d->set_detail(std::move(detail));
  };
  std::set<std::string> matched;
  for (const LedgerEntry& e : bank) {
    auto it = ours.find(e.idempotency_key);
    if (it != ours.end()) {
      matched.insert(e.idempotency_key);
      if (it->second.amount_fen() != e.amount_fen) {
        add(it->second.claim_id(), "AMOUNT_DIFFERS", it->second.amount_fen(), e.amount_fen,
            absl::StrCat("bank transfer ", e.transfer_id));
      }
      continue;
    }
    // Not among the day's confirmed payouts: a payout in another state, or
    // another day, or none at all.
    auto id = store_.Get(kBankKeys, e.idempotency_key);
    if (!id.ok()) return ToGrpcStatus(id.status());
    std::optional<v1::PayoutState> ps;
    if (id->has_value()) {
      auto loaded = Load(**id);
      if (!loaded.ok()) return ToGrpcStatus(loaded.status());
      ps = *loaded;
    }
    if (!ps.has_value()) {
      add("", "MISSING_IN_PAYOUTS", 0, e.amount_fen,
          absl::StrCat("bank credit ", e.transfer_id, " under key ", e.idempotency_key,
                       " matches no payout"));
      continue;
    }
    const v1::Payout& p = ps->payout();
    if (p.amount_fen() != e.amount_fen) {
      add(p.claim_id(), "AMOUNT_DIFFERS", p.amount_fen(), e.amount_fen,
          absl::StrCat("bank transfer ", e.transfer_id));
    }
    std::string detail;
    if (e.idempotency_key != p.bank_key()) {
      detail = absl::StrCat("the bank credited issue key ", e.idempotency_key,
                            "; the payout's current issue is ", p.bank_key(), " (",
                            v1::PayoutStatus_Name(p.status()), ")");
    } else if (p.status() == v1::PAYOUT_STATUS_CONFIRMED) {
      detail = absl::StrCat("credited ", e.day, "; our record says confirmed on ",
                            absl::FormatCivilTime(events::FromProto(p.confirmed_on(), "confirmed_on")
                                                      .value_or(absl::CivilDay())));
    } else {
      detail = absl::StrCat("the bank credited it; our payout is ", v1::PayoutStatus_Name(p.status()));
    }
    add(p.claim_id(), "STATUS_DIFFERS", p.amount_fen(), e.amount_fen, std::move(detail));
  }
  for (const auto& [key, p] : ours) {
    if (matched.count(key) != 0) continue;
    add(p.claim_id(), "MISSING_AT_BANK", p.amount_fen(), 0,
        absl::StrCat("confirmed as ", p.bank_reference(), " but not in the bank's ledger of the day"));
  }
  return grpc::Status::OK;
}

grpc::Status PayoutApi::ListAtRisk(grpc::ServerContext* ctx, const v1::ListAtRiskRequest* req,
                                   v1::ListAtRiskResponse* resp) {
  auto who = server::CheckCall(auth_, *ctx, "ListAtRisk",
                               {Role::kFinance, Role::kOperations, Role::kHall});
  if (!who.ok()) return ToGrpcStatus(who.status());
  if (req->within_days() < 0) return Error(grpc::StatusCode::INVALID_ARGUMENT, "within_days: >= 0");
  const int within = req->within_days() > 0 ? req->within_days() : o_.warning_days;
  const absl::CivilDay today = clock_.Today();
  const int64_t today_n = DayNumber(today);
  std::string after;
  if (!req->page().page_token().empty() &&
      !absl::WebSafeBase64Unescape(req->page().page_token(), &after)) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT, "page_token: not from this service");
  }
  const int limit = PageSize(req->page());
  int listed = 0;
  std::string last;
  absl::Status bad = absl::OkStatus();
  const std::string end = store::EncodeInt64(today_n + within + 1);
  absl::Status s = store_.Scan(kByDue, after, end, [&](absl::string_view key, absl::string_view) {
    if (!after.empty() && key <= after) return true;
    store::KeyReader r(key);
    std::optional<int64_t> due = r.Int64();
    if (!due) return true;
    auto ps = Load(std::string(r.Text().value_or("")));
    if (!ps.ok()) {
      bad = ps.status();
      return false;
    }
    if (!ps->has_value() || (*ps)->payout().status() == v1::PAYOUT_STATUS_CONFIRMED) return true;
    if (listed == limit) {
      resp->set_next_page_token(absl::WebSafeBase64Escape(last));
      return false;
    }
    absl::StatusOr<v1::Payout> shown = Shown((*ps)->payout(), *who);
    if (!shown.ok()) {
      bad = shown.status();
      return false;
    }
    *(*due < today_n ? resp->add_overdue() : resp->add_due_soon()) = *std::move(shown);
    ++listed;
    last = std::string(key);
    return true;
  });
  if (!s.ok()) return ToGrpcStatus(s);
  return ToGrpcStatus(bad);
}

}  // namespace mutualaid::payout
