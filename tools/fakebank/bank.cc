#include "bank.h"

#include <charconv>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mutualaid/csv/csv.h"
#include "mutualaid/csv/encoding.h"

namespace mutualaid::fakebank {

absl::Time BusinessClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_.has_value() ? *now_ : system_.Now();
}

void BusinessClock::SetDay(absl::CivilDay day) {
  absl::MutexLock lock(&mu_);
  now_ = ShanghaiTime(day, 9);
}

bool BusinessClock::simulated() const {
  absl::MutexLock lock(&mu_);
  return now_.has_value();
}
namespace {

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool LuhnValid(std::string_view digits) {
  int sum = 0;
  bool twice = false;
  for (size_t i = digits.size(); i-- > 0;) {
    int d = digits[i] - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

bool HasControl(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

constexpr std::string_view kBatchHeader[] = {"idempotency_key", "amount_fen",    "payee_kind",
                                             "payee_account",   "payee_name",    "memo"};

}  // namespace

absl::Status ValidateRequest(const TransferRequest& r) {
  if (r.idempotency_key.empty() || r.idempotency_key.size() > 128 || HasControl(r.idempotency_key)) {
    return absl::InvalidArgumentError("idempotency_key: 1..128 bytes, no control characters");
  }
  if (r.amount_fen <= 0) return absl::InvalidArgumentError("amount_fen: must be > 0");
  if (r.payee_kind != "WORKER_CARD" && r.payee_kind != "PLATFORM_ACCOUNT") {
    return absl::InvalidArgumentError("payee_kind: not WORKER_CARD or PLATFORM_ACCOUNT");
  }
  if (r.payee_account.empty()) return absl::InvalidArgumentError("payee_account: empty");
  if (r.payee_name.empty()) return absl::InvalidArgumentError("payee_name: empty");
  if (!csv::IsValidUtf8(r.payee_name) || !csv::IsValidUtf8(r.memo) ||
      !csv::IsValidUtf8(r.payee_account)) {
    return absl::InvalidArgumentError("payee_name/payee_account/memo: not UTF-8");
  }
  return absl::OkStatus();
}

absl::StatusOr<TransferRequest> RequestFromJson(const json::Value& body) {
  if (!body.is_object()) return absl::InvalidArgumentError("body: not a JSON object");
  TransferRequest r;
  absl::StatusOr<std::string> s = json::GetString(body, "idempotency_key");
  if (!s.ok()) return s.status();
  r.idempotency_key = *s;
  absl::StatusOr<int64_t> amount = json::GetInt64(body, "amount_fen");
  if (!amount.ok()) return amount.status();
  r.amount_fen = *amount;
  for (auto [field, out] : {std::pair{"payee_kind", &r.payee_kind},
                            std::pair{"payee_account", &r.payee_account},
                            std::pair{"payee_name", &r.payee_name}}) {
    s = json::GetString(body, field);
    if (!s.ok()) return s.status();
    *out = *s;
  }
  s = json::GetOptionalString(body, "memo");
  if (!s.ok()) return s.status();
  r.memo = *s;
  if (absl::Status v = ValidateRequest(r); !v.ok()) return v;
  return r;
}

std::string RefusalReason(std::string_view kind, std::string_view account) {
  const bool card = kind == "WORKER_CARD";
  const size_t min = card ? 16 : 8;
  const size_t max = card ? 19 : 32;
  if (!AllDigits(account) || account.size() < min || account.size() > max) {
    return "INVALID_ACCOUNT";
  }
  if (account.substr(account.size() - 4) == "0000") return "ACCOUNT_CLOSED";
  if (card && !LuhnValid(account)) return "INVALID_ACCOUNT";
  return "";
}

json::Value TransferJson(const Transfer& t) {
  return json::Value::Object({{"idempotency_key", t.request.idempotency_key},
                              {"transfer_id", t.transfer_id},
                              {"status", t.status},
                              {"reason", t.reason},
                              {"amount_fen", t.request.amount_fen}});
}

namespace {

constexpr std::string_view kSetByFlag = "--today";

json::Value JournalLine(const Transfer& t) {
  return json::Value::Object({{"idempotency_key", t.request.idempotency_key},
                              {"transfer_id", t.transfer_id},
                              {"amount_fen", t.request.amount_fen},
                              {"payee_kind", t.request.payee_kind},
                              {"payee_account", t.request.payee_account},
                              {"payee_name", t.request.payee_name},
                              {"memo", t.request.memo},
                              {"status", t.status},
                              {"reason", t.reason},
                              {"day", t.day}});
}

}  // namespace

absl::StatusOr<std::unique_ptr<Bank>> Bank::Open(const std::string& ledger_path,
                                                 BusinessClock& clock,
                                                 int64_t confirm_after_queries,
                                                 std::optional<absl::CivilDay> start_day) {
  std::unique_ptr<Bank> bank(new Bank(clock, confirm_after_queries));
  absl::MutexLock lock(&bank->mu_);
  Bank* raw = bank.get();
  absl::StatusOr<std::unique_ptr<fakes::Journal>> journal = fakes::Journal::Open(
      ledger_path, [raw](const json::Value& line) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return raw->Replay(line);
      });
  if (!journal.ok()) return journal.status();
  bank->journal_ = *std::move(journal);
  if (start_day.has_value() && bank->journaled_today_ != start_day) {
    if (absl::Status s = bank->JournalDay(*start_day, kSetByFlag); !s.ok()) return s;
  }
  return bank;
}

absl::Status Bank::JournalDay(absl::CivilDay day, std::string_view set_by) {
  if (absl::Status s = journal_->Append(json::Value::Object(
          {{"clock", fakes::FormatDay(day)}, {"set_by", std::string(set_by)}}));
      !s.ok()) {
    return s;
  }
  clock_.SetDay(day);
  if (set_by == kSetByFlag) journaled_today_ = day;
  return absl::OkStatus();
}

absl::Status Bank::SetDay(absl::CivilDay day) {
  absl::MutexLock lock(&mu_);
  return JournalDay(day, "POST /v1/clock");
}

absl::Status Bank::Replay(const json::Value& line) {
  // A business day: {"clock": "YYYY-MM-DD", "set_by": "--today" | "POST /v1/clock"}.
  if (line.is_object() && line.Find("clock") != nullptr) {
    absl::StatusOr<std::string> text = json::GetString(line, "clock");
    if (!text.ok()) return text.status();
    absl::StatusOr<absl::CivilDay> day = fakes::ParseDay(*text);
    if (!day.ok()) return absl::InvalidArgumentError(absl::StrCat("clock: ", day.status().message()));
    absl::StatusOr<std::string> set_by = json::GetOptionalString(line, "set_by");
    if (!set_by.ok()) return set_by.status();
    clock_.SetDay(*day);
    if (*set_by == kSetByFlag) journaled_today_ = *day;
    return absl::OkStatus();
  }
  Transfer t;
  for (auto [field, out] : {std::pair{"idempotency_key", &t.request.idempotency_key},
                            std::pair{"transfer_id", &t.transfer_id},
                            std::pair{"payee_kind", &t.request.payee_kind},
                            std::pair{"payee_account", &t.request.payee_account},
                            std::pair{"payee_name", &t.request.payee_name},
                            std::pair{"memo", &t.request.memo}, std::pair{"status", &t.status},
                            std::pair{"reason", &t.reason}, std::pair{"day", &t.day}}) {
    absl::StatusOr<std::string> s = json::GetString(line, field);
    if (!s.ok()) return s.status();
    *out = *s;
  }
  absl::StatusOr<int64_t> amount = json::GetInt64(line, "amount_fen");
  if (!amount.ok()) return amount.status();
  t.request.amount_fen = *amount;
  auto it = transfers_.find(t.request.idempotency_key);
  const bool was_confirmed = it != transfers_.end() && it->second.status == "CONFIRMED";
  if (it == transfers_.end()) ++next_id_;
  if (t.status == "CONFIRMED" && !was_confirmed) credits_.push_back(t.request.idempotency_key);
  transfers_[t.request.idempotency_key] = std::move(t);
  return absl::OkStatus();
}

absl::Status Bank::Record(Transfer& t) {
  if (absl::Status s = journal_->Append(JournalLine(t)); !s.ok()) return s;
  auto it = transfers_.find(t.request.idempotency_key);
  const bool was_confirmed = it != transfers_.end() && it->second.status == "CONFIRMED";
  if (t.status == "CONFIRMED" && !was_confirmed) credits_.push_back(t.request.idempotency_key);
  transfers_[t.request.idempotency_key] = t;
  return absl::OkStatus();
}

absl::StatusOr<Bank::Result> Bank::Submit(const TransferRequest& request, bool final_only) {
  absl::MutexLock lock(&mu_);
  if (auto it = transfers_.find(request.idempotency_key); it != transfers_.end()) {
    const TransferRequest& first = it->second.request;
    std::string differs;
    if (first.amount_fen != request.amount_fen) {
      differs = absl::StrCat("amount_fen (first ", first.amount_fen, ", now ", request.amount_fen,
                             ")");
    } else if (first.payee_kind != request.payee_kind) {
      differs = "payee_kind";
    } else if (first.payee_account != request.payee_account) {
      differs = "payee_account";
    } else if (first.payee_name != request.payee_name) {
      differs = "payee_name";
    }
    if (!differs.empty()) {
      return Result{Outcome::kConflict, {},
                    absl::StrCat("idempotency_key reused with a different ", differs)};
    }
    return Result{Outcome::kReplayed, it->second, ""};
  }
  Transfer t;
  t.request = request;
  t.transfer_id = absl::StrFormat("FB%010d", next_id_);
  t.reason = RefusalReason(request.payee_kind, request.payee_account);
  if (!t.reason.empty()) {
    t.status = "FAILED";
  } else if (confirm_after_queries_ > 0 && !final_only) {
    t.status = "PENDING";
  } else {
    t.status = "CONFIRMED";
    t.day = fakes::FormatDay(clock_.Today());
  }
  if (absl::Status s = Record(t); !s.ok()) return s;
  ++next_id_;
  return Result{Outcome::kCreated, t, ""};
}

absl::StatusOr<Transfer> Bank::Query(std::string_view key) {
  absl::MutexLock lock(&mu_);
  auto it = transfers_.find(key);
  if (it == transfers_.end()) return absl::NotFoundError("no such transfer");
  Transfer& t = it->second;
  if (t.status == "PENDING") {
    if (t.queries >= confirm_after_queries_) {
      Transfer confirmed = t;
      confirmed.status = "CONFIRMED";
      confirmed.day = fakes::FormatDay(clock_.Today());
      if (absl::Status s = Record(confirmed); !s.ok()) return s;
    } else {
      ++t.queries;
    }
  }
  return transfers_.find(key)->second;
}

json::Value Bank::Ledger(std::string_view day) const {
  absl::MutexLock lock(&mu_);
  json::Value out = json::Value::Array();
  for (const std::string& key : credits_) {
    const Transfer& t = transfers_.find(key)->second;
    if (!day.empty() && t.day != day) continue;
    out.Append(json::Value::Object({{"idempotency_key", key},
                                    {"transfer_id", t.transfer_id},
                                    {"amount_fen", t.request.amount_fen},
                                    {"payee_account", t.request.payee_account},
                                    {"day", t.day}}));
  }
  return out;
}

absl::StatusOr<std::string> ProcessBatch(Bank& bank, std::string_view csv_bytes) {
  absl::StatusOr<csv::DecodedText> text = csv::DecodeToUtf8(csv_bytes, csv::Encoding::kUtf8);
  if (!text.ok()) return text.status();
  std::vector<csv::Record> records = csv::ParseRecords(text->utf8);
  if (records.empty()) return absl::InvalidArgumentError("empty batch file (no header row)");
  const std::vector<std::string>& header = records.front().fields;
  bool header_ok = records.front().ok() && header.size() == std::size(kBatchHeader);
  for (size_t i = 0; header_ok && i < header.size(); ++i) header_ok = header[i] == kBatchHeader[i];
  if (!header_ok) {
    return absl::InvalidArgumentError(
        "header row must be: idempotency_key,amount_fen,payee_kind,payee_account,payee_name,memo");
  }
  std::string out = "idempotency_key,status,transfer_id,reason\n";
  for (size_t i = 1; i < records.size(); ++i) {
    const csv::Record& record = records[i];
    const std::string key = record.fields.empty() ? "" : record.fields[0];
    auto reject = [&](std::string reason) {
      out += csv::FormatRecord({key, "REJECTED", "", std::move(reason)});
      out += '\n';
    };
    if (!record.ok()) {
      reject(absl::StrCat("INVALID_ROW: line ", record.line, ": ",
                          std::string(csv::RecordErrorMessage(record.error))));
      continue;
    }
    if (record.fields.size() != std::size(kBatchHeader)) {
      reject(absl::StrCat("INVALID_ROW: line ", record.line, ": ", record.fields.size(),
                          " fields, expected 6"));
      continue;
    }
    TransferRequest request;
    request.idempotency_key = record.fields[0];
    const std::string& amount = record.fields[1];
    const auto parsed = std::from_chars(amount.data(), amount.data() + amount.size(),
                                        request.amount_fen);
    if (parsed.ec != std::errc() || parsed.ptr != amount.data() + amount.size()) {
      reject(absl::StrCat("INVALID_ROW: line ", record.line, ": amount_fen: not an integer"));
      continue;
    }
    request.payee_kind = record.fields[2];
    request.payee_account = record.fields[3];
    request.payee_name = record.fields[4];
    request.memo = record.fields[5];
    if (absl::Status s = ValidateRequest(request); !s.ok()) {
      reject(absl::StrCat("INVALID_ROW: line ", record.line, ": ", std::string(s.message())));
      continue;
    }
    absl::StatusOr<Bank::Result> result = bank.Submit(request, /*final_only=*/true);
    if (!result.ok()) return result.status();  // the journal failed: stop, write nothing
    if (result->outcome == Bank::Outcome::kConflict) {
      reject(absl::StrCat("IDEMPOTENCY_CONFLICT: ", result->reason));
      continue;
    }
    const Transfer& t = result->transfer;
    out += csv::FormatRecord({key, t.status, t.transfer_id, t.reason});
    out += '\n';
  }
  return out;
}

}  // namespace mutualaid::fakebank
