// `mutualctl enroll` end to end against an in-process fake EnrollmentService:
// a tiny gRPC server that answers from a map (or a default rule), can answer
// out of order, and can drop or stall the stream once.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "enroll.h"
#include "mutualaid/csv/csv.h"
#include "mutualaid/server/auth.h"
#include "mutualaid/server/server.h"
#include "mutualaid/v1/enrollment.grpc.pb.h"

namespace mutualaid::mutualctl {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kToken[] = "platform-p01-token-0123456789";

struct FakeBehaviour {
  size_t reorder_window = 1;  // answers are held until this many are pending, then sent reversed
  int drop_after = -1;        // once: end the stream with UNAVAILABLE after this many answers
  int stall_after = -1;       // once: stop answering after this many, until the client cancels
};

v1::Date MakeDate(int year, int month, int day) {
  v1::Date date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

v1::EnrollmentResult Accepted(const std::string& enrollment_id, int64_t fee_fen) {
  v1::EnrollmentResult result;
  result.set_status(v1::ENROLLMENT_STATUS_ACCEPTED);
  result.set_enrollment_id(enrollment_id);
  result.set_plan_year(2022);
  result.set_kind(v1::ENROLLMENT_KIND_INSTANT);
  *result.mutable_coverage_start() = MakeDate(2022, 7, 1);
  *result.mutable_coverage_end() = MakeDate(2023, 3, 31);
  result.set_fee_fen(fee_fen);
  *result.mutable_application_date() = MakeDate(2022, 6, 14);
  result.mutable_decision()->add_clauses("§二");
  return result;
}

v1::EnrollmentResult Rejected(std::vector<v1::ReasonCode> reasons, const std::string& field) {
  v1::EnrollmentResult result;
  result.set_status(v1::ENROLLMENT_STATUS_REJECTED);
  for (v1::ReasonCode reason : reasons) result.mutable_decision()->add_reasons(reason);
  result.mutable_decision()->set_field(field);
  return result;
}

// The fake: idempotent by platform_record_id like the real service, so a
// resend returns the original result (replayed) and never a second enrollment.
class FakeEnrollmentService final : public v1::EnrollmentService::Service {
 public:
  explicit FakeEnrollmentService(FakeBehaviour behaviour)
      : behaviour_(behaviour),
        auth_(*server::TokenAuthenticator::Parse(std::string(kToken) + " platform P01\n", "test")) {}

  // A prepared answer for one record id; others get the default rule.
  void Answer(const std::string& record_id, v1::EnrollmentResult result) {
    std::lock_guard<std::mutex> lock(mu_);
    prepared_[record_id] = std::move(result);
  }

  grpc::Status StreamEnrollments(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::EnrollmentResult, v1::EnrollmentRecord>* stream) override {
    if (!auth_.Authenticate(*context).ok()) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "unknown bearer token");
    }
    streams_.fetch_add(1);
    std::vector<v1::EnrollmentResult> held;
    const auto flush = [&]() -> std::optional<grpc::Status> {
      while (!held.empty()) {
        const v1::EnrollmentResult result = held.back();  // newest first: out of order
        held.pop_back();
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (!dropped_ && behaviour_.drop_after >= 0 && answers_ >= behaviour_.drop_after) {
            dropped_ = true;
            return grpc::Status(grpc::StatusCode::UNAVAILABLE, "fake: connection reset");
          }
          if (!stalled_ && behaviour_.stall_after >= 0 && answers_ >= behaviour_.stall_after) {
            stalled_ = true;
            stall_now_ = true;
          }
        }
        if (stall_now_) {
          stall_now_ = false;
          while (!context->IsCancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
          return grpc::Status(grpc::StatusCode::CANCELLED, "fake: stalled");
        }
        if (!stream->Write(result)) return grpc::Status(grpc::StatusCode::CANCELLED, "gone");
        std::lock_guard<std::mutex> lock(mu_);
        ++answers_;
      }
      return std::nullopt;
    };
    v1::EnrollmentRecord record;
    while (stream->Read(&record)) {
      held.push_back(Decide(record));
      if (held.size() >= behaviour_.reorder_window) {
        if (auto status = flush()) return *status;
      }
    }
    if (auto status = flush()) return *status;
    return grpc::Status::OK;
  }

