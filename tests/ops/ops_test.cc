// mutualctl replay / audit / report / history against a small plan year made by
// the real enrollment and claims services on their own topics (label kafka).
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "mutualaid/core/log.h"
#include "mutualaid/events/convert.h"
#include "mutualaid/events/envelope.h"
#include "mutualaid/kafka/admin.h"
#include "mutualaid/kafka/config.h"
#include "mutualaid/kafka/partition_reader.h"
#include "mutualaid/kafka/producer.h"
#include "mutualaid/kafka/topics.h"
#include "mutualaid/plan/validation.h"
#include "mutualaid/processor/chain.h"
#include "mutualaid/v1/admin.grpc.pb.h"
#include "mutualaid/v1/claims.grpc.pb.h"
#include "mutualaid/v1/enrollment.grpc.pb.h"
#include "tests/services/service_harness.h"

namespace mutualaid {
namespace {

using testing::Call;
using testing::IdNumber;

v1::Date D(int y, int m, int d) {
  v1::Date out;
  out.set_year(y);
  out.set_month(m);
  out.set_day(d);
  return out;
}

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

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs mutualctl with `args` (shell words), stdout and stderr apart.
RunResult Mutualctl(const std::string& args) {
  static int n = 0;
  const std::string err_file =
      (std::filesystem::temp_directory_path() / absl::StrCat("ops_test_err_", getpid(), "_", ++n)).string();
  const std::string cmd = absl::StrCat(MUTUALCTL_BINARY, " ", args, " 2>", err_file);
  RunResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, got);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_file);
  r.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  std::filesystem::remove(err_file);
  return r;
}

std::string Field(const std::string& out, const std::string& name) {
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (absl::StartsWith(line, name)) {
      std::string rest(line.substr(name.size()));
      return std::string(absl::StripAsciiWhitespace(rest));
    }
  }
  return "";
}

// The plan year every test reads: made once by the real services.
struct Year {
  std::unique_ptr<testing::ServiceProcess> enrollment;
  std::unique_ptr<testing::ServiceProcess> claims;
  std::string prefix;
  std::string enrollment_digest, claims_digest;
  RunResult replay_live_enrollment, replay_live_claims;
  int accepted = 0, rejected = 0;
  int64_t fee_fen = 0;
  int claims_approved = 0, claims_denied = 0;
  int64_t approved_fen = 0;
  std::string worker_a;
};
Year* year = nullptr;

