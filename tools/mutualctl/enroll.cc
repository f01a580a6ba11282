#include "enroll.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "mutualaid/csv/csv.h"
#include "mutualaid/csv/encoding.h"
#include "mutualaid/server/server.h"
#include "mutualaid/v1/common.pb.h"
#include "mutualaid/v1/enrollment.grpc.pb.h"
#include "mutualaid/v1/enrollment.pb.h"

namespace mutualaid::mutualctl {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kUsage =
    "usage: mutualctl enroll --server HOST:PORT --token-file FILE [--ca FILE]\n"
    "                        [--encoding auto|utf-8|gbk] [--out RESULT.csv] [--batch N] "
    "INPUT.csv\n";

// ---------------------------------------------------------------------------
// The input file's columns.

enum class Column { kRecordId, kName, kIdNumber, kPhone, kIndustry, kPlatformFen, kWorkerFen };

struct ColumnSpec {
  Column column;
  std::string_view english;  // also the name used in messages
  std::string_view chinese;
  std::string_view chinese_alias;  // a longer form some exports use ("" if none)
  bool required;
};

constexpr std::array<ColumnSpec, 7> kColumns = {{
    {Column::kRecordId, "platform_record_id", "记录编号", "", false},
    {Column::kName, "name", "姓名", "", true},
    {Column::kIdNumber, "id_number", "身份证号", "身份证号码", true},
    {Column::kPhone, "phone", "手机号", "手机号码", true},
    {Column::kIndustry, "industry", "行业", "", true},
    {Column::kPlatformFen, "platform_fen", "平台承担", "", false},
    {Column::kWorkerFen, "worker_fen", "个人承担", "", false},
}};

constexpr size_t kNoColumn = static_cast<size_t>(-1);

// Debian's Abseil has its own string_view type; these take std's.
absl::string_view Av(std::string_view text) { return absl::string_view(text.data(), text.size()); }

std::string AsciiLower(std::string_view text) {
  std::string lower(text);
  absl::AsciiStrToLower(&lower);
  return lower;
}

std::string AsciiUpper(std::string_view text) {
  std::string upper(text);
  absl::AsciiStrToUpper(&upper);
  return upper;
}

bool ConsumePrefix(std::string_view* text, std::string_view prefix) {
  if (!text->starts_with(prefix)) return false;
  text->remove_prefix(prefix.size());
  return true;
}

bool ConsumeSuffix(std::string_view* text, std::string_view suffix) {
  if (!text->ends_with(suffix)) return false;
  text->remove_suffix(suffix.size());
  return true;
}

// U+3000 IDEOGRAPHIC SPACE, which Chinese input methods type as a space.
constexpr std::string_view kIdeographicSpace = "\xE3\x80\x80";

std::string_view TrimSpaces(std::string_view text) {
  while (true) {
    const std::string_view before = text;
    while (!text.empty() && absl::ascii_isspace(static_cast<unsigned char>(text.front()))) {
      text.remove_prefix(1);
    }
    while (!text.empty() && absl::ascii_isspace(static_cast<unsigned char>(text.back()))) {
      text.remove_suffix(1);
    }
    while (ConsumePrefix(&text, kIdeographicSpace)) {
    }
    while (ConsumeSuffix(&text, kIdeographicSpace)) {
    }
    if (text == before) return text;
  }
}

const ColumnSpec* MatchColumn(std::string_view header) {
  header = TrimSpaces(header);
  const std::string lower = AsciiLower(header);
  for (const ColumnSpec& spec : kColumns) {
    if (lower == spec.english || header == spec.chinese ||
        (!spec.chinese_alias.empty() && header == spec.chinese_alias)) {
      return &spec;
    }
  }
  return nullptr;
}

std::string_view ColumnName(Column column) {
  for (const ColumnSpec& spec : kColumns) {
    if (spec.column == column) return spec.english;
  }
  return "";
}

// A non-negative whole number of fen ("7200"), or nullopt.
std::optional<int64_t> ParseFen(std::string_view text) {
  if (text.empty() || text.size() > 15) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  int64_t fen = 0;
  if (!absl::SimpleAtoi(Av(text), &fen)) return std::nullopt;
  return fen;
}

// ---------------------------------------------------------------------------
// The result file and summary.

std::string DateText(const v1::Date& date) {
  if (date.year() == 0) return "";
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(), date.day());
}