  int streams() const { return streams_.load(); }
  std::map<std::string, int> received() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }
  std::map<std::string, int> enrolled() const {
    std::lock_guard<std::mutex> lock(mu_);
    return enrolled_;
  }
  std::map<std::string, v1::EnrollmentRecord> records() const {
    std::lock_guard<std::mutex> lock(mu_);
    return records_;
  }

 private:
  v1::EnrollmentResult Decide(const v1::EnrollmentRecord& record) {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string& id = record.platform_record_id();
    ++received_[id];
    if (auto it = decided_.find(id); it != decided_.end()) {
      v1::EnrollmentResult again = it->second;
      again.set_replayed(true);
      return again;
    }
    v1::EnrollmentResult result;
    if (auto it = prepared_.find(id); it != prepared_.end()) {
      result = it->second;
    } else if (record.industry() == "OTHER") {
      result = Accepted("E-" + id, 7200);
      result.set_status(v1::ENROLLMENT_STATUS_PENDING_REVIEW);
      result.mutable_decision()->add_reasons(v1::REASON_CODE_REVIEW_INDUSTRY_OTHER);
    } else if (record.industry() != "FOOD_DELIVERY" && record.industry() != "EXPRESS_DELIVERY" &&
               record.industry() != "RIDE_HAILING" && record.industry() != "INSTANT_DELIVERY" &&
               record.industry() != "INTRACITY_FREIGHT") {
      result = Rejected({v1::REASON_CODE_UNSUPPORTED_INDUSTRY}, "industry");
    } else {
      result = Accepted("E-" + id, 7200);
    }
    result.set_platform_record_id(id);
    if (result.status() != v1::ENROLLMENT_STATUS_REJECTED) ++enrolled_[id];
    decided_[id] = result;
    records_[id] = record;
    return result;
  }

  const FakeBehaviour behaviour_;
  const server::TokenAuthenticator auth_;
  std::atomic<int> streams_{0};
  mutable std::mutex mu_;
  std::map<std::string, v1::EnrollmentResult> prepared_;
  std::map<std::string, v1::EnrollmentResult> decided_;
  std::map<std::string, v1::EnrollmentRecord> records_;
  std::map<std::string, int> received_;
  std::map<std::string, int> enrolled_;
  int answers_ = 0;
  bool dropped_ = false;
  bool stalled_ = false;
  bool stall_now_ = false;  // only the handler thread touches it
};

class EnrollCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("enroll_cli_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    WriteFile("token", std::string(kToken) + "\n");
  }
  void TearDown() override {
    if (host_) host_->Shutdown();
    std::filesystem::remove_all(dir_);
  }

  FakeEnrollmentService& StartFake(FakeBehaviour behaviour = {}) {
    fake_ = std::make_unique<FakeEnrollmentService>(behaviour);
    host_ = std::make_unique<server::ServiceHost>(server::ServerOptions{});
    host_->Add(fake_.get());
    const absl::Status started = host_->Start();
    EXPECT_TRUE(started.ok()) << started;
    return *fake_;
  }

  std::string WriteFile(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  EnrollOptions Options(const std::string& input) {
    EnrollOptions options;
    options.server = host_ ? host_->address() : "127.0.0.1:1";
    options.token_file = (dir_ / "token").string();
    options.input = input;
    options.batch = 4;
    options.initial_backoff = std::chrono::milliseconds(20);
    options.max_backoff = std::chrono::milliseconds(100);
    options.idle_timeout = std::chrono::milliseconds(10000);
    return options;
  }

  int Run(const EnrollOptions& options) {
    std::ostringstream out, err;
    const int code = Enroll(options, out, err);
    out_ = out.str();
    err_ = err.str();
    return code;
  }

  // The result file's rows, header first, as "field,field,…" lines for easy comparison.
  std::vector<std::vector<std::string>> ResultRows(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << path;
    std::stringstream bytes;
    bytes << in.rdbuf();
    std::vector<std::vector<std::string>> rows;
    for (const csv::Record& record : csv::ParseRecords(bytes.str())) {
      EXPECT_TRUE(record.ok());
      rows.push_back(record.fields);
    }
    return rows;
  }

  std::filesystem::path dir_;
  std::unique_ptr<FakeEnrollmentService> fake_;
  std::unique_ptr<server::ServiceHost> host_;
  std::string out_, err_;
};

