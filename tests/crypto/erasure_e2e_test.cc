// A worker's personal data from enrollment to a card payout, then erased, end
// to end: the four services (real binaries, sealing on, real broker), the fake
// bank and the fake SMS gateway (label kafka).
//
// Before the erasure the worker is paid once, to the right card, and told by
// SMS; yet no topic (requests, events, dead letters, keys) and no service's
// RocksDB holds the ID number, the phone, the card number or the name in
// clear. A second claim's payout is waiting for the bank when operations
// erase the worker: it is not paid to anybody (it fails, naming the erasure).
// After the erasure no reader, and not `mutualctl history --unmask`, can show
// the ID number, phone or card any more; the amounts, dates and decisions stay;
// every service still replays to its live digest and `audit verify` is clean.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "fake_process.h"
#include "mutualaid/events/convert.h"
#include "mutualaid/http/client.h"
#include "mutualaid/json/json.h"
#include "mutualaid/kafka/partition_reader.h"
#include "mutualaid/kafka/topics.h"
#include "mutualaid/plan/calendar.h"
#include "mutualaid/v1/admin.grpc.pb.h"
#include "mutualaid/v1/claims.grpc.pb.h"
#include "mutualaid/v1/enrollment.grpc.pb.h"
#include "mutualaid/v1/notification.grpc.pb.h"
#include "mutualaid/v1/payout.grpc.pb.h"
#include "raw_bytes.h"
#include "security_harness.h"

namespace mutualaid {
namespace {

using testing::Call;

// Waits for `done` up to 90 s (the services decide and pay in well under that).
template <typename F>
bool WaitFor(F done) {
  return testing::WaitFor(done, absl::Seconds(90));
}

const std::string kName = "欧阳明远";
const std::string kPhone = "13962847153";

v1::Date D(const std::string& iso) {
  absl::CivilDay d;
  EXPECT_TRUE(plan::ParseIsoDate(iso, &d)) << iso;
  return events::ToProto(d);
}

class ErasureE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ledger_ = dir_.path() / "ledger.jsonl";
    StartBank(0);
    sms_ = std::make_unique<testing::FakeProcess>(
        FAKESMS_BINARY, std::vector<std::string>{"--port", "0", "--log", (dir_.path() / "sms.jsonl").string()});
    ASSERT_TRUE(sms_->started()) << "fakesms did not start";
    const std::map<std::string, std::string> binaries = {
        {"enrollment", ENROLLMENT_BINARY}, {"claims", CLAIMS_BINARY},
        {"payout", PAYOUT_BINARY}, {"notification", NOTIFICATION_BINARY}};
    for (const auto& [name, extra] :
         testing::FourServiceConfigs(bank_port_, sms_->port(), "2022-03-15")) {
      auto p = std::make_unique<testing::LoggedProcess>(binaries.at(name), name, dir_.path(),
                                                        dir_.ServiceConfig(name, extra));
      std::string error;
      ASSERT_TRUE(p->Start(&error)) << error;
      channels_[name] = grpc::CreateChannel(p->address(), grpc::InsecureChannelCredentials());
      processes_[name] = std::move(p);
    }
    enrollments_ = v1::EnrollmentService::NewStub(channels_["enrollment"]);
    claims_ = v1::ClaimsService::NewStub(channels_["claims"]);
    payouts_ = v1::PayoutService::NewStub(channels_["payout"]);
    messages_ = v1::NotificationService::NewStub(channels_["notification"]);
    std::ofstream(dir_.path() / "ops.token") << testing::kOperations << "\n";
  }