std::string ReasonName(int code) {
  const std::string& name = v1::ReasonCode_Name(code);
  if (name.empty()) return absl::StrCat(code);  // a code newer than this CLI
  std::string_view view = name;
  ConsumePrefix(&view, "REASON_CODE_");
  return std::string(view);
}

std::string KindName(v1::EnrollmentKind kind) {
  if (kind == v1::ENROLLMENT_KIND_UNSPECIFIED) return "";
  std::string_view view = v1::EnrollmentKind_Name(kind);
  ConsumePrefix(&view, "ENROLLMENT_KIND_");
  return std::string(view);
}

enum class Outcome { kAccepted, kPendingReview, kRejected, kUnreadable, kNoResult };

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kAccepted:
      return "ACCEPTED";
    case Outcome::kPendingReview:
      return "PENDING_REVIEW";
    case Outcome::kRejected:
      return "REJECTED";
    case Outcome::kUnreadable:
      return "UNREADABLE";
    case Outcome::kNoResult:
      return "NO_RESULT";
  }
  return "";
}

Outcome OutcomeOf(const v1::EnrollmentResult& result) {
  switch (result.status()) {
    case v1::ENROLLMENT_STATUS_ACCEPTED:
      return Outcome::kAccepted;
    case v1::ENROLLMENT_STATUS_PENDING_REVIEW:
      return Outcome::kPendingReview;
    default:
      return Outcome::kRejected;  // REJECTED, or a status this CLI does not know: not enrolled
  }
}

std::vector<std::string> ResultColumns() {
  return {"row",           "platform_record_id", "outcome", "plan_year",
          "kind",          "coverage_start",     "coverage_end", "fee_fen",
          "reasons",       "field",              "enrollment_id"};
}

std::string GrpcCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return absl::StrCat("CODE_", static_cast<int>(code));
  }
}

// A broken stream worth reconnecting for; the others (auth, a refused
// request, an unknown method) would fail the same way again.
bool IsRetryable(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:  // closed with records unanswered
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNAVAILABLE:
      return true;
    default:
      return false;
  }
}

std::string YuanText(int64_t fen) {
  return absl::StrFormat("%d.%02d", fen / 100, fen % 100);  // fee totals are never negative
}

// ---------------------------------------------------------------------------
// The upload: one StreamEnrollments call per attempt, records without a result
// resent on the next.

struct Tally {
  size_t answered = 0;
  size_t accepted = 0;
  size_t pending = 0;
  size_t rejected = 0;
};

class Upload {
 public:
  Upload(const EnrollOptions& options, std::vector<EnrollmentRow>& rows,
         std::vector<std::optional<v1::EnrollmentResult>>& results, std::ostream& err)
      : options_(options), rows_(rows), results_(results), err_(err) {
    for (size_t i = 0; i < rows_.size(); ++i) {
      if (rows_[i].readable()) {
        by_record_id_.emplace(rows_[i].record.platform_record_id(), i);
        ++to_send_;
      }
    }
  }

  // OK when every readable row has its result; otherwise the last stream's
  // failure (the caller exits 2).
  grpc::Status Run(v1::EnrollmentService::Stub& stub, const std::string& token) {
    int failures = 0;
    std::chrono::milliseconds backoff = options_.initial_backoff;
    while (true) {
      const size_t before = tally_.answered;
      grpc::Status status = Attempt(stub, token);
      const size_t unanswered = to_send_ - tally_.answered;
      if (unanswered == 0) return grpc::Status::OK;
      if (status.ok()) {
        status = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                              absl::StrCat("the server closed the stream with ", unanswered,
                                           " records unanswered"));
      }
      if (!IsRetryable(status.error_code())) return status;
      if (tally_.answered > before) {
        failures = 0;
        backoff = options_.initial_backoff;
      }
      if (++failures >= options_.max_attempts_without_progress) return status;
      EndProgressLine();
      err_ << "enroll: stream failed (" << GrpcCodeName(status.error_code()) << ": "
           << status.error_message() << "); reconnecting in "
           << absl::StrFormat("%.1f", backoff.count() / 1000.0) << " s to resend " << unanswered
           << " records without a result\n";
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
  }