const std::vector<std::string> kResultHeader = {
    "row",     "platform_record_id", "outcome", "plan_year", "kind",         "coverage_start",
    "coverage_end", "fee_fen",       "reasons", "field",     "enrollment_id"};

std::vector<std::string> AcceptedRow(int row, const std::string& id) {
  return {std::to_string(row), id, "ACCEPTED", "2022", "INSTANT", "2022-07-01", "2023-03-31",
          "7200", "", "", "E-" + id};
}

// Twelve workers, each with a made-up ID number and phone that must never be printed.
std::string ManyRows(int count) {
  std::string text = "platform_record_id,name,id_number,phone,industry\r\n";
  for (int i = 1; i <= count; ++i) {
    text += "R" + std::to_string(i) + ",工人" + std::to_string(i) + ",11010119900307" +
            std::to_string(1000 + i) + ",1380013" + std::to_string(8000 + i) + ",网约送餐\r\n";
  }
  return text;
}

TEST_F(EnrollCommandTest, MixedFileOutOfOrderAnswersGiveInputOrderAndExit1) {
  FakeEnrollmentService& fake = StartFake({.reorder_window = 3});
  fake.Answer("R4", Rejected({v1::REASON_CODE_INVALID_ID_NUMBER}, "id_number"));
  fake.Answer("R5", Rejected({v1::REASON_CODE_AGE_60_OR_OVER, v1::REASON_CODE_INVALID_PHONE},
                             "phone"));
  const std::string input = WriteFile(
      "march.csv",
      "\xEF\xBB\xBF记录编号,姓名,身份证号,手机号,行业,平台承担,个人承担\r\n"
      "R1,张三,110101199003074514,13800138000,网约送餐,3600,3600\r\n"
      "R2,\"阿依古丽·买买提\",110101199003074515,13800138001,其他,,\r\n"
      "R3,李四,110101199003074516,13800138002,家政,,\r\n"
      "R4,王五,110101199003074517,13800138003,快递,,\r\n"
      "R5,赵六,110101199003074518,13800138004,网约车,,\r\n"
      "R6,\"孙\"七,110101199003074519,13800138005,快递,,\r\n"
      "R7,周八,110101199003074520,13800138006,FOOD_DELIVERY,,\r\n");
  EnrollOptions options = Options(input);
  EXPECT_EQ(Run(options), kEnrollSomeRefused) << err_;

  const auto rows = ResultRows((dir_ / "march.result.csv").string());
  ASSERT_EQ(rows.size(), 8u);
  EXPECT_EQ(rows[0], kResultHeader);
  EXPECT_EQ(rows[1], AcceptedRow(1, "R1"));
  EXPECT_THAT(rows[2], ElementsAre("2", "R2", "PENDING_REVIEW", "2022", "INSTANT", "2022-07-01",
                                   "2023-03-31", "7200", "REVIEW_INDUSTRY_OTHER", "", "E-R2"));
  EXPECT_THAT(rows[3], ElementsAre("3", "R3", "REJECTED", "", "", "", "", "0",
                                   "UNSUPPORTED_INDUSTRY", "industry", ""));
  EXPECT_THAT(rows[4], ElementsAre("4", "R4", "REJECTED", "", "", "", "", "0", "INVALID_ID_NUMBER",
                                   "id_number", ""));
  EXPECT_THAT(rows[5], ElementsAre("5", "R5", "REJECTED", "", "", "", "", "0",
                                   "AGE_60_OR_OVER|INVALID_PHONE", "phone", ""));
  EXPECT_THAT(rows[6], ElementsAre("6", "R6", "UNREADABLE", "", "", "", "", "",
                                   "TEXT_AFTER_CLOSING_QUOTE", "name", ""));
  EXPECT_EQ(rows[7], AcceptedRow(7, "R7"));

  // What went over the wire: Chinese industries as codes, unknown ones as
  // written, the fee split when given, the unreadable row not at all.
  const auto sent = fake.records();
  EXPECT_EQ(sent.size(), 6u);
  EXPECT_FALSE(sent.contains("R6"));
  EXPECT_EQ(sent.at("R1").industry(), "FOOD_DELIVERY");
  EXPECT_EQ(sent.at("R1").fee_split().platform_fen(), 3600);
  EXPECT_EQ(sent.at("R1").fee_split().worker_fen(), 3600);
  EXPECT_FALSE(sent.at("R2").has_fee_split());
  EXPECT_EQ(sent.at("R2").name(), "阿依古丽·买买提");
  EXPECT_EQ(sent.at("R2").industry(), "OTHER");
  EXPECT_EQ(sent.at("R3").industry(), "家政");
  EXPECT_EQ(sent.at("R5").industry(), "RIDE_HAILING");

  EXPECT_THAT(out_, HasSubstr("rows read:       7\n"));
  EXPECT_THAT(out_, HasSubstr("accepted:        2\n"));
  EXPECT_THAT(out_, HasSubstr("pending review:  1\n"));
  EXPECT_THAT(out_, HasSubstr("rejected:        3\n"));
  EXPECT_THAT(out_, HasSubstr("  AGE_60_OR_OVER"));
  EXPECT_THAT(out_, HasSubstr("  UNSUPPORTED_INDUSTRY"));
  EXPECT_THAT(out_, HasSubstr("unreadable:      1\n  TEXT_AFTER_CLOSING_QUOTE"));
  EXPECT_THAT(out_, HasSubstr("fee total:       144.00 yuan (accepted), 72.00 yuan more"));
  EXPECT_THAT(err_, HasSubstr("row 6 not sent (TEXT_AFTER_CLOSING_QUOTE): line 7"));
  // PII: no ID number or phone in the summary, progress or messages.
  for (const std::string& text : {out_, err_}) {
    EXPECT_THAT(text, Not(HasSubstr("1101011990030745")));
    EXPECT_THAT(text, Not(HasSubstr("1380013800")));
  }
}

