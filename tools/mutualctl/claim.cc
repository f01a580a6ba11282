#include "claim.h"
#include "channel.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "mutualaid/v1/claims.grpc.pb.h"

namespace mutualaid::mutualctl {
namespace {

constexpr char kUsage[] =
    "usage: mutualctl claim [file] --claim-id ID --id-number ID_NUMBER --benefit BENEFIT\n"
    "                       --site SITE [--claimant WORKER|PLATFORM] [--platform ID]\n"
    "                       [facts] [card] [--json] [conn]\n"
    "       mutualctl claim get CLAIM_ID [--json] [conn]\n"
    "       mutualctl claim investigate CLAIM_ID --approve|--deny --reason TEXT [conn]\n"
    "                                     (an investigator's verdict, 调查核实)\n"
    "facts: --cause ILLNESS|ACCIDENT  --hospital DESIGNATED_HOSPITAL|COMMUNITY_HEALTH_CENTER|\n"
    "       OTHER_HOSPITAL  --admission D  --discharge D  --category CATEGORY\n"
    "       --diagnosed-on D  --hospitalized yes|no  --out-of-pocket-fen N  --died-on D\n"
    "       --in-shanghai yes|no  --accident-id ID  --accident-on D  --assessed-on D\n"
    "       --grade 1-10  --meets-criteria yes|no           (D: YYYY-MM-DD)\n"
    "card:  --card NUMBER [--card-kind union|debit] [--card-holder NAME]  (living worker's benefits)\n"
    "conn:  --server HOST:PORT  (default $MUTUALAID_SERVER)\n"
    "       --token-file FILE   (default $MUTUALAID_TOKEN_FILE)\n";

int Usage(const std::string& why) {
  if (!why.empty()) std::cerr << "mutualctl claim: " << why << '\n';
  std::cerr << kUsage;
  return kClaimFailed;
}

// An enum value by its suffix: ("BENEFIT_", "hospital_allowance") -> BENEFIT_HOSPITAL_ALLOWANCE.
template <typename E>
bool EnumFlag(const std::string& prefix, const std::string& text,
              bool (*parse)(const std::string&, E*), E* out) {
  std::string upper = text;
  absl::AsciiStrToUpper(&upper);
  return parse(prefix + upper, out);
}

bool ParseDate(const std::string& text, v1::Date* out) {
  int y, m, d;
  char tail;
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) {
    return false;
  }
  if (m < 1 || m > 12 || d < 1 || d > 31) return false;
  out->set_year(y);
  out->set_month(m);
  out->set_day(d);
  return true;
}

bool ParseYesNo(const std::string& text, bool* out) {
  std::string lower = text;
  absl::AsciiStrToLower(&lower);
  if (lower == "yes" || lower == "true" || lower == "y" || lower == "1") {
    *out = true;
    return true;
  }
  if (lower == "no" || lower == "false" || lower == "n" || lower == "0") {
    *out = false;
    return true;
  }
  return false;
}

std::string Date(const v1::Date& d) {
  if (d.year() == 0) return "-";
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

std::string Yuan(int64_t fen) {
  return absl::StrFormat("%d.%02d yuan (%d fen)", fen / 100, fen % 100, fen);
}

std::string Suffix(const std::string& name, const std::string& prefix) {
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

bool ReadToken(const std::string& path, std::string* token, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read token file " + path;
    return false;
  }
  std::stringstream s;
  s << in.rdbuf();
  *token = std::string(absl::StripAsciiWhitespace(s.str()));
  if (token->empty()) {
    *error = path + " holds no token";
    return false;
  }
  return true;
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

}  // namespace

absl::StatusOr<v1::ClaimApplication> ParseClaimFlags(int argc, char** argv, bool* json,
                                                     std::string* server, std::string* token_file) {
  v1::ClaimApplication app;
  v1::ClaimFacts* f = app.mutable_facts();
  bool claimant_set = false;
  for (int i = 0; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--json") {
      *json = true;
      continue;
    }
    if (flag.rfind("--", 0) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", flag, "\""));
    }
    if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat(flag, " needs a value"));
    const std::string value = argv[++i];
    auto bad = [&](const std::string& what) {
      return absl::InvalidArgumentError(absl::StrCat(flag, ": ", what, ", not \"", value, "\""));
    };
    bool b;
    int64_t n;
    if (flag == "--server") {
      *server = value;
    } else if (flag == "--token-file") {
      *token_file = value;
    } else if (flag == "--claim-id") {
      app.set_claim_id(value);
    } else if (flag == "--id-number") {
      app.set_id_number(value);
    } else if (flag == "--site") {
      app.set_site(value);
    } else if (flag == "--platform") {
      app.set_platform_id(value);
    } else if (flag == "--benefit") {
      v1::Benefit x{};
      if (!EnumFlag<v1::Benefit>("BENEFIT_", value, &v1::Benefit_Parse, &x)) return bad("a benefit code");
      f->set_benefit(x);
    } else if (flag == "--claimant") {
      v1::Claimant x{};
      if (!EnumFlag<v1::Claimant>("CLAIMANT_", value, &v1::Claimant_Parse, &x)) return bad("WORKER or PLATFORM");
      f->set_claimant(x);
      claimant_set = true;
    } else if (flag == "--cause") {
      v1::Cause x{};
      if (!EnumFlag<v1::Cause>("CAUSE_", value, &v1::Cause_Parse, &x)) return bad("ILLNESS or ACCIDENT");
      f->set_cause(x);
    } else if (flag == "--hospital") {
      v1::HospitalKind x{};
      if (!EnumFlag<v1::HospitalKind>("HOSPITAL_KIND_", value, &v1::HospitalKind_Parse, &x)) {
        return bad("a hospital kind");
      }
      f->set_hospital(x);
    } else if (flag == "--category") {
      v1::CriticalIllnessCategory x{};
      if (!EnumFlag<v1::CriticalIllnessCategory>("CRITICAL_ILLNESS_CATEGORY_", value,
                                                  &v1::CriticalIllnessCategory_Parse, &x)) {
        return bad("a critical-illness category");
      }
      f->set_category(x);
    } else if (flag == "--admission") {
      if (!ParseDate(value, f->mutable_admission())) return bad("a date YYYY-MM-DD");
    } else if (flag == "--discharge") {
      if (!ParseDate(value, f->mutable_discharge())) return bad("a date YYYY-MM-DD");
    } else if (flag == "--diagnosed-on") {
      if (!ParseDate(value, f->mutable_diagnosed_on())) return bad("a date YYYY-MM-DD");
    } else if (flag == "--died-on") {
      if (!ParseDate(value, f->mutable_died_on())) return bad("a date YYYY-MM-DD");
    } else if (flag == "--accident-on") {
      if (!ParseDate(value, f->mutable_accident_on())) return bad("a date YYYY-MM-DD");
    } else if (flag == "--assessed-on") {
      if (!ParseDate(value, f->mutable_assessed_on())) return bad("a date YYYY-MM-DD");
    } else if (flag == "--hospitalized") {
      if (!ParseYesNo(value, &b)) return bad("yes or no");
      f->set_hospitalized(b);
    } else if (flag == "--in-shanghai") {
      if (!ParseYesNo(value, &b)) return bad("yes or no");
      f->set_in_shanghai(b);
    } else if (flag == "--meets-criteria") {
      if (!ParseYesNo(value, &b)) return bad("yes or no");
      f->set_meets_criteria(b);
    } else if (flag == "--out-of-pocket-fen") {
      if (!absl::SimpleAtoi(value, &n) || n < 0) return bad("an amount in fen");
      f->set_out_of_pocket_fen(n);
    } else if (flag == "--grade") {
      if (!absl::SimpleAtoi(value, &n) || n < 1 || n > 10) return bad("a disability grade 1-10");
      f->set_grade(static_cast<int32_t>(n));
    } else if (flag == "--accident-id") {
      f->set_accident_id(value);
    } else if (flag == "--card") {
      app.mutable_payee_card()->set_card_number(value);
    } else if (flag == "--card-kind") {
      if (value == "union") {
        app.mutable_payee_card()->set_kind(v1::CARD_KIND_UNION_MEMBER_CARD);
      } else if (value == "debit") {
        app.mutable_payee_card()->set_kind(v1::CARD_KIND_SHANGHAI_DEBIT_CARD);
      } else {
        return bad("union or debit");
      }
    } else if (flag == "--card-holder") {
      app.mutable_payee_card()->set_holder_name(value);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", flag));
    }
  }
  if (app.claim_id().empty()) return absl::InvalidArgumentError("--claim-id is required");
  if (app.id_number().empty()) return absl::InvalidArgumentError("--id-number is required");
  if (f->benefit() == v1::BENEFIT_UNSPECIFIED) return absl::InvalidArgumentError("--benefit is required");
  if (app.site().empty()) return absl::InvalidArgumentError("--site is required");
  const bool death = f->benefit() == v1::BENEFIT_ILLNESS_DEATH ||
                     f->benefit() == v1::BENEFIT_ACCIDENTAL_DEATH;
  if (!claimant_set) f->set_claimant(death ? v1::CLAIMANT_PLATFORM : v1::CLAIMANT_WORKER);
  if (app.has_payee_card() && app.payee_card().kind() == v1::CARD_KIND_UNSPECIFIED) {
    app.mutable_payee_card()->set_kind(v1::CARD_KIND_UNION_MEMBER_CARD);
  }
  return app;
}

