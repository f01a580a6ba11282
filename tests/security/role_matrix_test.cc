// Every RPC × every role, against the four real service binaries.
//
// The RPCs are not listed by hand: each running binary is asked (server
// reflection) which services it serves, and each service's methods come from
// the generated proto descriptors. An RPC or a service without a row in
// kExpected below fails the test, so a new RPC cannot ship without someone
// deciding who may call it; a row for an RPC nobody serves fails it too.
//
// Each RPC is called with every role's token, with no token and with an
// unknown token. Allowed roles must get past auth (any status but
// PERMISSION_DENIED / UNAUTHENTICATED); every other role must get
// PERMISSION_DENIED, and no token / an unknown token UNAUTHENTICATED. The
// denied calls go first, with requests that would change something if they
// were let through, and must change nothing: no record on any requests topic,
// the clocks and the platform registry as they were.
//
// Who may do what (the plan's roles, §二 and §六 of the plan; see
// libs/server/include/mutualaid/server/auth.h):
//   platform      uploads its workers (§二), sees its own enrollments and
//                 statement, files death claims as claimant (§六(一)) and sees them
//   reviewer      the handling department's review of flagged enrollments (审核)
//   hall/district the clerks who receive claims (服务大厅 / 16 district centres)
//   investigator  调查核实 before payment: decides the investigations
//   finance       payouts: full account numbers, re-issue, reconciliation
//   operations    runs the system: registry, clock, digests, SMS resends, reads
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/unknown_field_set.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mutualaid/events/convert.h"
#include "mutualaid/kafka/admin.h"
#include "mutualaid/kafka/config.h"
#include "mutualaid/kafka/topics.h"
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

constexpr char kAnyRole[] = "*";  // every authenticated role

// The expected table: "Service/Method" -> the roles allowed to call it.
const std::map<std::string, std::set<std::string>>& Expected() {
  static const auto* table = new std::map<std::string, std::set<std::string>>{
      // Enrollment (§二): platforms upload; the handling department reviews.
      {"mutualaid.v1.EnrollmentService/StreamEnrollments", {"platform"}},
      {"mutualaid.v1.EnrollmentService/SubmitEnrollments", {"platform"}},
      {"mutualaid.v1.EnrollmentService/GetEnrollment",
       {"platform", "reviewer", "hall", "district", "operations"}},
      {"mutualaid.v1.EnrollmentService/ListEnrollments", {"platform", "reviewer", "operations"}},
      {"mutualaid.v1.EnrollmentService/GetMonthlyStatement", {"platform", "finance", "operations"}},
      {"mutualaid.v1.EnrollmentService/ChangeContactPhone", {"platform"}},
      {"mutualaid.v1.EnrollmentService/ListReviewQueue", {"reviewer", "operations"}},
      {"mutualaid.v1.EnrollmentService/DecideReview", {"reviewer"}},
      // PIPL erasure of a worker's personal data (libs/crypto).
      {"mutualaid.v1.EnrollmentService/EraseWorkerData", {"operations"}},
      // Claims (§六): filed at the hall or a district centre (a platform for a
      // death); the investigator decides investigations.
      {"mutualaid.v1.ClaimsService/FileClaim", {"hall", "district", "platform"}},
      {"mutualaid.v1.ClaimsService/GetClaim",
       {"hall", "district", "investigator", "finance", "operations", "platform"}},
      {"mutualaid.v1.ClaimsService/ListClaims",
       {"hall", "district", "investigator", "finance", "operations"}},
      {"mutualaid.v1.ClaimsService/GetEntitlements", {"hall", "district", "investigator", "operations"}},
      {"mutualaid.v1.ClaimsService/ListInvestigations",
       {"investigator", "operations", "hall", "district"}},
      {"mutualaid.v1.ClaimsService/DecideInvestigation", {"investigator"}},
      {"mutualaid.v1.ClaimsService/ListDueClaims", {"finance", "operations", "hall", "investigator"}},
      // Payout: finance pays and re-issues; operations reads, reconciles and
      // imports the bank's result files; the hall answers a worker's question.
      {"mutualaid.v1.PayoutService/GetPayout", {"finance", "operations", "hall"}},
      {"mutualaid.v1.PayoutService/ListPayouts", {"finance", "operations", "hall"}},
      {"mutualaid.v1.PayoutService/ReissuePayout", {"finance"}},
      {"mutualaid.v1.PayoutService/GetReconciliationReport", {"finance", "operations"}},
      {"mutualaid.v1.PayoutService/ListAtRisk", {"finance", "operations", "hall"}},
      {"mutualaid.v1.PayoutService/ImportBankResults", {"finance", "operations"}},
      // Notification: the clerks see a worker's SMS; operations resends.
      {"mutualaid.v1.NotificationService/ListMessages", {"operations", "hall", "district"}},
      {"mutualaid.v1.NotificationService/ResendMessage", {"operations"}},
      // Admin, on every service.
      {"mutualaid.v1.AdminService/RegisterPlatform", {"operations"}},
      {"mutualaid.v1.AdminService/ListPlatforms", {"operations", "reviewer", "hall", "finance"}},
      {"mutualaid.v1.AdminService/GetClock", {kAnyRole}},
      {"mutualaid.v1.AdminService/SetClock", {"operations"}},
      {"mutualaid.v1.AdminService/AdvanceClock", {"operations"}},
      {"mutualaid.v1.AdminService/GetStateDigest", {"operations"}},
  };
  return *table;
}

