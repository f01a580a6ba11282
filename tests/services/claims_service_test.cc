// The claims service against the real broker, with the enrollment service
// beside it on the same topics: every benefit approved, denied and capped
// through the service path, the per-accident cap, liability end after death,
// filing deadlines, investigations, idempotent retries, roles, a claim racing
// its own enrollment (the input barrier), a SIGKILL mid-run, and the same
// decisions as `mutualctl simulate` on the scenario files.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "mutualaid/core/clock.h"
#include "mutualaid/core/worker_key.h"
#include "mutualaid/events/convert.h"
#include "mutualaid/events/envelope.h"
#include "mutualaid/json/json.h"
#include "mutualaid/kafka/config.h"
#include "mutualaid/kafka/partition_reader.h"
#include "mutualaid/kafka/producer.h"
#include "mutualaid/kafka/topics.h"
#include "mutualaid/plan/calendar.h"
#include "mutualaid/v1/admin.grpc.pb.h"
#include "mutualaid/v1/claims.grpc.pb.h"
#include "mutualaid/v1/enrollment.grpc.pb.h"
#include "service_harness.h"

namespace mutualaid {
namespace {

using testing::Call;
using testing::IdNumber;

constexpr char kDistrictPudong[] = "district-token-00000001";  // 浦东新区 in kTokens
constexpr char kSecret[] = "a-test-deployment-secret-of-48-bytes-0123456789";

absl::CivilDay Day(const std::string& iso) {
  absl::CivilDay d;
  EXPECT_TRUE(plan::ParseIsoDate(iso, &d)) << iso;
  return d;
}
v1::Date D(const std::string& iso) { return events::ToProto(Day(iso)); }

// A card number with a valid Luhn check digit.
std::string Card(const std::string& first15) {
  int sum = 0;
  bool twice = true;
  for (auto it = first15.rbegin(); it != first15.rend(); ++it, twice = !twice) {
    int d = *it - '0';
    if (twice) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return first15 + std::to_string((10 - sum % 10) % 10);
}

std::string Reasons(const v1::ClaimDecision& c) {
  std::vector<std::string> out;
  for (int code : c.decision().reasons()) out.push_back(events::ReasonName(static_cast<v1::ReasonCode>(code)));
  return absl::StrJoin(out, ",");
}

std::string Status(const v1::ClaimDecision& c) {
  return v1::ClaimStatus_Name(c.status()).substr(std::string("CLAIM_STATUS_").size());
}

v1::ClaimApplication App(const std::string& claim_id, const std::string& id_number,
                         v1::Benefit benefit, const std::string& site = "浦东新区") {
  v1::ClaimApplication a;
  a.set_claim_id(claim_id);
  a.set_id_number(id_number);
  a.set_site(site);
  a.mutable_facts()->set_benefit(benefit);
  const bool death = benefit == v1::BENEFIT_ILLNESS_DEATH || benefit == v1::BENEFIT_ACCIDENTAL_DEATH;
  a.mutable_facts()->set_claimant(death ? v1::CLAIMANT_PLATFORM : v1::CLAIMANT_WORKER);
  if (!death) {
    a.mutable_payee_card()->set_kind(v1::CARD_KIND_UNION_MEMBER_CARD);
    a.mutable_payee_card()->set_card_number(Card("622202020011223"));
    a.mutable_payee_card()->set_holder_name("张三");
  }
  return a;
}

v1::ClaimApplication Hospital(const std::string& id, const std::string& who, const std::string& adm,
                              const std::string& dis, v1::Cause cause = v1::CAUSE_ILLNESS,
                              v1::HospitalKind h = v1::HOSPITAL_KIND_DESIGNATED_HOSPITAL) {
  v1::ClaimApplication a = App(id, who, v1::BENEFIT_HOSPITAL_ALLOWANCE);
  a.mutable_facts()->set_cause(cause);
  a.mutable_facts()->set_hospital(h);
  *a.mutable_facts()->mutable_admission() = D(adm);
  *a.mutable_facts()->mutable_discharge() = D(dis);
  return a;
}

v1::ClaimApplication Critical(const std::string& id, const std::string& who, const std::string& on,
                              v1::CriticalIllnessCategory cat = v1::CRITICAL_ILLNESS_CATEGORY_MALIGNANT_TUMOR,
                              v1::HospitalKind h = v1::HOSPITAL_KIND_DESIGNATED_HOSPITAL,
                              bool hospitalized = true) {
  v1::ClaimApplication a = App(id, who, v1::BENEFIT_CRITICAL_ILLNESS);
  a.mutable_facts()->set_category(cat);
  a.mutable_facts()->set_hospital(h);
  *a.mutable_facts()->mutable_diagnosed_on() = D(on);
  a.mutable_facts()->set_hospitalized(hospitalized);
  return a;
}

v1::ClaimApplication Covid(const std::string& id, const std::string& who, const std::string& on,
                           v1::HospitalKind h = v1::HOSPITAL_KIND_DESIGNATED_HOSPITAL) {
  v1::ClaimApplication a = App(id, who, v1::BENEFIT_COVID19);
  a.mutable_facts()->set_hospital(h);
  *a.mutable_facts()->mutable_diagnosed_on() = D(on);
  return a;
}

v1::ClaimApplication Subsidy(const std::string& id, const std::string& who, const std::string& adm,
                             const std::string& dis, int64_t out_of_pocket_fen,
                             v1::CriticalIllnessCategory cat = v1::CRITICAL_ILLNESS_CATEGORY_MALIGNANT_TUMOR,
                             v1::HospitalKind h = v1::HOSPITAL_KIND_DESIGNATED_HOSPITAL) {
  v1::ClaimApplication a = App(id, who, v1::BENEFIT_CRITICAL_ILLNESS_SUBSIDY);
  a.mutable_facts()->set_category(cat);
  a.mutable_facts()->set_hospital(h);
  *a.mutable_facts()->mutable_admission() = D(adm);
  *a.mutable_facts()->mutable_discharge() = D(dis);
  a.mutable_facts()->set_out_of_pocket_fen(out_of_pocket_fen);
  return a;
}

v1::ClaimApplication IllnessDeath(const std::string& id, const std::string& who,
                                  const std::string& died, bool in_shanghai = true) {
  v1::ClaimApplication a = App(id, who, v1::BENEFIT_ILLNESS_DEATH);
  *a.mutable_facts()->mutable_died_on() = D(died);
  a.mutable_facts()->set_in_shanghai(in_shanghai);
  return a;
}

v1::ClaimApplication Accident(const std::string& id, const std::string& who, v1::Benefit benefit,
                              const std::string& accident_id, const std::string& on,
                              bool in_shanghai = true) {
  v1::ClaimApplication a = App(id, who, benefit);
  a.mutable_facts()->set_accident_id(accident_id);
  *a.mutable_facts()->mutable_accident_on() = D(on);
  a.mutable_facts()->set_in_shanghai(in_shanghai);
  return a;
}
v1::ClaimApplication AccidentalDeath(const std::string& id, const std::string& who,
                                     const std::string& accident_id, const std::string& on,
                                     const std::string& died, bool in_shanghai = true) {
  v1::ClaimApplication a = Accident(id, who, v1::BENEFIT_ACCIDENTAL_DEATH, accident_id, on, in_shanghai);
  *a.mutable_facts()->mutable_died_on() = D(died);
  return a;
}
v1::ClaimApplication Disability(const std::string& id, const std::string& who,
                                const std::string& accident_id, const std::string& on,
                                const std::string& assessed, int grade, bool in_shanghai = true) {
  v1::ClaimApplication a = Accident(id, who, v1::BENEFIT_ACCIDENTAL_DISABILITY, accident_id, on, in_shanghai);
  *a.mutable_facts()->mutable_assessed_on() = D(assessed);
  a.mutable_facts()->set_grade(grade);
  return a;
}
v1::ClaimApplication Consolation(const std::string& id, const std::string& who,
                                 const std::string& accident_id, const std::string& on,
                                 bool meets, bool in_shanghai = true) {
  v1::ClaimApplication a = Accident(id, who, v1::BENEFIT_ACCIDENT_CONSOLATION, accident_id, on, in_shanghai);
  a.mutable_facts()->set_meets_criteria(meets);
  return a;
}

v1::EnrollmentRecord Worker(const std::string& record_id, const std::string& id_number,
                            const std::string& phone) {
  v1::EnrollmentRecord r;
  r.set_platform_record_id(record_id);
  r.set_name("张三");
  r.set_id_number(id_number);
  r.set_phone(phone);
  r.set_industry("FOOD_DELIVERY");
  return r;
}

class ClaimsServiceTest : public ::testing::Test {
 protected:
  // The default claims config sends only deaths and disabilities to
  // investigation (a high amount threshold), so amounts read straight.
  void StartServices(const std::string& claims_extra = "claims.investigation_threshold_fen = 100000000") {
    enrollment_ = std::make_unique<testing::ServiceProcess>(ENROLLMENT_BINARY, "enrollment",
                                                            "clock.start = 2022-03-15");
    ASSERT_NO_FATAL_FAILURE(enrollment_->Start());
    claims_ = std::make_unique<testing::ServiceProcess>(
        CLAIMS_BINARY, "claims", *enrollment_, "clock.start = 2022-03-15\n" + claims_extra);
    ASSERT_NO_FATAL_FAILURE(claims_->Start());
    Connect();
    for (const char* id : {"P01", "P02"}) {
      v1::RegisterPlatformRequest req;
      req.mutable_platform()->set_platform_id(id);
      req.mutable_platform()->set_name(absl::StrCat("平台", id));
      req.mutable_platform()->set_payout_account(absl::StrCat("6222000000", id));
      v1::RegisterPlatformResponse resp;
      grpc::Status s = enrollment_admin_->RegisterPlatform(Call(testing::kOperations).get(), req, &resp);
      ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << enrollment_->Log();
    }
  }
  void Connect() {
    ConnectEnrollment();
    ConnectClaims();
  }
  void ConnectEnrollment() {
    enrollments_ = v1::EnrollmentService::NewStub(enrollment_->channel());
    enrollment_admin_ = v1::AdminService::NewStub(enrollment_->channel());
  }
  void ConnectClaims() {
    claims_stub_ = v1::ClaimsService::NewStub(claims_->channel());
    claims_admin_ = v1::AdminService::NewStub(claims_->channel());
  }
  void SetDay(const std::string& iso) {
    v1::SetClockRequest req;
    *req.mutable_today() = D(iso);
    v1::ClockState resp;
    for (auto* admin : {enrollment_admin_.get(), claims_admin_.get()}) {
      grpc::Status s = admin->SetClock(Call(testing::kOperations).get(), req, &resp);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
  }
  void SetClaimsDay(const std::string& iso) {
    v1::SetClockRequest req;
    *req.mutable_today() = D(iso);
    v1::ClockState resp;
    grpc::Status s = claims_admin_->SetClock(Call(testing::kOperations).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  v1::EnrollmentResult Enroll(const v1::EnrollmentRecord& record, const std::string& day,
                              const std::string& token = testing::kP01) {
    SetDay(day);
    v1::SubmitEnrollmentsRequest req;
    *req.add_records() = record;
    v1::SubmitEnrollmentsResponse resp;
    grpc::Status s = enrollments_->SubmitEnrollments(Call(token).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message() << "\n" << enrollment_->Log();
    if (resp.results_size() != 1) return {};
    return resp.results(0);
  }
  grpc::Status File(const v1::ClaimApplication& app, const std::string& day,
                    v1::FileClaimResponse* resp, const std::string& token = testing::kHall) {
    SetDay(day);
    v1::FileClaimRequest req;
    *req.mutable_application() = app;
    return claims_stub_->FileClaim(Call(token).get(), req, resp);
  }
  v1::ClaimDecision MustFile(const v1::ClaimApplication& app, const std::string& day,
                             const std::string& token = testing::kHall) {
    v1::FileClaimResponse resp;
    grpc::Status s = File(app, day, &resp, token);
    EXPECT_TRUE(s.ok()) << app.claim_id() << ": " << s.error_message() << "\n" << claims_->Log();
    return resp.claim();
  }
  v1::ClaimDecision Investigate(const std::string& claim_id, bool approve, const std::string& reason,
                                const v1::ClaimFacts* corrected = nullptr) {
    v1::DecideInvestigationRequest req;
    req.set_claim_id(claim_id);
    req.set_approve(approve);
    req.set_reason(reason);
    if (corrected != nullptr) *req.mutable_corrected_facts() = *corrected;
    v1::DecideInvestigationResponse resp;
    grpc::Status s = claims_stub_->DecideInvestigation(Call(testing::kInvestigator).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << claim_id << ": " << s.error_message() << "\n" << claims_->Log();
    return resp.claim();
  }
  v1::GetClaimResponse Get(const std::string& claim_id) {
    v1::GetClaimRequest req;
    req.set_claim_id(claim_id);
    v1::GetClaimResponse resp;
    grpc::Status s = claims_stub_->GetClaim(Call(testing::kHall).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << claim_id << ": " << s.error_message();
    return resp;
  }
  // Every ClaimDecided event in the claims events topic, by claim id.
  std::map<std::string, int> DecidedEvents() {
    std::map<std::string, int> count;
    auto client = kafka::ClientConfigFromEnv("claims-test");
    EXPECT_TRUE(client.ok());
    for (int32_t p = 0; p < 3; ++p) {
      auto reader = kafka::PartitionReader::Open(
          *client, enrollment_->prefix() + std::string(kafka::kClaimsEvents), p, 0);
      EXPECT_TRUE(reader.ok()) << reader.status();
      if (!reader.ok()) continue;
      while (true) {
        auto m = (*reader)->Next();
        EXPECT_TRUE(m.ok()) << m.status();
        if (!m.ok() || !m->has_value()) break;
        v1::Envelope env;
        if (env.ParseFromString((*m)->value) && env.has_claim_decided()) {
          ++count[env.claim_decided().claim().claim_id()];
        }
      }
    }
    return count;
  }

  std::unique_ptr<testing::ServiceProcess> enrollment_;
  std::unique_ptr<testing::ServiceProcess> claims_;
  std::unique_ptr<v1::EnrollmentService::Stub> enrollments_;
  std::unique_ptr<v1::AdminService::Stub> enrollment_admin_;
  std::unique_ptr<v1::ClaimsService::Stub> claims_stub_;
  std::unique_ptr<v1::AdminService::Stub> claims_admin_;
};

// One filing and what the service must answer.
struct Case {
  std::string day;  // received_on
  v1::ClaimApplication app;
  std::string status;   // APPROVED, DENIED, INVESTIGATING
  int64_t amount_fen;
  std::string reasons;  // exactly, in rule order
  bool capped = false;
};

void Check(const v1::ClaimDecision& c, const Case& want) {
  SCOPED_TRACE(want.app.claim_id());
  EXPECT_EQ(c.claim_id(), want.app.claim_id());
  EXPECT_EQ(Status(c), want.status);
  EXPECT_EQ(c.amount_fen(), want.amount_fen);
  EXPECT_EQ(Reasons(c), want.reasons);
  EXPECT_EQ(c.capped(), want.capped);
  EXPECT_FALSE(c.decision().clauses().empty());
  EXPECT_EQ(c.decision().rule_set_version(), "sh-gig-mutual-aid-2022");
  EXPECT_EQ(events::FormatDate(c.received_on()), want.day);
  EXPECT_EQ(events::FormatDate(c.due_by()), plan::FormatIsoDate(Day(want.day) + 90));
}

TEST_F(ClaimsServiceTest, EveryBenefitApprovedDeniedAndCapped) {
  ASSERT_NO_FATAL_FAILURE(StartServices());
  // a: concentrated (covered 2022-04-01..2023-03-31, no waiting periods);
  // b: instant from 2022-06-01 (hospital from 07-01, critical illness from 07-31);
  // c: never enrolled; d, e, f: concentrated, for the accident benefits.
  const std::string a = IdNumber("19900101", 1), b = IdNumber("19900101", 2),
                    c = IdNumber("19900101", 3), d = IdNumber("19900101", 4),
                    e = IdNumber("19900101", 5), f = IdNumber("19900101", 6);
  for (const auto& [id, phone, day] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {a, "13800138001", "2022-03-15"}, {d, "13800138004", "2022-03-15"},
           {e, "13800138005", "2022-03-15"}, {f, "13800138006", "2022-03-15"},
           {b, "13800138002", "2022-05-10"}}) {
    v1::EnrollmentResult r = Enroll(Worker(absl::StrCat("r-", id), id, phone), day);
    ASSERT_EQ(r.status(), v1::ENROLLMENT_STATUS_ACCEPTED) << id;
  }

  const std::vector<Case> cases = {
      // §五(一) hospitalisation allowance: 300 yuan a day, 180 days a plan year.
      {"2022-05-20", Hospital("H1", a, "2022-05-01", "2022-05-11"), "APPROVED", 300000, ""},
      {"2022-06-10", Hospital("H2", a, "2022-06-01", "2022-06-03", v1::CAUSE_ACCIDENT), "DENIED", 0, "NOT_ILLNESS"},
      {"2022-06-10", Hospital("H3", a, "2022-06-01", "2022-06-03", v1::CAUSE_ILLNESS, v1::HOSPITAL_KIND_OTHER_HOSPITAL), "DENIED", 0, "INELIGIBLE_HOSPITAL"},
      {"2022-06-10", Hospital("H4", a, "2022-06-03", "2022-06-01"), "DENIED", 0, "INVALID_DATES"},
      {"2022-06-10", Hospital("H5", a, "2022-05-01", "2022-05-11"), "DENIED", 0, "DUPLICATE_CLAIM"},
      {"2022-06-10", Hospital("H6", a, "2022-05-05", "2022-05-08"), "DENIED", 0, "ALREADY_PAID"},
      {"2023-01-05", Hospital("H7", a, "2022-06-01", "2022-12-31"), "APPROVED", 170 * 30000, "", true},
      {"2023-01-20", Hospital("H8", a, "2023-01-10", "2023-01-12"), "DENIED", 0, "BENEFIT_EXHAUSTED"},
      {"2022-08-10", Hospital("H9", c, "2022-08-01", "2022-08-03"), "DENIED", 0, "NOT_COVERED"},
      {"2022-06-20", Hospital("H10", b, "2022-06-10", "2022-06-12"), "DENIED", 0, "WAITING_PERIOD"},
      {"2025-04-01", Hospital("H11", b, "2022-08-01", "2022-08-03"), "DENIED", 0, "FILING_DEADLINE_PASSED"},
      {"2025-03-31", Hospital("H12", b, "2022-08-01", "2022-08-03"), "APPROVED", 60000, ""},
      // §五(二)1 critical illness: 2 万 once a plan year, first diagnosis.
      {"2022-07-20", Critical("C1", b, "2022-07-15"), "DENIED", 0, "WAITING_PERIOD"},
      {"2022-08-20", Critical("C2", b, "2022-08-10", v1::CRITICAL_ILLNESS_CATEGORY_MALIGNANT_TUMOR, v1::HOSPITAL_KIND_COMMUNITY_HEALTH_CENTER), "DENIED", 0, "INELIGIBLE_HOSPITAL"},
      {"2022-08-20", Critical("C3", b, "2022-08-10", v1::CRITICAL_ILLNESS_CATEGORY_MALIGNANT_TUMOR, v1::HOSPITAL_KIND_DESIGNATED_HOSPITAL, false), "DENIED", 0, "NOT_HOSPITALIZED"},
      {"2022-08-20", Critical("C4", b, "2022-08-10"), "APPROVED", 2000000, ""},
      {"2022-10-20", Critical("C5", b, "2022-10-01", v1::CRITICAL_ILLNESS_CATEGORY_CORONARY_BYPASS), "DENIED", 0, "ALREADY_PAID"},
      // §五(二)2 subsidy: per stay by band, 32 万 a plan year.
      {"2022-10-01", Subsidy("S1", b, "2022-09-01", "2022-09-20", 5000000), "APPROVED", 500000, ""},
      {"2022-10-01", Subsidy("S2", b, "2022-09-21", "2022-09-22", 1999999), "DENIED", 0, "BELOW_THRESHOLD"},
      {"2022-10-01", Subsidy("S3", b, "2022-09-23", "2022-09-24", 5000000, v1::CRITICAL_ILLNESS_CATEGORY_AORTIC_SURGERY), "DENIED", 0, "NO_CRITICAL_ILLNESS_BENEFIT"},
      {"2022-10-01", Subsidy("S4", b, "2022-09-25", "2022-09-26", 5000000, v1::CRITICAL_ILLNESS_CATEGORY_MALIGNANT_TUMOR, v1::HOSPITAL_KIND_COMMUNITY_HEALTH_CENTER), "DENIED", 0, "INELIGIBLE_HOSPITAL"},
      {"2022-11-01", Subsidy("S5", b, "2022-10-01", "2022-10-02", 15000000), "APPROVED", 8000000, ""},
      {"2022-11-01", Subsidy("S6", b, "2022-10-03", "2022-10-04", 15000000), "APPROVED", 8000000, ""},
      {"2022-11-01", Subsidy("S7", b, "2022-10-05", "2022-10-06", 15000000), "APPROVED", 8000000, ""},
      {"2022-11-01", Subsidy("S8", b, "2022-10-07", "2022-10-08", 15000000), "APPROVED", 7500000, "", true},
      {"2022-11-01", Subsidy("S9", b, "2022-10-09", "2022-10-10", 15000000), "DENIED", 0, "BENEFIT_EXHAUSTED"},
      // COVID-19: 2 万 once, epidemic period to 2023-01-07.
      {"2022-05-10", Covid("V1", a, "2022-05-01"), "APPROVED", 2000000, ""},
      {"2022-06-10", Covid("V2", a, "2022-06-01"), "DENIED", 0, "ALREADY_PAID"},
      {"2023-02-10", Covid("V3", b, "2023-02-01"), "DENIED", 0, "OUTSIDE_EPIDEMIC_PERIOD"},
      {"2022-09-10", Covid("V4", b, "2022-09-01", v1::HOSPITAL_KIND_OTHER_HOSPITAL), "DENIED", 0, "INELIGIBLE_HOSPITAL"},
      // §五(四)3 consolation: 500 yuan an accident.
      {"2022-05-10", Consolation("X1", d, "A1", "2022-05-01", true), "APPROVED", 50000, ""},
      {"2022-05-11", Consolation("X2", d, "A1", "2022-05-01", true), "DENIED", 0, "ALREADY_PAID"},
      {"2022-05-12", Consolation("X3", d, "A2", "2022-05-02", false), "DENIED", 0, "CRITERIA_NOT_MET"},
      {"2022-05-12", Consolation("X4", d, "A3", "2022-05-03", true, false), "DENIED", 0, "OUTSIDE_SHANGHAI"},
      {"2022-10-29", Consolation("X5", d, "A4", "2022-05-01", true), "DENIED", 0, "FILING_DEADLINE_PASSED"},
      {"2022-10-28", Consolation("X6", d, "A5", "2022-05-01", true), "APPROVED", 50000, ""},
      // §五(四)2 disability (investigated before payment).
      {"2022-06-10", Disability("Y1", d, "A6", "2022-05-05", "2022-06-01", 8), "INVESTIGATING", 4500000, "INVESTIGATION_REQUIRED"},
      {"2022-06-11", Disability("Y2", d, "A6", "2022-05-05", "2022-06-05", 8), "DENIED", 0, "ALREADY_PAID"},
      {"2022-07-10", Disability("Y3", d, "A6", "2022-05-05", "2022-07-01", 5), "INVESTIGATING", 4500000, "INVESTIGATION_REQUIRED"},
      {"2022-07-10", Disability("Y4", d, "A7", "2022-05-06", "2022-07-01", 3), "INVESTIGATING", 6000000, "INVESTIGATION_REQUIRED", true},
      {"2022-07-11", Disability("Y5", d, "A8", "2022-05-07", "2022-07-01", 10), "DENIED", 0, "BENEFIT_EXHAUSTED"},
      {"2022-11-10", Disability("Y6", d, "A9", "2022-05-01", "2022-11-01", 9), "DENIED", 0, "FILING_DEADLINE_PASSED,ASSESSED_AFTER_180_DAYS"},
      // §五(四)1 accidental death, §五(四)4 the per-accident cap of 15 万.
      {"2022-11-10", AccidentalDeath("Z1", d, "A10", "2022-05-01", "2022-11-05"), "DENIED", 0, "DEATH_AFTER_180_DAYS"},
      {"2022-06-10", Consolation("E1", e, "B1", "2022-06-01", true), "APPROVED", 50000, ""},
      {"2022-07-10", Disability("E2", e, "B1", "2022-06-01", "2022-07-01", 1), "INVESTIGATING", 14950000, "INVESTIGATION_REQUIRED", true},
      {"2022-08-10", AccidentalDeath("E3", e, "B1", "2022-06-01", "2022-08-01"), "DENIED", 0, "BENEFIT_EXHAUSTED"},
      {"2022-07-10", Disability("F1", f, "B2", "2022-06-01", "2022-07-01", 5), "INVESTIGATING", 9000000, "INVESTIGATION_REQUIRED"},
      {"2022-07-11", Consolation("F2", f, "B2", "2022-06-01", true), "DENIED", 0, "CRITERIA_NOT_MET"},
      {"2022-08-10", AccidentalDeath("F3", f, "B2", "2022-06-01", "2022-08-01"), "INVESTIGATING", 6000000, "INVESTIGATION_REQUIRED", true},
      // §五(三) illness death, and after it (§5.7) every liability ends.
      {"2022-09-10", IllnessDeath("G1", a, "2022-09-01", false), "DENIED", 0, "OUTSIDE_SHANGHAI"},
      {"2022-09-10", IllnessDeath("G2", a, "2022-09-01"), "INVESTIGATING", 2000000, "INVESTIGATION_REQUIRED"},
      {"2022-09-20", Hospital("G3", a, "2022-09-05", "2022-09-08"), "DENIED", 0, "WORKER_DECEASED"},
      {"2022-09-20", IllnessDeath("G4", a, "2022-08-30"), "DENIED", 0, "ALREADY_PAID"},
      {"2023-10-01", IllnessDeath("G5", b, "2023-03-01"), "DENIED", 0, "FILING_DEADLINE_PASSED"},
      // §六(一): the worker files for the living; a death is the platform's.
      {"2022-09-20", [&] { auto x = Hospital("K1", b, "2022-09-01", "2022-09-02"); x.mutable_facts()->set_claimant(v1::CLAIMANT_PLATFORM); return x; }(), "DENIED", 0, "INVALID_CLAIMANT"},
  };
  for (const Case& want : cases) {
    v1::ClaimDecision got = MustFile(want.app, want.day);
    Check(got, want);
  }

  // What an auditor sees on a decision: the covering enrollment, its
  // platform, the paid inpatient days, the payee.
  v1::GetClaimResponse h1 = Get("H1");
  EXPECT_EQ(h1.claim().platform_id(), "P01");
  EXPECT_FALSE(h1.claim().enrollment_id().empty());
  EXPECT_EQ(h1.claim().hospital_days_paid(), 10);
  ASSERT_EQ(h1.claim().hospital_days_size(), 1);
  EXPECT_EQ(events::FormatDate(h1.claim().hospital_days(0).until()), "2022-05-11");
  EXPECT_EQ(h1.claim().payee(), v1::PAYEE_KIND_WORKER_CARD);
  EXPECT_EQ(h1.claim().site(), "浦东新区");
  EXPECT_EQ(Get("G2").claim().payee(), v1::PAYEE_KIND_PLATFORM_ACCOUNT);
  EXPECT_EQ(Get("H7").claim().hospital_days_paid(), 170);

  // Entitlements of the plan year, from the worker's file.
  v1::GetEntitlementsRequest ereq;
  ereq.set_id_number(b);
  ereq.set_plan_year(2022);
  v1::GetEntitlementsResponse ent;
  ASSERT_TRUE(claims_stub_->GetEntitlements(Call(testing::kHall).get(), ereq, &ent).ok());
  EXPECT_EQ(ent.hospital_days_used(), 2);
  EXPECT_EQ(ent.hospital_days_left(), 178);
  EXPECT_EQ(ent.subsidy_paid_fen(), 32000000);
  EXPECT_EQ(ent.subsidy_left_fen(), 0);
  EXPECT_TRUE(ent.critical_illness_paid());
  EXPECT_FALSE(ent.covid19_paid());
  ereq.set_id_number(d);
  ASSERT_TRUE(claims_stub_->GetEntitlements(Call(testing::kHall).get(), ereq, &ent).ok());
  EXPECT_EQ(ent.disability_paid_fen(), 15000000);
  EXPECT_EQ(ent.disability_left_fen(), 0);
  EXPECT_EQ(ent.consolation_paid_fen(), 100000);
  EXPECT_EQ(ent.consolation_left_fen(), 500000);
  ereq.set_id_number(a);
  ASSERT_TRUE(claims_stub_->GetEntitlements(Call(testing::kHall).get(), ereq, &ent).ok());
  EXPECT_EQ(events::FormatDate(ent.died_on()), "2022-09-01");
  EXPECT_EQ(ent.hospital_days_left(), 0);

  // Listings.
  v1::ListClaimsRequest lreq;
  lreq.set_id_number(b);
  lreq.set_status(v1::CLAIM_STATUS_APPROVED);
  v1::ListClaimsResponse list;
  ASSERT_TRUE(claims_stub_->ListClaims(Call(testing::kHall).get(), lreq, &list).ok());
  std::set<std::string> ids;
  for (const auto& x : list.claims()) ids.insert(x.claim_id());
  EXPECT_EQ(ids, (std::set<std::string>{"H12", "C4", "S1", "S5", "S6", "S7", "S8"}));
  v1::ListInvestigationsRequest ireq;
  v1::ListInvestigationsResponse queue;
  ASSERT_TRUE(claims_stub_->ListInvestigations(Call(testing::kInvestigator).get(), ireq, &queue).ok());
  ids.clear();
  for (const auto& x : queue.claims()) ids.insert(x.claim_id());
  EXPECT_EQ(ids, (std::set<std::string>{"Y1", "Y3", "Y4", "E2", "F1", "F3", "G2"}));
}

TEST_F(ClaimsServiceTest, InvestigationsApproveDenyAndCorrectFacts) {
  // The plan data's own threshold: above 1 万 yuan goes to 调查核实.
  ASSERT_NO_FATAL_FAILURE(StartServices(""));
  const std::string a = IdNumber("19880808", 11), b = IdNumber("19880808", 12);
  ASSERT_EQ(Enroll(Worker("r-a", a, "13900139011"), "2022-03-15").status(), v1::ENROLLMENT_STATUS_ACCEPTED);
  ASSERT_EQ(Enroll(Worker("r-b", b, "13900139012"), "2022-03-15").status(), v1::ENROLLMENT_STATUS_ACCEPTED);

  // Below the threshold: approved at once.
  EXPECT_EQ(Status(MustFile(Hospital("I1", a, "2022-05-01", "2022-05-11"), "2022-05-20")), "APPROVED");
  // 34 days = 10 200 yuan: above it.
  v1::ClaimDecision big = MustFile(Hospital("I2", a, "2022-06-01", "2022-07-05"), "2022-07-10");
  EXPECT_EQ(Status(big), "INVESTIGATING");
  EXPECT_EQ(big.amount_fen(), 34 * 30000);
  v1::ClaimDecision ci = MustFile(Critical("I3", b, "2022-05-01"), "2022-05-10");
  EXPECT_EQ(Status(ci), "INVESTIGATING");
  v1::ClaimDecision death = MustFile(IllnessDeath("I4", b, "2022-09-01"), "2022-09-10");
  EXPECT_EQ(Status(death), "INVESTIGATING");

  // Awaiting investigation counts as a duplicate and against the caps.
  EXPECT_EQ(Reasons(MustFile(Critical("I5", b, "2022-05-01"), "2022-05-11")), "DUPLICATE_CLAIM");

  // Approve: the amount stands; who and when are recorded.
  SetDay("2022-07-20");
  v1::ClaimDecision approved = Investigate("I2", true, "医院核实无误");
  EXPECT_EQ(Status(approved), "APPROVED");
  EXPECT_EQ(approved.amount_fen(), 34 * 30000);
  v1::GetClaimResponse got = Get("I2");
  ASSERT_EQ(got.investigations_size(), 1);
  EXPECT_EQ(got.investigations(0).investigator(), "investigator:zhao");
  EXPECT_TRUE(got.investigations(0).approved());
  EXPECT_EQ(ShanghaiDay(events::FromProto(got.investigations(0).decided_at())), Day("2022-07-20"));
  // Decided once: a second verdict is refused.
  v1::DecideInvestigationRequest again;
  again.set_claim_id("I2");
  again.set_approve(false);
  again.set_reason("x");
  v1::DecideInvestigationResponse ignored;
  EXPECT_EQ(claims_stub_->DecideInvestigation(Call(testing::kInvestigator).get(), again, &ignored).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // Only investigators give verdicts.
  again.set_claim_id("I3");
  EXPECT_EQ(claims_stub_->DecideInvestigation(Call(testing::kHall).get(), again, &ignored).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Deny: the claim no longer counts; a new claim for the same facts is decided afresh.
  v1::ClaimDecision denied = Investigate("I3", false, "非首次确诊");
  EXPECT_EQ(Status(denied), "DENIED");
  EXPECT_EQ(denied.amount_fen(), 0);
  EXPECT_EQ(Reasons(denied), "INVESTIGATION_DENIED");
  EXPECT_EQ(Status(MustFile(Critical("I6", b, "2022-05-01"), "2022-07-21")), "INVESTIGATING");

  // Approve with corrected facts: the rules run again on them.
  v1::ClaimFacts corrected = IllnessDeath("x", b, "2022-09-01", false).facts();
  v1::ClaimDecision redecided = Investigate("I4", true, "死亡地点核实为外省", &corrected);
  EXPECT_EQ(Status(redecided), "DENIED");
  EXPECT_EQ(Reasons(redecided), "OUTSIDE_SHANGHAI");
  EXPECT_FALSE(redecided.facts().in_shanghai());
  got = Get("I4");
  ASSERT_EQ(got.investigations_size(), 1);
  EXPECT_TRUE(got.investigations(0).facts_corrected());
  EXPECT_FALSE(got.investigations(0).approved());  // not to be paid
  // A correction that still qualifies: fewer days, less money.
  v1::ClaimDecision big2 = MustFile(Hospital("I7", b, "2022-08-01", "2022-09-10"), "2022-09-15");
  ASSERT_EQ(Status(big2), "INVESTIGATING");
  corrected = Hospital("x", b, "2022-08-01", "2022-08-21").facts();
  v1::ClaimDecision fewer = Investigate("I7", true, "出院日期更正", &corrected);
  EXPECT_EQ(Status(fewer), "APPROVED");
  EXPECT_EQ(fewer.amount_fen(), 20 * 30000);
  EXPECT_EQ(fewer.hospital_days_paid(), 20);

  // The queue is empty but for I6.
  v1::ListInvestigationsResponse queue;
  ASSERT_TRUE(claims_stub_->ListInvestigations(Call(testing::kInvestigator).get(), {}, &queue).ok());
  ASSERT_EQ(queue.claims_size(), 1);
  EXPECT_EQ(queue.claims(0).claim_id(), "I6");

  // Due dates: approved (I1, I2, I7) and investigating (I6) claims, unpaid.
  SetDay("2022-10-15");
  v1::ListDueClaimsRequest dreq;
  dreq.set_within_days(10);
  v1::ListDueClaimsResponse due;
  ASSERT_TRUE(claims_stub_->ListDueClaims(Call(testing::kFinance).get(), dreq, &due).ok());
  std::set<std::string> ids;
  for (const auto& x : due.claims()) ids.insert(x.claim_id());
  // I1 due 2022-08-18, I2 2022-10-08, I6 2022-10-19 (I7 2022-12-14 is later).
  EXPECT_EQ(ids, (std::set<std::string>{"I1", "I2", "I6"}));
}

TEST_F(ClaimsServiceTest, RetriesRolesAndValidation) {
  ASSERT_NO_FATAL_FAILURE(StartServices());
  const std::string a = IdNumber("19920202", 21), b = IdNumber("19920202", 22);
  ASSERT_EQ(Enroll(Worker("r-a", a, "13700137021"), "2022-03-15").status(), v1::ENROLLMENT_STATUS_ACCEPTED);
  ASSERT_EQ(Enroll(Worker("r-b", b, "13700137022"), "2022-03-15", testing::kP02).status(),
            v1::ENROLLMENT_STATUS_ACCEPTED);

  // A retry with the same claim id returns the original decision, even with other facts.
  v1::FileClaimResponse first, retry;
  ASSERT_TRUE(File(Hospital("R1", a, "2022-05-01", "2022-05-04"), "2022-05-10", &first).ok());
  EXPECT_FALSE(first.replayed());
  ASSERT_TRUE(File(Hospital("R1", a, "2022-05-01", "2022-05-09"), "2022-05-12", &retry).ok());
  EXPECT_TRUE(retry.replayed());
  EXPECT_EQ(retry.claim().SerializeAsString(), first.claim().SerializeAsString());
  // Retries racing each other: one decision.
  std::vector<std::future<v1::FileClaimResponse>> racing;
  SetDay("2022-06-10");
  for (int i = 0; i < 4; ++i) {
    racing.push_back(std::async(std::launch::async, [&] {
      v1::FileClaimRequest req;
      *req.mutable_application() = Hospital("R2", a, "2022-06-01", "2022-06-03");
      v1::FileClaimResponse resp;
      grpc::Status s = claims_stub_->FileClaim(Call(testing::kHall).get(), req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      return resp;
    }));
  }
  int originals = 0;
  for (auto& f : racing) {
    v1::FileClaimResponse r = f.get();
    EXPECT_EQ(Status(r.claim()), "APPROVED");
    EXPECT_EQ(r.claim().amount_fen(), 60000);
    if (!r.replayed()) ++originals;
  }
  EXPECT_EQ(originals, 1);
  EXPECT_EQ(DecidedEvents()["R2"], 1);
  // The same claim id for another worker is refused.
  v1::FileClaimResponse resp;
  EXPECT_EQ(File(Hospital("R1", b, "2022-05-01", "2022-05-04"), "2022-05-12", &resp).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);

  // A platform files only death claims, only for its own workers.
  EXPECT_EQ(File(Hospital("P1", a, "2022-05-01", "2022-05-04"), "2022-05-12", &resp, testing::kP01).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(File(IllnessDeath("P2", b, "2022-09-01"), "2022-09-10", &resp, testing::kP01).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ClaimDecision own = MustFile(IllnessDeath("P3", a, "2022-09-01"), "2022-09-10", testing::kP01);
  EXPECT_EQ(Status(own), "INVESTIGATING");
  EXPECT_EQ(own.platform_id(), "P01");
  // It reads the claims it filed, no others.
  v1::GetClaimRequest greq;
  greq.set_claim_id("P3");
  v1::GetClaimResponse gresp;
  EXPECT_TRUE(claims_stub_->GetClaim(Call(testing::kP01).get(), greq, &gresp).ok());
  EXPECT_EQ(claims_stub_->GetClaim(Call(testing::kP02).get(), greq, &gresp).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // A district clerk files at its own district's centre only.
  EXPECT_EQ(File(Hospital("Q1", b, "2022-05-01", "2022-05-04"), "2022-05-12", &resp, kDistrictPudong).error_code(),
            grpc::StatusCode::OK);
  v1::ClaimApplication elsewhere = Hospital("Q2", b, "2022-06-01", "2022-06-04");
  elsewhere.set_site("黄浦区");
  EXPECT_EQ(File(elsewhere, "2022-06-12", &resp, kDistrictPudong).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  elsewhere.set_site("服务大厅");
  EXPECT_EQ(File(elsewhere, "2022-06-12", &resp, kDistrictPudong).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // The hall files for any site (全市通办); an investigator files nothing.
  elsewhere.set_site("黄浦区");
  EXPECT_TRUE(File(elsewhere, "2022-06-12", &resp).ok());
  EXPECT_EQ(resp.claim().site(), "黄浦");
  EXPECT_EQ(File(Hospital("Q3", b, "2022-07-01", "2022-07-04"), "2022-07-12", &resp, testing::kInvestigator).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(File(Hospital("Q3", b, "2022-07-01", "2022-07-04"), "2022-07-12", &resp, "no-such-token-000000").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // Validation at the edge: site, ID number, payee card, facts.
  v1::ClaimApplication bad = Hospital("V1", b, "2022-07-01", "2022-07-04");
  bad.set_site("火星");
  EXPECT_EQ(File(bad, "2022-07-12", &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  bad = Hospital("V1", b.substr(0, 17) + (b[17] == '0' ? "1" : "0"), "2022-07-01", "2022-07-04");
  EXPECT_EQ(File(bad, "2022-07-12", &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  bad = Hospital("V1", b, "2022-07-01", "2022-07-04");
  std::string card = bad.payee_card().card_number();
  card.back() = card.back() == '9' ? '0' : static_cast<char>(card.back() + 1);
  bad.mutable_payee_card()->set_card_number(card);
  EXPECT_EQ(File(bad, "2022-07-12", &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  bad.mutable_payee_card()->set_card_number("12345");
  EXPECT_EQ(File(bad, "2022-07-12", &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  bad = Hospital("V1", b, "2022-07-01", "2022-07-04");
  bad.mutable_facts()->clear_admission();
  grpc::Status s = File(bad, "2022-07-12", &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("admission"), std::string::npos) << s.error_message();
  bad = Hospital("bad/id", b, "2022-07-01", "2022-07-04");
  EXPECT_EQ(File(bad, "2022-07-12", &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // A union card and a Shanghai debit card are both accepted.
  v1::ClaimApplication debit = Hospital("V2", b, "2022-07-01", "2022-07-04");
  debit.mutable_payee_card()->set_kind(v1::CARD_KIND_SHANGHAI_DEBIT_CARD);
  debit.mutable_payee_card()->set_card_number(Card("621700123456789012"));
  EXPECT_TRUE(File(debit, "2022-07-12", &resp).ok());
}

// The edge records the high watermark of enrollment.requests in the claim's
// partition; the processor waits for the enrollment service to decide up to
// it before deciding the claim.
TEST_F(ClaimsServiceTest, ClaimRacingItsEnrollmentWaitsForIt) {
  ASSERT_NO_FATAL_FAILURE(StartServices());
  // 1. Both services up: a claim filed the instant its enrollment is decided
  //    (before the claims service's periodic refresh of the coverage view).
  for (int i = 0; i < 8; ++i) {
    const std::string id = IdNumber("19930303", 30 + i);
    ASSERT_EQ(Enroll(Worker(absl::StrCat("race-", i), id, absl::StrCat("1350013503", i)), "2022-05-10").status(),
              v1::ENROLLMENT_STATUS_ACCEPTED);
    v1::FileClaimRequest req;
    *req.mutable_application() = Consolation(absl::StrCat("RC", i), id, "A1", "2022-06-02", true);
    v1::FileClaimResponse resp;
    // Same day: no SetDay between the enrollment and the claim.
    SetDay("2022-06-05");
    grpc::Status s = claims_stub_->FileClaim(Call(testing::kHall).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(Status(resp.claim()), "APPROVED") << Reasons(resp.claim());
  }

  // 2. The enrollment service is down: its request is in the log (appended
  //    exactly as its gRPC edge does), undecided, when the claim is filed.
  ASSERT_EQ(enrollment_->Stop(), 0);
  const std::string id = IdNumber("19930303", 99);
  auto keyer = WorkerKeyer::Create(kSecret);
  ASSERT_TRUE(keyer.ok());
  const absl::Time received = ShanghaiTime(Day("2022-05-10"), 9);
  events::EnvelopeHeader h{"enrollment-request/test-1", keyer->KeyFor(id), Day("2022-05-10"),
                           received, "", "P01/late-1", "test"};
  v1::Envelope env = events::NewEnvelope(h);
  v1::EnrollmentRequested* x = env.mutable_enrollment_requested();
  x->set_request_id("P01/late-1");
  x->set_platform_id("P01");
  *x->mutable_record() = Worker("late-1", id, "13500135099");
  *x->mutable_application_date() = D("2022-05-10");
  *x->mutable_received_at() = events::ToProto(received);
  x->set_caller("platform:P01");
  auto client = kafka::ClientConfigFromEnv("claims-test");
  ASSERT_TRUE(client.ok());
  auto producer = kafka::Producer::Create({.client = *client});
  ASSERT_TRUE(producer.ok());
  ASSERT_TRUE((*producer)->Append(events::ToRecord(enrollment_->prefix() + std::string(kafka::kEnrollmentRequests), env)).ok());

  SetClaimsDay("2022-06-05");
  auto filed = std::async(std::launch::async, [&] {
    v1::FileClaimRequest req;
    *req.mutable_application() = Consolation("LATE", id, "A1", "2022-06-02", true);
    v1::FileClaimResponse resp;
    grpc::Status s = claims_stub_->FileClaim(Call(testing::kHall, absl::Seconds(120)).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message() << "\n" << claims_->Log();
    return resp;
  });
  // The claim waits: without the barrier it would be decided NOT_COVERED now.
  EXPECT_EQ(filed.wait_for(std::chrono::seconds(4)), std::future_status::timeout);
  ASSERT_NO_FATAL_FAILURE(enrollment_->Start());
  ConnectEnrollment();
  v1::FileClaimResponse resp = filed.get();
  EXPECT_EQ(Status(resp.claim()), "APPROVED") << Reasons(resp.claim());
  EXPECT_EQ(resp.claim().platform_id(), "P01");
  EXPECT_EQ(resp.claim().amount_fen(), 50000);
}

TEST_F(ClaimsServiceTest, KilledMidRunLosesNothingAndDecidesNothingTwice) {
  ASSERT_NO_FATAL_FAILURE(StartServices());
  std::vector<std::string> workers;
  for (int i = 0; i < 6; ++i) {
    workers.push_back(IdNumber("19940404", 40 + i));
    ASSERT_EQ(Enroll(Worker(absl::StrCat("k-", i), workers.back(), absl::StrCat("1360013604", i)), "2022-03-15").status(),
              v1::ENROLLMENT_STATUS_ACCEPTED);
  }
  SetDay("2022-06-20");
  constexpr int kClaims = 120;
  auto app = [&](int i) {
    // Each worker: consolations of distinct accidents (500 yuan each, 12 a year at most).
    return Consolation(absl::StrCat("K", i), workers[i % workers.size()], absl::StrCat("acc-", i),
                       "2022-06-01", true);
  };
  std::atomic<int> answered{0};
  std::thread filer([&] {
    for (int i = 0; i < kClaims; ++i) {
      v1::FileClaimRequest req;
      *req.mutable_application() = app(i);
      v1::FileClaimResponse resp;
      if (claims_stub_->FileClaim(Call(testing::kHall, absl::Seconds(5)).get(), req, &resp).ok()) ++answered;
    }
  });
  // Kill once some claims are through: mid-run, whatever the machine's speed.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (answered.load() < 5 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling the condition
  }
  claims_->Kill();
  filer.join();
  EXPECT_LT(answered.load(), kClaims);
  ASSERT_NO_FATAL_FAILURE(claims_->Start());
  ConnectClaims();
  SetDay("2022-06-20");
  // The clerk files every claim again with the same id: each gets one decision.
  std::map<std::string, int> approved_per_worker;  // by ID number
  for (int i = 0; i < kClaims; ++i) {
    v1::FileClaimResponse resp;
    grpc::Status s = File(app(i), "2022-06-20", &resp);
    ASSERT_TRUE(s.ok()) << i << ": " << s.error_message() << "\n" << claims_->Log();
    if (resp.claim().status() == v1::CLAIM_STATUS_APPROVED) ++approved_per_worker[workers[i % workers.size()]];
  }
  // 600 yuan a plan year: 12 consolations per worker, the rest BENEFIT_EXHAUSTED.
  for (const auto& [w, n] : approved_per_worker) EXPECT_EQ(n, 12) << w;
  const std::map<std::string, int> decided = DecidedEvents();
  EXPECT_EQ(decided.size(), static_cast<size_t>(kClaims));
  for (const auto& [claim, n] : decided) EXPECT_EQ(n, 1) << claim;
}


// Payout's confirmation (mutualaid.payout.events) marks an approved claim paid
// once; the due-claims list drops it. A rebuilt store equals the live one.
TEST_F(ClaimsServiceTest, PayoutConfirmedMarksPaidAndReplayRebuildsTheState) {
  ASSERT_NO_FATAL_FAILURE(StartServices());
  const std::string a = IdNumber("19870606", 61);
  ASSERT_EQ(Enroll(Worker("r-a", a, "13600136061"), "2022-03-15").status(), v1::ENROLLMENT_STATUS_ACCEPTED);
  ASSERT_EQ(Status(MustFile(Hospital("PAY1", a, "2022-05-01", "2022-05-11"), "2022-05-20")), "APPROVED");
  ASSERT_EQ(Status(MustFile(Disability("PAY2", a, "A1", "2022-05-01", "2022-05-15", 9), "2022-05-20")),
            "INVESTIGATING");

  auto keyer = WorkerKeyer::Create(kSecret);
  ASSERT_TRUE(keyer.ok());
  auto client = kafka::ClientConfigFromEnv("claims-test");
  ASSERT_TRUE(client.ok());
  auto producer = kafka::Producer::Create({.client = *client});
  ASSERT_TRUE(producer.ok());
  auto confirm = [&](const std::string& claim_id, const std::string& event_id) {
    const absl::Time at = ShanghaiTime(Day("2022-06-01"), 10);
    events::EnvelopeHeader h{event_id, keyer->KeyFor(a), Day("2022-06-01"), at, "", "payout-test", "payout-0"};
    v1::Envelope env = events::NewEnvelope(h);
    v1::PayoutConfirmed* x = env.mutable_payout_confirmed();
    x->mutable_payout()->set_payout_id(absl::StrCat("PO-", claim_id));
    x->mutable_payout()->set_claim_id(claim_id);
    x->mutable_payout()->set_amount_fen(300000);
    x->set_bank_reference("BANK-1");
    *x->mutable_confirmed_on() = D("2022-06-01");
    ASSERT_TRUE((*producer)->Append(events::ToRecord(enrollment_->prefix() + std::string(kafka::kPayoutEvents), env)).ok());
  };
  confirm("PAY1", "payout/1");
  confirm("PAY1", "payout/2");  // a duplicate confirmation
  confirm("PAY2", "payout/3");  // not approved yet: changes nothing
  v1::GetClaimResponse got;
  for (int i = 0; i < 100; ++i) {
    got = Get("PAY1");
    if (got.claim().status() == v1::CLAIM_STATUS_PAID) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(got.claim().status(), v1::CLAIM_STATUS_PAID);
  EXPECT_EQ(got.paid().payout_id(), "PO-PAY1");
  EXPECT_EQ(events::FormatDate(got.paid().paid_on()), "2022-06-01");
  EXPECT_EQ(Status(Get("PAY2").claim()), "INVESTIGATING");
  SetDay("2022-08-10");
  v1::ListDueClaimsRequest dreq;
  dreq.set_within_days(30);
  v1::ListDueClaimsResponse due;
  ASSERT_TRUE(claims_stub_->ListDueClaims(Call(testing::kFinance).get(), dreq, &due).ok());
  ASSERT_EQ(due.claims_size(), 1);
  EXPECT_EQ(due.claims(0).claim_id(), "PAY2");
  // One ClaimPaid in the log for two confirmations.
  int paid_events = 0;
  for (int32_t p = 0; p < 3; ++p) {
    auto reader = kafka::PartitionReader::Open(*client, enrollment_->prefix() + std::string(kafka::kClaimsEvents), p, 0);
    ASSERT_TRUE(reader.ok());
    while (true) {
      auto m = (*reader)->Next();
      ASSERT_TRUE(m.ok());
      if (!m->has_value()) break;
      v1::Envelope env;
      if (env.ParseFromString((*m)->value) && env.has_claim_paid()) ++paid_events;
    }
  }
  EXPECT_EQ(paid_events, 1);

  // Delete the store and restart: the state rebuilt from the topics is the same.
  v1::GetStateDigestResponse live;
  ASSERT_TRUE(claims_admin_->GetStateDigest(Call(testing::kOperations).get(), {}, &live).ok());
  ASSERT_EQ(claims_->Stop(), 0);
  std::filesystem::remove_all(claims_->dir() / "store-claims");
  ASSERT_NO_FATAL_FAILURE(claims_->Start());
  ConnectClaims();
  v1::GetStateDigestResponse rebuilt;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(claims_admin_->GetStateDigest(Call(testing::kOperations).get(), {}, &rebuilt).ok());
    if (rebuilt.digest() == live.digest()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(rebuilt.digest(), live.digest());
  EXPECT_EQ(Get("PAY1").claim().status(), v1::CLAIM_STATUS_PAID);
}

// `mutualctl claim`: a clerk files from the command line and reads the decision.
std::string Text(const json::Value& step, const char* field);

struct Ran {
  int exit_code = -1;
  std::string out;
};
Ran RunMutualctl(const std::string& args) {
  Ran r;
  FILE* p = popen(absl::StrCat(MUTUALCTL_BINARY, " ", args, " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST_F(ClaimsServiceTest, MutualctlClaimFilesAndReads) {
  ASSERT_NO_FATAL_FAILURE(StartServices());
  const std::string a = IdNumber("19910707", 71);
  ASSERT_EQ(Enroll(Worker("r-a", a, "13600136071"), "2022-03-15").status(), v1::ENROLLMENT_STATUS_ACCEPTED);
  SetDay("2022-05-20");
  const std::string token_file = (claims_->dir() / "hall.token").string();
  std::ofstream(token_file) << testing::kHall << "\n";
  const std::string conn = absl::StrCat(" --server ", claims_->address(), " --token-file ", token_file);
  const std::string card = Card("622202020011223");

  Ran filed = RunMutualctl(absl::StrCat(
      "claim --claim-id M1 --id-number ", a, " --benefit HOSPITAL_ALLOWANCE --site 浦东新区",
      " --cause ILLNESS --hospital DESIGNATED_HOSPITAL --admission 2022-05-01 --discharge 2022-05-11",
      " --card ", card, conn));
  EXPECT_EQ(filed.exit_code, 0) << filed.out;
  EXPECT_NE(filed.out.find("APPROVED"), std::string::npos) << filed.out;
  EXPECT_NE(filed.out.find("3000.00 yuan (300000 fen)"), std::string::npos) << filed.out;
  EXPECT_NE(filed.out.find("2022-08-18"), std::string::npos) << filed.out;  // due by
  EXPECT_NE(filed.out.find("§五(一)"), std::string::npos) << filed.out;

  // --json: the response as JSON, the decision's fields by their proto names.
  Ran denied = RunMutualctl(absl::StrCat(
      "claim --claim-id M2 --id-number ", a, " --benefit hospital_allowance --site 浦东新区",
      " --cause ACCIDENT --hospital DESIGNATED_HOSPITAL --admission 2022-05-12 --discharge 2022-05-13",
      " --card ", card, " --json", conn));
  EXPECT_EQ(denied.exit_code, 1) << denied.out;
  auto parsed = json::Parse(denied.out);
  ASSERT_TRUE(parsed.ok()) << denied.out;
  const json::Value* claim = parsed->Find("claim");
  ASSERT_NE(claim, nullptr);
  EXPECT_EQ(Text(*claim, "claim_id"), "M2");
  EXPECT_EQ(Text(*claim, "status"), "CLAIM_STATUS_DENIED");
  EXPECT_NE(denied.out.find("REASON_CODE_NOT_ILLNESS"), std::string::npos) << denied.out;

  Ran got = RunMutualctl(absl::StrCat("claim get M1", conn));
  EXPECT_EQ(got.exit_code, 0) << got.out;
  EXPECT_NE(got.out.find("M1"), std::string::npos) << got.out;
  EXPECT_NE(got.out.find("days paid    10"), std::string::npos) << got.out;
  Ran again = RunMutualctl(absl::StrCat(
      "claim --claim-id M1 --id-number ", a, " --benefit HOSPITAL_ALLOWANCE --site 浦东新区",
      " --cause ILLNESS --hospital DESIGNATED_HOSPITAL --admission 2022-05-01 --discharge 2022-05-11",
      " --card ", card, conn));
  EXPECT_EQ(again.exit_code, 0) << again.out;
  EXPECT_NE(again.out.find("original decision"), std::string::npos) << again.out;

  // Usage errors and refusals exit 2.
  EXPECT_EQ(RunMutualctl(absl::StrCat("claim --claim-id M3 --benefit NOPE", conn)).exit_code, 2);
  EXPECT_EQ(RunMutualctl(absl::StrCat("claim --claim-id M3 --id-number ", a,
                                      " --benefit COVID19 --site 火星 --hospital DESIGNATED_HOSPITAL",
                                      " --diagnosed-on 2022-05-01 --card ", card, conn)).exit_code, 2);
  EXPECT_EQ(RunMutualctl(absl::StrCat("claim get NO-SUCH", conn)).exit_code, 2);
}

// ---------------------------------------------------------------------------
// The services and `mutualctl simulate` decide a scenario alike: each step
// goes through the enrollment or claims service with both clocks set to its
// received_on; every decision and amount must equal the simulator's.

std::string Text(const json::Value& step, const char* field) {
  const json::Value* v = step.Find(field);
  return v != nullptr && v->is_string() ? v->string_value() : "";
}

// A scenario claim step as the hall files it (claim ids made unique per worker:
// the service's claim ids are global, the scenario's per worker).
v1::ClaimApplication FromStep(const json::Value& step, const std::string& id_number) {
  v1::ClaimApplication a;
  a.set_claim_id(absl::StrCat(Text(step, "worker"), "-", Text(step, "claim_id")));
  a.set_id_number(id_number);
  a.set_site(Text(step, "site"));
  v1::ClaimFacts* f = a.mutable_facts();
  v1::Benefit benefit = v1::BENEFIT_UNSPECIFIED;
  EXPECT_TRUE(v1::Benefit_Parse("BENEFIT_" + Text(step, "benefit"), &benefit));
  f->set_benefit(benefit);
  v1::Claimant claimant = v1::CLAIMANT_UNSPECIFIED;
  EXPECT_TRUE(v1::Claimant_Parse("CLAIMANT_" + Text(step, "claimant"), &claimant));
  f->set_claimant(claimant);
  if (step.Find("cause") != nullptr) {
    v1::Cause cause = v1::CAUSE_UNSPECIFIED;
    EXPECT_TRUE(v1::Cause_Parse("CAUSE_" + Text(step, "cause"), &cause));
    f->set_cause(cause);
  }
  if (step.Find("hospital") != nullptr) {
    v1::HospitalKind h = v1::HOSPITAL_KIND_UNSPECIFIED;
    EXPECT_TRUE(v1::HospitalKind_Parse("HOSPITAL_KIND_" + Text(step, "hospital"), &h));
    f->set_hospital(h);
  }
  if (step.Find("category") != nullptr) {
    v1::CriticalIllnessCategory c = v1::CRITICAL_ILLNESS_CATEGORY_UNSPECIFIED;
    EXPECT_TRUE(v1::CriticalIllnessCategory_Parse("CRITICAL_ILLNESS_CATEGORY_" + Text(step, "category"), &c));
    f->set_category(c);
  }
  auto date = [&](const char* field, v1::Date* out) {
    if (step.Find(field) != nullptr) *out = D(Text(step, field));
  };
  date("admission", f->mutable_admission());
  date("discharge", f->mutable_discharge());
  date("diagnosed_on", f->mutable_diagnosed_on());
  date("died_on", f->mutable_died_on());
  date("accident_on", f->mutable_accident_on());
  date("assessed_on", f->mutable_assessed_on());
  if (const json::Value* v = step.Find("hospitalized")) f->set_hospitalized(v->bool_value());
  if (const json::Value* v = step.Find("in_shanghai")) f->set_in_shanghai(v->bool_value());
  if (const json::Value* v = step.Find("meets_criteria")) f->set_meets_criteria(v->bool_value());
  if (const json::Value* v = step.Find("out_of_pocket_fen")) f->set_out_of_pocket_fen(v->Int64().value_or(-1));
  if (const json::Value* v = step.Find("grade")) f->set_grade(static_cast<int32_t>(v->Int64().value_or(0)));
  f->set_accident_id(Text(step, "accident_id"));
  if (benefit != v1::BENEFIT_ILLNESS_DEATH && benefit != v1::BENEFIT_ACCIDENTAL_DEATH) {
    // A living worker's benefit is paid to the worker's card, whoever the claimant.
    a.mutable_payee_card()->set_kind(v1::CARD_KIND_UNION_MEMBER_CARD);
    a.mutable_payee_card()->set_card_number(Card("622202020011223"));
  }
  return a;
}

std::vector<std::string> Strings(const json::Value* list) {
  std::vector<std::string> out;
  if (list == nullptr) return out;
  for (const json::Value& v : list->items()) out.push_back(v.string_value());
  return out;
}

class ScenarioConsistencyTest : public ClaimsServiceTest {
 protected:
  void Run(const std::string& file);
};

void ScenarioConsistencyTest::Run(const std::string& file) {
  const std::string path = absl::StrCat(SCENARIO_DIR, "/", file);
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto scenario = json::Parse(text);
  ASSERT_TRUE(scenario.ok()) << scenario.status();

  std::vector<json::Value> expected;
  {
    FILE* p = popen(absl::StrCat(MUTUALCTL_BINARY, " simulate ", path).c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ASSERT_EQ(pclose(p), 0) << out;
    for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
      auto v = json::Parse(std::string(line));
      ASSERT_TRUE(v.ok()) << line;
      expected.push_back(*std::move(v));
    }
  }

  // Both services run the default configuration: the plan data's own
  // investigation threshold.
  ASSERT_NO_FATAL_FAILURE(StartServices(""));
  std::map<std::string, std::string> tokens = {{"P01", testing::kP01}, {"P02", testing::kP02},
                                               {"P03", "platform-p03-token-0003"}};
  if (const json::Value* platforms = scenario->Find("platforms")) {
    for (const auto& m : platforms->members()) {
      const json::Value* registered = m.value.Find("registered");
      if (registered != nullptr && !registered->bool_value()) continue;
      if (m.name == "P01" || m.name == "P02") continue;  // StartServices registered them
      v1::RegisterPlatformRequest req;
      req.mutable_platform()->set_platform_id(m.name);
      req.mutable_platform()->set_name(Text(m.value, "name"));
      req.mutable_platform()->set_payout_account("6222000000999");
      v1::RegisterPlatformResponse resp;
      ASSERT_TRUE(enrollment_admin_->RegisterPlatform(Call(testing::kOperations).get(), req, &resp).ok());
    }
  }
  const json::Value* workers = scenario->Find("workers");
  ASSERT_NE(workers, nullptr);
  const std::vector<json::Value>& steps = scenario->Find("steps")->items();
  ASSERT_EQ(steps.size(), expected.size());
  int claims = 0;
  bool death_approved = false;
  for (size_t i = 0; i < steps.size(); ++i) {
    const json::Value& step = steps[i];
    const json::Value& want = expected[i];
    SCOPED_TRACE(absl::StrCat(file, " step ", i, ": ", json::Write(step)));
    const json::Value* worker = workers->Find(Text(step, "worker"));
    ASSERT_NE(worker, nullptr);
    if (Text(step, "op") == "enroll") {
      v1::EnrollmentRecord r;
      r.set_platform_record_id(absl::StrCat("s", i));
      r.set_name(Text(*worker, "name"));
      r.set_id_number(Text(*worker, "id_number"));
      r.set_phone(Text(*worker, "phone"));
      r.set_industry(Text(step, "industry"));
      // A platform the union platform never registered: P03's token (P03 is
      // registered only if the scenario says so), refused as UNKNOWN_PLATFORM.
      const std::string token = tokens.count(Text(step, "platform")) != 0
                                    ? tokens[Text(step, "platform")]
                                    : tokens["P03"];
      if (death_approved) {
        // The enrollment service learns of an approved death from the claims
        // events it reads (refreshed every 200 ms): give it that long.
        std::this_thread::sleep_for(std::chrono::milliseconds(800));
        death_approved = false;
      }
      v1::EnrollmentResult got = Enroll(r, Text(step, "received_on"), token);
      const std::string status = v1::EnrollmentStatus_Name(got.status()).substr(18);
      EXPECT_EQ(status, Text(want, "decision"));
      if (got.status() != v1::ENROLLMENT_STATUS_REJECTED) {
        EXPECT_EQ(got.plan_year(), want.Find("plan_year")->Int64().value_or(-1));
        EXPECT_EQ(events::FormatDate(got.coverage_start()), Text(want, "coverage_start"));
        EXPECT_EQ(got.fee_fen(), want.Find("fee_fen")->Int64().value_or(-1));
      }
      continue;
    }
    ++claims;
    v1::FileClaimResponse resp;
    grpc::Status s = File(FromStep(step, Text(*worker, "id_number")), Text(step, "received_on"), &resp);
    ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << claims_->Log();
    const v1::ClaimDecision& c = resp.claim();
    // An approval waiting for 调查核实 is the rules' approval. The scenario's
    // approvals are final: the investigator upholds each one, so what the
    // enrollment service learns (an approved death) is what the simulator knows.
    if (c.status() == v1::CLAIM_STATUS_INVESTIGATING) {
      v1::ClaimDecision upheld = Investigate(c.claim_id(), true, "核实无误");
      EXPECT_EQ(upheld.status(), v1::CLAIM_STATUS_APPROVED);
      EXPECT_EQ(upheld.amount_fen(), c.amount_fen());
      if (upheld.benefit() == v1::BENEFIT_ILLNESS_DEATH ||
          upheld.benefit() == v1::BENEFIT_ACCIDENTAL_DEATH) {
        death_approved = true;
      }
    }
    const bool investigating = c.status() == v1::CLAIM_STATUS_INVESTIGATING;
    EXPECT_EQ(investigating ? "APPROVED" : Status(c), Text(want, "decision"));
    EXPECT_EQ(c.amount_fen(), want.Find("amount_fen")->Int64().value_or(-1));
    EXPECT_EQ(c.plan_year(), want.Find("plan_year")->Int64().value_or(-1));
    EXPECT_EQ(c.capped(), want.Find("capped")->bool_value());
    EXPECT_EQ(events::FormatDate(c.due_by()), Text(want, "due_by"));
    if (Text(want, "decision") == "APPROVED") {
      EXPECT_EQ(v1::PayeeKind_Name(c.payee()).substr(11), Text(want, "payee"));
    }
    std::vector<std::string> reasons;
    for (int code : c.decision().reasons()) {
      if (code != v1::REASON_CODE_INVESTIGATION_REQUIRED) {
        reasons.push_back(events::ReasonName(static_cast<v1::ReasonCode>(code)));
      }
    }
    EXPECT_EQ(reasons, Strings(want.Find("reasons")));
    std::vector<std::string> clauses;
    const std::vector<std::string> want_clauses = Strings(want.Find("clauses"));
    for (const std::string& clause : c.decision().clauses()) {
      if (investigating && clause == "§六(三)" &&
          std::find(want_clauses.begin(), want_clauses.end(), clause) == want_clauses.end()) {
        continue;
      }
      clauses.push_back(clause);
    }
    EXPECT_EQ(clauses, want_clauses);
  }
  RecordProperty("claims", claims);
  RecordProperty("steps", static_cast<int>(steps.size()));
}

TEST_F(ScenarioConsistencyTest, FormatExample) { Run("format_example.json"); }
TEST_F(ScenarioConsistencyTest, HospitalAllowance) { Run("hospital_allowance.json"); }
TEST_F(ScenarioConsistencyTest, CriticalIllness) { Run("critical_illness.json"); }
TEST_F(ScenarioConsistencyTest, Covid19) { Run("covid19.json"); }
TEST_F(ScenarioConsistencyTest, Deaths) { Run("deaths.json"); }
TEST_F(ScenarioConsistencyTest, Accidents) { Run("accidents.json"); }
TEST_F(ScenarioConsistencyTest, AdjacentPlanYears) { Run("adjacent_plan_years.json"); }
TEST_F(ScenarioConsistencyTest, Enrollment) { Run("enrollment.json"); }

}  // namespace
}  // namespace mutualaid