  // The fake bank on `port` (0: any), its ledger kept across restarts.
  void StartBank(int port) {
    bank_ = std::make_unique<testing::FakeProcess>(
        FAKEBANK_BINARY, std::vector<std::string>{"--port", std::to_string(port), "--ledger",
                                                  ledger_.string(), "--today", "2022-05-20"});
    ASSERT_TRUE(bank_->started()) << "fakebank did not start";
    bank_port_ = bank_->port();
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

  v1::ClaimApplication Hospital(const std::string& claim_id, const std::string& admission,
                                const std::string& discharge) {
    v1::ClaimApplication a;
    a.set_claim_id(claim_id);
    a.set_id_number(id_);
    a.set_site("服务大厅");
    a.mutable_facts()->set_benefit(v1::BENEFIT_HOSPITAL_ALLOWANCE);
    a.mutable_facts()->set_claimant(v1::CLAIMANT_WORKER);
    a.mutable_facts()->set_cause(v1::CAUSE_ILLNESS);
    a.mutable_facts()->set_hospital(v1::HOSPITAL_KIND_DESIGNATED_HOSPITAL);
    *a.mutable_facts()->mutable_admission() = D(admission);
    *a.mutable_facts()->mutable_discharge() = D(discharge);
    a.mutable_payee_card()->set_kind(v1::CARD_KIND_UNION_MEMBER_CARD);
    a.mutable_payee_card()->set_card_number(card_);
    a.mutable_payee_card()->set_holder_name(kName);
    return a;
  }

  std::optional<v1::Payout> PayoutOf(const std::string& claim_id) {
    v1::GetPayoutRequest req;
    req.set_claim_id(claim_id);
    v1::GetPayoutResponse resp;
    grpc::Status s = payouts_->GetPayout(Call(testing::kFinance).get(), req, &resp);
    if (!s.ok()) return std::nullopt;
    return resp.payout();
  }
  v1::PayoutStatus StatusOf(const std::string& claim_id) {
    auto p = PayoutOf(claim_id);
    return p.has_value() ? p->status() : v1::PAYOUT_STATUS_UNSPECIFIED;
  }

  // The fake bank's credits (each transfer it confirmed, once) for `claim_id`,
  // as "amount_fen account" strings.
  std::vector<std::string> Credits(const std::string& claim_id) {
    std::vector<std::string> out;
    absl::StatusOr<http::Response> r = bank_->Client().Get("/v1/ledger");
    EXPECT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
    if (!r.ok()) return out;
    absl::StatusOr<json::Value> credits = json::Parse(r->body);
    EXPECT_TRUE(credits.ok() && credits->is_array()) << r->body;
    if (!credits.ok()) return out;
    for (const json::Value& c : credits->items()) {
      if (json::GetString(c, "idempotency_key").value_or("") != claim_id) continue;
      out.push_back(absl::StrCat(json::GetInt64(c, "amount_fen").value_or(-1), " ",
                                 json::GetString(c, "payee_account").value_or("")));
    }
    return out;
  }

  // The personal values found in clear in `bytes`, by name.
  std::vector<std::string> Leaks(const std::string& bytes) const {
    std::vector<std::string> found;
    for (const auto& [what, value] : {std::pair{"ID number", id_}, std::pair{"phone", kPhone},
                                      std::pair{"card number", card_}, std::pair{"name", kName}}) {
      if (bytes.find(value) != std::string::npos) found.push_back(what);
    }
    return found;
  }

  std::string Mutualctl(const std::string& args) const {
    return absl::StrCat(MUTUALCTL_BINARY, " ", args, " --topic-prefix ", dir_.prefix());
  }

  testing::TestDir dir_;
  std::filesystem::path ledger_;
  int bank_port_ = 0;
  std::unique_ptr<testing::FakeProcess> bank_, sms_;
  std::map<std::string, std::unique_ptr<testing::LoggedProcess>> processes_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
  std::unique_ptr<v1::EnrollmentService::Stub> enrollments_;
  std::unique_ptr<v1::ClaimsService::Stub> claims_;
  std::unique_ptr<v1::PayoutService::Stub> payouts_;
  std::unique_ptr<v1::NotificationService::Stub> messages_;
  const std::string id_ = testing::IdNumber("19880517", 613);
  const std::string card_ = testing::LuhnCard("622202718394561");
};

TEST_F(ErasureE2eTest, PaidToTheCardThenErasedStillReplaysAndAudits) {
  {
    v1::RegisterPlatformRequest req;
    req.mutable_platform()->set_platform_id("P01");
    req.mutable_platform()->set_name("平台P01");
    req.mutable_platform()->set_payout_account("6222000000000101");
    req.mutable_platform()->set_contact_name("联系人");
    req.mutable_platform()->set_contact_phone("13817364925");
    v1::RegisterPlatformResponse resp;
    grpc::Status s = v1::AdminService::NewStub(channels_["enrollment"])
                         ->RegisterPlatform(Call(testing::kOperations).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  // Enrolled in March (concentrated): covered from 2022-04-01, no waiting period.
  {
    v1::SubmitEnrollmentsRequest req;
    v1::EnrollmentRecord* r = req.add_records();
    r->set_platform_record_id("w-613");
    r->set_name(kName);
    r->set_id_number(id_);
    r->set_phone(kPhone);
    r->set_industry("FOOD_DELIVERY");
    v1::SubmitEnrollmentsResponse resp;
    grpc::Status s = enrollments_->SubmitEnrollments(Call(testing::kP01).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(resp.results_size(), 1);
    ASSERT_EQ(resp.results(0).status(), v1::ENROLLMENT_STATUS_ACCEPTED) << resp.DebugString();
  }
  ASSERT_NO_FATAL_FAILURE(SetDay("2022-05-20"));

  // C-1: ten inpatient days, 3 000.00 yuan to the worker's card.
  {
    v1::FileClaimRequest req;
    *req.mutable_application() = Hospital("C-1", "2022-05-01", "2022-05-11");
    v1::FileClaimResponse resp;
    grpc::Status s = claims_->FileClaim(Call(testing::kHall).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << processes_["claims"]->StderrTail();
    ASSERT_EQ(resp.claim().status(), v1::CLAIM_STATUS_APPROVED) << resp.DebugString();
    EXPECT_EQ(resp.claim().amount_fen(), 300000);
  }
  ASSERT_TRUE(WaitFor([&] { return StatusOf("C-1") == v1::PAYOUT_STATUS_CONFIRMED; }))
      << processes_["payout"]->StderrTail();
  // Paid once, to the card the hall was given (the bank is the one place it
  // is in clear); the finance role sees the account, opened for it.
  EXPECT_EQ(Credits("C-1"), std::vector<std::string>{absl::StrCat("300000 ", card_)});
  EXPECT_EQ(PayoutOf("C-1")->payee_account(), card_);
  EXPECT_EQ(PayoutOf("C-1")->account_last4(), card_.substr(card_.size() - 4));
  // The worker is told: the payment notice reaches the gateway.
  ASSERT_TRUE(WaitFor([&] {
    v1::ListMessagesRequest req;
    req.set_id_number(id_);
    v1::ListMessagesResponse resp;
    if (!messages_->ListMessages(Call(testing::kHall).get(), req, &resp).ok()) return false;
    for (const v1::SmsMessage& m : resp.messages()) {
      if (m.template_() == v1::SMS_TEMPLATE_PAYOUT_CONFIRMED &&
          (m.status() == v1::SMS_STATUS_SENT || m.status() == v1::SMS_STATUS_DELIVERED)) {
        return true;
      }
    }
    return false;
  })) << processes_["notification"]->StderrTail();
  EXPECT_TRUE(absl::StrContains(testing::ReadAll(dir_.path() / "sms.jsonl"), kPhone));

  // Nothing in clear in any topic or any service's store.
  for (absl::string_view topic : kafka::kAllTopics) {
    const std::string name = absl::StrCat(dir_.prefix(), topic);
    EXPECT_EQ(Leaks(testing::TopicBytes(name)), std::vector<std::string>{}) << name;
  }
  const std::string keys = testing::TopicBytes(dir_.prefix() + std::string("mutualaid.keys"));
  EXPECT_FALSE(keys.empty());
  EXPECT_EQ(Leaks(keys), std::vector<std::string>{});
  for (const char* service : {"enrollment", "claims", "payout", "notification"}) {
    const std::string store = testing::DirBytes(dir_.path() / absl::StrCat("store-", service));
    EXPECT_FALSE(store.empty()) << service;
    EXPECT_EQ(Leaks(store), std::vector<std::string>{}) << "store of " << service;
  }

  // C-2 while the bank is down: approved, its payout waits to be sent.
  bank_->Kill();
  {
    v1::FileClaimRequest req;
    *req.mutable_application() = Hospital("C-2", "2022-05-12", "2022-05-15");
    v1::FileClaimResponse resp;
    grpc::Status s = claims_->FileClaim(Call(testing::kHall).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(resp.claim().status(), v1::CLAIM_STATUS_APPROVED) << resp.DebugString();
    EXPECT_EQ(resp.claim().amount_fen(), 90000);
  }
  ASSERT_TRUE(WaitFor([&] {
    auto p = PayoutOf("C-2");
    return p.has_value() && p->attempts() >= 1;
  })) << processes_["payout"]->StderrTail();
  const size_t sms_before = testing::ReadAll(dir_.path() / "sms.jsonl").size();

  // Operations erase the worker.
  {
    v1::EraseWorkerDataRequest req;
    req.set_id_number(id_);
    v1::EraseWorkerDataResponse resp;
    grpc::Status s = enrollments_->EraseWorkerData(Call(testing::kOperations).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_GE(resp.keys_erased(), 1);
  }
  // The bank comes back: C-2 is paid to nobody; it fails, saying why.
  ASSERT_NO_FATAL_FAILURE(StartBank(bank_port_));
  // The payout's retry backoff runs on the business clock: the next day it
  // tries again.
  ASSERT_NO_FATAL_FAILURE(SetDay("2022-05-21"));
  ASSERT_TRUE(WaitFor([&] { return StatusOf("C-2") == v1::PAYOUT_STATUS_FAILED; }))
      << PayoutOf("C-2")->DebugString() << processes_["payout"]->StderrTail();
  EXPECT_TRUE(absl::StrContains(PayoutOf("C-2")->failure_reason(), "ERASED"))
      << PayoutOf("C-2")->DebugString();
  EXPECT_EQ(Credits("C-2"), std::vector<std::string>{});
  EXPECT_EQ(Credits("C-1"), std::vector<std::string>{absl::StrCat("300000 ", card_)});  // not paid again

  // No reader shows the ID number, phone or card any more; amounts stay.
  {
    v1::GetEnrollmentRequest req;
    req.set_id_number(id_);
    v1::GetEnrollmentResponse resp;
    grpc::Status s = enrollments_->GetEnrollment(Call(testing::kHall).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(resp.enrollments_size(), 1);
    EXPECT_EQ(Leaks(resp.SerializeAsString()), std::vector<std::string>{}) << resp.DebugString();
    EXPECT_EQ(resp.enrollments(0).person().id_number(), "erased");
  }
  for (const char* claim_id : {"C-1", "C-2"}) {
    v1::GetClaimRequest req;
    req.set_claim_id(claim_id);
    v1::GetClaimResponse resp;
    grpc::Status s = claims_->GetClaim(Call(testing::kHall).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << claim_id << ": " << s.error_message();
    EXPECT_EQ(Leaks(resp.SerializeAsString()), std::vector<std::string>{}) << resp.DebugString();
    EXPECT_EQ(resp.claim().status() == v1::CLAIM_STATUS_APPROVED ||
                  resp.claim().status() == v1::CLAIM_STATUS_PAID,
              true)
        << resp.DebugString();
  }
  for (const char* claim_id : {"C-1", "C-2"}) {
    auto p = PayoutOf(claim_id);
    ASSERT_TRUE(p.has_value()) << claim_id;
    EXPECT_EQ(Leaks(p->SerializeAsString()), std::vector<std::string>{}) << p->DebugString();
  }
  EXPECT_EQ(PayoutOf("C-1")->amount_fen(), 300000);
  EXPECT_EQ(PayoutOf("C-1")->status(), v1::PAYOUT_STATUS_CONFIRMED);
  {
    v1::ListMessagesRequest req;
    req.set_id_number(id_);
    v1::ListMessagesResponse resp;
    grpc::Status s = messages_->ListMessages(Call(testing::kHall).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_GE(resp.messages_size(), 2);  // cover started, payout confirmed
    EXPECT_EQ(Leaks(resp.SerializeAsString()), std::vector<std::string>{}) << resp.DebugString();
  }
  // `history --unmask` has the whole timeline, but nothing to unmask.
  const std::string common = absl::StrCat(" --secret-file ", (dir_.path() / "secret.key").string(),
                                          " --master-key-file ", (dir_.path() / "master.key").string());
  testing::ShellResult history = testing::Shell(Mutualctl(absl::StrCat("history --worker ", id_, " --unmask", common)));
  ASSERT_EQ(history.code, 0) << history.out;
  // (Its heading echoes the ID number the operator typed; the rest is the log.)
  const std::string timeline = history.out.substr(history.out.find("records\n"));
  EXPECT_EQ(Leaks(timeline), std::vector<std::string>{}) << history.out;
  EXPECT_TRUE(absl::StrContains(history.out, "erased")) << history.out;
  EXPECT_TRUE(absl::StrContains(history.out, "C-1")) << history.out;
  EXPECT_TRUE(absl::StrContains(history.out, "C-2")) << history.out;

  // The year still replays, service by service, to the live digest, and the
  // audit (hash chains, decisions re-run from their recorded inputs) is clean.
  const std::string token = absl::StrCat(" --token-file ", (dir_.path() / "ops.token").string());
  for (const char* service : {"enrollment", "claims", "payout", "notification"}) {
    testing::ShellResult replay = testing::Shell(Mutualctl(absl::StrCat("replay --service ", service, " --server ",
                                                  processes_[service]->address(), token)));
    EXPECT_EQ(replay.code, 0) << service << ": " << replay.out;
    EXPECT_TRUE(absl::StrContains(replay.out, "EQUAL")) << service << ": " << replay.out;
  }
  testing::ShellResult audit = testing::Shell(Mutualctl("audit verify"));
  EXPECT_EQ(audit.code, 0) << audit.out;
  EXPECT_TRUE(absl::StrContains(audit.out, "audit: OK")) << audit.out;

  // No SMS went to the erased worker's phone after the erasure: once the
  // notification service has applied every event (its replay above is
  // EQUAL), each of the worker's messages ends sent or failed, and a notice
  // queued after the erasure (C-2's, if any) cannot be sent.
  ASSERT_TRUE(WaitFor([&] {
    v1::ListMessagesRequest req;
    req.set_id_number(id_);
    v1::ListMessagesResponse resp;
    if (!messages_->ListMessages(Call(testing::kHall).get(), req, &resp).ok()) return false;
    for (const v1::SmsMessage& m : resp.messages()) {
      if (m.status() == v1::SMS_STATUS_QUEUED) return false;
    }
    return true;
  })) << processes_["notification"]->StderrTail();
  const std::string sms_log = testing::ReadAll(dir_.path() / "sms.jsonl");
  EXPECT_EQ(sms_log.substr(sms_before).find(kPhone), std::string::npos) << sms_log.substr(sms_before);

  for (auto& [name, p] : processes_) EXPECT_EQ(p->Stop(), 0) << name;
}

}  // namespace
}  // namespace mutualaid
