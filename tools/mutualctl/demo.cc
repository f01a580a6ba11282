#include "demo.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "channel.h"
#include "claim.h"
#include "enroll.h"
#include "generate.h"
#include "mutualaid/http/client.h"
#include "mutualaid/v1/admin.grpc.pb.h"
#include "mutualaid/v1/claims.grpc.pb.h"
#include "ops/common.h"
#include "ops/report.h"

namespace mutualaid::mutualctl {
namespace {

constexpr char kUsage[] =
    "usage: mutualctl demo [--var DIR] [--tokens DIR] [--data DIR] [--bank URL]\n"
    "                      [--enrollment H:P] [--claims H:P] [--payout H:P] [--notification H:P]\n"
    "                      [--bootstrap H:P] [--topic-prefix P] [--sms-wait SECONDS]\n"
    "Runs plan year 2022 on the running local stack (deploy/local/up): registers three\n"
    "platforms, streams each one's March enrollments (generated workers, some rows invalid\n"
    "or sent by two platforms), an instant enrollment in June, moves the services' and the\n"
    "fake bank's simulated clock through the year, files claims of every kind at the hall and\n"
    "district centres (some denied, some investigated), lets investigators decide, waits for\n"
    "payouts and SMS, and prints the plan year's summary from the event log.\n"
    "Defaults: --var $MUTUALAID_VAR or var/local (tokens in VAR/tokens, files in VAR/demo),\n"
    "services on 127.0.0.1:7101-7104, --bank http://127.0.0.1:7201, --sms-wait 600.\n"
    "Run once per stack: a stack whose clock is already past 2022-03-10 holds a demo (or other\n"
    "data); it then prints that summary and how to start afresh (deploy/local/down --wipe).\n";

constexpr int kPlanYear = 2022;
const absl::CivilDay kStart(2022, 3, 10);
const absl::CivilDay kEnd(2023, 6, 29);  // the plan year's end + 90 days: the last due date

int Usage(const std::string& why) {
  if (!why.empty()) std::cerr << "mutualctl demo: " << why << '\n';
  std::cerr << kUsage;
  return 2;
}

std::string DayText(absl::CivilDay d) { return absl::FormatCivilTime(d); }

v1::Date ToDate(absl::CivilDay d) {
  v1::Date out;
  out.set_year(static_cast<int32_t>(d.year()));
  out.set_month(d.month());
  out.set_day(d.day());
  return out;
}

class Demo {
 public:
  explicit Demo(const ops::Args& args) : args_(args) {
    const char* env_var = std::getenv("MUTUALAID_VAR");
    var_ = args.Get("var", nullptr, env_var != nullptr ? env_var : "var/local");
    tokens_ = args.Get("tokens", nullptr, var_ + "/tokens");
    data_ = args.Get("data", nullptr, var_ + "/demo");
    bank_url_ = args.Get("bank", nullptr, "http://127.0.0.1:7201");
    enrollment_ = args.Get("enrollment", nullptr, "127.0.0.1:7101");
    claims_ = args.Get("claims", nullptr, "127.0.0.1:7102");
    payout_ = args.Get("payout", nullptr, "127.0.0.1:7103");
    notification_ = args.Get("notification", nullptr, "127.0.0.1:7104");
    sms_wait_ = std::stoi(args.Get("sms-wait", nullptr, "600"));
  }

  int Run();

 private:
  std::string TokenFile(const std::string& role) const { return tokens_ + "/" + role + ".token"; }
  absl::StatusOr<std::string> Token(const std::string& role) const {
    return ops::ReadTokenFile(TokenFile(role));
  }
  std::unique_ptr<grpc::ClientContext> Context(const std::string& token) const {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("authorization", "Bearer " + token);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    return ctx;
  }
  // Plaintext, or TLS with `mutualctl --ca-cert FILE demo` (channel.h).
  static std::shared_ptr<grpc::Channel> Channel(const std::string& server) { return OpenChannel(server); }