TEST_F(EnrollCommandTest, AllAcceptedExits0AndHonoursOut) {
  StartFake({.reorder_window = 4});
  const std::string input = WriteFile("june.csv", ManyRows(12));
  EnrollOptions options = Options(input);
  options.out = (dir_ / "answers.csv").string();
  EXPECT_EQ(Run(options), kEnrollAllAccepted) << err_;
  const auto rows = ResultRows(options.out);
  ASSERT_EQ(rows.size(), 13u);
  for (int i = 1; i <= 12; ++i) EXPECT_EQ(rows[i], AcceptedRow(i, "R" + std::to_string(i)));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "june.result.csv"));
  EXPECT_THAT(out_, HasSubstr("fee total:       864.00 yuan (accepted)\n"));
  EXPECT_THAT(err_, HasSubstr("12/12 answered"));
}

TEST_F(EnrollCommandTest, DroppedStreamResendsUnansweredRecordsWithoutDoubleEnrollment) {
  FakeEnrollmentService& fake = StartFake({.reorder_window = 2, .drop_after = 5});
  const std::string input = WriteFile("june.csv", ManyRows(12));
  EXPECT_EQ(Run(Options(input)), kEnrollAllAccepted) << err_;
  EXPECT_EQ(fake.streams(), 2);
  EXPECT_THAT(err_, HasSubstr("stream failed (UNAVAILABLE"));
  // Every record enrolled exactly once; the ones in flight at the drop were sent again.
  const auto enrolled = fake.enrolled();
  EXPECT_EQ(enrolled.size(), 12u);
  for (const auto& [id, times] : enrolled) EXPECT_EQ(times, 1) << id;
  int resent = 0;
  for (const auto& [id, times] : fake.received()) resent += times - 1;
  EXPECT_GT(resent, 0);
  const auto rows = ResultRows((dir_ / "june.result.csv").string());
  ASSERT_EQ(rows.size(), 13u);
  for (int i = 1; i <= 12; ++i) EXPECT_EQ(rows[i], AcceptedRow(i, "R" + std::to_string(i)));
}

