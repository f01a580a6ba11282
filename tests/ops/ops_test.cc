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
#include "mutualaid/core/clock.h"
#include "mutualaid/core/log.h"
#include "mutualaid/core/worker_key.h"
#include "mutualaid/crypto/aead.h"
#include "mutualaid/crypto/kafka_key_ring.h"
#include "mutualaid/crypto/key_ring.h"
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

  // The real services sealed the enrollment's person and the claims' ID
  // number and card: with the deployment's master key history opens them.
  const std::string master = (year->enrollment->dir() / "master.key").string();
  RunResult sealed = Mutualctl(absl::StrCat("history --requests --worker ", year->worker_a, " --secret-file ",
                                            secret, " --master-key-file ", master, P()));
  ASSERT_EQ(sealed.code, 0) << sealed.out << sealed.err;
  EXPECT_EQ(sealed.out.find("(sealed)"), std::string::npos) << sealed.out;
  EXPECT_EQ(sealed.out.find("erased"), std::string::npos) << sealed.out;
  EXPECT_EQ(sealed.out.find("张三丰"), std::string::npos) << sealed.out;
  EXPECT_NE(sealed.out.find(MaskName("张三丰")), std::string::npos) << sealed.out;
  EXPECT_NE(sealed.out.find(MaskPhone("13800138011")), std::string::npos) << sealed.out;
  RunResult opened = Mutualctl(absl::StrCat("history --requests --unmask --worker ", year->worker_a,
                                            " --secret-file ", secret, " --master-key-file ", master, P()));
  ASSERT_EQ(opened.code, 0) << opened.out << opened.err;
  EXPECT_NE(opened.out.find("张三丰"), std::string::npos) << opened.out;
  EXPECT_NE(opened.out.find("13800138011"), std::string::npos) << opened.out;
  EXPECT_NE(opened.out.find(Card("622202020011223")), std::string::npos) << opened.out;
}

