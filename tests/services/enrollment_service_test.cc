// The enrollment service against the real broker: a monthly batch with the
// expected outcome for each record, two platforms racing, retries, review,
// statements, the phone change, isolation between platforms, and a SIGKILL in
// the middle of a stream.
#include <set>
#include <thread>

#include "mutualaid/v1/admin.grpc.pb.h"
#include "mutualaid/v1/enrollment.grpc.pb.h"
#include "mutualaid/http/client.h"
#include "service_harness.h"

namespace mutualaid {
namespace {

using testing::Call;
using testing::IdNumber;

v1::EnrollmentRecord Record(const std::string& id, const std::string& name,
                            const std::string& id_number, const std::string& phone,
                            const std::string& industry = "FOOD_DELIVERY") {
  v1::EnrollmentRecord r;
  r.set_platform_record_id(id);
  r.set_name(name);
  r.set_id_number(id_number);
  r.set_phone(phone);
  r.set_industry(industry);
  return r;
}

std::string Reasons(const v1::EnrollmentResult& r) {
  std::string out;
  for (int code : r.decision().reasons()) {
    absl::StrAppend(&out, out.empty() ? "" : ",", v1::ReasonCode_Name(code).substr(12));
  }
  return out;
}

class EnrollmentServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    svc_ = std::make_unique<testing::ServiceProcess>(
        ENROLLMENT_BINARY, "enrollment", "clock.start = 2022-05-10\nmetrics.listen = 127.0.0.1:0");
    ASSERT_NO_FATAL_FAILURE(svc_->Start());
    Connect();
    for (const char* id : {"P01", "P02"}) {
      v1::RegisterPlatformRequest req;
      req.mutable_platform()->set_platform_id(id);
      req.mutable_platform()->set_name(absl::StrCat("平台", id));
      req.mutable_platform()->set_payout_account(absl::StrCat("6222000000", id));
      v1::RegisterPlatformResponse resp;
      grpc::Status s = admin_->RegisterPlatform(Call(testing::kOperations).get(), req, &resp);
      ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << svc_->Log();
    }
  }
  void Connect() {
    stub_ = v1::EnrollmentService::NewStub(svc_->channel());
    admin_ = v1::AdminService::NewStub(svc_->channel());
  }
  std::vector<v1::EnrollmentResult> Submit(const std::string& token,
                                           const std::vector<v1::EnrollmentRecord>& records) {
    v1::SubmitEnrollmentsRequest req;
    for (const auto& r : records) *req.add_records() = r;
    v1::SubmitEnrollmentsResponse resp;
    grpc::Status s = stub_->SubmitEnrollments(Call(token).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message() << "\n" << svc_->Log();
    return {resp.results().begin(), resp.results().end()};
  }
  // Streams `records`, returns the results by platform record id.
  std::map<std::string, v1::EnrollmentResult> Stream(
      const std::string& token, const std::vector<v1::EnrollmentRecord>& records,
      grpc::Status* status = nullptr) {
    auto ctx = Call(token);
    auto stream = stub_->StreamEnrollments(ctx.get());
    std::thread writer([&] {
      for (const auto& r : records) {
        if (!stream->Write(r)) break;
      }
      stream->WritesDone();
    });
    std::map<std::string, v1::EnrollmentResult> out;
    v1::EnrollmentResult result;
    while (stream->Read(&result)) out[result.platform_record_id()] = result;
    writer.join();
    grpc::Status s = stream->Finish();
    if (status != nullptr) {
      *status = s;
    } else {
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    return out;
  }

  std::unique_ptr<testing::ServiceProcess> svc_;
  std::unique_ptr<v1::EnrollmentService::Stub> stub_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
};

TEST_F(EnrollmentServiceTest, MonthlyBatchGetsTheExpectedOutcomeForEachRecord) {
  std::vector<v1::EnrollmentRecord> records = {
      Record("r1", "张三", IdNumber("19900101", 1), "13800138001"),
      Record("r2", "李四", IdNumber("19900101", 2).substr(0, 17) + "0", "13800138002"),
      Record("r3", "王5", IdNumber("19900101", 3), "13800138003"),
      Record("r4", "赵六", IdNumber("19900101", 4), "12345"),
      Record("r5", "钱七", IdNumber("19600101", 5), "13800138005"),
      Record("r6", "孙八", IdNumber("19900101", 6), "13800138006", "FARMING"),
      Record("r7", "周九", IdNumber("19900101", 7), "13800138007", "OTHER"),
      Record("r8", "吴十", IdNumber("19900101", 8), "+8613800138008", "RIDE_HAILING"),
  };
  // A check char that happens to be right for r2 would make it valid: make sure it is not.
  if (plan::IdNumberCheckChar(records[1].id_number().substr(0, 17)) == '0') {
    records[1].set_id_number(records[1].id_number().substr(0, 17) + "1");
  }
  std::vector<v1::EnrollmentResult> got = Submit(testing::kP01, records);
  ASSERT_EQ(got.size(), records.size());
  auto expect = [&](int i, v1::EnrollmentStatus status, const std::string& reasons,
                    const std::string& field) {
    SCOPED_TRACE(records[i].platform_record_id());
    EXPECT_EQ(got[i].platform_record_id(), records[i].platform_record_id());
    EXPECT_EQ(got[i].status(), status);
    EXPECT_EQ(Reasons(got[i]), reasons);
    EXPECT_EQ(got[i].decision().field(), field);
  };
  expect(0, v1::ENROLLMENT_STATUS_ACCEPTED, "", "");
  expect(1, v1::ENROLLMENT_STATUS_REJECTED, "INVALID_ID_NUMBER", "id_number");
  expect(2, v1::ENROLLMENT_STATUS_REJECTED, "INVALID_NAME", "name");
  expect(3, v1::ENROLLMENT_STATUS_REJECTED, "INVALID_PHONE", "phone");
  expect(4, v1::ENROLLMENT_STATUS_REJECTED, "AGE_60_OR_OVER", "id_number");
  expect(5, v1::ENROLLMENT_STATUS_REJECTED, "UNSUPPORTED_INDUSTRY", "industry");
  expect(6, v1::ENROLLMENT_STATUS_PENDING_REVIEW, "REVIEW_INDUSTRY_OTHER", "");
  expect(7, v1::ENROLLMENT_STATUS_ACCEPTED, "", "");
  // 2022-05-10: instant enrollment in plan year 2022, cover from June, one-year fee.
  EXPECT_EQ(got[0].plan_year(), 2022);
  EXPECT_EQ(got[0].kind(), v1::ENROLLMENT_KIND_INSTANT);
  EXPECT_EQ(got[0].coverage_start().month(), 6);
  EXPECT_EQ(got[0].coverage_start().day(), 1);
  EXPECT_EQ(got[0].coverage_end().year(), 2023);
  EXPECT_EQ(got[0].fee_fen(), 7200);
  EXPECT_EQ(got[0].application_date().day(), 10);
  EXPECT_FALSE(got[0].replayed());

  v1::GetMonthlyStatementRequest sreq;
  sreq.set_year(2022);
  sreq.set_month(5);
  v1::GetMonthlyStatementResponse statement;
  ASSERT_TRUE(stub_->GetMonthlyStatement(Call(testing::kP01).get(), sreq, &statement).ok());
  EXPECT_EQ(statement.approved_count(), 2);
  EXPECT_EQ(statement.fee_fen(), 14400);
}

TEST_F(EnrollmentServiceTest, ServesPrometheusMetrics) {
  Submit(testing::kP01, {Record("m1", "沈某", IdNumber("19900909", 61), "13800138061"),
                         Record("m2", "韩某", IdNumber("19900909", 62), "12")});
  // The metrics address is in the service's log.
  const std::string log = svc_->Log();
  const std::string marker = "\"msg\":\"metrics listening\",\"address\":\"";
  size_t at = log.find(marker);
  ASSERT_NE(at, std::string::npos) << log;
  std::string address = log.substr(at + marker.size(), log.find('"', at + marker.size()) -
                                                           at - marker.size());
  auto client = http::Client::ForUrl("http://" + address);
  ASSERT_TRUE(client.ok()) << client.status();
  auto resp = client->Get("/metrics");
  ASSERT_TRUE(resp.ok()) << resp.status();
  const std::string& text = resp->body;
  EXPECT_NE(text.find("mutualaid_decisions_total{service=\"enrollment\",type=\"enrollment_accepted\","
                      "outcome=\"ACCEPTED\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("mutualaid_decision_reasons_total{service=\"enrollment\",type=\"enrollment_"
                      "rejected\",reason=\"INVALID_PHONE\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("mutualaid_grpc_requests_total{method=\"SubmitEnrollments\",code=\"OK\"}"),
            std::string::npos);
  EXPECT_NE(text.find("mutualaid_grpc_latency_seconds_bucket{method=\"SubmitEnrollments\""),
            std::string::npos);
  EXPECT_NE(text.find("mutualaid_consumer_lag{service=\"enrollment\""), std::string::npos);
  EXPECT_NE(text.find("mutualaid_store_bytes{service=\"enrollment\",part=\"sst\"}"),
            std::string::npos);
  EXPECT_NE(text.find("mutualaid_transaction_aborts_total{service=\"enrollment\"} 0"),
            std::string::npos);
}

TEST_F(EnrollmentServiceTest, FirstPlatformWinsAndRetriesReturnTheOriginal) {
  const std::string worker = IdNumber("19920304", 11);
  std::vector<v1::EnrollmentResult> first =
      Submit(testing::kP01, {Record("a1", "郑一", worker, "13900139001")});
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(first[0].status(), v1::ENROLLMENT_STATUS_ACCEPTED);
  // The other platform loses.
  auto second = Submit(testing::kP02, {Record("b1", "郑一", worker, "13900139001")});
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].status(), v1::ENROLLMENT_STATUS_REJECTED);
  EXPECT_EQ(Reasons(second[0]), "DUPLICATE_IN_PLAN_YEAR");
  // The same record again, and the same worker under another record id: the original.
  auto again = Submit(testing::kP01, {Record("a1", "郑一", worker, "13900139001"),
                                      Record("a2", "郑一", worker, "13900139001")});
  ASSERT_EQ(again.size(), 2u);
  for (const auto& r : again) {
    EXPECT_EQ(r.status(), v1::ENROLLMENT_STATUS_ACCEPTED);
    EXPECT_EQ(r.enrollment_id(), first[0].enrollment_id());
    EXPECT_TRUE(r.replayed());
  }
  v1::GetMonthlyStatementRequest sreq;
  sreq.set_year(2022);
  sreq.set_month(5);
  v1::GetMonthlyStatementResponse statement;
  ASSERT_TRUE(stub_->GetMonthlyStatement(Call(testing::kP01).get(), sreq, &statement).ok());
  EXPECT_EQ(statement.approved_count(), 1) << "a retry was billed twice";
}

TEST_F(EnrollmentServiceTest, TwoPlatformsRacingForOneWorkerExactlyOneWins) {
  std::vector<v1::EnrollmentRecord> p1, p2;
  for (int i = 0; i < 40; ++i) {
    std::string id = IdNumber("19950505", 100 + i);
    p1.push_back(Record(absl::StrCat("x", i), "冯某", id, absl::StrCat("1370013", 1000 + i)));
    p2.push_back(Record(absl::StrCat("y", i), "冯某", id, absl::StrCat("1370013", 1000 + i)));
  }
  std::map<std::string, v1::EnrollmentResult> r1, r2;
  std::thread a([&] { r1 = Stream(testing::kP01, p1); });
  std::thread b([&] { r2 = Stream(testing::kP02, p2); });
  a.join();
  b.join();
  ASSERT_EQ(r1.size(), 40u);
  ASSERT_EQ(r2.size(), 40u);
  for (int i = 0; i < 40; ++i) {
    bool won1 = r1[absl::StrCat("x", i)].status() == v1::ENROLLMENT_STATUS_ACCEPTED;
    bool won2 = r2[absl::StrCat("y", i)].status() == v1::ENROLLMENT_STATUS_ACCEPTED;
    EXPECT_NE(won1, won2) << "worker " << i;
  }
}

TEST_F(EnrollmentServiceTest, APlatformNeverSeesAnotherPlatformsWorkers) {
  const std::string worker = IdNumber("19880808", 21);
  ASSERT_EQ(Submit(testing::kP01, {Record("c1", "陈某", worker, "13600136001")})[0].status(),
            v1::ENROLLMENT_STATUS_ACCEPTED);
  v1::GetEnrollmentRequest get;
  get.set_id_number(worker);
  v1::GetEnrollmentResponse got;
  EXPECT_TRUE(stub_->GetEnrollment(Call(testing::kP01).get(), get, &got).ok());
  EXPECT_EQ(stub_->GetEnrollment(Call(testing::kP02).get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::ListEnrollmentsRequest list;
  list.set_platform_id("P01");
  v1::ListEnrollmentsResponse listed;
  EXPECT_EQ(stub_->ListEnrollments(Call(testing::kP02).get(), list, &listed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ChangeContactPhoneRequest change;
  change.set_id_number(worker);
  change.set_plan_year(2022);
  change.set_new_phone("13600136999");
  v1::ChangeContactPhoneResponse changed;
  EXPECT_EQ(stub_->ChangeContactPhone(Call(testing::kP02).get(), change, &changed).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // Its own platform may.
  grpc::Status s = stub_->ChangeContactPhone(Call(testing::kP01).get(), change, &changed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(changed.enrollment().person().phone(), "13600136999");
  // No token, a platform deciding reviews: refused.
  grpc::ClientContext anonymous;
  EXPECT_EQ(stub_->GetEnrollment(&anonymous, get, &got).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  v1::DecideReviewRequest review;
  v1::DecideReviewResponse reviewed;
  EXPECT_EQ(stub_->DecideReview(Call(testing::kP01).get(), review, &reviewed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(EnrollmentServiceTest, ReviewerApprovesAndRejectsFromTheQueue) {
  auto got = Submit(testing::kP01, {Record("o1", "褚某", IdNumber("19930303", 31), "13500135001", "OTHER"),
                                    Record("o2", "卫某", IdNumber("19930303", 32), "13500135002", "OTHER")});
  ASSERT_EQ(got.size(), 2u);
  v1::ListReviewQueueRequest qreq;
  v1::ListReviewQueueResponse queue;
  ASSERT_TRUE(stub_->ListReviewQueue(Call(testing::kReviewer).get(), qreq, &queue).ok());
  ASSERT_EQ(queue.items_size(), 2);
  v1::DecideReviewRequest approve;
  approve.set_enrollment_id(got[0].enrollment_id());
  approve.set_approve(true);
  v1::DecideReviewResponse decided;
  grpc::Status s = stub_->DecideReview(Call(testing::kReviewer).get(), approve, &decided);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(decided.enrollment().status(), v1::ENROLLMENT_STATUS_ACCEPTED);
  v1::DecideReviewRequest reject;
  reject.set_enrollment_id(got[1].enrollment_id());
  EXPECT_EQ(stub_->DecideReview(Call(testing::kReviewer).get(), reject, &decided).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT) << "a rejection needs a reason";
  reject.set_reason("不从事平台配送");
  ASSERT_TRUE(stub_->DecideReview(Call(testing::kReviewer).get(), reject, &decided).ok());
  EXPECT_EQ(decided.enrollment().status(), v1::ENROLLMENT_STATUS_REJECTED);
  // Decided once: a second verdict is refused.
  EXPECT_EQ(stub_->DecideReview(Call(testing::kReviewer).get(), approve, &decided).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(stub_->ListReviewQueue(Call(testing::kReviewer).get(), qreq, &queue).ok());
  EXPECT_EQ(queue.items_size(), 0);
  v1::GetMonthlyStatementRequest sreq;
  sreq.set_year(2022);
  sreq.set_month(5);
  v1::GetMonthlyStatementResponse statement;
  ASSERT_TRUE(stub_->GetMonthlyStatement(Call(testing::kP01).get(), sreq, &statement).ok());
  EXPECT_EQ(statement.approved_count(), 1) << "only the approved one is billed";
}

TEST_F(EnrollmentServiceTest, KilledMidStreamLosesNothingAndDoublesNothing) {
  std::vector<v1::EnrollmentRecord> records;
  for (int i = 0; i < 300; ++i) {
    records.push_back(Record(absl::StrCat("k", i), "蒋某", IdNumber("19910101", 400 + i),
                             absl::StrCat("1330013", 2000 + i)));
  }
  std::map<std::string, v1::EnrollmentResult> before;
  std::thread killer([&] {
    // Let part of the stream through, then kill the service.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      v1::ListEnrollmentsRequest list;
      v1::ListEnrollmentsResponse listed;
      if (stub_->ListEnrollments(Call(testing::kP01).get(), list, &listed).ok() &&
          listed.enrollments_size() >= 20) {
        break;
      }
    }
    svc_->Kill();
  });
  grpc::Status status;
  before = Stream(testing::kP01, records, &status);
  killer.join();
  ASSERT_NO_FATAL_FAILURE(svc_->Start());
  Connect();
  // The platform resends everything (as mutualctl enroll does after a drop).
  std::map<std::string, v1::EnrollmentResult> after = Stream(testing::kP01, records);
  ASSERT_EQ(after.size(), records.size());
  std::set<std::string> enrollment_ids;
  for (const auto& [id, r] : after) {
    EXPECT_EQ(r.status(), v1::ENROLLMENT_STATUS_ACCEPTED) << id;
    enrollment_ids.insert(r.enrollment_id());
    if (before.count(id)) {
      EXPECT_EQ(before[id].enrollment_id(), r.enrollment_id());
    }
  }
  EXPECT_EQ(enrollment_ids.size(), records.size());
  v1::GetMonthlyStatementRequest sreq;
  sreq.set_year(2022);
  sreq.set_month(5);
  v1::GetMonthlyStatementResponse statement;
  ASSERT_TRUE(stub_->GetMonthlyStatement(Call(testing::kP01).get(), sreq, &statement).ok());
  EXPECT_EQ(statement.approved_count(), 300) << "an enrollment was lost or billed twice";
}

}  // namespace
}  // namespace mutualaid