  const Tally& tally() const { return tally_; }
  void EndProgressLine() {
    if (bar_drawn_) {
      err_ << '\n';
      bar_drawn_ = false;
    }
  }
  void ShowProgress() {
    const size_t total = to_send_;
    const size_t done = tally_.answered;
    if (options_.progress_bar) {
      constexpr size_t kWidth = 30;
      const size_t filled = total == 0 ? kWidth : done * kWidth / total;
      err_ << "\r[" << std::string(filled, '#') << std::string(kWidth - filled, '.') << "] "
           << done << '/' << total << "  accepted " << tally_.accepted << "  pending "
           << tally_.pending << "  rejected " << tally_.rejected << std::flush;
      bar_drawn_ = true;
    } else {
      err_ << "enroll: " << done << '/' << total << " answered (accepted " << tally_.accepted
           << ", pending review " << tally_.pending << ", rejected " << tally_.rejected << ")\n";
    }
  }

 private:
  // Takes one result; false for an id this upload did not send.
  bool Record(v1::EnrollmentResult result, std::vector<char>& sent, size_t& in_flight) {
    auto it = by_record_id_.find(result.platform_record_id());
    if (it == by_record_id_.end()) return false;
    const size_t index = it->second;
    if (results_[index].has_value()) return true;  // an answer to a resend we already had
    if (sent[index]) {
      sent[index] = 0;
      --in_flight;
    }
    switch (OutcomeOf(result)) {
      case Outcome::kAccepted:
        ++tally_.accepted;
        break;
      case Outcome::kPendingReview:
        ++tally_.pending;
        break;
      default:
        ++tally_.rejected;
        break;
    }
    ++tally_.answered;
    results_[index] = std::move(result);
    return true;
  }

  grpc::Status Attempt(v1::EnrollmentService::Stub& stub, const std::string& token) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + token);
    std::unique_ptr<grpc::ClientReaderWriter<v1::EnrollmentRecord, v1::EnrollmentResult>> stream =
        stub.StreamEnrollments(&context);

    std::mutex mu;
    std::condition_variable cv;
    std::vector<char> sent(rows_.size(), 0);  // sent on this stream, no result yet
    size_t in_flight = 0;
    bool reader_done = false;
    bool writer_done = false;
    size_t unknown_ids = 0;
    Clock::time_point last_activity = Clock::now();
    const size_t batch = static_cast<size_t>(options_.batch);

    std::thread writer([&] {
      for (size_t i = 0; i < rows_.size(); ++i) {
        {
          std::unique_lock<std::mutex> lock(mu);
          if (!rows_[i].readable() || results_[i].has_value()) continue;
          cv.wait(lock, [&] { return in_flight < batch || reader_done; });
          if (reader_done) break;
          sent[i] = 1;
          ++in_flight;
        }
        // The record is not touched by the reader while in flight.
        const bool ok = stream->Write(rows_[i].record);
        std::lock_guard<std::mutex> lock(mu);
        last_activity = Clock::now();
        if (!ok) break;
      }
      stream->WritesDone();
      std::lock_guard<std::mutex> lock(mu);
      writer_done = true;
      cv.notify_all();
    });
    std::thread reader([&] {
      v1::EnrollmentResult result;
      while (stream->Read(&result)) {
        std::lock_guard<std::mutex> lock(mu);
        if (!Record(std::move(result), sent, in_flight)) ++unknown_ids;
        result = v1::EnrollmentResult();
        last_activity = Clock::now();
        cv.notify_all();
      }
      std::lock_guard<std::mutex> lock(mu);
      reader_done = true;
      cv.notify_all();
    });

    bool cancelled_idle = false;
    {
      std::unique_lock<std::mutex> lock(mu);
      Clock::time_point next_report = Clock::now() + options_.progress_interval;
      size_t shown = static_cast<size_t>(-1);
      while (!(reader_done && writer_done)) {
        const auto tick = options_.progress_bar ? std::chrono::milliseconds(100)
                                                : std::chrono::milliseconds(200);
        cv.wait_for(lock, tick);
        const Clock::time_point now = Clock::now();
        if (options_.progress_bar ? shown != tally_.answered : now >= next_report) {
          ShowProgress();
          shown = tally_.answered;
          next_report = now + options_.progress_interval;
        }
        if (!cancelled_idle && !reader_done && now - last_activity > options_.idle_timeout) {
          cancelled_idle = true;
          context.TryCancel();
        }
      }
    }
    writer.join();
    reader.join();
    grpc::Status status = stream->Finish();
    if (unknown_ids > 0) {
      EndProgressLine();
      err_ << "enroll: warning: ignored " << unknown_ids
           << " results for record ids this file does not have\n";
    }
    if (cancelled_idle) {
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                          absl::StrFormat("no answer for %.1f s",
                                          static_cast<double>(options_.idle_timeout.count()) / 1000));
    }
    return status;
  }

  const EnrollOptions& options_;
  std::vector<EnrollmentRow>& rows_;
  std::vector<std::optional<v1::EnrollmentResult>>& results_;
  std::ostream& err_;
  std::unordered_map<std::string, size_t> by_record_id_;
  size_t to_send_ = 0;
  Tally tally_;
  bool bar_drawn_ = false;
};

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path));
  return std::move(bytes).str();
}

