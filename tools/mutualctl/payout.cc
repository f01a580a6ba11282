#include "payout.h"
#include "channel.h"

#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "mutualaid/v1/payout.grpc.pb.h"

namespace mutualaid::mutualctl {
namespace {

constexpr char kUsage[] =
    "usage: mutualctl payout get --claim ID | --payout ID [conn]\n"
    "       mutualctl payout list [--status REQUESTED|SENT|CONFIRMED|FAILED|RETURNED]\n"
    "                             [--day YYYY-MM-DD] [--claim ID] [conn]\n"
    "       mutualctl payout reissue --claim ID --card NUMBER --kind union|debit\n"
    "                                --holder NAME --reason TEXT [conn]\n"
    "       mutualctl payout reissue --claim ID --reason TEXT [conn]   (platform payee:\n"
    "                                the registry's current account)\n"
    "       mutualctl payout reconcile --day YYYY-MM-DD [--statement LEDGER.json] [conn]\n"
    "       mutualctl payout at-risk [--within DAYS] [conn]\n"
    "       mutualctl payout import RESULT.csv [conn]   (the bank's result file)\n"
    "conn:  --server HOST:PORT  (default $MUTUALAID_SERVER)\n"
    "       --token-file FILE   (default $MUTUALAID_TOKEN_FILE)\n";

int Usage(const std::string& why) {
  if (!why.empty()) std::cerr << "mutualctl: " << why << '\n';
  std::cerr << kUsage;
  return 2;
}

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;
};

bool Parse(int argc, char** argv, Args* out, std::string* error) {
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) == 0) {
      if (i + 1 >= argc) {
        *error = a + " needs a value";
        return false;
      }
      out->flags[a.substr(2)] = argv[++i];
    } else {
      out->positional.push_back(a);
    }
  }
  return true;
}

std::string Flag(const Args& a, const std::string& name, const char* env = nullptr) {
  auto it = a.flags.find(name);
  if (it != a.flags.end()) return it->second;
  const char* v = env != nullptr ? std::getenv(env) : nullptr;
  return v != nullptr ? v : "";
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream s;
  s << in.rdbuf();
  *out = s.str();
  return true;
}

bool ParseDay(const std::string& text, v1::Date* out) {
  absl::CivilDay d;
  if (!absl::ParseCivilTime(text, &d)) return false;
  out->set_year(static_cast<int32_t>(d.year()));
  out->set_month(d.month());
  out->set_day(d.day());
  return true;
}

std::string DayText(const v1::Date& d) {
  if (d.year() == 0) return "-";
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

std::string Yuan(int64_t fen) { return absl::StrFormat("%d.%02d", fen / 100, fen % 100); }

std::string StatusName(v1::PayoutStatus s) {
  std::string n = v1::PayoutStatus_Name(s);
  return n.rfind("PAYOUT_STATUS_", 0) == 0 ? n.substr(14) : n;
}

void PrintHeader() {
  std::cout << absl::StrFormat("%-22s %-10s %12s %-16s %-6s %-10s %-10s %-3s %s\n", "claim",
                               "status", "amount", "payee", "acct", "requested", "due", "iss",
                               "detail");
}

void PrintPayout(const v1::Payout& p) {
  std::cout << absl::StrFormat(
      "%-22s %-10s %12s %-16s %-6s %-10s %-10s %-3d %s\n", p.claim_id(), StatusName(p.status()),
      Yuan(p.amount_fen()),
      p.payee() == v1::PAYEE_KIND_PLATFORM_ACCOUNT ? "platform " + p.platform_id() : "worker card",
      p.account_last4(), DayText(p.requested_on()), DayText(p.due_by()), p.issue(),
      p.status() == v1::PAYOUT_STATUS_CONFIRMED ? "bank ref " + p.bank_reference()
                                                : p.failure_reason());
}

int Failed(const grpc::Status& s) {
  std::cerr << "mutualctl: " << s.error_message() << " (code " << static_cast<int>(s.error_code())
            << ")\n";
  return 1;
}

}  // namespace

