#include "simulate.h"

#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "mutualaid/json/json.h"
#include "mutualaid/plan/calendar.h"
#include "mutualaid/plan/claims.h"
#include "mutualaid/plan/enrollment.h"
#include "mutualaid/plan/plan_data.h"
#include "mutualaid/plan/validation.h"
#include "scenario.h"

namespace mutualaid::mutualctl {
namespace {

namespace plan = ::mutualaid::plan;

// One line on stderr, whatever the message holds.
void ReportError(std::ostream& err, std::string_view message) {
  std::string line = "mutualctl: ";
  for (char c : message) line.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  err << line << '\n';
}

void AppendField(std::string& out, std::string_view name) {
  if (out.size() > 1) out.push_back(',');
  json::AppendString(out, name);
  out.push_back(':');
}

void Put(std::string& out, std::string_view name, std::string_view value) {
  AppendField(out, name);
  json::AppendString(out, value);
}

void Put(std::string& out, std::string_view name, int64_t value) {
  AppendField(out, name);
  out.append(std::to_string(value));
}

void PutBool(std::string& out, std::string_view name, bool value) {
  AppendField(out, name);
  out.append(value ? "true" : "false");
}

void PutNull(std::string& out, std::string_view name) {
  AppendField(out, name);
  out.append("null");
}

template <typename Range, typename ToText>
void PutList(std::string& out, std::string_view name, const Range& items, ToText to_text) {
  AppendField(out, name);
  out.push_back('[');
  bool first = true;
  for (const auto& item : items) {
    if (!first) out.push_back(',');
    first = false;
    json::AppendString(out, to_text(item));
  }
  out.push_back(']');
}

std::string_view ReasonText(plan::Reason reason) { return plan::ToString(reason); }
std::string_view FlagText(plan::ReviewFlag flag) { return plan::ToString(flag); }
std::string_view SameText(const std::string& text) { return text; }

std::string EnrollLine(size_t step, const EnrollStep& input, const plan::EnrollmentDecision& d) {
  std::string out = "{";
  Put(out, "step", static_cast<int64_t>(step));
  Put(out, "op", "enroll");
  Put(out, "worker", input.worker);
  Put(out, "decision", plan::ToString(d.outcome));
  Put(out, "plan_year", d.plan_year);
  Put(out, "kind", plan::ToString(d.kind));
  if (d.outcome == plan::EnrollmentOutcome::kRejected) {
    PutNull(out, "coverage_start");
    PutNull(out, "coverage_end");
  } else {
    Put(out, "coverage_start", plan::FormatIsoDate(d.coverage_start));
    Put(out, "coverage_end", plan::FormatIsoDate(d.coverage_end));
  }
  Put(out, "fee_fen", d.fee_fen);
  PutBool(out, "review", d.review);
  PutList(out, "reasons", d.reasons, ReasonText);
  // Extra fields, after the documented ones.
  if (d.field != plan::Field::kNone) Put(out, "field", plan::ToString(d.field));
  if (d.review) PutList(out, "review_flags", d.review_flags, FlagText);
  PutList(out, "clauses", d.clauses, SameText);
  Put(out, "rule_set", d.rule_set_version);
  if (d.retry) PutBool(out, "retry", true);
  out.push_back('}');
  return out;
}

std::string ClaimLine(size_t step, const ClaimStep& input, const plan::ClaimDecision& d) {
  const bool approved = d.outcome == plan::ClaimOutcome::kApproved;
  std::string out = "{";
  Put(out, "step", static_cast<int64_t>(step));
  Put(out, "op", "claim");
  Put(out, "claim_id", d.claim_id);
  Put(out, "decision", plan::ToString(d.outcome));
  Put(out, "amount_fen", d.amount_fen);
  Put(out, "plan_year", d.plan_year);
  PutBool(out, "capped", d.capped);
  if (approved) Put(out, "payee", plan::ToString(d.payee));
  Put(out, "due_by", plan::FormatIsoDate(d.due_by));
  PutList(out, "reasons", d.reasons, ReasonText);
  PutList(out, "clauses", d.clauses, SameText);
  // Extra fields, after the documented ones.
  Put(out, "worker", input.worker);
  Put(out, "benefit", plan::ToString(d.benefit));
  if (approved && d.payee == plan::Payee::kPlatformAccount) {
    Put(out, "payee_platform", d.payee_platform_id);
  }
  if (approved && d.benefit == plan::Benefit::kHospitalAllowance) {
    Put(out, "days_paid", d.hospital_days_paid);
  }
  Put(out, "rule_set", d.rule_set_version);
  if (d.retry) PutBool(out, "retry", true);
  out.push_back('}');
  return out;
}

// The state the services keep, here in memory: one WorkerFile per normalised
// ID number and the phone index per (plan year, phone).
class Simulation {
 public:
  Simulation(const plan::PlanBook& book, const Scenario& scenario)
      : book_(book), scenario_(scenario) {}