  absl::StatusOr<absl::CivilDay> Today();
  absl::Status SetClock(absl::CivilDay day, const std::string& why);
  // Moves the services' clocks on by `seconds` (the same day).
  absl::Status Tick(int seconds);
  absl::Status RegisterPlatforms();
  // Streams `rows` as platform `platform`'s CSV; the ID numbers of the rows accepted.
  absl::StatusOr<std::vector<std::string>> Enroll(const std::string& platform,
                                                  const std::string& month,
                                                  const std::vector<GeneratedWorker>& rows);
  // Files one claim described by `mutualctl claim` flags; false if it failed.
  bool File(const std::string& role, std::vector<std::string> flags);
  absl::Status Investigate(const std::map<std::string, std::string>& deny);
  absl::Status WaitForPayouts();
  void WaitForSms();
  int Summary(bool ran);

  const ops::Args& args_;
  std::string var_, tokens_, data_, bank_url_;
  std::string enrollment_, claims_, payout_, notification_;
  int sms_wait_ = 600;
  std::vector<std::string> filed_;  // claim ids filed
  int failures_ = 0;
};

absl::StatusOr<absl::CivilDay> Demo::Today() {
  absl::StatusOr<std::string> token = Token("operations");
  if (!token.ok()) return token.status();
  auto stub = v1::AdminService::NewStub(Channel(enrollment_));
  v1::ClockState state;
  grpc::Status s = stub->GetClock(Context(*token).get(), {}, &state);
  if (!s.ok()) {
    return absl::UnavailableError(absl::StrCat("the enrollment service at ", enrollment_, ": ",
                                               s.error_message(), " (is the stack up? deploy/local/up)"));
  }
  return ops::DayOf(state.today());
}

absl::Status Demo::SetClock(absl::CivilDay day, const std::string& why) {
  std::cout << "\n== the clock: " << DayText(day) << ", " << why << "\n";
  absl::StatusOr<std::string> token = Token("operations");
  if (!token.ok()) return token.status();
  for (const std::string& server : {enrollment_, claims_, payout_, notification_}) {
    auto stub = v1::AdminService::NewStub(Channel(server));
    v1::SetClockRequest req;
    *req.mutable_today() = ToDate(day);
    v1::ClockState state;
    grpc::Status s = stub->SetClock(Context(*token).get(), req, &state);
    if (!s.ok()) {
      return absl::UnavailableError(absl::StrCat(server, ": SetClock: ", s.error_message()));
    }
  }
  // The fake bank dates its credits with its business day: the same day.
  absl::StatusOr<http::Client> bank = http::Client::ForUrl(bank_url_);
  if (!bank.ok()) return bank.status();
  absl::StatusOr<http::Response> r =
      bank->Post("/v1/clock", absl::StrCat("{\"today\": \"", DayText(day), "\"}"));
  if (!r.ok() || r->status != 200) {
    return absl::UnavailableError(absl::StrCat("the fake bank at ", bank_url_, ": POST /v1/clock: ",
                                               r.ok() ? r->body : std::string(r.status().message())));
  }
  std::cout << "   services (4) and fake bank on " << DayText(day) << "\n";
  return absl::OkStatus();
}

absl::Status Demo::Tick(int seconds) {
  absl::StatusOr<std::string> token = Token("operations");
  if (!token.ok()) return token.status();
  for (const std::string& server : {enrollment_, claims_, payout_, notification_}) {
    auto stub = v1::AdminService::NewStub(Channel(server));
    v1::AdvanceClockRequest req;
    req.set_seconds(seconds);
    v1::ClockState state;
    grpc::Status s = stub->AdvanceClock(Context(*token).get(), req, &state);
    if (!s.ok()) return absl::UnavailableError(absl::StrCat(server, ": AdvanceClock: ", s.error_message()));
  }
  return absl::OkStatus();
}

absl::Status Demo::RegisterPlatforms() {
  std::cout << "\n== three gig platforms register (name, payout account)\n";
  absl::StatusOr<std::string> token = Token("operations");
  if (!token.ok()) return token.status();
  auto stub = v1::AdminService::NewStub(Channel(enrollment_));
  struct P {
    const char *id, *name, *account, *bank, *contact, *phone;
  };
  for (const P& p : {P{"P01", "某外卖平台", "6222020200000001", "工商银行", "王经理", "13900000001"},
                     P{"P02", "某快递公司", "6222020200000002", "建设银行", "李经理", "13900000002"},
                     P{"P03", "某网约车平台", "6222020200000003", "农业银行", "张经理", "13900000003"}}) {
    v1::RegisterPlatformRequest req;
    v1::Platform* x = req.mutable_platform();
    x->set_platform_id(p.id);
    x->set_name(p.name);
    x->set_payout_account(p.account);
    x->set_payout_bank(p.bank);
    x->set_contact_name(p.contact);
    x->set_contact_phone(p.phone);
    v1::RegisterPlatformResponse resp;
    grpc::Status s = stub->RegisterPlatform(Context(*token).get(), req, &resp);
    if (!s.ok()) return absl::UnavailableError(absl::StrCat("RegisterPlatform ", p.id, ": ", s.error_message()));
    std::cout << "   " << p.id << " " << p.name
              << (resp.already_registered() ? " (already registered)" : " registered") << "\n";
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> Demo::Enroll(const std::string& platform,
                                                      const std::string& month,
                                                      const std::vector<GeneratedWorker>& rows) {
  const std::string input = absl::StrCat(data_, "/", platform, "-", month, ".csv");
  {
    std::ofstream file(input, std::ios::binary | std::ios::trunc);
    WriteWorkersCsv(rows, file);
    if (!file.flush()) return absl::UnavailableError(absl::StrCat("cannot write ", input));
  }
  std::cout << "\n== " << platform << " streams its " << month << " enrollments (" << rows.size()
            << " rows: " << input << ")\n";
  EnrollOptions options;
  options.server = enrollment_;
  options.token_file = TokenFile("platform-" + platform);
  options.input = input;
  std::ostringstream out, err;
  const int code = mutualctl::Enroll(options, out, err);
  for (absl::string_view line : absl::StrSplit(out.str(), '\n', absl::SkipEmpty())) {
    std::cout << "   " << line << "\n";
  }
  if (code == kEnrollFailed) {
    return absl::UnavailableError(absl::StrCat("enroll ", input, ": ", err.str()));
  }
  // The result file: row,platform_record_id,outcome,…
  std::map<std::string, std::string> id_of;
  for (const GeneratedWorker& w : rows) id_of[w.record_id] = w.id_number;
  absl::StatusOr<std::string> result = ops::ReadFile(DefaultResultPath(input));
  if (!result.ok()) return result.status();
  std::vector<std::string> accepted;
  for (absl::string_view line : absl::StrSplit(*result, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, ',');
    if (f.size() > 2 && f[2] == "ACCEPTED" && id_of.count(std::string(f[1])) > 0) {
      accepted.push_back(id_of[std::string(f[1])]);
    }
  }
  std::cout << "   result rows: " << DefaultResultPath(input) << "\n";
  return accepted;
}

// Pads to `width` display columns (a CJK character takes two).
std::string Pad(const std::string& s, size_t width) {
  size_t w = 0;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    w += n >= 3 ? 2 : 1;
    i += n;
  }
  return w >= width ? s + " " : s + std::string(width - w, ' ');
}

std::string Outcome(const v1::ClaimDecision& c) {
  std::string status = ops::ClaimStatusName(c.status());
  std::vector<std::string> reasons;
  for (int code : c.decision().reasons()) reasons.push_back(ops::ReasonName(code));
  if (c.status() == v1::CLAIM_STATUS_DENIED || c.status() == v1::CLAIM_STATUS_INVESTIGATING) {
    return absl::StrCat(status, " ", absl::StrJoin(reasons, ","));
  }
  return absl::StrCat(status, " ", ops::Yuan(c.amount_fen()), " yuan, due by ", ops::DateText(c.due_by()));
}

bool Demo::File(const std::string& role, std::vector<std::string> flags) {
  absl::StatusOr<std::string> token = Token(role);
  if (!token.ok()) {
    std::cerr << "mutualctl demo: " << token.status().message() << "\n";
    ++failures_;
    return false;
  }
  std::vector<char*> argv;
  for (std::string& f : flags) argv.push_back(f.data());
  bool json = false;
  std::string server, token_file;
  absl::StatusOr<v1::ClaimApplication> app =
      ParseClaimFlags(static_cast<int>(argv.size()), argv.data(), &json, &server, &token_file);
  if (!app.ok()) {
    std::cerr << "mutualctl demo: claim flags: " << app.status().message() << "\n";
    ++failures_;
    return false;
  }
  auto stub = v1::ClaimsService::NewStub(Channel(claims_));
  v1::FileClaimRequest req;
  *req.mutable_application() = *app;
  v1::FileClaimResponse resp;
  grpc::Status s = stub->FileClaim(Context(*token).get(), req, &resp);
  if (!s.ok()) {
    std::cerr << "mutualctl demo: claim " << app->claim_id() << ": " << s.error_message() << "\n";
    ++failures_;
    return false;
  }
  filed_.push_back(app->claim_id());
  std::cout << "   " << Pad(app->claim_id(), 14) << Pad(ops::BenefitLabel(resp.claim().benefit()), 20)
            << Pad(app->site(), 10) << Outcome(resp.claim()) << (resp.replayed() ? " (filed before)" : "")
            << "\n";
  return true;
}

absl::Status Demo::Investigate(const std::map<std::string, std::string>& deny) {
  std::cout << "\n== investigators (调查核实) decide the claims waiting for them\n";
  absl::StatusOr<std::string> token = Token("investigator");
  if (!token.ok()) return token.status();
  auto stub = v1::ClaimsService::NewStub(Channel(claims_));
  v1::ListInvestigationsRequest list;
  list.mutable_page()->set_page_size(1000);
  v1::ListInvestigationsResponse waiting;
  grpc::Status s = stub->ListInvestigations(Context(*token).get(), list, &waiting);
  if (!s.ok()) return absl::UnavailableError(absl::StrCat("ListInvestigations: ", s.error_message()));
  if (waiting.claims().empty()) std::cout << "   none waiting\n";
  for (const v1::ClaimDecision& c : waiting.claims()) {
    v1::DecideInvestigationRequest req;
    req.set_claim_id(c.claim_id());
    auto it = deny.find(c.claim_id());
    req.set_approve(it == deny.end());
    req.set_reason(it == deny.end() ? "材料齐全，核实无误" : it->second);
    v1::DecideInvestigationResponse resp;
    s = stub->DecideInvestigation(Context(*token).get(), req, &resp);
    if (!s.ok()) return absl::UnavailableError(absl::StrCat("DecideInvestigation ", c.claim_id(), ": ", s.error_message()));
    std::cout << "   " << Pad(c.claim_id(), 14) << Pad(ops::BenefitLabel(c.benefit()), 20)
              << (req.approve() ? "approved: " : "denied: ") << req.reason() << "\n";
  }
  return absl::OkStatus();
}

// Waits until every approved claim filed so far is paid (the payout service
// pays through the fake bank; the claims service marks the claim paid).
absl::Status Demo::WaitForPayouts() {
  absl::StatusOr<std::string> token = Token("hall");
  if (!token.ok()) return token.status();
  auto stub = v1::ClaimsService::NewStub(Channel(claims_));
  std::cout << "   payouts: waiting for the bank to confirm every approved claim ...";
  std::cout.flush();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
  while (true) {
    int approved = 0, paid = 0;
    int64_t paid_fen = 0;
    for (const std::string& id : filed_) {
      v1::GetClaimRequest req;
      req.set_claim_id(id);
      v1::GetClaimResponse resp;
      grpc::Status s = stub->GetClaim(Context(*token).get(), req, &resp);
      if (!s.ok()) return absl::UnavailableError(absl::StrCat("GetClaim ", id, ": ", s.error_message()));
      const v1::ClaimStatus st = resp.claim().status();
      if (st == v1::CLAIM_STATUS_APPROVED || st == v1::CLAIM_STATUS_PAID || resp.has_paid()) ++approved;
      if (st == v1::CLAIM_STATUS_PAID || resp.has_paid()) {
        ++paid;
        paid_fen += resp.paid().amount_fen();
      }
    }
    if (paid == approved) {
      std::cout << " " << paid << " paid, " << ops::Yuan(paid_fen) << " yuan in all\n";
      return absl::OkStatus();
    }
    if (std::chrono::steady_clock::now() > deadline) {
      std::cout << "\n";
      return absl::DeadlineExceededError(absl::StrCat(
          approved - paid, " approved claims not paid after 180 s (deploy/local/logs payout, fakebank)"));
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

void Demo::WaitForSms() {
  std::cout << "\n== SMS: cover-start messages for every enrolled worker, then payment and denial\n"
               "   messages, go out through the fake SMS gateway at the configured rate (per second\n"
               "   of the services' clock, which now runs on with real time, the same day)\n";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(sms_wait_);
  int64_t last = -1;
  int stalled_polls = 0;
  while (true) {
    ops::PlanYearReport report(kPlanYear);
    absl::Status s = report.ReadLog(ops::ClientFrom(args_), ops::PrefixFrom(args_));
    if (!s.ok()) {
      std::cout << "   (cannot read the log: " << s.message() << ")\n";
      return;
    }
    const ops::PlanYearReport::Counts c = report.counts();
    const int64_t done = c.sms_delivered + c.sms_failed;
    if (done != last) {
      std::cout << absl::StrFormat("   %d of %d SMS sent (%d failed for good)\n", c.sms_delivered,
                                   c.sms_queued, c.sms_failed);
      last = done;
      stalled_polls = 0;
    } else if (++stalled_polls >= 6 && done > 0) {
      std::cout << "   " << c.sms_queued - done
                << " still queued after 30 s without progress (held back by the notification\n"
                   "   service's rules, or retrying): they go out as the clock moves on\n";
      return;
    }
    if (c.sms_queued > 0 && done >= c.sms_queued) return;
    const auto polled = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - polled < std::chrono::seconds(5)) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      if (absl::Status t = Tick(1); !t.ok()) {
        std::cout << "   (cannot move the clock on: " << t.message() << ")\n";
        return;
      }
    }
    if (std::chrono::steady_clock::now() > deadline) {
      std::cout << "   still sending after " << sms_wait_
                << " s; the rest goes out as the clock moves on (mutualctl report shows them)\n";
      return;
    }
  }
}

int Demo::Summary(bool ran) {
  ops::PlanYearReport report(kPlanYear);
  if (absl::Status s = report.ReadLog(ops::ClientFrom(args_), ops::PrefixFrom(args_)); !s.ok()) {
    std::cerr << "mutualctl demo: reading the event log: " << s << "\n";
    return 1;
  }
  std::cout << "\n== summary (mutualctl report --plan-year " << kPlanYear
            << " --format summary: read back from the event log)\n\n";
  if (absl::Status s = report.Write(std::cout, "summary", report.last_day()); !s.ok()) {
    std::cerr << "mutualctl demo: " << s << "\n";
    return 1;
  }
  absl::StatusOr<http::Client> bank = http::Client::ForUrl(bank_url_);
  if (bank.ok()) {
    absl::StatusOr<http::Response> r = bank->Get("/v1/ledger");
    if (r.ok() && r->status == 200) {
      std::map<std::string, int> days;
      size_t at = 0;
      int credits = 0;
      while ((at = r->body.find("\"day\"", at)) != std::string::npos) {
        const size_t q1 = r->body.find('"', r->body.find(':', at) + 1);
        const size_t q2 = r->body.find('"', q1 + 1);
        ++days[r->body.substr(q1 + 1, q2 - q1 - 1)];
        ++credits;
        at = q2;
      }
      std::vector<std::string> parts;
      for (const auto& [d, n] : days) parts.push_back(absl::StrCat(d, ": ", n));
      std::cout << "\nfake bank ledger: " << credits << " credits, by value day — "
                << absl::StrJoin(parts, ", ") << "\n";
    }
  }
  if (!ran) {
    std::cout << "\nThis stack already held a demo (its clock was past " << DayText(kStart)
              << "); nothing was filed again.\nTo run it afresh: deploy/local/down --wipe && "
                 "deploy/local/demo\n";
  }
  return failures_ == 0 ? 0 : 1;
}

int Demo::Run() {
  absl::StatusOr<absl::CivilDay> today = Today();
  if (!today.ok()) {
    std::cerr << "mutualctl demo: " << today.status().message() << "\n";
    return 2;
  }
  if (*today > kStart) {
    std::cout << "The stack's clock is at " << DayText(*today)
              << ": it already holds a demo (or other data). Its plan year " << kPlanYear << ":\n";
    return Summary(false);
  }
  std::filesystem::create_directories(data_);
  auto fail = [](const absl::Status& s) {
    std::cerr << "mutualctl demo: " << s.message() << "\n";
    return 1;
  };
  if (absl::Status s = RegisterPlatforms(); !s.ok()) return fail(s);
  if (absl::Status s = SetClock(kStart, "March: the concentrated enrollment month (集中参保), cover from 2022-04-01");
      !s.ok()) {
    return fail(s);
  }
  // P02's workers 1201-2000 are P01's too: the platform that sent them first wins.
  absl::StatusOr<std::vector<std::string>> p01 =
      Enroll("P01", "2022-03", GenerateWorkers({.count = 1500, .first = 1, .seed = 1, .record_prefix = "2022-03-R"}));
  if (!p01.ok()) return fail(p01.status());
  absl::StatusOr<std::vector<std::string>> p02 =
      Enroll("P02", "2022-03", GenerateWorkers({.count = 800, .first = 1201, .seed = 2, .record_prefix = "2022-03-R"}));
  if (!p02.ok()) return fail(p02.status());
  absl::StatusOr<std::vector<std::string>> p03 =
      Enroll("P03", "2022-03", GenerateWorkers({.count = 500, .first = 5001, .seed = 3, .record_prefix = "2022-03-R"}));
  if (!p03.ok()) return fail(p03.status());

  if (absl::Status s = SetClock(absl::CivilDay(2022, 6, 10),
                                "June: an instant enrollment (即时参保), cover from 2022-07-01 after waiting periods");
      !s.ok()) {
    return fail(s);
  }
  absl::StatusOr<std::vector<std::string>> june =
      Enroll("P03", "2022-06", GenerateWorkers({.count = 120, .first = 7001, .seed = 4, .record_prefix = "2022-06-R"}));
  if (!june.ok()) return fail(june.status());
  // P02's own workers start after P01's 1-1500 in its accepted list.
  std::vector<std::string> p02_own;
  for (const std::string& id : *p02) {
    if (std::find(p01->begin(), p01->end(), id) == p01->end()) p02_own.push_back(id);
  }
  if (p01->size() < 6 || p02_own.size() < 6 || june->size() < 3) {
    std::cerr << "mutualctl demo: too few enrollments accepted to file the claims\n";
    return 1;
  }
  const std::vector<std::string>& a = *p01;
  const std::vector<std::string>& b = p02_own;
  const std::vector<std::string>& c = *june;
  const std::vector<std::string> card = {"--card", "6222020200001234562", "--card-kind", "union",
                                         "--card-holder", "持卡人"};
  auto with_card = [&card](std::vector<std::string> flags) {
    flags.insert(flags.end(), card.begin(), card.end());
    return flags;
  };

  if (absl::Status s = SetClock(absl::CivilDay(2022, 8, 20), "summer: claims at the hall and district centres");
      !s.ok()) {
    return fail(s);
  }
  std::cout << "   " << Pad("claim", 14) << Pad("benefit", 20) << Pad("site", 10) << "decision\n";
  File("hall", with_card({"--claim-id", "DEMO-2022-01", "--id-number", a[0], "--benefit", "HOSPITAL_ALLOWANCE",
                          "--site", "服务大厅", "--cause", "ILLNESS", "--hospital", "DESIGNATED_HOSPITAL",
                          "--admission", "2022-08-01", "--discharge", "2022-08-11"}));
  File("hall", with_card({"--claim-id", "DEMO-2022-02", "--id-number", a[1], "--benefit", "HOSPITAL_ALLOWANCE",
                          "--site", "静安", "--cause", "ILLNESS", "--hospital", "OTHER_HOSPITAL",
                          "--admission", "2022-08-02", "--discharge", "2022-08-05"}));
  File("hall", with_card({"--claim-id", "DEMO-2022-03", "--id-number", a[2], "--benefit", "CRITICAL_ILLNESS",
                          "--site", "徐汇", "--category", "MALIGNANT_TUMOR", "--hospital",
                          "DESIGNATED_HOSPITAL", "--diagnosed-on", "2022-07-15", "--hospitalized", "yes"}));
  File("hall", with_card({"--claim-id", "DEMO-2022-04", "--id-number", a[3], "--benefit", "COVID19", "--site",
                          "杨浦", "--hospital", "DESIGNATED_HOSPITAL", "--diagnosed-on", "2022-05-10"}));
  File("platform-P01", {"--claim-id", "DEMO-2022-05", "--id-number", a[4], "--benefit", "ILLNESS_DEATH",
                        "--site", "服务大厅", "--claimant", "PLATFORM", "--platform", "P01", "--died-on",
                        "2022-08-08", "--in-shanghai", "yes"});
  File("platform-P02", {"--claim-id", "DEMO-2022-06", "--id-number", b[0], "--benefit", "ACCIDENTAL_DEATH",
                        "--site", "宝山", "--claimant", "PLATFORM", "--platform", "P02", "--accident-id",
                        "A-2022-06", "--accident-on", "2022-07-01", "--died-on", "2022-07-03",
                        "--in-shanghai", "yes"});
  File("hall", with_card({"--claim-id", "DEMO-2022-07", "--id-number", b[1], "--benefit",
                          "ACCIDENTAL_DISABILITY", "--site", "闵行", "--accident-id", "A-2022-07",
                          "--accident-on", "2022-06-01", "--assessed-on", "2022-08-01", "--grade", "8",
                          "--in-shanghai", "yes"}));
  File("district", with_card({"--claim-id", "DEMO-2022-08", "--id-number", b[2], "--benefit",
                              "ACCIDENT_CONSOLATION", "--site", "浦东新区", "--accident-id", "A-2022-08",
                              "--accident-on", "2022-07-20", "--meets-criteria", "yes", "--in-shanghai",
                              "yes"}));
  // June's instant enrollee: admitted before the 30-day waiting period ends (2022-07-31).
  File("hall", with_card({"--claim-id", "DEMO-2022-09", "--id-number", c[0], "--benefit", "HOSPITAL_ALLOWANCE",
                          "--site", "嘉定", "--cause", "ILLNESS", "--hospital", "DESIGNATED_HOSPITAL",
                          "--admission", "2022-07-15", "--discharge", "2022-07-20"}));
  // …and one admitted after it.
  File("hall", with_card({"--claim-id", "DEMO-2022-10", "--id-number", c[1], "--benefit", "HOSPITAL_ALLOWANCE",
                          "--site", "奉贤", "--cause", "ILLNESS", "--hospital", "COMMUNITY_HEALTH_CENTER",
                          "--admission", "2022-08-05", "--discharge", "2022-08-09"}));
  // A worker no platform enrolled.
  File("hall", with_card({"--claim-id", "DEMO-2022-11", "--id-number", WorkerIdNumber(99001), "--benefit",
                          "HOSPITAL_ALLOWANCE", "--site", "松江", "--cause", "ILLNESS", "--hospital",
                          "DESIGNATED_HOSPITAL", "--admission", "2022-08-01", "--discharge", "2022-08-04"}));
  if (absl::Status s = Investigate({{"DEMO-2022-07", "伤残鉴定与事故经过不符"}}); !s.ok()) return fail(s);
  if (absl::Status s = WaitForPayouts(); !s.ok()) return fail(s);

  if (absl::Status s = SetClock(absl::CivilDay(2022, 11, 15), "autumn: a subsidy, a late filing, more stays");
      !s.ok()) {
    return fail(s);
  }
  // The critical illness approved in summer: its hospitalisation subsidy (45 000 yuan out of pocket).
  File("hall", with_card({"--claim-id", "DEMO-2022-12", "--id-number", a[2], "--benefit",
                          "CRITICAL_ILLNESS_SUBSIDY", "--site", "徐汇", "--category", "MALIGNANT_TUMOR",
                          "--cause", "ILLNESS", "--hospital", "DESIGNATED_HOSPITAL", "--admission",
                          "2022-09-01", "--discharge", "2022-09-20", "--out-of-pocket-fen", "4500000"}));
  // An accident of 2022-04-10 filed after its 180 days (2022-10-07).
  File("hall", with_card({"--claim-id", "DEMO-2022-13", "--id-number", b[3], "--benefit",
                          "ACCIDENT_CONSOLATION", "--site", "青浦", "--accident-id", "A-2022-13",
                          "--accident-on", "2022-04-10", "--meets-criteria", "yes", "--in-shanghai", "yes"}));
  File("district", with_card({"--claim-id", "DEMO-2022-14", "--id-number", b[4], "--benefit",
                              "HOSPITAL_ALLOWANCE", "--site", "浦东新区", "--cause", "ILLNESS", "--hospital",
                              "DESIGNATED_HOSPITAL", "--admission", "2022-10-20", "--discharge", "2022-10-25"}));
  // An inpatient stay after an accident: the hospital allowance is for illness.
  File("hall", with_card({"--claim-id", "DEMO-2022-15", "--id-number", a[5], "--benefit", "HOSPITAL_ALLOWANCE",
                          "--site", "黄浦", "--cause", "ACCIDENT", "--hospital", "DESIGNATED_HOSPITAL",
                          "--admission", "2022-10-02", "--discharge", "2022-10-06"}));
  if (absl::Status s = Investigate({}); !s.ok()) return fail(s);
  if (absl::Status s = WaitForPayouts(); !s.ok()) return fail(s);

  if (absl::Status s = SetClock(absl::CivilDay(2023, 3, 31), "the plan year's last day"); !s.ok()) {
    return fail(s);
  }
  // Diagnosed after the epidemic period (to 2023-01-07).
  File("hall", with_card({"--claim-id", "DEMO-2022-16", "--id-number", c[2], "--benefit", "COVID19", "--site",
                          "长宁", "--hospital", "DESIGNATED_HOSPITAL", "--diagnosed-on", "2023-02-01"}));
  if (absl::Status s = WaitForPayouts(); !s.ok()) return fail(s);

  if (absl::Status s = SetClock(kEnd, "the year's end + 90 days: every payment due by now"); !s.ok()) {
    return fail(s);
  }
  WaitForSms();
  return Summary(true);
}

}  // namespace

int RunDemoCommand(int argc, char** argv) {
  absl::StatusOr<ops::Args> args = ops::ParseArgs(argc, argv, {"help"});
  if (!args.ok()) return Usage(std::string(args.status().message()));
  if (args->On("help")) {
    std::cout << kUsage;
    return 0;
  }
  if (!args->positional.empty()) return Usage("unexpected argument " + args->positional.front());
  int sms_wait = 0;
  if (!absl::SimpleAtoi(args->Get("sms-wait", nullptr, "600"), &sms_wait) || sms_wait < 0) {
    return Usage("--sms-wait: a number of seconds");
  }
  std::cout << std::unitbuf;  // each step shows as it happens, also into a log file
  Demo demo(*args);
  return demo.Run();
}

}  // namespace mutualaid::mutualctl