absl::StatusOr<std::string> ReadToken(const std::string& path) {
  absl::StatusOr<std::string> text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  const absl::string_view token = absl::StripAsciiWhitespace(*text);
  if (token.empty()) return absl::InvalidArgumentError(absl::StrCat(path, " holds no token"));
  for (char c : token) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) || absl::ascii_iscntrl(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, " must hold just the token, on one line"));
    }
  }
  return std::string(token);
}

absl::Status WriteResultFile(const std::string& path, const std::vector<EnrollmentRow>& rows,
                             const std::vector<std::optional<v1::EnrollmentResult>>& results,
                             std::string_view no_result_reason) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) return absl::PermissionDeniedError(absl::StrCat("cannot write ", temp));
    out << csv::FormatRecord(ResultColumns()) << '\n';
    for (size_t i = 0; i < rows.size(); ++i) {
      const EnrollmentRow& row = rows[i];
      std::vector<std::string> fields(11);
      fields[0] = absl::StrCat(row.row);
      fields[1] = row.record.platform_record_id();
      if (!row.readable()) {
        fields[2] = OutcomeName(Outcome::kUnreadable);
        fields[8] = row.unreadable;
        fields[9] = row.unreadable_field;
      } else if (!results[i].has_value()) {
        fields[2] = OutcomeName(Outcome::kNoResult);
        fields[8] = std::string(no_result_reason);
      } else {
        const v1::EnrollmentResult& result = *results[i];
        fields[2] = OutcomeName(OutcomeOf(result));
        if (result.plan_year() != 0) fields[3] = absl::StrCat(result.plan_year());
        fields[4] = KindName(result.kind());
        fields[5] = DateText(result.coverage_start());
        fields[6] = DateText(result.coverage_end());
        fields[7] = absl::StrCat(result.fee_fen());
        std::vector<std::string> reasons;
        for (int code : result.decision().reasons()) reasons.push_back(ReasonName(code));
        fields[8] = absl::StrJoin(reasons, "|");
        fields[9] = result.decision().field();
        fields[10] = result.enrollment_id();
      }
      out << csv::FormatRecord(fields) << '\n';
    }
    out.flush();
    if (!out) return absl::DataLossError(absl::StrCat("cannot write ", temp));
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    return absl::PermissionDeniedError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

