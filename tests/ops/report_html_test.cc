// The plan-year report's HTML page, made from fixed events, rendered by
// headless Chromium (Debian's `chromium`, installed by deploy/install-deps.sh):
// every chart (inline SVG) is laid out with a non-zero size, the page logs no
// console error and raises no script error, and a screenshot is taken
// (report_html_test.png in the test's working directory, for a person to look at).
// No broker: the events are made here.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/numbers.h"
#include "gtest/gtest.h"
#include "mutualaid/v1/envelope.pb.h"
#include "ops/report.h"

namespace mutualaid::mutualctl {
namespace {

namespace fs = std::filesystem;

v1::Date D(int y, int m, int d) {
  v1::Date out;
  out.set_year(y);
  out.set_month(m);
  out.set_day(d);
  return out;
}

v1::Envelope On(const v1::Date& day) {
  v1::Envelope e;
  *e.mutable_occurred_on() = day;
  return e;
}

// A small plan year: 3 platforms' enrollments in March and one in June,
// rejections, claims of several benefits and sites (approved, paid, denied,
// investigating), SMS.
void AddYear(ops::PlanYearReport& report) {
  const char* platforms[] = {"P01", "P02", "P03"};
  for (int i = 0; i < 240; ++i) {
    v1::Envelope e = On(D(2022, i < 200 ? 3 : 6, 10));
    v1::Enrollment* x = e.mutable_enrollment_accepted()->mutable_enrollment();
    x->set_enrollment_id(absl::StrCat("E", i));
    x->set_platform_id(platforms[i % 3]);
    x->set_plan_year(2022);
    x->set_kind(i < 200 ? v1::ENROLLMENT_KIND_CONCENTRATED : v1::ENROLLMENT_KIND_INSTANT);
    *x->mutable_application_date() = D(2022, i < 200 ? 3 : 6, 10);
    x->set_fee_fen(7200);
    report.Add(e);
  }
  const v1::ReasonCode reasons[] = {v1::REASON_CODE_INVALID_ID_NUMBER, v1::REASON_CODE_INVALID_PHONE,
                                    v1::REASON_CODE_DUPLICATE_IN_PLAN_YEAR};
  for (int i = 0; i < 18; ++i) {
    v1::Envelope e = On(D(2022, 3, 10));
    v1::EnrollmentRejected* x = e.mutable_enrollment_rejected();
    x->set_platform_id(platforms[i % 3]);
    x->set_plan_year(2022);
    x->mutable_decision()->add_reasons(reasons[i % 3]);
    report.Add(e);
  }
  struct C {
    const char* id;
    v1::Benefit benefit;
    const char* site;
    v1::ClaimStatus status;
    int64_t fen;
    bool paid;
  };
  const C claims[] = {
      {"C1", v1::BENEFIT_HOSPITAL_ALLOWANCE, "服务大厅", v1::CLAIM_STATUS_APPROVED, 300000, true},
      {"C2", v1::BENEFIT_HOSPITAL_ALLOWANCE, "静安", v1::CLAIM_STATUS_DENIED, 0, false},
      {"C3", v1::BENEFIT_CRITICAL_ILLNESS, "徐汇", v1::CLAIM_STATUS_APPROVED, 2000000, true},
      {"C4", v1::BENEFIT_COVID19, "杨浦", v1::CLAIM_STATUS_APPROVED, 2000000, false},
      {"C5", v1::BENEFIT_ILLNESS_DEATH, "服务大厅", v1::CLAIM_STATUS_INVESTIGATING, 2000000, false},
      {"C6", v1::BENEFIT_ACCIDENTAL_DEATH, "宝山", v1::CLAIM_STATUS_APPROVED, 15000000, true},
      {"C7", v1::BENEFIT_ACCIDENT_CONSOLATION, "浦东新区", v1::CLAIM_STATUS_DENIED, 0, false},
  };
  for (const C& c : claims) {
    v1::Envelope e = On(D(2022, 8, 20));
    v1::ClaimDecision* x = e.mutable_claim_decided()->mutable_claim();
    x->set_claim_id(c.id);
    x->set_benefit(c.benefit);
    x->set_site(c.site);
    x->set_status(c.status);
    x->set_amount_fen(c.fen);
    x->set_plan_year(2022);
    *x->mutable_received_on() = D(2022, 8, 20);
    *x->mutable_due_by() = D(2022, 11, 18);
    if (c.status == v1::CLAIM_STATUS_DENIED) x->mutable_decision()->add_reasons(v1::REASON_CODE_WAITING_PERIOD);
    report.Add(e);
    if (c.paid) {
      v1::Envelope p = On(D(2022, 8, 21));
      p.mutable_claim_paid()->set_claim_id(c.id);
      p.mutable_claim_paid()->set_amount_fen(c.fen);
      *p.mutable_claim_paid()->mutable_paid_on() = D(2022, 8, 21);
      report.Add(p);
    }
  }
  for (int i = 0; i < 30; ++i) {
    v1::Envelope q = On(D(2022, 8, 21));
    q.mutable_sms_queued();
    report.Add(q);
    if (i < 25) {
      v1::Envelope d = On(D(2022, 8, 21));
      d.mutable_sms_delivered();
      report.Add(d);
    }
  }
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Runs Chromium headless; its exit code. stdout to `out`, stderr to `err`.
int Chromium(const std::vector<std::string>& args, const fs::path& out, const fs::path& err,
             const fs::path& profile) {
  std::string command = "timeout 120 chromium --headless --no-sandbox --disable-gpu "
                        "--disable-dev-shm-usage --no-first-run --hide-scrollbars "
                        "--enable-logging=stderr --v=0 --user-data-dir=" + profile.string();
  for (const std::string& a : args) command += " '" + a + "'";
  command += " >" + out.string() + " 2>" + err.string();
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool HaveChromium() { return std::system("command -v chromium >/dev/null 2>&1") == 0; }

class ReportHtmlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / absl::StrCat("report_html_test.", getpid());
    fs::create_directories(dir_);
    ops::PlanYearReport report(2022);
    AddYear(report);
    std::ofstream file(dir_ / "report.html", std::ios::binary);
    ASSERT_TRUE(report.Write(file, "html", absl::CivilDay(2022, 9, 1)).ok());
    file.close();
    html_ = ReadAll(dir_ / "report.html");
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  fs::path dir_;
  std::string html_;
};

// An SMS queued with nobody to send to (no phone, or the worker erased) is
// failed for good at once: it counts as such, not as still queued.
TEST(ReportCounts, SmsQueuedAlreadyFailedCountsAsFailedForGood) {
  ops::PlanYearReport report(2022);
  AddYear(report);  // 30 queued, 25 delivered
  for (const char* reason : {"NO_CONTACT_PHONE", "RECIPIENT_DATA_ERASED"}) {
    v1::Envelope q = On(D(2022, 8, 22));
    q.mutable_sms_queued()->mutable_message()->set_status(v1::SMS_STATUS_FAILED);
    q.mutable_sms_queued()->mutable_message()->set_failure_reason(reason);
    report.Add(q);
  }
  v1::Envelope retry = On(D(2022, 8, 22));  // a retriable failure is not final
  retry.mutable_sms_failed()->set_retriable(true);
  report.Add(retry);
  v1::Envelope gave_up = On(D(2022, 8, 22));
  gave_up.mutable_sms_failed()->set_retriable(false);
  report.Add(gave_up);
  const ops::PlanYearReport::Counts c = report.counts();
  EXPECT_EQ(c.sms_queued, 32);
  EXPECT_EQ(c.sms_delivered, 25);
  EXPECT_EQ(c.sms_failed, 3);
}

TEST_F(ReportHtmlTest, IsSelfContained) {
  EXPECT_EQ(Count(html_, "<script"), 0) << "the report needs no script";
  EXPECT_EQ(Count(html_, "<link"), 0);
  EXPECT_EQ(Count(html_, " src="), 0) << "no external images or scripts";
  EXPECT_GE(Count(html_, "<svg"), 6) << "a chart per section";
  EXPECT_NE(html_.find("<meta charset='utf-8'>"), std::string::npos);
}

TEST_F(ReportHtmlTest, ChartsRenderInHeadlessChromium) {
  ASSERT_TRUE(HaveChromium()) << "chromium is not installed (deploy/install-deps.sh installs it)";
  // A copy of the page with a probe: script errors are recorded from the
  // start, and after load every SVG's laid-out size is written into the DOM.
  std::string probed = html_;
  const std::string head_probe =
      "<script>window.__errors=[];addEventListener('error',function(e){__errors.push("
      "String(e.message))});(function(){var c=console.error;console.error=function(){"
      "__errors.push([].join.call(arguments,' '));c.apply(console,arguments)}})();</script>";
  const std::string tail_probe =
      "<script>(function(){var out=[];document.querySelectorAll('svg').forEach(function(s){"
      "var r=s.getBoundingClientRect();var b=s.getBBox();out.push('svg '+Math.round(r.width)+' '+"
      "Math.round(r.height)+' '+Math.round(b.width)+' '+Math.round(b.height)+' '+"
      "s.querySelectorAll('rect').length)});out.push('errors '+__errors.length+' '+__errors.join('|'));"
      "var p=document.createElement('pre');p.id='probe';p.textContent=out.join('\\n');"
      "document.body.appendChild(p)})();</script>";
  const size_t head = probed.find("<head>");
  ASSERT_NE(head, std::string::npos);
  probed.insert(head + 6, head_probe);
  const size_t body_end = probed.rfind("</body>");
  ASSERT_NE(body_end, std::string::npos);
  probed.insert(body_end, tail_probe);
  {
    std::ofstream f(dir_ / "probed.html", std::ios::binary);
    f << probed;
  }
  ASSERT_EQ(Chromium({"--dump-dom", "file://" + (dir_ / "probed.html").string()}, dir_ / "dom.html",
                     dir_ / "dom.err", dir_ / "profile1"),
            0)
      << ReadAll(dir_ / "dom.err");
  const std::string dom = ReadAll(dir_ / "dom.html");
  const size_t probe = dom.find("<pre id=\"probe\">");
  ASSERT_NE(probe, std::string::npos) << "the probe did not run; DOM:\n" << dom.substr(0, 2000);
  const std::string lines = dom.substr(probe + 16, dom.find("</pre>", probe) - probe - 16);
  int svgs = 0;
  for (absl::string_view line : absl::StrSplit(lines, '\n', absl::SkipEmpty())) {
    std::vector<std::string> f = absl::StrSplit(line, ' ');
    if (f[0] == "svg") {
      ASSERT_EQ(f.size(), 6u) << line;
      int w = 0, h = 0, bw = 0, bh = 0, rects = 0;
      ASSERT_TRUE(absl::SimpleAtoi(f[1], &w) && absl::SimpleAtoi(f[2], &h) &&
                  absl::SimpleAtoi(f[3], &bw) && absl::SimpleAtoi(f[4], &bh) &&
                  absl::SimpleAtoi(f[5], &rects));
      EXPECT_GT(w, 100) << "chart " << svgs << " laid out: " << line;
      EXPECT_GT(h, 10) << "chart " << svgs << ": " << line;
      EXPECT_GT(bw, 0) << "chart " << svgs << " draws something: " << line;
      EXPECT_GT(bh, 0) << line;
      EXPECT_GT(rects, 0) << "chart " << svgs << " has bars: " << line;
      ++svgs;
    } else if (f[0] == "errors") {
      EXPECT_EQ(f[1], "0") << "script or console errors: " << line;
    }
  }
  EXPECT_EQ(svgs, Count(html_, "<svg")) << lines;
  // Chromium's own log of the page's console: nothing at error level.
  const std::string err = ReadAll(dir_ / "dom.err");
  for (absl::string_view line : absl::StrSplit(err, '\n')) {
    if (line.find("CONSOLE") != absl::string_view::npos) {
      EXPECT_EQ(line.find(":ERROR:"), absl::string_view::npos) << line;
      EXPECT_EQ(line.find("Uncaught"), absl::string_view::npos) << line;
    }
  }

  // The page as a person sees it.
  const fs::path png = fs::current_path() / "report_html_test.png";
  fs::remove(png);
  ASSERT_EQ(Chromium({"--screenshot=" + png.string(), "--window-size=1280,2200",
                      "file://" + (dir_ / "report.html").string()},
                     dir_ / "shot.out", dir_ / "shot.err", dir_ / "profile2"),
            0)
      << ReadAll(dir_ / "shot.err");
  ASSERT_TRUE(fs::exists(png)) << ReadAll(dir_ / "shot.err");
  const std::string bytes = ReadAll(png);
  ASSERT_GT(bytes.size(), 20000u) << "a screenshot of a blank page is small";
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
}

}  // namespace
}  // namespace mutualaid::mutualctl
