// The claims and payout services with sealing on, against the real broker
// (label kafka): a card claim filed at the hall for an enrolled worker is
// approved and paid once through a real fakebank to the right card, while the
// claimant's ID number and card number never appear in clear in the claims
// requests and events topics, the payout events topic, or the claims and
// payout RocksDB directories; finance reads the card opened, the hall only
// its last four digits; replaying either service equals its live digest.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "absl/strings/str_cat.h"
#include "mutualaid/events/convert.h"
#include "mutualaid/kafka/config.h"
#include "mutualaid/kafka/partition_reader.h"
#include "mutualaid/kafka/topics.h"
#include "mutualaid/v1/admin.grpc.pb.h"
#include "mutualaid/v1/claims.grpc.pb.h"
#include "mutualaid/v1/enrollment.grpc.pb.h"
#include "mutualaid/v1/payout.grpc.pb.h"
#include "tests/gateways/fake_process.h"
#include "tests/crypto/raw_bytes.h"
#include "tests/services/service_harness.h"

namespace mutualaid {
namespace {

using testing::Call;

const std::string kHolder = "李四海";

void SetDay(v1::AdminService::Stub& admin, const std::string& iso) {
  v1::SetClockRequest req;
  absl::CivilDay d;
  ASSERT_TRUE(absl::ParseCivilTime(iso, &d)) << iso;
  *req.mutable_today() = events::ToProto(d);
  v1::ClockState resp;
  grpc::Status s = admin.SetClock(Call(testing::kOperations).get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
}

using testing::WaitFor;

TEST(ClaimsSealing, CardClaimSealedPaidOnceToTheRightCardAndReplays) {
  testing::ServiceProcess enrollment(ENROLLMENT_BINARY, "enrollment", "clock.start = 2022-03-15");
  ASSERT_NO_FATAL_FAILURE(enrollment.Start());
  testing::ServiceProcess claims(CLAIMS_BINARY, "claims", enrollment,
                                 "clock.start = 2022-03-15\n"
                                 "claims.investigation_threshold_fen = 100000000");
  ASSERT_NO_FATAL_FAILURE(claims.Start());
  const std::string ledger = (enrollment.dir() / "ledger.jsonl").string();
  testing::FakeProcess bank(FAKEBANK_BINARY,
                            {"--port", "0", "--ledger", ledger, "--today", "2022-05-21"});
  ASSERT_TRUE(bank.started()) << "fakebank did not start";
  ASSERT_GT(bank.port(), 0);
  // The payout's day is after the filing's (its outbox sends what is due).
  testing::ServiceProcess payout(PAYOUT_BINARY, "payout", enrollment,
                                 absl::StrCat("clock.start = 2022-05-21\n"
                                              "bank.url = http://127.0.0.1:",
                                              bank.port(), "\npayout.tick_interval = 100ms"));
  ASSERT_NO_FATAL_FAILURE(payout.Start());

  auto enrollments = v1::EnrollmentService::NewStub(enrollment.channel());
  auto enrollment_admin = v1::AdminService::NewStub(enrollment.channel());
  auto claims_stub = v1::ClaimsService::NewStub(claims.channel());
  auto claims_admin = v1::AdminService::NewStub(claims.channel());
  auto payouts = v1::PayoutService::NewStub(payout.channel());
  auto payout_admin = v1::AdminService::NewStub(payout.channel());
  {
    v1::RegisterPlatformRequest req;
    req.mutable_platform()->set_platform_id("P01");
    req.mutable_platform()->set_name("平台P01");
    req.mutable_platform()->set_payout_account("6222000000P01");
    v1::RegisterPlatformResponse resp;
    grpc::Status s = enrollment_admin->RegisterPlatform(Call(testing::kOperations).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << enrollment.Log();
  }
  const std::string id = testing::IdNumber("19870606", 81);
  const std::string card = testing::LuhnCard("622202020077881");
  {
    v1::SubmitEnrollmentsRequest req;
    v1::EnrollmentRecord* r = req.add_records();
    r->set_platform_record_id("w-81");
    r->set_name(kHolder);
    r->set_id_number(id);
    r->set_phone("13600136081");
    r->set_industry("FOOD_DELIVERY");
    v1::SubmitEnrollmentsResponse resp;
    grpc::Status s = enrollments->SubmitEnrollments(Call(testing::kP01).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << enrollment.Log();
    ASSERT_EQ(resp.results_size(), 1);
    ASSERT_EQ(resp.results(0).status(), v1::ENROLLMENT_STATUS_ACCEPTED) << resp.DebugString();
  }

  // A hospital allowance claim paid to the worker's card.
  ASSERT_NO_FATAL_FAILURE(SetDay(*enrollment_admin, "2022-05-20"));
  ASSERT_NO_FATAL_FAILURE(SetDay(*claims_admin, "2022-05-20"));
  v1::FileClaimRequest file;
  v1::ClaimApplication* app = file.mutable_application();
  app->set_claim_id("SEAL1");
  app->set_id_number(id);
  app->set_site("浦东新区");
  app->mutable_facts()->set_benefit(v1::BENEFIT_HOSPITAL_ALLOWANCE);
  app->mutable_facts()->set_claimant(v1::CLAIMANT_WORKER);
  app->mutable_facts()->set_cause(v1::CAUSE_ILLNESS);
  app->mutable_facts()->set_hospital(v1::HOSPITAL_KIND_DESIGNATED_HOSPITAL);
  *app->mutable_facts()->mutable_admission() = events::ToProto(absl::CivilDay(2022, 5, 1));
  *app->mutable_facts()->mutable_discharge() = events::ToProto(absl::CivilDay(2022, 5, 11));
  app->mutable_payee_card()->set_kind(v1::CARD_KIND_UNION_MEMBER_CARD);
  app->mutable_payee_card()->set_card_number(card);
  app->mutable_payee_card()->set_holder_name(kHolder);
  v1::FileClaimResponse filed;
  grpc::Status s = claims_stub->FileClaim(Call(testing::kHall).get(), file, &filed);
  ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << claims.Log();
  ASSERT_EQ(filed.claim().status(), v1::CLAIM_STATUS_APPROVED) << filed.DebugString();
  const int64_t amount = filed.claim().amount_fen();
  ASSERT_GT(amount, 0);

  // Paid: the payout confirmed, the claim marked paid.
  v1::GetPayoutRequest get;
  get.set_claim_id("SEAL1");
  v1::GetPayoutResponse got;
  ASSERT_TRUE(WaitFor(
      [&] {
        return payouts->GetPayout(Call(testing::kFinance, absl::Seconds(5)).get(), get, &got).ok() &&
               got.payout().status() == v1::PAYOUT_STATUS_CONFIRMED;
      },
      absl::Seconds(90)))
      << got.DebugString() << "\n" << payout.Log();
  // Finance sees the card opened; the hall its last four digits only.
  EXPECT_EQ(got.payout().payee_account(), card);
  EXPECT_EQ(got.payout().payee_name(), kHolder);
  EXPECT_FALSE(got.payout().has_sealed_account());
  EXPECT_EQ(got.payout().account_last4(), card.substr(card.size() - 4));
  EXPECT_EQ(got.payout().card_kind(), v1::CARD_KIND_UNION_MEMBER_CARD);
  v1::GetPayoutResponse hall;
  ASSERT_TRUE(payouts->GetPayout(Call(testing::kHall).get(), get, &hall).ok());
  EXPECT_EQ(hall.payout().payee_account(), "");
  EXPECT_FALSE(hall.payout().has_sealed_account());
  EXPECT_EQ(hall.payout().account_last4(), card.substr(card.size() - 4));
  v1::GetClaimRequest get_claim;
  get_claim.set_claim_id("SEAL1");
  v1::GetClaimResponse claim;
  ASSERT_TRUE(WaitFor(
      [&] {
        return claims_stub->GetClaim(Call(testing::kHall, absl::Seconds(5)).get(), get_claim, &claim).ok() &&
               claim.claim().status() == v1::CLAIM_STATUS_PAID;
      },
      absl::Seconds(60)))
      << claim.DebugString() << "\n" << claims.Log();

  // The bank got the right card, once, with the claim's amount.
  {
    http::Client c("127.0.0.1", bank.port());
    auto r = c.Get("/v1/ledger");
    ASSERT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
    json::Value v = testing::ParseOrDie(r->body);
    ASSERT_EQ(v.items().size(), 1u) << r->body;
    EXPECT_EQ(testing::Str(v.items()[0], "idempotency_key"), "SEAL1");
    EXPECT_EQ(testing::Str(v.items()[0], "payee_account"), card);
    EXPECT_EQ(v.items()[0].Find("amount_fen")->Int64().value_or(-1), amount);
  }

  // Nothing in clear in the topics or the stores.
  const std::string prefix = enrollment.prefix();
  const std::string birth = id.substr(6, 8);
  for (absl::string_view topic : {kafka::kClaimsRequests, kafka::kClaimsEvents, kafka::kPayoutEvents}) {
    const std::string bytes = testing::TopicBytes(prefix + std::string(topic), 3);
    EXPECT_NE(bytes.find("SEAL1"), std::string::npos) << topic << " does not hold the claim";
    EXPECT_EQ(bytes.find(id), std::string::npos) << topic << " holds the ID number";
    EXPECT_EQ(bytes.find(birth), std::string::npos) << topic << " holds the birth date";
    EXPECT_EQ(bytes.find(card), std::string::npos) << topic << " holds the card number";
    EXPECT_EQ(bytes.find(kHolder), std::string::npos) << topic << " holds the card holder";
  }
  for (const char* store : {"store-claims", "store-payout"}) {
    const std::string bytes = testing::DirBytes(enrollment.dir() / store);
    EXPECT_NE(bytes.find("SEAL1"), std::string::npos) << store << " does not hold the claim";
    EXPECT_EQ(bytes.find(id), std::string::npos) << store << " holds the ID number";
    EXPECT_EQ(bytes.find(card), std::string::npos) << store << " holds the card number";
    EXPECT_EQ(bytes.find(kHolder), std::string::npos) << store << " holds the card holder";
  }

  // Both services replay to their live digests (Apply never opens).
  const std::string token_file = (enrollment.dir() / "ops.token").string();
  std::ofstream(token_file) << testing::kOperations << "\n";
  for (const auto& [service, svc] :
       {std::pair<std::string, testing::ServiceProcess*>{"claims", &claims}, {"payout", &payout}}) {
    testing::ShellResult replay = testing::Shell(absl::StrCat(MUTUALCTL_BINARY, " replay --service ", service,
                                               " --topic-prefix ", prefix, " --server ",
                                               svc->address(), " --token-file ", token_file));
    EXPECT_EQ(replay.code, 0) << service << ": " << replay.out;
    EXPECT_NE(replay.out.find("EQUAL"), std::string::npos) << service << ": " << replay.out;
  }
  // mutualctl prints the sealed claim and payout without personal data or a crash.
  const std::string hall_file = (enrollment.dir() / "hall.token").string();
  std::ofstream(hall_file) << testing::kHall << "\n";
  testing::ShellResult shown = testing::Shell(absl::StrCat(MUTUALCTL_BINARY, " payout get --claim SEAL1 --server ",
                                            payout.address(), " --token-file ", hall_file));
  EXPECT_EQ(shown.code, 0) << shown.out;
  EXPECT_NE(shown.out.find(card.substr(card.size() - 4)), std::string::npos) << shown.out;
  EXPECT_EQ(shown.out.find(card), std::string::npos) << shown.out;

  EXPECT_EQ(payout.Stop(), 0);
  EXPECT_EQ(claims.Stop(), 0);
  EXPECT_EQ(enrollment.Stop(), 0);
}

}  // namespace
}  // namespace mutualaid