void PrintCounts(std::ostream& out, const std::map<std::string, size_t>& counts) {
  for (const auto& [code, count] : counts) {
    out << "  " << code;
    for (size_t i = code.size(); i < 32; ++i) out << ' ';
    out << count << '\n';
  }
}

}  // namespace

// ---------------------------------------------------------------------------

std::string IndustryCode(std::string_view text) {
  static constexpr std::pair<std::string_view, std::string_view> kChinese[] = {
      {"同城货运", "INTRACITY_FREIGHT"}, {"网约送餐", "FOOD_DELIVERY"},
      {"即时递送", "INSTANT_DELIVERY"},  {"网约车", "RIDE_HAILING"},
      {"快递", "EXPRESS_DELIVERY"},      {"其他", "OTHER"},
  };
  static constexpr std::string_view kCodes[] = {"INTRACITY_FREIGHT", "FOOD_DELIVERY",
                                                "INSTANT_DELIVERY",  "RIDE_HAILING",
                                                "EXPRESS_DELIVERY",  "OTHER"};
  const std::string_view trimmed = TrimSpaces(text);
  for (const auto& [chinese, code] : kChinese) {
    if (trimmed == chinese) return std::string(code);
  }
  const std::string upper = AsciiUpper(trimmed);
  for (std::string_view code : kCodes) {
    if (upper == code) return upper;
  }
  return std::string(text);
}

std::string DefaultResultPath(std::string_view input) {
  std::string_view stem = input;
  if (stem.size() > 4 && absl::EndsWithIgnoreCase(Av(stem), ".csv")) {
    stem.remove_suffix(4);
  }
  return absl::StrCat(Av(stem), ".result.csv");
}

