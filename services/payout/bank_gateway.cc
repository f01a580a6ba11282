#include "services/payout/bank_gateway.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "mutualaid/csv/csv.h"
#include "mutualaid/http/message.h"
#include "mutualaid/json/json.h"

namespace mutualaid::payout {
namespace {

constexpr char kBatchHeader[] = "idempotency_key,amount_fen,payee_kind,payee_account,payee_name,memo";
constexpr char kResultHeader[] = "idempotency_key,status,transfer_id,reason";

std::string DayText(absl::CivilDay d) { return absl::FormatCivilTime(d); }

// The bank's transfer answer (POST and GET share it).
absl::StatusOr<TransferAnswer> ParseTransfer(std::string_view body) {
  absl::StatusOr<json::Value> v = json::Parse(body);
  if (!v.ok()) return absl::UnknownError(absl::StrCat("bank: unreadable answer: ", v.status().message()));
  absl::StatusOr<std::string> status = json::GetString(*v, "status");
  if (!status.ok()) return absl::UnknownError(absl::StrCat("bank: ", status.status().message()));
  TransferAnswer a;
  if (*status == "CONFIRMED") {
    a.status = TransferAnswer::Status::kConfirmed;
  } else if (*status == "PENDING") {
    a.status = TransferAnswer::Status::kPending;
  } else if (*status == "FAILED") {
    a.status = TransferAnswer::Status::kFailed;
  } else {
    return absl::UnknownError(absl::StrCat("bank: unknown transfer status ", *status));
  }
  a.transfer_id = json::GetOptionalString(*v, "transfer_id").value_or("");
  a.reason = json::GetOptionalString(*v, "reason").value_or("");
  if (const json::Value* amount = v->Find("amount_fen"); amount != nullptr) {
    a.amount_fen = amount->Int64().value_or(0);
  }
  return a;
}

// The error code and reason of a 4xx/5xx answer, for the record.
std::string ErrorOf(const http::Response& r) {
  absl::StatusOr<json::Value> v = json::Parse(r.body);
  std::string code = v.ok() ? json::GetOptionalString(*v, "error").value_or("") : "";
  std::string reason = v.ok() ? json::GetOptionalString(*v, "reason").value_or("") : "";
  std::string out = absl::StrCat("HTTP ", r.status);
  if (!code.empty()) absl::StrAppend(&out, " ", code);
  if (!reason.empty()) absl::StrAppend(&out, ": ", reason);
  return out;
}

absl::Status WriteFileDurably(const std::filesystem::path& path, const std::string& content) {
  const std::string tmp = path.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(absl::StrCat("open ", tmp, ": ", std::strerror(errno)));
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return absl::InternalError(absl::StrCat("write ", tmp, ": ", std::strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return absl::InternalError(absl::StrCat("fsync ", tmp, ": ", std::strerror(errno)));
  }
  ::close(fd);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return absl::InternalError(absl::StrCat("rename ", tmp, ": ", ec.message()));
  int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    (void)::fsync(dir);
    ::close(dir);
  }
  return absl::OkStatus();
}

}  // namespace

bool OutcomeUnknown(const absl::Status& status) {
  return http::OutcomeUnknown(status) || status.code() == absl::StatusCode::kInternal;
}

// --- HTTP ---------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<HttpBankGateway>> HttpBankGateway::Create(
    const HttpBankOptions& options) {
  http::ClientOptions co;
  co.connect_timeout = options.connect_timeout;
  co.timeout = options.timeout;
  absl::StatusOr<http::Client> client = http::Client::ForUrl(options.url, co);
  if (!client.ok()) return client.status();
  return std::unique_ptr<HttpBankGateway>(new HttpBankGateway(*std::move(client)));
}

absl::StatusOr<TransferAnswer> HttpBankGateway::SendOne(const Transfer& t) {
  json::Value body = json::Value::Object({{"idempotency_key", t.idempotency_key},
                                          {"amount_fen", t.amount_fen},
                                          {"payee_kind", t.payee_kind},
                                          {"payee_account", t.payee_account},
                                          {"payee_name", t.payee_name},
                                          {"memo", t.memo}});
  absl::StatusOr<http::Response> r = client_.Post("/v1/transfers", json::Write(body));
  if (!r.ok()) {
    // A broken kept-alive connection may fail a request that never left:
    // Unavailable says so; everything else is an unknown outcome.
    if (http::OutcomeUnknown(r.status())) client_.Close();
    return r.status();
  }
  if (r->status == 200) return ParseTransfer(r->body);
  if (r->status >= 500) return absl::InternalError(ErrorOf(*r));
  return absl::FailedPreconditionError(ErrorOf(*r));
}

std::vector<absl::StatusOr<TransferAnswer>> HttpBankGateway::Send(
    const std::vector<Transfer>& transfers, const std::string& /*batch*/) {
  std::vector<absl::StatusOr<TransferAnswer>> out;
  out.reserve(transfers.size());
  for (const Transfer& t : transfers) out.push_back(SendOne(t));
  return out;
}

absl::StatusOr<TransferAnswer> HttpBankGateway::Query(const std::string& key) {
  absl::StatusOr<http::Response> r = client_.Get(absl::StrCat("/v1/transfers/", http::PercentEncode(key)));
  if (!r.ok()) {
    if (http::OutcomeUnknown(r.status())) client_.Close();
    return r.status();
  }
  if (r->status == 404) return TransferAnswer{};
  if (r->status == 200) return ParseTransfer(r->body);
  if (r->status >= 500) return absl::InternalError(ErrorOf(*r));
  return absl::FailedPreconditionError(ErrorOf(*r));
}

