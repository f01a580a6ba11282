// mutualctl audit what-if on a plan year whose claims went through the
// investigators (调查核实): one denied by the investigator, one approved by
// the investigator, one approved outright, one denied by the rules. Made by
// the real enrollment and claims services on their own topics (label kafka).
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
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

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs mutualctl with `args` (shell words), stdout and stderr apart.
RunResult Mutualctl(const std::string& args) {
  static int n = 0;
  const std::string err_file =
      (std::filesystem::temp_directory_path() / absl::StrCat("whatif_test_err_", getpid(), "_", ++n))
          .string();
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

// "1,234.50" -> 123450 fen; -1 if not an amount.
int64_t Fen(std::string yuan) {
  yuan = absl::StrReplaceAll(yuan, {{",", ""}});
  std::vector<std::string> parts = absl::StrSplit(yuan, '.');
  int64_t whole = 0, cents = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &whole) || !absl::SimpleAtoi(parts[1], &cents)) {
    return -1;
  }
  return whole * 100 + cents;
}

// The report's approved amount (csv row "金额 Amounts (yuan),Y,approved,N").
int64_t ReportApprovedFen(const std::string& csv) {
  for (absl::string_view line : absl::StrSplit(csv, '\n')) {
    std::vector<std::string> cells = absl::StrSplit(line, ',');
    if (cells.size() == 4 && absl::StrContains(cells[0], "Amounts") && cells[2] == "approved") {
      return Fen(cells[3]);
    }
  }
  return -1;
}

struct WhatIf {
  int64_t claims = -1, changed = -1, before_fen = -1, after_fen = -1;
};

// "claims N, changed N; approved amount A -> B yuan (…)".
WhatIf ParseWhatIf(const std::string& out) {
  WhatIf w;
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (!absl::StartsWith(line, "claims ")) continue;
    std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    // claims N, changed N; approved amount A -> B yuan (…)
    if (words.size() < 9) continue;
    if (!absl::SimpleAtoi(absl::StripSuffix(words[1], ","), &w.claims)) w.claims = -1;
    if (!absl::SimpleAtoi(absl::StripSuffix(words[3], ";"), &w.changed)) w.changed = -1;
    w.before_fen = Fen(words[6]);
    w.after_fen = Fen(words[8]);
  }
  return w;
}

struct Year {
  std::unique_ptr<testing::ServiceProcess> enrollment, claims;
  std::string prefix;
  std::filesystem::path dir;
  int64_t approved_fen = 0;          // what the services approved, verdicts included
  int64_t investigated_fen = 0;      // the amount each investigated claim was decided at
  std::string denied_by_investigator, approved_by_investigator;
};
Year* year = nullptr;