absl::StatusOr<EnrollmentFile> ReadEnrollmentCsv(std::string_view bytes, csv::Encoding encoding) {
  absl::StatusOr<csv::DecodedText> text = csv::DecodeToUtf8(bytes, encoding);
  if (!text.ok()) return text.status();
  std::vector<csv::Record> records = csv::ParseRecords(text->utf8);
  if (records.empty()) {
    return absl::InvalidArgumentError("the file is empty: expected a header row naming the columns");
  }

  // The header.
  const csv::Record& header = records.front();
  if (!header.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("line ", header.line, ": the header row: ",
                                                   Av(csv::RecordErrorMessage(header.error))));
  }
  std::map<Column, size_t> index;  // column -> field index
  for (size_t i = 0; i < header.fields.size(); ++i) {
    const ColumnSpec* spec = MatchColumn(header.fields[i]);
    if (spec == nullptr) continue;  // a column this command does not use
    if (!index.emplace(spec->column, i).second) {
      return absl::InvalidArgumentError(absl::StrCat("line ", header.line, ": column \"",
                                                     Av(spec->english), "\" (", Av(spec->chinese),
                                                     ") appears twice in the header"));
    }
  }
  for (const ColumnSpec& spec : kColumns) {
    if (spec.required && !index.contains(spec.column)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", header.line, ": the header has no \"", Av(spec.english), "\" column (or \"",
          Av(spec.chinese), "\"); columns found: ", absl::StrJoin(header.fields, ", ")));
    }
  }
  const auto column_at = [&](Column column) {
    auto it = index.find(column);
    return it == index.end() ? kNoColumn : it->second;
  };

  EnrollmentFile file;
  file.encoding = text->encoding;
  std::unordered_map<std::string, int> row_of_record_id;
  int row_number = 0;
  for (size_t r = 1; r < records.size(); ++r) {
    csv::Record& record = records[r];
    const bool all_empty = std::all_of(record.fields.begin(), record.fields.end(),
                                       [](const std::string& f) { return TrimSpaces(f).empty(); });
    if (record.ok() && all_empty) continue;  // ",,,," — an empty spreadsheet row

    EnrollmentRow row;
    row.row = ++row_number;
    row.line = record.line;
    const auto value = [&](Column column) -> std::string {
      const size_t at = column_at(column);
      if (at == kNoColumn || at >= record.fields.size()) return "";
      return std::string(TrimSpaces(record.fields[at]));
    };
    const auto unreadable = [&](std::string code, Column column, bool has_column,
                                std::string detail) {
      row.unreadable = std::move(code);
      if (has_column) row.unreadable_field = std::string(ColumnName(column));
      row.unreadable_detail = absl::StrCat("line ", record.line, ": ", detail);
    };

    // Every record id read, also from unreadable rows: a repeat is refused, since
    // the service answers a record id it has seen with that record's result.
    const auto remember_record_id = [&] {
      const std::string& id = row.record.platform_record_id();
      if (!id.empty()) row_of_record_id.emplace(id, row.row);
    };

    const size_t id_at = column_at(Column::kRecordId);
    const std::string record_id =
        id_at == kNoColumn ? absl::StrCat(row.row) : value(Column::kRecordId);
    row.record.set_platform_record_id(record_id);

    if (!record.ok()) {
      std::optional<Column> at_fault;
      for (const auto& [column, at] : index) {
        if (at == record.error_field) at_fault = column;
      }
      // The record id is only trusted if it was read before the broken field.
      if (id_at != kNoColumn && id_at >= record.error_field) row.record.clear_platform_record_id();
      unreadable(std::string(csv::RecordErrorCode(record.error)),
                 at_fault.value_or(Column::kRecordId), at_fault.has_value(),
                 std::string(csv::RecordErrorMessage(record.error)));
      remember_record_id();
      file.rows.push_back(std::move(row));
      continue;
    }
    size_t fields = record.fields.size();
    while (fields > header.fields.size() && TrimSpaces(record.fields[fields - 1]).empty()) {
      --fields;  // trailing empty cells a spreadsheet left
    }
    if (fields != header.fields.size()) {
      // Where the columns shifted is unknown: the record id is kept only when it
      // comes before every personal column, so the result file never shows one.
      const size_t first_personal = std::min({column_at(Column::kName),
                                              column_at(Column::kIdNumber),
                                              column_at(Column::kPhone)});
      if (id_at != kNoColumn && id_at > first_personal) row.record.clear_platform_record_id();
      unreadable("FIELD_COUNT", Column::kRecordId, false,
                 absl::StrCat("the row has ", fields, " fields but the header has ",
                              header.fields.size(), " (an unquoted comma in a value?)"));
      remember_record_id();
      file.rows.push_back(std::move(row));
      continue;
    }
    if (record_id.empty()) {
      unreadable("EMPTY_RECORD_ID", Column::kRecordId, true, "platform_record_id is empty");
      file.rows.push_back(std::move(row));
      continue;
    }
    if (auto [it, inserted] = row_of_record_id.emplace(record_id, row.row); !inserted) {
      unreadable("DUPLICATE_RECORD_ID", Column::kRecordId, true,
                 absl::StrCat("platform_record_id repeats the one of row ", it->second));
      file.rows.push_back(std::move(row));
      continue;
    }

    row.record.set_name(value(Column::kName));
    row.record.set_id_number(value(Column::kIdNumber));
    row.record.set_phone(value(Column::kPhone));
    row.record.set_industry(IndustryCode(value(Column::kIndustry)));

    const std::string platform_fen = value(Column::kPlatformFen);
    const std::string worker_fen = value(Column::kWorkerFen);
    if (!platform_fen.empty() || !worker_fen.empty()) {
      bool ok = true;
      for (const auto& [column, text] :
           {std::pair{Column::kPlatformFen, platform_fen}, std::pair{Column::kWorkerFen, worker_fen}}) {
        if (text.empty()) continue;
        const std::optional<int64_t> fen = ParseFen(text);
        if (!fen.has_value()) {
          unreadable("INVALID_FEE_SPLIT", column, true,
                     absl::StrCat(Av(ColumnName(column)), " is not a whole number of fen"));
          ok = false;
          break;
        }
        if (column == Column::kPlatformFen) {
          row.record.mutable_fee_split()->set_platform_fen(*fen);
        } else {
          row.record.mutable_fee_split()->set_worker_fen(*fen);
        }
      }
      if (!ok) row.record.clear_fee_split();
    }
    file.rows.push_back(std::move(row));
  }
  return file;
}