int RunPayoutCommand(int argc, char** argv) {
  Args a;
  std::string error;
  if (!Parse(argc, argv, &a, &error)) return Usage(error);
  if (a.positional.empty()) return Usage("payout: get, list, reissue, reconcile, at-risk or import");
  const std::string server = Flag(a, "server", "MUTUALAID_SERVER");
  const std::string token_file = Flag(a, "token-file", "MUTUALAID_TOKEN_FILE");
  if (server.empty() || token_file.empty()) return Usage("--server and --token-file are required");
  std::string token;
  if (!ReadFile(token_file, &token)) return Usage("cannot read " + token_file);
  token = std::string(absl::StripAsciiWhitespace(token));
  auto stub = v1::PayoutService::NewStub(OpenChannel(server));
  auto context = [&token] {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("authorization", "Bearer " + token);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    return ctx;
  };
  const std::string& verb = a.positional[0];

  if (verb == "get") {
    v1::GetPayoutRequest req;
    req.set_claim_id(Flag(a, "claim"));
    req.set_payout_id(Flag(a, "payout"));
    if (req.claim_id().empty() && req.payout_id().empty()) return Usage("get: --claim or --payout");
    v1::GetPayoutResponse resp;
    grpc::Status s = stub->GetPayout(context().get(), req, &resp);
    if (!s.ok()) return Failed(s);
    std::cout << resp.payout().DebugString();
    return 0;
  }
  if (verb == "list") {
    v1::ListPayoutsRequest req;
    if (std::string st = Flag(a, "status"); !st.empty()) {
      v1::PayoutStatus status;
      if (!v1::PayoutStatus_Parse("PAYOUT_STATUS_" + absl::AsciiStrToUpper(st), &status)) {
        return Usage("--status: REQUESTED, SENT, CONFIRMED, FAILED or RETURNED");
      }
      req.set_status(status);
    }
    if (std::string d = Flag(a, "day"); !d.empty() && !ParseDay(d, req.mutable_day())) {
      return Usage("--day: YYYY-MM-DD");
    }
    req.set_claim_id(Flag(a, "claim"));
    req.mutable_page()->set_page_size(1000);
    PrintHeader();
    while (true) {
      v1::ListPayoutsResponse resp;
      grpc::Status s = stub->ListPayouts(context().get(), req, &resp);
      if (!s.ok()) return Failed(s);
      for (const v1::Payout& p : resp.payouts()) PrintPayout(p);
      if (resp.next_page_token().empty()) break;
      req.mutable_page()->set_page_token(resp.next_page_token());
    }
    return 0;
  }
  if (verb == "reissue") {
    v1::ReissuePayoutRequest req;
    req.set_claim_id(Flag(a, "claim"));
    req.set_reason(Flag(a, "reason"));
    if (req.claim_id().empty() || req.reason().empty()) return Usage("reissue: --claim and --reason");
    if (std::string card = Flag(a, "card"); !card.empty()) {
      v1::PayeeCard* c = req.mutable_corrected_card();
      c->set_card_number(card);
      c->set_holder_name(Flag(a, "holder"));
      const std::string kind = Flag(a, "kind");
      if (kind == "union") {
        c->set_kind(v1::CARD_KIND_UNION_MEMBER_CARD);
      } else if (kind == "debit") {
        c->set_kind(v1::CARD_KIND_SHANGHAI_DEBIT_CARD);
      } else if (!kind.empty()) {
        return Usage("--kind: union (工会会员服务卡) or debit (Shanghai debit card)");
      }
    }
    v1::ReissuePayoutResponse resp;
    grpc::Status s = stub->ReissuePayout(context().get(), req, &resp);
    if (!s.ok()) return Failed(s);
    PrintHeader();
    PrintPayout(resp.payout());
    return 0;
  }
  if (verb == "reconcile") {
    v1::GetReconciliationReportRequest req;
    if (!ParseDay(Flag(a, "day"), req.mutable_day())) return Usage("reconcile: --day YYYY-MM-DD");
    if (std::string f = Flag(a, "statement"); !f.empty()) {
      std::string statement;
      if (!ReadFile(f, &statement)) return Usage("cannot read " + f);
      req.set_statement(statement);
    }
    v1::GetReconciliationReportResponse resp;
    grpc::Status s = stub->GetReconciliationReport(context().get(), req, &resp);
    if (!s.ok()) return Failed(s);
    std::cout << absl::StrFormat("day %s: %d payouts confirmed, %d bank entries, %d differences\n",
                                 DayText(resp.day()), resp.payouts(), resp.bank_entries(),
                                 resp.differences_size());
    for (const auto& d : resp.differences()) {
      std::cout << absl::StrFormat("%-18s %-22s ours %12s bank %12s  %s\n", d.kind(),
                                   d.claim_id().empty() ? "-" : d.claim_id(), Yuan(d.our_amount_fen()),
                                   Yuan(d.bank_amount_fen()), d.detail());
    }
    return resp.differences_size() == 0 ? 0 : 3;
  }
  if (verb == "at-risk") {
    v1::ListAtRiskRequest req;
    if (std::string w = Flag(a, "within"); !w.empty()) {
      int days = 0;
      if (!absl::SimpleAtoi(w, &days) || days < 0) return Usage("--within: days >= 0");
      req.set_within_days(days);
    }
    req.mutable_page()->set_page_size(1000);
    v1::ListAtRiskResponse resp;
    grpc::Status s = stub->ListAtRisk(context().get(), req, &resp);
    if (!s.ok()) return Failed(s);
    std::cout << "overdue (§六: not paid within 90 days): " << resp.overdue_size() << '\n';
    if (resp.overdue_size() > 0) PrintHeader();
    for (const v1::Payout& p : resp.overdue()) PrintPayout(p);
    std::cout << "due soon: " << resp.due_soon_size() << '\n';
    if (resp.due_soon_size() > 0) PrintHeader();
    for (const v1::Payout& p : resp.due_soon()) PrintPayout(p);
    return 0;
  }
  if (verb == "import") {
    if (a.positional.size() != 2) return Usage("import: one result file");
    v1::ImportBankResultsRequest req;
    std::string content;
    if (!ReadFile(a.positional[1], &content)) return Usage("cannot read " + a.positional[1]);
    const std::string& path = a.positional[1];
    req.set_file_name(path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1));
    req.set_content(content);
    v1::ImportBankResultsResponse resp;
    grpc::Status s = stub->ImportBankResults(context().get(), req, &resp);
    if (!s.ok()) return Failed(s);
    std::cout << absl::StrFormat("%d rows: %d applied, %d unchanged, %d unmatched, %d unreadable\n",
                                 resp.rows(), resp.applied(), resp.unchanged(), resp.unmatched_size(),
                                 resp.errors_size());
    for (const std::string& k : resp.unmatched()) std::cout << "unmatched " << k << '\n';
    for (const std::string& e : resp.errors()) std::cout << "unreadable " << e << '\n';
    return resp.unmatched_size() + resp.errors_size() == 0 ? 0 : 3;
  }
  return Usage("payout: get, list, reissue, reconcile, at-risk or import");
}

}  // namespace mutualaid::mutualctl
