// No personal data in the services' logs. The four services (real binaries,
// real broker), a real fakebank and fakesms; enrollments (valid, invalid ID,
// invalid phone, duplicates, a review, a CSV with broken rows through
// `mutualctl enroll`), claims (approved, denied, investigated), payouts to a
// card (one the bank refuses, then re-issued), SMS, and the error paths that
// echo a bad value back. Then every line each service wrote to stdout and
// stderr must be a JSON object (the structured log) or the "listening" line,
// and none may hold an ID number, phone or card number used, nor any 6 digits
// in a row of one (the masks keep at most 4: "3101************34",
// "138****8000", "**** 1234").
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "fake_process.h"
#include "mutualaid/events/convert.h"
#include "mutualaid/json/json.h"
#include "mutualaid/plan/calendar.h"
#include "mutualaid/v1/admin.grpc.pb.h"
#include "mutualaid/v1/claims.grpc.pb.h"
#include "mutualaid/v1/enrollment.grpc.pb.h"
#include "mutualaid/v1/notification.grpc.pb.h"
#include "mutualaid/v1/payout.grpc.pb.h"
#include "security_harness.h"

namespace mutualaid {
namespace {

using testing::Call;
using testing::IdNumber;

v1::Date D(const std::string& iso) {
  absl::CivilDay d;
  EXPECT_TRUE(plan::ParseIsoDate(iso, &d)) << iso;
  return events::ToProto(d);
}

using testing::WaitFor;
// How long each wait for the services (pay, fail, tell) may take.
constexpr absl::Duration kWait = absl::Seconds(90);

// Runs of digits (a leak shows as one); alphanumeric runs that are hex
// digests (only 0-9a-f, 16 or more) are left out, their digits are noise.
std::vector<std::string> DigitRuns(const std::string& line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    if (!std::isalnum(static_cast<unsigned char>(line[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < line.size() && std::isalnum(static_cast<unsigned char>(line[j]))) ++j;
    std::string token = line.substr(i, j - i);
    const bool hex = token.size() >= 16 && std::all_of(token.begin(), token.end(), [](char c) {
                       return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                     });
    if (!hex) {
      size_t k = 0;
      while (k < token.size()) {
        if (!std::isdigit(static_cast<unsigned char>(token[k]))) {
          ++k;
          continue;
        }
        size_t e = k;
        while (e < token.size() && std::isdigit(static_cast<unsigned char>(token[e]))) ++e;
        if (e - k >= 6) out.push_back(token.substr(k, e - k));
        k = e;
      }
    }
    i = j;
  }
  return out;
}

class PiiLogsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bank_ = std::make_unique<testing::FakeProcess>(
        FAKEBANK_BINARY, std::vector<std::string>{"--port", "0", "--ledger",
                                                  (dir_.path() / "ledger.jsonl").string(),
                                                  "--today", "2022-05-20"});
    ASSERT_TRUE(bank_->started()) << "fakebank did not start";
    sms_ = std::make_unique<testing::FakeProcess>(
        FAKESMS_BINARY,
        std::vector<std::string>{"--port", "0", "--log", (dir_.path() / "sms.jsonl").string()});
    ASSERT_TRUE(sms_->started()) << "fakesms did not start";
    const std::map<std::string, std::string> binaries = {
        {"enrollment", ENROLLMENT_BINARY}, {"claims", CLAIMS_BINARY},
        {"payout", PAYOUT_BINARY}, {"notification", NOTIFICATION_BINARY}};
    for (const auto& [name, extra] :
         testing::FourServiceConfigs(bank_->port(), sms_->port(), "2022-03-15")) {
      auto p = std::make_unique<testing::LoggedProcess>(binaries.at(name), name, dir_.path(),
                                                        dir_.ServiceConfig(name, extra));
      std::string error;
      ASSERT_TRUE(p->Start(&error)) << error;
      channels_[name] = grpc::CreateChannel(p->address(), grpc::InsecureChannelCredentials());
      processes_.push_back(std::move(p));
    }
    enrollments_ = v1::EnrollmentService::NewStub(channels_["enrollment"]);
    claims_ = v1::ClaimsService::NewStub(channels_["claims"]);
    payouts_ = v1::PayoutService::NewStub(channels_["payout"]);
    messages_ = v1::NotificationService::NewStub(channels_["notification"]);
  }

  void SetDay(const std::string& iso) {
    v1::SetClockRequest req;
    *req.mutable_today() = D(iso);
    for (const auto& [name, channel] : channels_) {
      v1::ClockState state;
      grpc::Status s =
          v1::AdminService::NewStub(channel)->SetClock(Call(testing::kOperations).get(), req, &state);
      ASSERT_TRUE(s.ok()) << name << ": " << s.error_message();
    }
  }

  // Remembers a value that must never be in a log.
  const std::string& Secret(const std::string& value) {
    secrets_.insert(value);
    return value;
  }

  v1::EnrollmentRecord Worker(const std::string& record_id, const std::string& name,
                              const std::string& id_number, const std::string& phone,
                              const std::string& industry = "FOOD_DELIVERY") {
    v1::EnrollmentRecord r;
    r.set_platform_record_id(record_id);
    r.set_name(name);
    r.set_id_number(Secret(id_number));
    r.set_phone(Secret(phone));
    r.set_industry(industry);
    return r;
  }

  std::vector<v1::EnrollmentResult> Submit(const std::string& token,
                                           const std::vector<v1::EnrollmentRecord>& records) {
    v1::SubmitEnrollmentsRequest req;
    for (const auto& r : records) *req.add_records() = r;
    v1::SubmitEnrollmentsResponse resp;
    grpc::Status s = enrollments_->SubmitEnrollments(Call(token).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {resp.results().begin(), resp.results().end()};
  }

  v1::ClaimApplication App(const std::string& claim_id, const std::string& id_number,
                           v1::Benefit benefit, const std::string& card) {
    v1::ClaimApplication a;
    a.set_claim_id(claim_id);
    a.set_id_number(Secret(id_number));
    a.set_site("浦东新区");
    a.mutable_facts()->set_benefit(benefit);
    a.mutable_facts()->set_claimant(v1::CLAIMANT_WORKER);
    a.mutable_payee_card()->set_kind(v1::CARD_KIND_UNION_MEMBER_CARD);
    a.mutable_payee_card()->set_card_number(Secret(card));
    a.mutable_payee_card()->set_holder_name("赵六");
    return a;
  }

  grpc::Status File(const v1::ClaimApplication& app, v1::FileClaimResponse* resp) {
    v1::FileClaimRequest req;
    *req.mutable_application() = app;
    return claims_->FileClaim(Call(testing::kHall).get(), req, resp);
  }

  std::vector<v1::Payout> Payouts() {
    v1::ListPayoutsRequest req;
    v1::ListPayoutsResponse resp;
    grpc::Status s = payouts_->ListPayouts(Call(testing::kFinance).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {resp.payouts().begin(), resp.payouts().end()};
  }
  v1::PayoutStatus PayoutStatusOf(const std::string& claim_id) {
    for (const v1::Payout& p : Payouts()) {
      if (p.claim_id() == claim_id) return p.status();
    }
    return v1::PAYOUT_STATUS_UNSPECIFIED;
  }

  testing::TestDir dir_;
  std::unique_ptr<testing::FakeProcess> bank_, sms_;
  std::vector<std::unique_ptr<testing::LoggedProcess>> processes_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
  std::unique_ptr<v1::EnrollmentService::Stub> enrollments_;
  std::unique_ptr<v1::ClaimsService::Stub> claims_;
  std::unique_ptr<v1::PayoutService::Stub> payouts_;
  std::unique_ptr<v1::NotificationService::Stub> messages_;
  std::set<std::string> secrets_;
};

TEST_F(PiiLogsTest, NoIdNumberPhoneOrCardNumberInAnyServiceLog) {
  // The workers. Distinct digits, so a 6-digit run of one is not a timestamp.
  const std::string w1 = IdNumber("19870623", 417), w2 = IdNumber("19910914", 538),
                    w3 = IdNumber("19850302", 629), w4 = IdNumber("19930718", 741),
                    w5 = IdNumber("19890411", 852), w6 = IdNumber("19920527", 963),
                    w7 = IdNumber("19860819", 374);
  const std::string phone1 = "13957284613", phone2 = "15863927401", phone3 = "18729461035",
                    phone5 = "17746358291", phone6 = "15539172846", phone7 = "13685247193",
                    new_phone2 = "18946273518";
  std::string bad_id = w4.substr(0, 17) + (w4.back() == '7' ? "8" : "7");  // wrong check char
  Secret(bad_id);
  const std::string bad_phone = Secret("23957284619");  // no such mobile prefix

  // Platforms: their payout accounts and contact phones are personal data too.
  for (const auto& [id, account, phone] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"P01", testing::LuhnCard("621700394857261"), "13817364925"},
           {"P02", testing::LuhnCard("621700481936572"), "13928475136"}}) {
    v1::RegisterPlatformRequest req;
    req.mutable_platform()->set_platform_id(id);
    req.mutable_platform()->set_name(absl::StrCat("平台", id));
    req.mutable_platform()->set_payout_account(Secret(account));
    req.mutable_platform()->set_contact_name("联系人");
    req.mutable_platform()->set_contact_phone(Secret(phone));
    v1::RegisterPlatformResponse resp;
    grpc::Status s = v1::AdminService::NewStub(channels_["enrollment"])
                         ->RegisterPlatform(Call(testing::kOperations).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // Enrollments in March: concentrated, covered from 2022-04-01.
  std::vector<v1::EnrollmentResult> got =
      Submit(testing::kP01, {Worker("r1", "张三", w1, phone1), Worker("r2", "李四", w2, phone2),
                             Worker("r3", "赵六", w3, phone3), Worker("r4", "钱七", bad_id, "13684729153"),
                             Worker("r5", "孙八", w5, bad_phone),
                             Worker("r6", "周九", w6, phone6, "OTHER")});
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(got[0].status(), v1::ENROLLMENT_STATUS_ACCEPTED);
  EXPECT_EQ(got[3].status(), v1::ENROLLMENT_STATUS_REJECTED);  // INVALID_ID_NUMBER
  EXPECT_EQ(got[4].status(), v1::ENROLLMENT_STATUS_REJECTED);  // INVALID_PHONE
  EXPECT_EQ(got[5].status(), v1::ENROLLMENT_STATUS_PENDING_REVIEW);
  // A retry, and the same worker from another platform (first platform wins).
  Submit(testing::kP01, {Worker("r1", "张三", w1, phone1)});
  std::vector<v1::EnrollmentResult> dup = Submit(testing::kP02, {Worker("q1", "张三", w1, phone5)});
  ASSERT_EQ(dup.size(), 1u);
  EXPECT_EQ(dup[0].status(), v1::ENROLLMENT_STATUS_REJECTED);
  // A whole batch refused (too many records is not the point; a record
  // without a record id is): the error names the field.
  {
    v1::SubmitEnrollmentsRequest req;
    v1::EnrollmentRecord* r = req.add_records();
    *r = Worker("", "吴十", w7, phone7);
    v1::SubmitEnrollmentsResponse resp;
    enrollments_->SubmitEnrollments(Call(testing::kP01).get(), req, &resp);
  }
  // The review.
  {
    v1::DecideReviewRequest req;
    req.set_enrollment_id(got[5].enrollment_id());
    req.set_approve(true);
    v1::DecideReviewResponse resp;
    grpc::Status s = enrollments_->DecideReview(Call(testing::kReviewer).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
  // Phone changes: a bad one (echoed in the error), then a good one.
  for (const std::string& phone : {bad_phone, Secret(new_phone2)}) {
    v1::ChangeContactPhoneRequest req;
    req.set_id_number(w2);
    req.set_plan_year(2022);
    req.set_new_phone(phone);
    v1::ChangeContactPhoneResponse resp;
    enrollments_->ChangeContactPhone(Call(testing::kP01).get(), req, &resp);
  }
  // Lookups with a good and a bad ID number.
  for (const std::string& id : {w1, bad_id, std::string("31010119870623X41Z")}) {
    Secret(id);
    v1::GetEnrollmentRequest req;
    req.set_id_number(id);
    v1::GetEnrollmentResponse resp;
    enrollments_->GetEnrollment(Call(testing::kHall).get(), req, &resp);
  }
  // A platform's CSV through `mutualctl enroll`, with broken rows.
  {
    const std::filesystem::path csv = dir_.path() / "P01-2022-03.csv";
    std::ofstream(csv) << "记录编号,姓名,身份证号,手机号,行业\n"
                       << "c1,吴十," << w7 << "," << phone7 << ",FOOD_DELIVERY\n"
                       << "c2,郑一," << bad_id << ",13596284731,FOOD_DELIVERY\n"
                       << "c3,王二," << IdNumber("19880101", 286) << "," << bad_phone << ",COURIER\n"
                       << "c4,冯三," << IdNumber("19880101", 397) << "\n"
                       << "c5,陈四,310101198801013,13596284731,FOOD_DELIVERY,extra\n";
    for (const std::string& s : {IdNumber("19880101", 286), IdNumber("19880101", 397),
                                 std::string("310101198801013"), std::string("13596284731")}) {
      Secret(s);
    }
    const std::filesystem::path token = dir_.path() / "p01.token";
    std::ofstream(token) << testing::kP01 << "\n";
    const std::string cmd =
        absl::StrCat(MUTUALCTL_BINARY, " enroll --server ", processes_[0]->address(),
                     " --token-file ", token.string(), " --out ", (dir_.path() / "result.csv").string(),
                     " ", csv.string(), " >", (dir_.path() / "enroll.out").string(), " 2>&1");
    ASSERT_EQ(processes_[0]->name(), "enrollment");
    (void)std::system(cmd.c_str());
    ASSERT_TRUE(std::filesystem::exists(dir_.path() / "result.csv"))
        << testing::ReadAll(dir_.path() / "enroll.out");
  }

  // Claims in May: approved, denied, investigated; bad inputs echoed back.
  ASSERT_NO_FATAL_FAILURE(SetDay("2022-05-20"));
  const std::string card1 = testing::LuhnCard("622202394857162"),
                    card2 = testing::LuhnCard("622202583946271");
  // A card the bank refuses (ending 0000: ACCOUNT_CLOSED) that passes Luhn.
  std::string closed;
  for (int n = 100; n <= 999 && closed.empty(); ++n) {
    std::string c = testing::LuhnCard(absl::StrCat("622202739", n, "000"));
    if (absl::EndsWith(c, "0000")) closed = c;
  }
  ASSERT_FALSE(closed.empty());
  const std::string card4 = testing::LuhnCard("622202619384725");
  v1::FileClaimResponse filed;
  v1::ClaimApplication approved = App("C-H1", w1, v1::BENEFIT_HOSPITAL_ALLOWANCE, card1);
  approved.mutable_facts()->set_cause(v1::CAUSE_ILLNESS);
  approved.mutable_facts()->set_hospital(v1::HOSPITAL_KIND_DESIGNATED_HOSPITAL);
  *approved.mutable_facts()->mutable_admission() = D("2022-05-01");
  *approved.mutable_facts()->mutable_discharge() = D("2022-05-11");
  grpc::Status s = File(approved, &filed);
  ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << processes_[1]->StderrTail();
  EXPECT_EQ(filed.claim().status(), v1::CLAIM_STATUS_APPROVED);

  v1::ClaimApplication denied = App("C-H2", w2, v1::BENEFIT_HOSPITAL_ALLOWANCE, card2);
  denied.mutable_facts()->set_cause(v1::CAUSE_ILLNESS);
  denied.mutable_facts()->set_hospital(v1::HOSPITAL_KIND_DESIGNATED_HOSPITAL);
  *denied.mutable_facts()->mutable_admission() = D("2022-05-11");
  *denied.mutable_facts()->mutable_discharge() = D("2022-05-01");
  s = File(denied, &filed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(filed.claim().status(), v1::CLAIM_STATUS_DENIED);

  v1::ClaimApplication investigated = App("C-D3", w3, v1::BENEFIT_ACCIDENTAL_DISABILITY, closed);
  investigated.mutable_facts()->set_accident_id("A-1");
  *investigated.mutable_facts()->mutable_accident_on() = D("2022-04-20");
  *investigated.mutable_facts()->mutable_assessed_on() = D("2022-05-15");
  investigated.mutable_facts()->set_grade(8);
  investigated.mutable_facts()->set_in_shanghai(true);
  s = File(investigated, &filed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(filed.claim().status(), v1::CLAIM_STATUS_INVESTIGATING);

  // Bad card (Luhn), bad ID number, a card on a claim of an unknown worker.
  v1::ClaimApplication bad_card = App("C-X1", w1, v1::BENEFIT_HOSPITAL_ALLOWANCE,
                                      card1.substr(0, 15) + (card1.back() == '9' ? "0" : "9"));
  bad_card.mutable_facts()->set_cause(v1::CAUSE_ILLNESS);
  EXPECT_FALSE(File(bad_card, &filed).ok());
  EXPECT_FALSE(File(App("C-X2", bad_id, v1::BENEFIT_HOSPITAL_ALLOWANCE, card2), &filed).ok());
  {
    v1::GetEntitlementsRequest req;
    req.set_id_number(w1);
    req.set_plan_year(2022);
    v1::GetEntitlementsResponse resp;
    claims_->GetEntitlements(Call(testing::kHall).get(), req, &resp);
    req.set_id_number(bad_id);
    claims_->GetEntitlements(Call(testing::kHall).get(), req, &resp);
  }
  {
    v1::DecideInvestigationRequest req;
    req.set_claim_id("C-D3");
    req.set_approve(true);
    req.set_reason("核实无误");
    v1::DecideInvestigationResponse resp;
    s = claims_->DecideInvestigation(Call(testing::kInvestigator).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.claim().status(), v1::CLAIM_STATUS_APPROVED);
  }

  // Payouts: C-H1 to card1 (confirmed), C-D3 to a closed card (failed), then
  // re-issued by finance to card4 (a bad corrected card first).
  ASSERT_TRUE(WaitFor([&] { return PayoutStatusOf("C-H1") == v1::PAYOUT_STATUS_CONFIRMED; }, kWait))
      << processes_[2]->StderrTail();
  ASSERT_TRUE(WaitFor([&] { return PayoutStatusOf("C-D3") == v1::PAYOUT_STATUS_FAILED; }, kWait))
      << processes_[2]->StderrTail();
  for (const std::string& card : {card4.substr(0, 15) + (card4.back() == '9' ? "0" : "9"), card4}) {
    // Re-issued only once the last issue failed (the bad card fails at the bank).
    EXPECT_TRUE(WaitFor([&] { return PayoutStatusOf("C-D3") == v1::PAYOUT_STATUS_FAILED; }, kWait));
    v1::ReissuePayoutRequest req;
    req.set_claim_id("C-D3");
    req.mutable_corrected_card()->set_kind(v1::CARD_KIND_SHANGHAI_DEBIT_CARD);
    req.mutable_corrected_card()->set_card_number(Secret(card));
    req.mutable_corrected_card()->set_holder_name("赵六");
    req.set_reason("卡已注销，改用借记卡");
    v1::ReissuePayoutResponse resp;
    payouts_->ReissuePayout(Call(testing::kFinance).get(), req, &resp);
  }
  EXPECT_TRUE(WaitFor([&] { return PayoutStatusOf("C-D3") == v1::PAYOUT_STATUS_CONFIRMED; }, kWait))
      << processes_[2]->StderrTail();
  {
    v1::GetPayoutRequest req;
    req.set_claim_id("C-H1");
    v1::GetPayoutResponse resp;
    payouts_->GetPayout(Call(testing::kHall).get(), req, &resp);
  }

  // SMS: the payment notice to the worker's phone reaches the gateway.
  EXPECT_TRUE(WaitFor([&] {
    return testing::ReadAll(dir_.path() / "sms.jsonl").find(phone1) != std::string::npos;
  }, kWait)) << processes_[3]->StderrTail();
  {
    v1::ListMessagesRequest req;
    req.set_id_number(w1);
    v1::ListMessagesResponse resp;
    messages_->ListMessages(Call(testing::kHall).get(), req, &resp);
    req.set_id_number(bad_id);
    messages_->ListMessages(Call(testing::kHall).get(), req, &resp);
  }

  // Stop the services (their last lines flushed), then read every line.
  for (auto& p : processes_) EXPECT_EQ(p->Stop(), 0) << p->name();

  int lines = 0, json_lines = 0;
  for (auto& p : processes_) {
    for (const auto& [stream, path] : {std::pair{"stdout", p->stdout_path()},
                                       std::pair{"stderr", p->stderr_path()}}) {
      int n = 0;
      for (absl::string_view line : absl::StrSplit(testing::ReadAll(path), '\n', absl::SkipEmpty())) {
        ++n;
        ++lines;
        const std::string where = absl::StrCat(p->name(), " ", stream, " line ", n, ": ", line);
        if (std::string(stream) == "stdout" && absl::StartsWith(line, "listening 127.0.0.1:")) {
          // The one non-JSON line: where the service listens.
        } else {
          absl::StatusOr<json::Value> v = json::Parse(std::string_view(line.data(), line.size()));
          EXPECT_TRUE(v.ok() && v->is_object()) << "not a JSON log line: " << where;
          if (v.ok()) ++json_lines;
        }
        const std::string text(line);
        for (const std::string& secret : secrets_) {
          EXPECT_EQ(text.find(secret), std::string::npos) << "holds " << secret << ": " << where;
        }
        for (const std::string& run : DigitRuns(text)) {
          for (const std::string& secret : secrets_) {
            for (size_t i = 0; i + 6 <= run.size(); ++i) {
              EXPECT_EQ(secret.find(run.substr(i, 6)), std::string::npos)
                  << "6 digits of " << secret << " (" << run.substr(i, 6) << "): " << where;
            }
          }
        }
      }
      EXPECT_GT(n, 0) << p->name() << " wrote nothing to " << stream;
    }
  }
  std::printf("pii: %d log lines read (%d JSON), %zu personal values checked\n", lines, json_lines,
              secrets_.size());
}

}  // namespace
}  // namespace mutualaid