// Every role, with the token kTokens gives it.
const std::vector<std::pair<std::string, std::string>>& RoleTokens() {
  static const auto* roles = new std::vector<std::pair<std::string, std::string>>{
      {"platform", testing::kP01},         {"reviewer", testing::kReviewer},
      {"hall", testing::kHall},            {"district", testing::kDistrict},
      {"investigator", testing::kInvestigator}, {"finance", testing::kFinance},
      {"operations", testing::kOperations},
  };
  return *roles;
}

// The generated descriptors of every proto file with a service (referencing
// them links them into this binary's generated pool).
void LinkDescriptors() {
  for (const google::protobuf::FileDescriptor* f :
       {v1::RegisterPlatformRequest::descriptor()->file(), v1::FileClaimRequest::descriptor()->file(),
        v1::SubmitEnrollmentsRequest::descriptor()->file(),
        v1::ResendMessageRequest::descriptor()->file(), v1::ReissuePayoutRequest::descriptor()->file()}) {
    ASSERT_NE(f, nullptr);
  }
}

// The services a server serves, by server reflection (grpc.* ones left out).
std::vector<std::string> ServedServices(const std::shared_ptr<grpc::Channel>& channel) {
  // ServerReflectionRequest{list_services: ""}: field 7, length 0.
  const std::string request("\x3a\x00", 2);
  std::vector<std::string> responses;
  grpc::Status s = testing::RawCall(
      channel, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", "", &request,
      &responses);
  EXPECT_TRUE(s.ok()) << s.error_message();
  std::vector<std::string> out;
  for (const std::string& bytes : responses) {
    google::protobuf::UnknownFieldSet response;
    EXPECT_TRUE(response.ParseFromString(bytes));
    for (int i = 0; i < response.field_count(); ++i) {
      if (response.field(i).number() != 6) continue;  // list_services_response
      google::protobuf::UnknownFieldSet list;
      EXPECT_TRUE(list.ParseFromString(response.field(i).length_delimited()));
      for (int j = 0; j < list.field_count(); ++j) {
        if (list.field(j).number() != 1) continue;  // service
        google::protobuf::UnknownFieldSet service;
        EXPECT_TRUE(service.ParseFromString(list.field(j).length_delimited()));
        for (int k = 0; k < service.field_count(); ++k) {
          if (service.field(k).number() != 1) continue;  // name
          const std::string& name = service.field(k).length_delimited();
          if (name.rfind("grpc.", 0) != 0) out.push_back(name);
        }
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

v1::Date D(const std::string& iso) {
  absl::CivilDay d;
  EXPECT_TRUE(plan::ParseIsoDate(iso, &d)) << iso;
  return events::ToProto(d);
}

class RoleMatrixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LinkDescriptors();
    const std::string day = "clock.start = 2022-05-10\n";
    const std::map<std::string, std::pair<std::string, std::string>> services = {
        {"enrollment", {ENROLLMENT_BINARY, day}},
        {"claims", {CLAIMS_BINARY, day + "claims.barrier_wait = 1s\nclaims.decision_timeout = 10s"}},
        // No bank and no SMS gateway are needed: nothing gets paid here.
        {"payout", {PAYOUT_BINARY, day + "bank.url = http://127.0.0.1:9\n"}},
        {"notification", {NOTIFICATION_BINARY, day + "sms.gateway_url = http://127.0.0.1:9\n"}},
    };
    for (const auto& [name, spec] : services) {
      auto p = std::make_unique<testing::LoggedProcess>(spec.first, name, dir_.path(),
                                                        dir_.ServiceConfig(name, spec.second));
      std::string error;
      ASSERT_TRUE(p->Start(&error)) << error;
      channels_[name] = grpc::CreateChannel(p->address(), grpc::InsecureChannelCredentials());
      processes_.push_back(std::move(p));
    }
  }

  // A request for `method` that would change something if it were let
  // through (the denied calls must not); an empty one for the rest.
  std::string Request(const google::protobuf::MethodDescriptor* method) const {
    const std::string name = method->name();
    google::protobuf::Message* m = google::protobuf::MessageFactory::generated_factory()
                                       ->GetPrototype(method->input_type())
                                       ->New();
    std::unique_ptr<google::protobuf::Message> owned(m);
    if (name == "SubmitEnrollments" || name == "StreamEnrollments") {
      v1::EnrollmentRecord r;
      r.set_platform_record_id("matrix-1");
      r.set_name("张三");
      r.set_id_number(IdNumber("19900101", 901));
      r.set_phone("13800138901");
      r.set_industry("FOOD_DELIVERY");
      if (name == "StreamEnrollments") return r.SerializeAsString();
      v1::SubmitEnrollmentsRequest req;
      *req.add_records() = r;
      return req.SerializeAsString();
    }
    if (name == "ChangeContactPhone") {
      v1::ChangeContactPhoneRequest req;
      req.set_id_number(enrolled_);
      req.set_plan_year(2022);
      req.set_new_phone("13900139999");
      return req.SerializeAsString();
    }
    if (name == "FileClaim") {
      // A death claim with the platform as claimant: any filer may file it.
      v1::FileClaimRequest req;
      v1::ClaimApplication* a = req.mutable_application();
      a->set_claim_id("matrix-claim-1");
      a->set_id_number(enrolled_);
      a->set_site("浦东新区");
      a->mutable_facts()->set_benefit(v1::BENEFIT_ILLNESS_DEATH);
      a->mutable_facts()->set_claimant(v1::CLAIMANT_PLATFORM);
      *a->mutable_facts()->mutable_died_on() = D("2022-05-01");
      a->mutable_facts()->set_in_shanghai(true);
      return req.SerializeAsString();
    }
    if (name == "SetClock") {
      v1::SetClockRequest req;
      *req.mutable_today() = D("2023-01-01");
      return req.SerializeAsString();
    }
    if (name == "AdvanceClock") {
      v1::AdvanceClockRequest req;
      req.set_days(30);
      return req.SerializeAsString();
    }
    if (name == "RegisterPlatform") {
      v1::RegisterPlatformRequest req;
      req.mutable_platform()->set_platform_id("P09");
      req.mutable_platform()->set_name("平台P09");
      req.mutable_platform()->set_payout_account("6222000000P09");
      return req.SerializeAsString();
    }
    if (name == "DecideReview") {
      v1::DecideReviewRequest req;
      req.set_enrollment_id(pending_review_);
      req.set_approve(true);
      return req.SerializeAsString();
    }
    if (name == "EraseWorkerData") {
      v1::EraseWorkerDataRequest req;
      req.set_id_number(enrolled_);
      return req.SerializeAsString();
    }
    if (name == "ResendMessage") {
      v1::ResendMessageRequest req;
      req.set_message_id("matrix-message-1");
      return req.SerializeAsString();
    }
    if (name == "ReissuePayout") {
      v1::ReissuePayoutRequest req;
      req.set_claim_id("matrix-claim-1");
      req.set_reason("matrix");
      return req.SerializeAsString();
    }
    if (name == "DecideInvestigation") {
      v1::DecideInvestigationRequest req;
      req.set_claim_id("matrix-claim-1");
      req.set_approve(true);
      return req.SerializeAsString();
    }
    return owned->SerializeAsString();
  }

  // What a denied call must not change: records on every requests topic, the
  // clocks, the platforms.
  std::string Observable() {
    std::string out;
    auto client = kafka::ClientConfigFromEnv("role-matrix");
    EXPECT_TRUE(client.ok()) << client.status();
    auto admin = kafka::Admin::Create(*client);
    EXPECT_TRUE(admin.ok()) << admin.status();
    for (absl::string_view topic : {kafka::kEnrollmentRequests, kafka::kClaimsRequests,
                                    kafka::kPayoutRequests, kafka::kNotificationRequests}) {
      for (int32_t p = 0; p < 3; ++p) {
        auto w = (*admin)->QueryWatermarks(dir_.prefix() + std::string(topic), p);
        EXPECT_TRUE(w.ok()) << topic << " " << w.status();
        absl::StrAppend(&out, topic, "/", p, "=", w.ok() ? w->high : -1, " ");
      }
    }
    for (const auto& [name, channel] : channels_) {
      v1::ClockState clock;
      EXPECT_TRUE(v1::AdminService::NewStub(channel)
                      ->GetClock(Call(testing::kOperations).get(), {}, &clock)
                      .ok());
      absl::StrAppend(&out, name, " clock ", clock.now().seconds(), " ");
    }
    v1::ListPlatformsResponse platforms;
    EXPECT_TRUE(v1::AdminService::NewStub(channels_["enrollment"])
                    ->ListPlatforms(Call(testing::kOperations).get(), {}, &platforms)
                    .ok());
    absl::StrAppend(&out, "platforms ", platforms.ShortDebugString());
    // The enrolled worker as the reviewer sees it (not erased, phone unchanged).
    v1::GetEnrollmentRequest get;
    get.set_id_number(enrolled_);
    v1::GetEnrollmentResponse got;
    EXPECT_TRUE(v1::EnrollmentService::NewStub(channels_["enrollment"])
                    ->GetEnrollment(Call(testing::kReviewer).get(), get, &got)
                    .ok());
    absl::StrAppend(&out, " enrollment ", got.ShortDebugString());
    return out;
  }

  testing::TestDir dir_;
  std::vector<std::unique_ptr<testing::LoggedProcess>> processes_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
  std::string enrolled_ = IdNumber("19900101", 900);
  std::string pending_review_;
};

TEST_F(RoleMatrixTest, EveryRpcEveryRole) {
  // Something for the denied calls to change if they were let through: a
  // platform, an enrolled worker, an enrollment waiting for review.
  {
    v1::RegisterPlatformRequest req;
    req.mutable_platform()->set_platform_id("P01");
    req.mutable_platform()->set_name("平台P01");
    req.mutable_platform()->set_payout_account("6222000000P01");
    v1::RegisterPlatformResponse resp;
    grpc::Status s = v1::AdminService::NewStub(channels_["enrollment"])
                         ->RegisterPlatform(Call(testing::kOperations).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    v1::SubmitEnrollmentsRequest submit;
    v1::EnrollmentRecord* r = submit.add_records();
    r->set_platform_record_id("setup-1");
    r->set_name("李四");
    r->set_id_number(enrolled_);
    r->set_phone("13800138900");
    r->set_industry("FOOD_DELIVERY");
    r = submit.add_records();
    r->set_platform_record_id("setup-2");
    r->set_name("王五");
    r->set_id_number(IdNumber("19900101", 902));
    r->set_phone("13800138902");
    r->set_industry("OTHER");  // a review flag
    v1::SubmitEnrollmentsResponse submitted;
    s = v1::EnrollmentService::NewStub(channels_["enrollment"])
            ->SubmitEnrollments(Call(testing::kP01).get(), submit, &submitted);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(submitted.results_size(), 2);
    ASSERT_EQ(submitted.results(0).status(), v1::ENROLLMENT_STATUS_ACCEPTED);
    ASSERT_EQ(submitted.results(1).status(), v1::ENROLLMENT_STATUS_PENDING_REVIEW);
    pending_review_ = submitted.results(1).enrollment_id();
  }

  // What each binary serves, from reflection and the descriptors.
  struct Rpc {
    std::string service_binary;
    std::string key;  // "pkg.Service/Method"
    const google::protobuf::MethodDescriptor* method;
  };
  std::vector<Rpc> rpcs;
  std::set<std::string> served;
  std::string serving;
  for (const auto& [name, channel] : channels_) {
    std::vector<std::string> services = ServedServices(channel);
    absl::StrAppend(&serving, " ", name, ": ", absl::StrJoin(services, ", "), ";");
    EXPECT_NE(std::find(services.begin(), services.end(), "mutualaid.v1.AdminService"), services.end())
        << name << " serves no AdminService";
    EXPECT_GE(services.size(), 2u) << name << " serves " << absl::StrJoin(services, ", ");
    for (const std::string& service_name : services) {
      const google::protobuf::ServiceDescriptor* service =
          google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service_name);
      ASSERT_NE(service, nullptr) << name << " serves " << service_name
                                  << ", whose descriptor this test does not link: add it";
      for (int i = 0; i < service->method_count(); ++i) {
        const std::string key = absl::StrCat(service_name, "/", service->method(i)->name());
        served.insert(key);
        rpcs.push_back({name, key, service->method(i)});
      }
    }
  }
  for (const Rpc& rpc : rpcs) {
    EXPECT_TRUE(Expected().count(rpc.key))
        << rpc.key << " (served by " << rpc.service_binary
        << ") has no row in the expected table: decide which roles may call it and add it";
  }
  for (const auto& [key, roles] : Expected()) {
    EXPECT_TRUE(served.count(key)) << key << " is in the table but no service serves it";
  }
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(served.size(), Expected().size());

  auto call = [&](const Rpc& rpc, const std::string& token) {
    const std::string request = Request(rpc.method);
    const std::string method = absl::StrCat("/", rpc.key);
    return testing::RawCall(channels_[rpc.service_binary], method, token, &request);
  };
  auto allowed = [&](const Rpc& rpc, const std::string& role) {
    const std::set<std::string>& roles = Expected().at(rpc.key);
    return roles.count(kAnyRole) > 0 || roles.count(role) > 0;
  };

  // 1. Denied: every role not in the row, no token, an unknown token. Nothing
  // may change.
  const std::string before = Observable();
  int denied_calls = 0;
  for (const Rpc& rpc : rpcs) {
    for (const auto& [role, token] : RoleTokens()) {
      if (allowed(rpc, role)) continue;
      grpc::Status s = call(rpc, token);
      ++denied_calls;
      EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
          << rpc.service_binary << " " << rpc.key << " as " << role << ": " << s.error_code() << " "
          << s.error_message();
    }
    for (const std::string token : {"", "not-a-known-token-000000000"}) {
      grpc::Status s = call(rpc, token);
      ++denied_calls;
      EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << rpc.service_binary << " " << rpc.key << " with token '" << token
          << "': " << s.error_code() << " " << s.error_message();
    }
  }
  EXPECT_EQ(Observable(), before) << "a denied call changed something";

  // 2. Allowed: every role in the row gets past auth.
  int allowed_calls = 0;
  for (const Rpc& rpc : rpcs) {
    for (const auto& [role, token] : RoleTokens()) {
      if (!allowed(rpc, role)) continue;
      grpc::Status s = call(rpc, token);
      ++allowed_calls;
      EXPECT_NE(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
          << rpc.service_binary << " " << rpc.key << " as " << role << ": " << s.error_message();
      EXPECT_NE(s.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << rpc.service_binary << " " << rpc.key << " as " << role << ": " << s.error_message();
    }
  }
  std::printf("role matrix: %zu RPCs (%zu distinct) on 4 services, %d denied calls, %d allowed "
              "calls;%s\n",
              rpcs.size(), served.size(), denied_calls, allowed_calls, serving.c_str());
  for (const auto& p : processes_) {
    EXPECT_TRUE(p->Running()) << p->name() << " died:\n" << p->StderrTail();
  }
}

}  // namespace
}  // namespace mutualaid