void PrintClaim(const v1::ClaimDecision& c, std::ostream& out) {
  auto row = [&out](const std::string& name, const std::string& value) {
    out << absl::StrFormat("%-12s %s\n", name, value);
  };
  std::vector<std::string> reasons;
  for (int code : c.decision().reasons()) {
    reasons.push_back(Suffix(v1::ReasonCode_Name(code), "REASON_CODE_"));
  }
  row("claim", c.claim_id());
  row("status", Suffix(v1::ClaimStatus_Name(c.status()), "CLAIM_STATUS_"));
  row("benefit", Suffix(v1::Benefit_Name(c.benefit()), "BENEFIT_"));
  row("amount", Yuan(c.amount_fen()));
  row("capped", c.capped() ? "yes" : "no");
  if (c.payee() != v1::PAYEE_KIND_UNSPECIFIED) {
    std::string payee = Suffix(v1::PayeeKind_Name(c.payee()), "PAYEE_KIND_");
    if (c.payee() == v1::PAYEE_KIND_PLATFORM_ACCOUNT) absl::StrAppend(&payee, " of ", c.platform_id());
    row("payee", payee);
  }
  row("plan year", std::to_string(c.plan_year()));
  row("received", Date(c.received_on()));
  row("due by", Date(c.due_by()));
  row("reasons", reasons.empty() ? "-" : absl::StrJoin(reasons, ", "));
  row("clauses", c.decision().clauses().empty() ? "-" : absl::StrJoin(c.decision().clauses(), ", "));
  if (!c.decision().detail().empty()) row("detail", c.decision().detail());
  if (c.hospital_days_paid() > 0) row("days paid", std::to_string(c.hospital_days_paid()));
  if (!c.enrollment_id().empty()) {
    row("enrollment", absl::StrCat(c.enrollment_id(), " (platform ", c.platform_id(), ")"));
  }
  row("site", c.site());
  row("rule set", c.decision().rule_set_version());
}