absl::StatusOr<std::vector<LedgerEntry>> HttpBankGateway::Ledger(std::optional<absl::CivilDay> day) {
  std::string target = "/v1/ledger";
  if (day.has_value()) absl::StrAppend(&target, "?day=", DayText(*day));
  absl::StatusOr<http::Response> r = client_.Get(target);
  if (!r.ok()) {
    client_.Close();
    return absl::UnavailableError(absl::StrCat("bank ledger: ", r.status().message()));
  }
  if (r->status != 200) return absl::UnavailableError(absl::StrCat("bank ledger: ", ErrorOf(*r)));
  return ParseLedger(r->body);
}

// --- files --------------------------------------------------------------------

std::string FormatBatchFile(const std::vector<Transfer>& transfers) {
  std::string out = absl::StrCat(kBatchHeader, "\r\n");
  for (const Transfer& t : transfers) {
    absl::StrAppend(&out,
                    csv::FormatRecord({t.idempotency_key, absl::StrCat(t.amount_fen), t.payee_kind,
                                       t.payee_account, t.payee_name, t.memo}),
                    "\r\n");
  }
  return out;
}

absl::StatusOr<std::vector<ResultRow>> ParseResultFile(std::string_view text,
                                                       std::vector<std::string>* errors) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<csv::Record> records = csv::ParseRecords(text);
  if (records.empty()) return absl::InvalidArgumentError("result file: empty");
  const csv::Record& header = records.front();
  std::string joined;
  for (size_t i = 0; i < header.fields.size(); ++i) {
    absl::StrAppend(&joined, i == 0 ? "" : ",", header.fields[i]);
  }
  if (!header.ok() || joined != kResultHeader) {
    return absl::InvalidArgumentError(
        absl::StrCat("result file: the header must be exactly ", kResultHeader));
  }
  std::vector<ResultRow> rows;
  for (size_t i = 1; i < records.size(); ++i) {
    const csv::Record& r = records[i];
    if (r.fields.size() == 1 && r.fields[0].empty()) continue;  // a blank line
    if (!r.ok()) {
      errors->push_back(absl::StrCat("line ", r.line, ": ", std::string(csv::RecordErrorMessage(r.error))));
      continue;
    }
    if (r.fields.size() != 4) {
      errors->push_back(absl::StrCat("line ", r.line, ": ", r.fields.size(), " fields, want 4"));
      continue;
    }
    if (r.fields[0].empty()) {
      errors->push_back(absl::StrCat("line ", r.line, ": idempotency_key: empty"));
      continue;
    }
    rows.push_back({r.fields[0], r.fields[1], r.fields[2], r.fields[3], r.line});
  }
  return rows;
}

absl::StatusOr<std::vector<LedgerEntry>> ParseLedger(std::string_view text) {
  absl::StatusOr<json::Value> v = json::Parse(text);
  if (!v.ok()) return absl::InvalidArgumentError(absl::StrCat("ledger: ", v.status().message()));
  if (!v->is_array()) return absl::InvalidArgumentError("ledger: not a JSON array");
  std::vector<LedgerEntry> out;
  for (const json::Value& e : v->items()) {
    LedgerEntry l;
    absl::StatusOr<std::string> key = json::GetString(e, "idempotency_key");
    absl::StatusOr<int64_t> amount = json::GetInt64(e, "amount_fen");
    if (!key.ok()) return absl::InvalidArgumentError(absl::StrCat("ledger: ", key.status().message()));
    if (!amount.ok()) return absl::InvalidArgumentError(absl::StrCat("ledger: ", amount.status().message()));
    l.idempotency_key = *key;
    l.amount_fen = *amount;
    l.transfer_id = json::GetOptionalString(e, "transfer_id").value_or("");
    l.payee_account = json::GetOptionalString(e, "payee_account").value_or("");
    l.day = json::GetOptionalString(e, "day").value_or("");
    out.push_back(std::move(l));
  }
  return out;
}

std::vector<absl::StatusOr<TransferAnswer>> FileBankGateway::Send(
    const std::vector<Transfer>& transfers, const std::string& batch) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  absl::Status written = ec ? absl::UnavailableError(absl::StrCat("export dir ", dir_, ": ", ec.message()))
                            : WriteFileDurably(std::filesystem::path(dir_) / batch,
                                               FormatBatchFile(transfers));
  // Nothing reached the bank if the file could not be written: Unavailable.
  if (!written.ok() && written.code() != absl::StatusCode::kUnavailable) {
    written = absl::UnavailableError(written.message());
  }
  std::vector<absl::StatusOr<TransferAnswer>> out;
  for (size_t i = 0; i < transfers.size(); ++i) {
    if (!written.ok()) {
      out.push_back(written);
    } else {
      TransferAnswer a;
      a.status = TransferAnswer::Status::kSubmitted;
      a.amount_fen = transfers[i].amount_fen;
      out.push_back(a);
    }
  }
  return out;
}

absl::StatusOr<TransferAnswer> FileBankGateway::Query(const std::string&) {
  return absl::UnimplementedError("file mode: the bank answers by result file");
}

absl::StatusOr<std::vector<LedgerEntry>> FileBankGateway::Ledger(std::optional<absl::CivilDay>) {
  return absl::UnimplementedError("file mode: give the bank's statement with the request");
}

}  // namespace mutualaid::payout