  std::string Enroll(size_t index, const EnrollStep& step) {
    const ScenarioWorker& worker = scenario_.workers.at(step.worker);
    plan::EnrollmentRequest request;
    request.platform_id = step.platform;
    request.id_number = worker.id_number;
    request.name = worker.name;
    request.phone = worker.phone;
    request.industry = step.industry;
    request.received_on = step.received_on;
    request.worker_share_fen = step.worker_share_fen;

    plan::WorkerFile& file = FileOf(worker);
    plan::EnrollmentContext context;
    context.platform_registered = scenario_.platforms.at(step.platform).registered;
    const int plan_year = plan::CoverageFor(step.received_on).plan_year;
    if (absl::StatusOr<std::string> phone = plan::NormalizePhone(worker.phone); phone.ok()) {
      if (auto it = phones_.find({plan_year, *phone}); it != phones_.end()) {
        context.phone_usage = it->second;
      }
    }
    const plan::EnrollmentDecision decision = plan::DecideEnrollment(book_, request, file, context);
    plan::ApplyEnrollment(file, decision);
    if (decision.outcome != plan::EnrollmentOutcome::kRejected && !decision.retry) {
      plan::ApplyEnrollment(phones_[{decision.plan_year, decision.phone}], decision);
    }
    return EnrollLine(index, step, decision);
  }

  std::string Claim(size_t index, const ClaimStep& step) {
    plan::WorkerFile& file = FileOf(scenario_.workers.at(step.worker));
    const plan::ClaimDecision decision = plan::DecideClaim(book_, step.request, file);
    plan::ApplyClaim(file, step.request, decision);
    return ClaimLine(index, step, decision);
  }

 private:
  plan::WorkerFile& FileOf(const ScenarioWorker& worker) {
    const std::string key = plan::NormalizeIdNumberText(worker.id_number);
    plan::WorkerFile& file = files_[key];
    if (file.id_number.empty()) file.id_number = key;
    return file;
  }

  const plan::PlanBook& book_;
  const Scenario& scenario_;
  std::map<std::string, plan::WorkerFile> files_;
  std::map<std::pair<int, std::string>, plan::PhoneUsage> phones_;
};

}  // namespace

int Simulate(std::string_view scenario_text, std::ostream& out, std::ostream& err) {
  absl::StatusOr<Scenario> scenario = ParseScenario(scenario_text);
  if (!scenario.ok()) {
    ReportError(err, std::string(scenario.status().message()));
    return kExitInvalidScenario;
  }
  const plan::PlanBook* book = &plan::BuiltInPlanBook();
  if (scenario->plan.has_value()) {
    absl::StatusOr<const plan::PlanBook*> found = plan::FindPlanBook(*scenario->plan);
    if (!found.ok()) {
      ReportError(err, absl::StrCat("plan: ", std::string(found.status().message())));
      return kExitInvalidScenario;
    }
    book = *found;
  }
  Simulation simulation(*book, *scenario);
  std::string output;
  for (size_t i = 0; i < scenario->steps.size(); ++i) {
    const Step& step = scenario->steps[i];
    if (const auto* enroll = std::get_if<EnrollStep>(&step.action)) {
      output += simulation.Enroll(i, *enroll);
    } else {
      output += simulation.Claim(i, std::get<ClaimStep>(step.action));
    }
    output.push_back('\n');
  }
  out << output;
  out.flush();
  return kExitOk;
}

int RunSimulateCommand(int argc, char** argv) {
  if (argc != 1) {
    std::cerr << "usage: mutualctl simulate FILE|-\n";
    return kExitInvalidScenario;
  }
  const std::string path = argv[0];
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
      ReportError(std::cerr, absl::StrCat(path, ": cannot open"));
      return kExitInvalidScenario;
    }
    text.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  }
  return Simulate(text, std::cout, std::cerr);
}

}  // namespace mutualaid::mutualctl