absl::StatusOr<EnrollOptions> ParseEnrollArgs(int argc, char** argv) {
  EnrollOptions options;
  std::vector<std::string> positional;
  bool have_server = false, have_token = false;
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") {
      for (++i; i < argc; ++i) positional.emplace_back(argv[i]);
      break;
    }
    if (!arg.starts_with("--") || arg == "-") {
      positional.emplace_back(arg);
      continue;
    }
    std::string_view name = arg;
    std::optional<std::string> value;
    if (const size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = std::string(arg.substr(eq + 1));
    }
    if (name == "--help") return absl::CancelledError("help");
    static constexpr std::string_view kFlags[] = {"--server", "--token-file", "--ca",
                                                  "--encoding", "--out",       "--batch"};
    if (std::find(std::begin(kFlags), std::end(kFlags), name) == std::end(kFlags)) {
      return absl::InvalidArgumentError(absl::StrCat("unknown option ", Av(name)));
    }
    if (!value.has_value()) {
      if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat(Av(name), " needs a value"));
      value = argv[++i];
    }
    if (name == "--server") {
      options.server = *value;
      have_server = !value->empty();
    } else if (name == "--token-file") {
      options.token_file = *value;
      have_token = !value->empty();
    } else if (name == "--ca") {
      options.ca_file = *value;
    } else if (name == "--out") {
      options.out = *value;
    } else if (name == "--encoding") {
      const std::optional<csv::Encoding> encoding = csv::ParseEncoding(*value);
      if (!encoding.has_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--encoding must be auto, utf-8 or gbk, not \"", *value, "\""));
      }
      options.encoding = *encoding;
    } else if (name == "--batch") {
      if (!absl::SimpleAtoi(*value, &options.batch) || options.batch < 1 ||
          options.batch > 10000) {
        return absl::InvalidArgumentError("--batch must be a whole number from 1 to 10000");
      }
    }
  }
  if (!have_server) return absl::InvalidArgumentError("--server HOST:PORT is required");
  if (!have_token) return absl::InvalidArgumentError("--token-file FILE is required");
  if (positional.size() != 1) {
    return absl::InvalidArgumentError(positional.empty() ? "no INPUT.csv given"
                                                         : "give exactly one INPUT.csv");
  }
  options.input = positional.front();
  return options;
}