TEST_F(EnrollCommandTest, StalledStreamIsCancelledAndRetried) {
  FakeEnrollmentService& fake = StartFake({.stall_after = 3});
  const std::string input = WriteFile("june.csv", ManyRows(6));
  EnrollOptions options = Options(input);
  options.idle_timeout = std::chrono::milliseconds(300);
  EXPECT_EQ(Run(options), kEnrollAllAccepted) << err_;
  EXPECT_EQ(fake.streams(), 2);
  EXPECT_THAT(err_, HasSubstr("DEADLINE_EXCEEDED"));
  EXPECT_EQ(ResultRows((dir_ / "june.result.csv").string()).size(), 7u);
}

TEST_F(EnrollCommandTest, GbkFileEndToEnd) {
  FakeEnrollmentService& fake = StartFake();
  // 记录编号,姓名,身份证号,手机号,行业 / G1,张三,…,网约送餐 in GBK.
  const std::string input = WriteFile(
      "gbk.csv",
      "\xBC\xC7\xC2\xBC\xB1\xE0\xBA\xC5,\xD0\xD5\xC3\xFB,\xC9\xED\xB7\xDD\xD6\xA4\xBA\xC5,"
      "\xCA\xD6\xBB\xFA\xBA\xC5,\xD0\xD0\xD2\xB5\r\n"
      "G1,\xD5\xC5\xC8\xFD,110101199003074514,13800138000,\xCD\xF8\xD4\xBC\xCB\xCD\xB2\xCD\r\n");
  EXPECT_EQ(Run(Options(input)), kEnrollAllAccepted) << err_;
  EXPECT_THAT(err_, HasSubstr("read as GBK"));
  EXPECT_EQ(fake.records().at("G1").name(), "张三");
  EXPECT_EQ(fake.records().at("G1").industry(), "FOOD_DELIVERY");

  EnrollOptions forced = Options(input);
  forced.encoding = csv::Encoding::kUtf8;
  EXPECT_EQ(Run(forced), kEnrollFailed);
  EXPECT_THAT(err_, HasSubstr("line 1: not valid UTF-8"));
}

TEST_F(EnrollCommandTest, WithoutRecordIdColumnRowNumbersIdentifyRows) {
  StartFake({.reorder_window = 2});
  const std::string input = WriteFile(
      "noid.csv",
      "name,id_number,phone,industry\n张三,110101199003074514,13800138000,快递\n"
      "李四,110101199003074515,13800138001,快递\n");
  EXPECT_EQ(Run(Options(input)), kEnrollAllAccepted) << err_;
  const auto rows = ResultRows((dir_ / "noid.result.csv").string());
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1], AcceptedRow(1, "1"));
  EXPECT_EQ(rows[2], AcceptedRow(2, "2"));
}