class OpsTest : public ::testing::Test {
 protected:
  // Made once per process by the first test's SetUp, so a failure to make it
  // fails that test (gtest would report a failing SetUpTestSuite as skipped).
  static void MakeYear() {
    year = new Year;
    Year& y = *year;
    y.enrollment = std::make_unique<testing::ServiceProcess>(ENROLLMENT_BINARY, "enrollment",
                                                             "clock.start = 2022-03-15");
    ASSERT_NO_FATAL_FAILURE(y.enrollment->Start());
    y.claims = std::make_unique<testing::ServiceProcess>(
        CLAIMS_BINARY, "claims", *y.enrollment,
        "clock.start = 2022-03-15\nclaims.investigation_threshold_fen = 100000000");
    ASSERT_NO_FATAL_FAILURE(y.claims->Start());
    y.prefix = y.enrollment->prefix();
    auto enrollments = v1::EnrollmentService::NewStub(y.enrollment->channel());
    auto enrollment_admin = v1::AdminService::NewStub(y.enrollment->channel());
    auto claims = v1::ClaimsService::NewStub(y.claims->channel());
    auto claims_admin = v1::AdminService::NewStub(y.claims->channel());
    for (const char* id : {"P01", "P02"}) {
      v1::RegisterPlatformRequest req;
      req.mutable_platform()->set_platform_id(id);
      req.mutable_platform()->set_name(absl::StrCat("平台", id));
      req.mutable_platform()->set_payout_account(absl::StrCat("6222000000", id));
      v1::RegisterPlatformResponse resp;
      grpc::Status s = enrollment_admin->RegisterPlatform(Call(testing::kOperations).get(), req, &resp);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
    auto set_day = [&](const v1::Date& day) {
      v1::SetClockRequest req;
      *req.mutable_today() = day;
      v1::ClockState resp;
      for (auto* admin : {enrollment_admin.get(), claims_admin.get()}) {
        grpc::Status s = admin->SetClock(Call(testing::kOperations).get(), req, &resp);
        ASSERT_TRUE(s.ok()) << s.error_message();
      }
    };
    // Enrollments: four in March (concentrated) across two platforms, one in
    // June (instant), one rejected (too old).
    struct W {
      std::string id;
      std::string phone;
      const char* token;
      v1::Date day;
      std::string name;
    };
    y.worker_a = IdNumber("19900101", 11);
    const std::vector<W> workers = {
        {y.worker_a, "13800138011", testing::kP01, D(2022, 3, 15), "张三丰"},
        {IdNumber("19900101", 12), "13800138012", testing::kP01, D(2022, 3, 16), "李四"},
        {IdNumber("19850505", 13), "13800138013", testing::kP02, D(2022, 3, 20), "王五"},
        {IdNumber("19920202", 14), "13800138014", testing::kP02, D(2022, 3, 21), "赵六"},
        {IdNumber("19950303", 15), "13800138015", testing::kP01, D(2022, 6, 10), "孙七"},
        {IdNumber("19500101", 16), "13800138016", testing::kP01, D(2022, 6, 11), "周八"},
    };
    int record = 0;
    for (const W& w : workers) {
      ASSERT_NO_FATAL_FAILURE(set_day(w.day));
      v1::SubmitEnrollmentsRequest req;
      v1::EnrollmentRecord* r = req.add_records();
      r->set_platform_record_id(absl::StrCat("r", ++record));
      r->set_name(w.name);
      r->set_id_number(w.id);
      r->set_phone(w.phone);
      r->set_industry("FOOD_DELIVERY");
      v1::SubmitEnrollmentsResponse resp;
      grpc::Status s = enrollments->SubmitEnrollments(Call(w.token).get(), req, &resp);
      ASSERT_TRUE(s.ok()) << s.error_message();
      ASSERT_EQ(resp.results_size(), 1);
      if (resp.results(0).status() == v1::ENROLLMENT_STATUS_ACCEPTED) {
        ++y.accepted;
        y.fee_fen += resp.results(0).fee_fen();
      } else {
        ++y.rejected;
      }
    }
    // Claims: an approved stay, a stay at an ineligible hospital, a stay in
    // the instant enrollment's not yet covered days, a critical illness.
    auto file = [&](const std::string& claim_id, const std::string& who, v1::Benefit benefit,
                    const v1::Date& received, auto facts) {
      ASSERT_NO_FATAL_FAILURE(set_day(received));
      v1::FileClaimRequest req;
      v1::ClaimApplication* a = req.mutable_application();
      a->set_claim_id(claim_id);
      a->set_id_number(who);
      a->set_site("浦东新区");
      a->mutable_facts()->set_benefit(benefit);
      a->mutable_facts()->set_claimant(v1::CLAIMANT_WORKER);
      a->mutable_payee_card()->set_kind(v1::CARD_KIND_UNION_MEMBER_CARD);
      a->mutable_payee_card()->set_card_number(Card("622202020011223"));
      a->mutable_payee_card()->set_holder_name("张三丰");
      facts(a->mutable_facts());
      v1::FileClaimResponse resp;
      grpc::Status s = claims->FileClaim(Call(testing::kHall).get(), req, &resp);
      ASSERT_TRUE(s.ok()) << claim_id << ": " << s.error_message() << "\n" << y.claims->Log();
      if (resp.claim().status() == v1::CLAIM_STATUS_DENIED) {
        ++y.claims_denied;
      } else {
        ++y.claims_approved;
        y.approved_fen += resp.claim().amount_fen();
      }
    };
    auto stay = [](v1::HospitalKind h, v1::Date from, v1::Date until) {
      return [=](v1::ClaimFacts* f) {
        f->set_cause(v1::CAUSE_ILLNESS);
        f->set_hospital(h);
        *f->mutable_admission() = from;
        *f->mutable_discharge() = until;
      };
    };
    ASSERT_NO_FATAL_FAILURE(file("C-1", workers[0].id, v1::BENEFIT_HOSPITAL_ALLOWANCE, D(2022, 5, 20),
                                 stay(v1::HOSPITAL_KIND_DESIGNATED_HOSPITAL, D(2022, 5, 1), D(2022, 5, 6))));
    ASSERT_NO_FATAL_FAILURE(file("C-2", workers[1].id, v1::BENEFIT_HOSPITAL_ALLOWANCE, D(2022, 5, 21),
                                 stay(v1::HOSPITAL_KIND_OTHER_HOSPITAL, D(2022, 5, 2), D(2022, 5, 4))));
    ASSERT_NO_FATAL_FAILURE(file("C-3", workers[4].id, v1::BENEFIT_HOSPITAL_ALLOWANCE, D(2022, 6, 20),
                                 stay(v1::HOSPITAL_KIND_DESIGNATED_HOSPITAL, D(2022, 6, 12), D(2022, 6, 15))));
    ASSERT_NO_FATAL_FAILURE(file("C-4", workers[0].id, v1::BENEFIT_HOSPITAL_ALLOWANCE, D(2022, 7, 1),
                                 stay(v1::HOSPITAL_KIND_DESIGNATED_HOSPITAL, D(2022, 6, 20), D(2022, 6, 23))));

    // The live digests (taken here, then again by replay --server once the
    // services have applied everything), and replay --server against them.
    for (auto [admin, digest] : {std::pair{enrollment_admin.get(), &y.enrollment_digest},
                                 std::pair{claims_admin.get(), &y.claims_digest}}) {
      v1::GetStateDigestResponse resp;
      grpc::Status s = admin->GetStateDigest(Call(testing::kOperations).get(), {}, &resp);
      ASSERT_TRUE(s.ok()) << s.error_message();
      *digest = resp.digest();
    }
    const std::string token_file = (y.enrollment->dir() / "ops.token").string();
    std::ofstream(token_file) << testing::kOperations << "\n";
    y.replay_live_enrollment = Mutualctl(absl::StrCat("replay --service enrollment --topic-prefix ", y.prefix,
                                                      " --server ", y.enrollment->address(),
                                                      " --token-file ", token_file));
    y.replay_live_claims = Mutualctl(absl::StrCat("replay --service claims --topic-prefix ", y.prefix,
                                                  " --server ", y.claims->address(), " --token-file ",
                                                  token_file));
    // The enrollment service applies the claims events a moment after they
    // are committed: the digest to match is the one replay --server saw equal.
    y.enrollment_digest = Field(y.replay_live_enrollment.out, "live digest");
    y.claims_digest = Field(y.replay_live_claims.out, "live digest");
    EXPECT_EQ(y.claims->Stop(), 0);
    EXPECT_EQ(y.enrollment->Stop(), 0);
  }
  static void TearDownTestSuite() {
    delete year;
    year = nullptr;
  }
  void SetUp() override {
    if (year == nullptr) {
      MakeYear();
      ASSERT_FALSE(HasFatalFailure()) << "the plan year was not made";
    }
    ASSERT_NE(year, nullptr);
    ASSERT_FALSE(year->prefix.empty()) << "the plan year was not made";
  }
  std::string P() const { return " --topic-prefix " + year->prefix; }
};

TEST_F(OpsTest, ReplayRebuildsTheLiveDigest) {
  EXPECT_EQ(year->accepted, 5);
  for (const auto& [service, digest, live] :
       {std::tuple{"enrollment", year->enrollment_digest, year->replay_live_enrollment},
        std::tuple{"claims", year->claims_digest, year->replay_live_claims}}) {
    SCOPED_TRACE(service);
    // Against the running service (--server): equal, exit 0.
    EXPECT_EQ(live.code, 0) << live.out << live.err;
    EXPECT_NE(live.out.find("EQUAL"), std::string::npos) << live.out;
    // After it stopped: the same digest as GetStateDigest gave.
    RunResult r = Mutualctl(absl::StrCat("replay --service ", service, P()));
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_EQ(Field(r.out, "digest"), digest) << r.out;
    EXPECT_GT(std::stoll(Field(r.out, "events applied")), 0);
  }
  // The other two services replay too (nothing of theirs yet, but their inputs).
  for (const char* service : {"payout", "notification"}) {
    RunResult r = Mutualctl(absl::StrCat("replay --service ", service, P()));
    EXPECT_EQ(r.code, 0) << service << ": " << r.out << r.err;
  }
  // --until before any claim: a different (earlier) state; into --dir.
  const std::string dir = (year->enrollment->dir() / "replay-until").string();
  RunResult early = Mutualctl(absl::StrCat("replay --service claims --until 2022-03-31 --dir ", dir, P()));
  ASSERT_EQ(early.code, 0) << early.out << early.err;
  EXPECT_NE(Field(early.out, "digest"), year->claims_digest);
  EXPECT_TRUE(std::filesystem::exists(dir));
  EXPECT_EQ(Mutualctl("replay --service nosuch").code, 2);
}

TEST_F(OpsTest, AuditVerifyIsCleanOnTheRealLog) {
  RunResult r = Mutualctl("audit verify" + P());
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("audit: OK"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4 claim decisions re-run, all repeat"), std::string::npos) << r.out;
}

// Copies one partition of the enrollment events into a topic of our own
// (Kafka cannot delete or edit), leaving one event out, then appends a forged
// event (another value under copied headers) and one without chain headers.
TEST_F(OpsTest, AuditVerifyNamesChangedMissingAndUnchainedEvents) {
  auto client = kafka::ClientConfigFromEnv("ops-test");
  ASSERT_TRUE(client.ok()) << client.status();
  const std::string source = year->prefix + std::string(kafka::kEnrollmentEvents);
  std::vector<kafka::Message> chain;
  for (int32_t p = 0; p < 3 && chain.size() < 4; ++p) {
    chain.clear();
    auto reader = kafka::PartitionReader::Open(*client, source, p, 0);
    ASSERT_TRUE(reader.ok()) << reader.status();
    while (true) {
      auto m = (*reader)->Next();
      ASSERT_TRUE(m.ok()) << m.status();
      if (!m->has_value()) break;
      chain.push_back(**m);
    }
  }
  ASSERT_GE(chain.size(), 4u) << "need a partition with 4 events";
  const std::string topic = year->prefix + "tampered.enrollment.events";
  auto admin = kafka::Admin::Create(*client);
  ASSERT_TRUE(admin.ok());
  ASSERT_TRUE((*admin)->EnsureTopics({kafka::TopicSpec::EventLog(topic, 1)}).ok());
  auto producer = kafka::Producer::Create({.client = *client});
  ASSERT_TRUE(producer.ok());
  auto append = [&](const std::string& key, const std::string& value, const kafka::Headers& h) {
    auto at = (*producer)->Append(topic, key, value, h);
    EXPECT_TRUE(at.ok()) << at.status();
    return at.ok() ? at->offset : -1;
  };
  // offsets 0.. : chain[0], chain[2..] (chain[1] missing)
  append(chain[0].key, chain[0].value, chain[0].headers);
  int64_t after_gap = -1;
  for (size_t i = 2; i < chain.size(); ++i) {
    int64_t o = append(chain[i].key, chain[i].value, chain[i].headers);
    if (i == 2) after_gap = o;
  }
  // A forged copy of chain[0]: a changed fee under its headers.
  auto env = events::ParseEnvelope(chain[0]);
  ASSERT_TRUE(env.ok());
  v1::Envelope forged = *env;
  forged.set_event_id("forged-event");
  if (forged.has_enrollment_accepted()) {
    forged.mutable_enrollment_accepted()->mutable_enrollment()->set_fee_fen(1);
  }
  const int64_t forged_at = append(chain[0].key, forged.SerializeAsString(), chain[0].headers);
  const int64_t bare_at = append(chain[0].key, chain[0].value, {});

  RunResult r = Mutualctl(absl::StrCat("audit verify --no-decisions --topics ", topic));
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find(absl::StrCat(topic, "/0 offset ", after_gap, " event ")), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("does not follow the event before it"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(absl::StrCat("offset ", forged_at, " event forged-event")), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("content changed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(absl::StrCat("offset ", bare_at, " event ")), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no chain hash"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 problems"), std::string::npos) << r.out;
}

TEST_F(OpsTest, ReportCountsWhatWasDriven) {
  RunResult csv = Mutualctl("report --plan-year 2022 --format csv" + P());
  ASSERT_EQ(csv.code, 0) << csv.out << csv.err;
  // The enrollment total row: accepted, pending, rejected, …, fees.
  std::string total_row;
  for (absl::string_view line : absl::StrSplit(csv.out, '\n')) {
    if (absl::StrContains(line, "by platform") && absl::StrContains(line, ",total,")) total_row = std::string(line);
  }
  std::vector<std::string> cells = absl::StrSplit(total_row, ',');
  ASSERT_GE(cells.size(), 8u) << csv.out;
  EXPECT_EQ(cells[3], absl::StrCat(year->accepted));
  EXPECT_EQ(cells[5], absl::StrCat(year->rejected));
  char fee[32];
  std::snprintf(fee, sizeof fee, "%lld.%02lld", static_cast<long long>(year->fee_fen / 100),
                static_cast<long long>(year->fee_fen % 100));
  EXPECT_EQ(cells[7], fee) << total_row;
  EXPECT_NE(csv.out.find(",approved,"), std::string::npos);

  RunResult table = Mutualctl("report --plan-year 2022" + P());
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_NE(table.out.find("NOT_COVERED"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("INELIGIBLE_HOSPITAL"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("浦东新区"), std::string::npos) << table.out;

  const std::string html_file = (year->enrollment->dir() / "report.html").string();
  RunResult html = Mutualctl(absl::StrCat("report --plan-year 2022 --format html --out ", html_file, P()));
  ASSERT_EQ(html.code, 0) << html.err;
  std::ifstream in(html_file);
  std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("<svg"), std::string::npos);
  EXPECT_NE(page.find("<style>"), std::string::npos);
  const std::string no_ns = absl::StrReplaceAll(page, {{"http://www.w3.org/2000/svg", ""}});
  EXPECT_EQ(no_ns.find("http://"), std::string::npos);  // no external assets
  EXPECT_EQ(no_ns.find("https://"), std::string::npos);
  EXPECT_EQ(page.find("<script src"), std::string::npos);
  EXPECT_EQ(page.find("<link"), std::string::npos);
}

TEST_F(OpsTest, HistoryShowsTheWorkerMasked) {
  const std::string secret = (year->enrollment->dir() / "secret.key").string();
  RunResult r = Mutualctl(absl::StrCat("history --worker ", year->worker_a, " --secret-file ", secret, P()));
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("enrollment_accepted"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("claim C-1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("claim C-4"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("claim C-2"), std::string::npos) << "another worker's claim\n" << r.out;
  EXPECT_EQ(r.out.find(year->worker_a), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("张三丰"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("13800138011"), std::string::npos) << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;
  // Claim filed before its decision, decisions in recorded order.
  EXPECT_LT(r.out.find("enrollment_accepted"), r.out.find("claim C-1"));
  EXPECT_LT(r.out.find("claim C-1"), r.out.find("claim C-4"));

  RunResult u = Mutualctl(absl::StrCat("history --unmask --worker ", year->worker_a, " --secret-file ", secret, P()));
  ASSERT_EQ(u.code, 0) << u.err;
  EXPECT_NE(u.err.find("\"event\":\"pii_unmasked\""), std::string::npos) << u.err;
  EXPECT_NE(u.err.find("\"who\":"), std::string::npos) << u.err;
  EXPECT_NE(u.err.find("\"when\":"), std::string::npos) << u.err;
}

TEST_F(OpsTest, WhatIfReportsChangedClaims) {
  const std::string rules = (year->enrollment->dir() / "rules.json").string();
  std::ofstream(rules) << R"({"hospital_daily_fen": 10000, "hospital_waiting_days": 0})";
  RunResult r = Mutualctl(absl::StrCat("audit what-if --plan-year 2022 --rules ", rules, P()));
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("claim C-1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("amount"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("claims 4"), std::string::npos) << r.out;
  std::ofstream(rules) << R"({"no_such_field": 1})";
  EXPECT_EQ(Mutualctl(absl::StrCat("audit what-if --plan-year 2022 --rules ", rules, P())).code, 2);
}

}  // namespace
}  // namespace mutualaid