int Enroll(const EnrollOptions& options, std::ostream& out, std::ostream& err) {
  const std::string result_path =
      options.out.empty() ? DefaultResultPath(options.input) : options.out;
  if (result_path == options.input) {
    err << "mutualctl enroll: --out must not be the input file\n";
    return kEnrollFailed;
  }
  absl::StatusOr<std::string> token = ReadToken(options.token_file);
  if (!token.ok()) {
    err << "mutualctl enroll: token file: " << token.status().message() << '\n';
    return kEnrollFailed;
  }
  absl::StatusOr<std::string> bytes = ReadWholeFile(options.input);
  if (!bytes.ok()) {
    err << "mutualctl enroll: " << bytes.status().message() << '\n';
    return kEnrollFailed;
  }
  absl::StatusOr<EnrollmentFile> file = ReadEnrollmentCsv(*bytes, options.encoding);
  if (!file.ok()) {
    err << "mutualctl enroll: " << options.input << ": " << file.status().message() << '\n';
    return kEnrollFailed;
  }
  std::vector<EnrollmentRow>& rows = file->rows;
  err << "enroll: " << options.input << ": " << rows.size() << " rows, read as "
      << csv::EncodingName(file->encoding) << '\n';
  std::map<std::string, size_t> unreadable_by_code;
  for (const EnrollmentRow& row : rows) {
    if (row.readable()) continue;
    ++unreadable_by_code[row.unreadable];
    err << "enroll: row " << row.row << " not sent (" << row.unreadable << "): "
        << row.unreadable_detail << '\n';
  }

  std::vector<std::optional<v1::EnrollmentResult>> results(rows.size());
  // The client certificate (mutualctl --client-cert/--client-key, or these
  // variables) for services that require one.
  auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return v == nullptr ? std::string() : std::string(v);
  };
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      server::ClientCredentials(!options.ca_file.empty() ? options.ca_file : env("MUTUALAID_CA_CERT"),
                                env("MUTUALAID_CLIENT_CERT"), env("MUTUALAID_CLIENT_KEY"));
  if (!credentials.ok()) {
    err << "mutualctl enroll: --ca: " << credentials.status().message() << '\n';
    return kEnrollFailed;
  }
  Upload upload(options, rows, results, err);
  grpc::Status status = grpc::Status::OK;
  const bool any_to_send = std::any_of(rows.begin(), rows.end(),
                                       [](const EnrollmentRow& row) { return row.readable(); });
  if (any_to_send) {
    std::shared_ptr<grpc::Channel> channel = grpc::CreateChannel(options.server, *credentials);
    std::unique_ptr<v1::EnrollmentService::Stub> stub = v1::EnrollmentService::NewStub(channel);
    status = upload.Run(*stub, *token);
    upload.ShowProgress();
    upload.EndProgressLine();
  }
  const std::string no_result_reason = status.ok() ? "" : GrpcCodeName(status.error_code());
  if (absl::Status written = WriteResultFile(result_path, rows, results, no_result_reason);
      !written.ok()) {
    err << "mutualctl enroll: " << written.message() << '\n';
    return kEnrollFailed;
  }

  // The summary.
  std::map<std::string, size_t> rejected_by_reason;
  int64_t accepted_fen = 0, pending_fen = 0;
  for (const auto& result : results) {
    if (!result.has_value()) continue;
    switch (OutcomeOf(*result)) {
      case Outcome::kAccepted:
        accepted_fen += result->fee_fen();
        break;
      case Outcome::kPendingReview:
        pending_fen += result->fee_fen();
        break;
      default:
        if (result->decision().reasons().empty()) ++rejected_by_reason["(no reason given)"];
        for (int code : result->decision().reasons()) ++rejected_by_reason[ReasonName(code)];
        break;
    }
  }
  const Tally& tally = upload.tally();
  size_t unreadable = 0;
  for (const auto& [code, count] : unreadable_by_code) unreadable += count;
  const size_t sent = rows.size() - unreadable;
  out << "rows read:       " << rows.size() << '\n';
  out << "accepted:        " << tally.accepted << '\n';
  out << "pending review:  " << tally.pending << '\n';
  out << "rejected:        " << tally.rejected << '\n';
  PrintCounts(out, rejected_by_reason);
  out << "unreadable:      " << unreadable << '\n';
  PrintCounts(out, unreadable_by_code);
  if (tally.answered < sent) out << "no result:       " << sent - tally.answered << '\n';
  out << "fee total:       " << YuanText(accepted_fen) << " yuan (accepted)";
  if (tally.pending > 0) out << ", " << YuanText(pending_fen) << " yuan more if the pending are approved";
  out << '\n';
  out << "result file:     " << result_path << '\n';

  if (!status.ok()) {
    err << "mutualctl enroll: " << options.server << ": " << GrpcCodeName(status.error_code())
        << ": " << status.error_message() << "; " << sent - tally.answered
        << " records have no result (NO_RESULT in the result file); running the same file again "
           "is safe: records already enrolled return their original result\n";
    return kEnrollFailed;
  }
  return tally.rejected > 0 || unreadable > 0 ? kEnrollSomeRefused : kEnrollAllAccepted;
}

int RunEnrollCommand(int argc, char** argv) {
  absl::StatusOr<EnrollOptions> options = ParseEnrollArgs(argc, argv);
  if (!options.ok()) {
    if (absl::IsCancelled(options.status())) {
      std::cout << kUsage;
      return 0;
    }
    std::cerr << "mutualctl enroll: " << options.status().message() << '\n' << kUsage;
    return kEnrollFailed;
  }
  options->progress_bar = isatty(STDERR_FILENO) == 1;
  return Enroll(*options, std::cout, std::cerr);
}

}  // namespace mutualaid::mutualctl