// mutualctl claim investigate CLAIM_ID --approve|--deny --reason TEXT
int RunInvestigate(int argc, char** argv) {
  if (argc < 1 || std::string(argv[0]).rfind("--", 0) == 0) {
    return Usage("claim investigate CLAIM_ID --approve|--deny --reason TEXT");
  }
  v1::DecideInvestigationRequest req;
  req.set_claim_id(argv[0]);
  std::string server = Env("MUTUALAID_SERVER");
  std::string token_file = Env("MUTUALAID_TOKEN_FILE");
  int verdicts = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--approve" || flag == "--deny") {
      req.set_approve(flag == "--approve");
      ++verdicts;
    } else if ((flag == "--reason" || flag == "--server" || flag == "--token-file") && i + 1 < argc) {
      std::string value = argv[++i];
      if (flag == "--reason") req.set_reason(value);
      if (flag == "--server") server = value;
      if (flag == "--token-file") token_file = value;
    } else {
      return Usage(absl::StrCat("unexpected argument \"", flag, "\""));
    }
  }
  if (verdicts != 1) return Usage("one of --approve or --deny");
  if (server.empty() || token_file.empty()) return Usage("--server and --token-file are required");
  std::string token, error;
  if (!ReadToken(token_file, &token, &error)) return Usage(error);
  auto stub = v1::ClaimsService::NewStub(OpenChannel(server));
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + token);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::DecideInvestigationResponse resp;
  grpc::Status s = stub->DecideInvestigation(&ctx, req, &resp);
  if (!s.ok()) {
    std::cerr << "mutualctl claim: " << s.error_message() << " ("
              << static_cast<int>(s.error_code()) << ")\n";
    return kClaimFailed;
  }
  PrintClaim(resp.claim(), std::cout);
  return resp.claim().status() == v1::CLAIM_STATUS_DENIED ? kClaimDenied : kClaimApproved;
}