TEST_F(EnrollCommandTest, WrongTokenExits2WithoutRetrying) {
  FakeEnrollmentService& fake = StartFake();
  WriteFile("token", "not-the-right-token-at-all\n");
  const std::string input = WriteFile("june.csv", ManyRows(2));
  EXPECT_EQ(Run(Options(input)), kEnrollFailed);
  EXPECT_THAT(err_, HasSubstr("UNAUTHENTICATED"));
  EXPECT_THAT(err_, Not(HasSubstr("not-the-right-token")));
  EXPECT_EQ(fake.streams(), 0);
  const auto rows = ResultRows((dir_ / "june.result.csv").string());
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1][2], "NO_RESULT");
  EXPECT_EQ(rows[1][8], "UNAUTHENTICATED");
}

TEST_F(EnrollCommandTest, UnreachableServerExits2AfterRetries) {
  // A port that was just free: nothing listens there.
  StartFake();
  const std::string address = host_->address();
  host_->Shutdown();
  host_.reset();
  const std::string input = WriteFile("june.csv", ManyRows(3));
  EnrollOptions options = Options(input);
  options.server = address;
  options.max_attempts_without_progress = 3;
  EXPECT_EQ(Run(options), kEnrollFailed);
  EXPECT_THAT(err_, HasSubstr("UNAVAILABLE"));
  EXPECT_THAT(out_, HasSubstr("no result:       3\n"));
  const auto rows = ResultRows((dir_ / "june.result.csv").string());
  ASSERT_EQ(rows.size(), 4u);
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(rows[i][2], "NO_RESULT");
}

TEST_F(EnrollCommandTest, InputProblemsExit2BeforeConnecting) {
  FakeEnrollmentService& fake = StartFake();
  struct Case {
    std::string name;
    std::string bytes;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"empty.csv", "", "the file is empty"},
      {"missing.csv", "记录编号,姓名,身份证号,行业\nR1,张三,110101199003074514,快递\n",
       "no \"phone\" column (or \"手机号\")"},
      {"binary.csv", "name,id_number,phone,industry\n\xFF\xFF,1,2,3\n",
       "line 2: neither valid UTF-8 nor valid GBK"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Run(Options(WriteFile(c.name, c.bytes))), kEnrollFailed) << c.name;
    EXPECT_THAT(err_, HasSubstr(c.message)) << c.name;
  }
  EnrollOptions no_file = Options((dir_ / "absent.csv").string());
  EXPECT_EQ(Run(no_file), kEnrollFailed);
  EXPECT_THAT(err_, HasSubstr("cannot open"));
  EnrollOptions no_token = Options(WriteFile("ok.csv", ManyRows(1)));
  no_token.token_file = (dir_ / "absent-token").string();
  EXPECT_EQ(Run(no_token), kEnrollFailed);
  EXPECT_THAT(err_, HasSubstr("token file"));
  EXPECT_EQ(fake.streams(), 0);
}

TEST_F(EnrollCommandTest, HeaderOnlyFileSendsNothingAndExits0) {
  FakeEnrollmentService& fake = StartFake();
  const std::string input = WriteFile("none.csv", "name,id_number,phone,industry\r\n");
  EXPECT_EQ(Run(Options(input)), kEnrollAllAccepted) << err_;
  EXPECT_EQ(fake.streams(), 0);
  EXPECT_THAT(ResultRows((dir_ / "none.result.csv").string()), ElementsAre(kResultHeader));
  EXPECT_THAT(out_, HasSubstr("rows read:       0\n"));
}

TEST_F(EnrollCommandTest, BatchOfOneStillCompletes) {
  FakeEnrollmentService& fake = StartFake();
  const std::string input = WriteFile("june.csv", ManyRows(5));
  EnrollOptions options = Options(input);
  options.batch = 1;
  EXPECT_EQ(Run(options), kEnrollAllAccepted) << err_;
  EXPECT_EQ(fake.enrolled().size(), 5u);
}

}  // namespace
}  // namespace mutualaid::mutualctl