class WhatIfTest : public ::testing::Test {
 protected:
  static void MakeYear() {
    year = new Year;
    Year& y = *year;
    y.enrollment = std::make_unique<testing::ServiceProcess>(ENROLLMENT_BINARY, "enrollment",
                                                             "clock.start = 2022-03-15");
    ASSERT_NO_FATAL_FAILURE(y.enrollment->Start());
    // The built-in investigation threshold (10 000 yuan): the shadow
    // processor of what-if decides with the built-in plan book.
    y.claims = std::make_unique<testing::ServiceProcess>(CLAIMS_BINARY, "claims", *y.enrollment,
                                                         "clock.start = 2022-03-15");
    ASSERT_NO_FATAL_FAILURE(y.claims->Start());
    y.prefix = y.enrollment->prefix();
    y.dir = y.enrollment->dir();
    auto enrollments = v1::EnrollmentService::NewStub(y.enrollment->channel());
    auto enrollment_admin = v1::AdminService::NewStub(y.enrollment->channel());
    auto claims = v1::ClaimsService::NewStub(y.claims->channel());
    auto claims_admin = v1::AdminService::NewStub(y.claims->channel());
    {
      v1::RegisterPlatformRequest req;
      req.mutable_platform()->set_platform_id("P01");
      req.mutable_platform()->set_name("平台P01");
      req.mutable_platform()->set_payout_account("6222000000P01");
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
    const std::vector<std::string> workers = {IdNumber("19900101", 21), IdNumber("19880808", 22),
                                              IdNumber("19920202", 23), IdNumber("19950303", 24)};
    ASSERT_NO_FATAL_FAILURE(set_day(D(2022, 3, 15)));
    {
      v1::SubmitEnrollmentsRequest req;
      const char* names[] = {"钱一", "孙二", "李三", "周四"};
      int n = 0;
      for (const std::string& id : workers) {
        v1::EnrollmentRecord* r = req.add_records();
        r->set_name(names[n]);
        r->set_platform_record_id(absl::StrCat("w", ++n));
        r->set_id_number(id);
        r->set_phone(absl::StrCat("1380013802", n));
        r->set_industry("FOOD_DELIVERY");
      }
      v1::SubmitEnrollmentsResponse resp;
      grpc::Status s = enrollments->SubmitEnrollments(Call(testing::kP01).get(), req, &resp);
      ASSERT_TRUE(s.ok()) << s.error_message();
      ASSERT_EQ(resp.results_size(), 4);
      for (const auto& r : resp.results()) {
        ASSERT_EQ(r.status(), v1::ENROLLMENT_STATUS_ACCEPTED) << r.DebugString();
      }
    }
    ASSERT_NO_FATAL_FAILURE(set_day(D(2022, 7, 1)));
    auto file = [&](const std::string& claim_id, const std::string& who, auto facts) {
      v1::FileClaimRequest req;
      v1::ClaimApplication* a = req.mutable_application();
      a->set_claim_id(claim_id);
      a->set_id_number(who);
      a->set_site("服务大厅");
      a->mutable_facts()->set_claimant(v1::CLAIMANT_WORKER);
      a->mutable_payee_card()->set_kind(v1::CARD_KIND_UNION_MEMBER_CARD);
      a->mutable_payee_card()->set_card_number("6222020200112230");
      a->mutable_payee_card()->set_holder_name("骑手");
      facts(a->mutable_facts());
      v1::FileClaimResponse resp;
      grpc::Status s = claims->FileClaim(Call(testing::kHall).get(), req, &resp);
      EXPECT_TRUE(s.ok()) << claim_id << ": " << s.error_message() << "\n" << y.claims->Log();
      return resp.claim();
    };
    auto critical_illness = [](v1::ClaimFacts* f) {
      f->set_benefit(v1::BENEFIT_CRITICAL_ILLNESS);
      f->set_category(v1::CRITICAL_ILLNESS_CATEGORY_MALIGNANT_TUMOR);
      f->set_hospital(v1::HOSPITAL_KIND_DESIGNATED_HOSPITAL);
      *f->mutable_diagnosed_on() = D(2022, 6, 20);
      f->set_hospitalized(true);
    };
    auto stay = [](v1::HospitalKind h) {
      return [=](v1::ClaimFacts* f) {
        f->set_benefit(v1::BENEFIT_HOSPITAL_ALLOWANCE);
        f->set_cause(v1::CAUSE_ILLNESS);
        f->set_hospital(h);
        *f->mutable_admission() = D(2022, 6, 1);
        *f->mutable_discharge() = D(2022, 6, 6);
      };
    };
    y.denied_by_investigator = "W-CI-DENY";
    y.approved_by_investigator = "W-CI-OK";
    for (const std::string& id : {y.denied_by_investigator, y.approved_by_investigator}) {
      v1::ClaimDecision c = file(id, id == y.denied_by_investigator ? workers[0] : workers[1],
                                 critical_illness);
      ASSERT_EQ(c.status(), v1::CLAIM_STATUS_INVESTIGATING) << c.DebugString();
      ASSERT_GT(c.amount_fen(), 0);
      y.investigated_fen = c.amount_fen();
    }
    v1::ClaimDecision stay_ok = file("W-STAY-OK", workers[2], stay(v1::HOSPITAL_KIND_DESIGNATED_HOSPITAL));
    ASSERT_EQ(stay_ok.status(), v1::CLAIM_STATUS_APPROVED) << stay_ok.DebugString();
    v1::ClaimDecision stay_no = file("W-STAY-NO", workers[3], stay(v1::HOSPITAL_KIND_OTHER_HOSPITAL));
    ASSERT_EQ(stay_no.status(), v1::CLAIM_STATUS_DENIED) << stay_no.DebugString();
    y.approved_fen = stay_ok.amount_fen();

    ASSERT_NO_FATAL_FAILURE(set_day(D(2022, 7, 10)));
    for (const auto& [id, approve] : {std::pair{y.denied_by_investigator, false},
                                      std::pair{y.approved_by_investigator, true}}) {
      v1::DecideInvestigationRequest req;
      req.set_claim_id(id);
      req.set_approve(approve);
      req.set_reason(approve ? "病历核实无误" : "诊断证明与病历不符");
      v1::DecideInvestigationResponse resp;
      grpc::Status s = claims->DecideInvestigation(Call(testing::kInvestigator).get(), req, &resp);
      ASSERT_TRUE(s.ok()) << id << ": " << s.error_message();
      ASSERT_EQ(resp.claim().status(), approve ? v1::CLAIM_STATUS_APPROVED : v1::CLAIM_STATUS_DENIED)
          << resp.claim().DebugString();
      if (approve) y.approved_fen += resp.claim().amount_fen();
    }
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
  RunResult WhatIfUnder(const std::string& name, const std::string& rules_json) const {
    const std::string rules = (year->dir / name).string();
    std::ofstream(rules) << rules_json;
    return Mutualctl(absl::StrCat("audit what-if --plan-year 2022 --rules ", rules, P()));
  }
};

TEST_F(WhatIfTest, UnchangedRulesReportTheReportsApprovedAmountAndNoChange) {
  RunResult report = Mutualctl("report --plan-year 2022 --format csv" + P());
  ASSERT_EQ(report.code, 0) << report.out << report.err;
  const int64_t report_fen = ReportApprovedFen(report.out);
  EXPECT_EQ(report_fen, year->approved_fen) << report.out;

  RunResult r = WhatIfUnder("unchanged.json", "{}");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const WhatIf w = ParseWhatIf(r.out);
  EXPECT_EQ(w.claims, 4) << r.out;
  EXPECT_EQ(w.changed, 0) << r.out;
  EXPECT_EQ(w.before_fen, report_fen) << r.out;
  EXPECT_EQ(w.after_fen, report_fen) << r.out;
  EXPECT_EQ(r.out.find("  claim "), std::string::npos) << "no claim changes\n" << r.out;
}

TEST_F(WhatIfTest, NoInvestigationNeededLeavesTheVerdictsNothingToDecide) {
  // Above every amount: both critical illnesses are approved outright, so the
  // investigator's denial no longer applies.
  RunResult r = WhatIfUnder("no_investigation.json", R"({"investigation_threshold_fen": 100000000})");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const WhatIf w = ParseWhatIf(r.out);
  EXPECT_EQ(w.claims, 4) << r.out;
  EXPECT_EQ(w.changed, 2) << r.out;
  EXPECT_EQ(w.before_fen, year->approved_fen) << r.out;
  EXPECT_EQ(w.after_fen, year->approved_fen + year->investigated_fen) << r.out;
  EXPECT_NE(r.out.find("claim " + year->denied_by_investigator), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("status DENIED -> APPROVED"), std::string::npos) << r.out;
}

TEST_F(WhatIfTest, AHigherAmountGoesThroughTheSameVerdicts) {
  // 30 000 yuan for a critical illness: still investigated; the investigator
  // who approved approves the new amount, the one who denied still denies.
  RunResult r = WhatIfUnder("higher.json", R"({"critical_illness_fen": 3000000})");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const WhatIf w = ParseWhatIf(r.out);
  EXPECT_EQ(w.claims, 4) << r.out;
  EXPECT_EQ(w.changed, 2) << r.out;
  EXPECT_EQ(w.after_fen - w.before_fen, 3000000 - year->investigated_fen) << r.out;
  EXPECT_NE(r.out.find("investigator's verdict: amount"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace mutualaid