int RunClaimCommand(int argc, char** argv) {
  if (argc > 0 && std::string(argv[0]) == "investigate") return RunInvestigate(argc - 1, argv + 1);
  bool get = false;
  if (argc > 0 && std::string(argv[0]) == "get") {
    get = true;
    --argc, ++argv;
  } else if (argc > 0 && std::string(argv[0]) == "file") {
    --argc, ++argv;
  } else if (argc > 0 && (std::string(argv[0]) == "--help" || std::string(argv[0]) == "help")) {
    std::cout << kUsage;
    return 0;
  }
  bool json = false;
  std::string server = Env("MUTUALAID_SERVER");
  std::string token_file = Env("MUTUALAID_TOKEN_FILE");
  v1::ClaimApplication app;
  std::string claim_id;
  if (get) {
    if (argc < 1 || std::string(argv[0]).rfind("--", 0) == 0) return Usage("claim get CLAIM_ID");
    claim_id = argv[0];
    for (int i = 1; i < argc; ++i) {
      const std::string flag = argv[i];
      if (flag == "--json") {
        json = true;
      } else if ((flag == "--server" || flag == "--token-file") && i + 1 < argc) {
        (flag == "--server" ? server : token_file) = argv[++i];
      } else {
        return Usage(absl::StrCat("unexpected argument \"", flag, "\""));
      }
    }
  } else {
    absl::StatusOr<v1::ClaimApplication> parsed = ParseClaimFlags(argc, argv, &json, &server, &token_file);
    if (!parsed.ok()) return Usage(std::string(parsed.status().message()));
    app = *std::move(parsed);
  }
  if (server.empty()) return Usage("--server HOST:PORT is required");
  if (token_file.empty()) return Usage("--token-file FILE is required");
  std::string token, error;
  if (!ReadToken(token_file, &token, &error)) return Usage(error);

  auto stub = v1::ClaimsService::NewStub(OpenChannel(server));
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + token);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  google::protobuf::util::JsonPrintOptions jo;
  jo.preserve_proto_field_names = true;
  v1::ClaimDecision decision;
  std::string as_json;
  grpc::Status s;
  if (get) {
    v1::GetClaimRequest req;
    req.set_claim_id(claim_id);
    v1::GetClaimResponse resp;
    s = stub->GetClaim(&ctx, req, &resp);
    if (s.ok()) {
      decision = resp.claim();
      if (json) {
        (void)google::protobuf::util::MessageToJsonString(resp, &as_json, jo);
      } else {
        PrintClaim(decision, std::cout);
        for (const v1::ClaimInvestigationDecided& x : resp.investigations()) {
          std::cout << absl::StrFormat("%-12s %s by %s: %s%s\n", "investigated",
                                       x.approved() ? "approved" : "denied", x.investigator(),
                                       x.reason(), x.facts_corrected() ? " (facts corrected)" : "");
        }
        if (resp.has_paid()) {
          std::cout << absl::StrFormat("%-12s %s on %s (payout %s)\n", "paid", Yuan(resp.paid().amount_fen()),
                                       Date(resp.paid().paid_on()), resp.paid().payout_id());
        }
      }
    }
  } else {
    v1::FileClaimRequest req;
    *req.mutable_application() = app;
    v1::FileClaimResponse resp;
    s = stub->FileClaim(&ctx, req, &resp);
    if (s.ok()) {
      decision = resp.claim();
      if (json) {
        (void)google::protobuf::util::MessageToJsonString(resp, &as_json, jo);
      } else {
        PrintClaim(decision, std::cout);
        if (resp.replayed()) std::cout << "(already filed: this is the original decision)\n";
      }
    }
  }
  if (!s.ok()) {
    std::cerr << "mutualctl claim: " << s.error_message() << " ("
              << static_cast<int>(s.error_code()) << ")\n";
    return kClaimFailed;
  }
  if (json) std::cout << as_json << '\n';
  return decision.status() == v1::CLAIM_STATUS_DENIED ? kClaimDenied : kClaimApproved;
}

}  // namespace mutualaid::mutualctl