// Sealed personal data in every place the contract seals it, for two workers
// on their own topics (the year's services do not make payouts or SMS): the
// enrollment's person, a phone change, a claim's ID number and card (filed and
// decided), a payout's card, an SMS's phone. One worker is then erased.
TEST_F(OpsTest, HistoryOpensSealedDataWithTheMasterKeyAndSaysErased) {
  unsetenv("MUTUALAID_CRYPTO_MASTER_KEY_FILE");
  unsetenv("MUTUALAID_CRYPTO_MASTER_KEY");
  const std::string prefix = absl::StrCat(year->prefix, "sealed.");
  const std::string secret = (year->enrollment->dir() / "secret.key").string();
  const std::string master_file = (year->enrollment->dir() / "history-master.key").string();
  const std::string master_hex = crypto::NewMasterKeyHex();
  std::ofstream(master_file) << master_hex << "\n";
  auto secret_bytes = LoadWorkerKeySecretFromFile(secret);
  ASSERT_TRUE(secret_bytes.ok()) << secret_bytes.status();
  auto keyer = WorkerKeyer::Create(*std::move(secret_bytes));
  ASSERT_TRUE(keyer.ok()) << keyer.status();

  kafka::ClientConfig client;
  client.bootstrap = std::getenv("MUTUALAID_KAFKA_BOOTSTRAP");
  auto admin = kafka::Admin::Create(client);
  ASSERT_TRUE(admin.ok()) << admin.status();
  std::vector<kafka::TopicSpec> specs;
  for (absl::string_view t : {kafka::kEnrollmentEvents, kafka::kClaimsRequests, kafka::kClaimsEvents,
                              kafka::kPayoutEvents, kafka::kNotificationEvents}) {
    specs.push_back(kafka::TopicSpec::EventLog(prefix + std::string(t), 3));
  }
  ASSERT_TRUE((*admin)->EnsureTopics(specs).ok());
  auto master = crypto::ParseMasterKey(master_hex, "test");
  ASSERT_TRUE(master.ok());
  crypto::KafkaKeyRingOptions ko;
  ko.client = client;
  ko.topic = prefix + crypto::kKeysTopic;
  ko.creator = "ops_test";
  auto ring = crypto::KafkaKeyRing::Create(*std::move(master), ko);
  ASSERT_TRUE(ring.ok()) << ring.status();
  auto producer = kafka::Producer::Create({.client = client});
  ASSERT_TRUE(producer.ok()) << producer.status();

  struct Person {
    std::string id, name, phone, new_phone, card;
  };
  const Person kept{IdNumber("19880808", 31), "欧阳娜娜", "13700137031", "13600136031",
                    Card("622202020099331")};
  const Person erased{IdNumber("19880808", 32), "司马光", "13700137032", "13600136032",
                      Card("622202020099332")};
  int n = 0;
  auto produce = [&](absl::string_view topic, const std::string& wk, v1::Envelope env) {
    events::EnvelopeHeader h;
    h.event_id = absl::StrCat("sealed-", ++n);
    h.worker_key = wk;
    h.occurred_on = absl::CivilDay(2022, 6, 1);
    h.recorded_at = ShanghaiTime(absl::CivilDay(2022, 6, 1), 9) + absl::Minutes(n);
    h.causation_id = h.event_id;
    h.producer = "ops_test";
    v1::Envelope e = events::NewEnvelope(h);
    e.MergeFrom(env);
    auto a = (*producer)->Append(events::ToRecord(prefix + std::string(topic), std::move(e)));
    ASSERT_TRUE(a.ok()) << a.status();
  };
  for (const Person* p : {&kept, &erased}) {
    const std::string wk = keyer->KeyFor(p->id);
    crypto::KeyRing& r = **ring;
    v1::PersonalData person;
    person.set_name(p->name);
    person.set_id_number(p->id);
    person.set_phone(p->phone);
    auto sealed_person = crypto::SealPerson(r, wk, person);
    ASSERT_TRUE(sealed_person.ok()) << sealed_person.status();
    v1::Envelope acc;
    v1::Enrollment* e = acc.mutable_enrollment_accepted()->mutable_enrollment();
    e->set_enrollment_id(absl::StrCat("E2022-", wk.substr(0, 8)));
    e->set_platform_id("P01");
    e->set_plan_year(2022);
    e->set_worker_key(wk);
    *e->mutable_sealed_person() = *sealed_person;
    ASSERT_NO_FATAL_FAILURE(produce(kafka::kEnrollmentEvents, wk, acc));

    person.set_phone(p->new_phone);
    auto changed_person = crypto::SealPerson(r, wk, person);
    ASSERT_TRUE(changed_person.ok());
    v1::Envelope changed;
    changed.mutable_contact_phone_changed()->set_enrollment_id(e->enrollment_id());
    *changed.mutable_contact_phone_changed()->mutable_sealed_person() = *changed_person;
    changed.mutable_contact_phone_changed()->set_caller("platform:P01");
    ASSERT_NO_FATAL_FAILURE(produce(kafka::kEnrollmentEvents, wk, changed));

    v1::PersonalData claimant;
    claimant.set_id_number(p->id);
    auto sealed_claimant = crypto::SealPerson(r, wk, claimant);
    v1::PayeeCard card;
    card.set_kind(v1::CARD_KIND_UNION_MEMBER_CARD);
    card.set_card_number(p->card);
    card.set_holder_name(p->name);
    auto sealed_card = crypto::SealField(r, wk, crypto::kFieldCard, card.SerializeAsString());
    ASSERT_TRUE(sealed_claimant.ok() && sealed_card.ok());
    v1::ClaimFiled filed;
    filed.mutable_application()->set_claim_id(absl::StrCat("C-S", n));
    filed.mutable_application()->mutable_facts()->set_benefit(v1::BENEFIT_HOSPITAL_ALLOWANCE);
    filed.mutable_application()->mutable_payee_card()->set_kind(v1::CARD_KIND_UNION_MEMBER_CARD);
    filed.mutable_application()->set_site("浦东新区");
    filed.set_caller("hall:test");
    *filed.mutable_sealed_person() = *sealed_claimant;
    *filed.mutable_sealed_card() = *sealed_card;
    filed.set_payee_card_last4(p->card.substr(p->card.size() - 4));
    v1::Envelope filed_env;
    *filed_env.mutable_claim_filed() = filed;
    ASSERT_NO_FATAL_FAILURE(produce(kafka::kClaimsRequests, wk, filed_env));
    v1::Envelope decided;
    decided.mutable_claim_decided()->mutable_claim()->set_claim_id(filed.application().claim_id());
    decided.mutable_claim_decided()->mutable_claim()->set_status(v1::CLAIM_STATUS_APPROVED);
    *decided.mutable_claim_decided()->mutable_filed() = filed;
    ASSERT_NO_FATAL_FAILURE(produce(kafka::kClaimsEvents, wk, decided));

    v1::Envelope paid;
    v1::Payout* po = paid.mutable_payout_confirmed()->mutable_payout();
    po->set_payout_id(absl::StrCat("PO-S", n));
    po->set_claim_id(filed.application().claim_id());
    po->set_amount_fen(150000);
    po->set_payee(v1::PAYEE_KIND_WORKER_CARD);
    po->set_account_last4(p->card.substr(p->card.size() - 4));
    *po->mutable_sealed_account() = *sealed_card;
    ASSERT_NO_FATAL_FAILURE(produce(kafka::kPayoutEvents, wk, paid));

    auto sealed_phone = crypto::SealField(r, wk, crypto::kFieldPhone, p->new_phone);
    ASSERT_TRUE(sealed_phone.ok());
    v1::Envelope sms;
    v1::SmsMessage* m = sms.mutable_sms_queued()->mutable_message();
    m->set_message_id(absl::StrCat("sealed-", n, ":PAYOUT_CONFIRMED"));
    m->set_worker_key(wk);
    m->set_phone_masked(MaskPhone(p->new_phone));
    *m->mutable_sealed_phone() = *sealed_phone;
    m->set_text("【上海市职工保障互助会】给付到账");
    ASSERT_NO_FATAL_FAILURE(produce(kafka::kNotificationEvents, wk, sms));
  }
  ASSERT_TRUE((*ring)->Erase(keyer->KeyFor(erased.id), "operations:ops_test").ok());

  auto history = [&](const Person& p, const std::string& flags) {
    return Mutualctl(absl::StrCat("history --requests --worker ", p.id, " --secret-file ", secret,
                                  " --topic-prefix ", prefix, " ", flags));
  };
  auto clear_values = [](const Person& p) {
    return std::vector<std::string>{p.id, p.name, p.phone, p.new_phone, p.card};
  };

  // No master key: masked and "(sealed)".
  RunResult none = history(kept, "");
  ASSERT_EQ(none.code, 0) << none.out << none.err;
  EXPECT_NE(none.out.find("(sealed)"), std::string::npos) << none.out;
  for (const std::string& v : clear_values(kept)) EXPECT_EQ(none.out.find(v), std::string::npos) << v;

  // With the master key, masked from the opened data.
  RunResult masked = history(kept, "--master-key-file " + master_file);
  ASSERT_EQ(masked.code, 0) << masked.out << masked.err;
  EXPECT_TRUE(masked.err.empty()) << masked.err;
  EXPECT_EQ(masked.out.find("(sealed)"), std::string::npos) << masked.out;
  EXPECT_EQ(masked.out.find("erased"), std::string::npos) << masked.out;
  for (const std::string& v : clear_values(kept)) EXPECT_EQ(masked.out.find(v), std::string::npos) << v;
  for (const std::string& v : {MaskIdNumber(kept.id), MaskName(kept.name), MaskPhone(kept.phone),
                               MaskPhone(kept.new_phone), MaskCardNumber(kept.card)}) {
    EXPECT_NE(masked.out.find(v), std::string::npos) << v << "\n" << masked.out;
  }

  // --unmask with the master key (from the environment): every field in
  // clear, the unmask logged.
  setenv("MUTUALAID_CRYPTO_MASTER_KEY_FILE", master_file.c_str(), 1);
  RunResult clear = history(kept, "--unmask");
  unsetenv("MUTUALAID_CRYPTO_MASTER_KEY_FILE");
  ASSERT_EQ(clear.code, 0) << clear.out << clear.err;
  EXPECT_NE(clear.err.find("\"event\":\"pii_unmasked\""), std::string::npos) << clear.err;
  EXPECT_NE(clear.err.find("\"sealed_opened\":true"), std::string::npos) << clear.err;
  for (const std::string& v : clear_values(kept)) {
    EXPECT_NE(clear.out.find(v), std::string::npos) << v << "\n" << clear.out;
  }
  for (const char* what : {"new phone " , "SMS sealed-", "account ", "card "}) {
    EXPECT_NE(clear.out.find(what), std::string::npos) << what << "\n" << clear.out;
  }
  EXPECT_NE(clear.out.find(absl::StrCat("new phone ", kept.new_phone)), std::string::npos) << clear.out;
  EXPECT_NE(clear.out.find(absl::StrCat(" to ", kept.new_phone, ":")), std::string::npos) << clear.out;
  EXPECT_NE(clear.out.find(absl::StrCat("account ", kept.card)), std::string::npos) << clear.out;

  // The erased worker: "erased" wherever data was sealed, nothing in clear,
  // the rest of the timeline intact.
  RunResult gone = history(erased, "--unmask --master-key-file " + master_file);
  ASSERT_EQ(gone.code, 0) << gone.out << gone.err;
  // (The heading repeats the ID number the operator typed; the timeline
  // below it holds nothing in clear.)
  const std::string timeline = gone.out.substr(gone.out.find('\n') + 1);
  for (const std::string& v : clear_values(erased)) {
    EXPECT_EQ(timeline.find(v), std::string::npos) << v << "\n" << gone.out;
  }
  EXPECT_NE(gone.out.find("person erased"), std::string::npos) << gone.out;
  EXPECT_NE(gone.out.find("new phone erased"), std::string::npos) << gone.out;
  EXPECT_NE(gone.out.find("account erased"), std::string::npos) << gone.out;
  EXPECT_NE(gone.out.find("to erased:"), std::string::npos) << gone.out;
  EXPECT_NE(gone.out.find("claim_decided"), std::string::npos) << gone.out;
  EXPECT_NE(gone.out.find("1,500.00 yuan"), std::string::npos) << gone.out;  // the amount stays

  // A malformed master key file is refused, naming it.
  std::ofstream(master_file) << "not-hex\n";
  RunResult bad = history(kept, "--master-key-file " + master_file);
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_NE(bad.err.find("history-master.key"), std::string::npos) << bad.err;
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
