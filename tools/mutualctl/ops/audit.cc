// mutualctl audit verify: the audit chain of every events topic partition, and
// every recorded claim decision re-run through the plan's rules.
// mutualctl audit what-if: the plan year's claims under changed plan data.
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common.h"
#include "mutualaid/events/envelope.h"
#include "mutualaid/json/json.h"
#include "mutualaid/processor/chain.h"
#include "ops.h"
#include "shadow.h"

namespace mutualaid::mutualctl {
namespace {

constexpr char kUsage[] =
    "usage: mutualctl audit verify [--topics T1,T2] [--no-decisions]\n"
    "       mutualctl audit what-if --rules FILE --plan-year Y\n"
    "common: [--bootstrap HOST:PORT] [--topic-prefix P]\n"
    "verify: checks the audit chain (headers mutualaid.chain-prev / mutualaid.chain) of every\n"
    "        partition of the four events topics (or --topics, full names) and names every\n"
    "        changed, missing, moved or unchained event; then re-runs every recorded claim\n"
    "        decision through the plan's rules and names any that differs. Exit 1 if any.\n"
    "what-if: re-adjudicates the plan year's claims with the plan data overridden by FILE\n"
    "        (JSON object of PlanData fields, e.g. {\"hospital_waiting_days\": 60,\n"
    "        \"hospital_daily_fen\": 8000}), the investigators' recorded verdicts given again on the\n"
    "        claims as decided again; writes nothing; lists the claims that change. The approved\n"
    "        amount is the claims' last decisions approved or paid, as `mutualctl report` counts.\n";

int Usage(const std::string& why) {
  if (!why.empty()) std::cerr << "mutualctl audit: " << why << '\n';
  std::cerr << kUsage;
  return 2;
}

int Verify(const ops::Args& args) {
  const kafka::ClientConfig client = ops::ClientFrom(args);
  const std::string prefix = ops::PrefixFrom(args);
  std::vector<std::string> topics = ops::EventsTopics(prefix);
  if (args.Has("topics")) topics = absl::StrSplit(args.Get("topics"), ',', absl::SkipEmpty());
  int64_t problems = 0, checked = 0;
  for (const std::string& topic : topics) {
    absl::StatusOr<int32_t> partitions = ops::PartitionCount(client, topic);
    if (!partitions.ok()) {
      std::cerr << "mutualctl audit: " << topic << ": " << partitions.status() << '\n';
      return 2;
    }
    int64_t topic_events = 0, topic_problems = 0;
    for (int32_t p = 0; p < *partitions; ++p) {
      processor::ChainVerifier verifier;
      absl::Status s = ops::ReadPartition(client, topic, p, [&](const kafka::Message& m) {
        ++topic_events;
        std::string what = verifier.Check(m);
        if (what.empty()) return true;
        ++topic_problems;
        std::string id = "?", type = "?";
        if (absl::StatusOr<v1::Envelope> env = events::ParseEnvelope(m); env.ok()) {
          id = env->event_id();
          type = events::BodyType(*env);
        } else {
          type = "(not an envelope)";
        }
        std::cout << absl::StrFormat("CHAIN  %s/%d offset %d event %s type %s: %s\n", topic, p,
                                     m.offset, id, type, what);
        return true;
      });
      if (!s.ok()) {
        std::cerr << "mutualctl audit: " << topic << "/" << p << ": " << s << '\n';
        return 2;
      }
    }
    std::cout << absl::StrFormat("chain  %-40s %d events, %d partitions, %s\n", topic,
                                 topic_events, *partitions,
                                 topic_problems == 0 ? "sound"
                                                     : absl::StrCat(topic_problems, " problems"));
    checked += topic_events;
    problems += topic_problems;
  }

  if (!args.On("no-decisions")) {
    ops::ShadowOptions so;
    so.client = client;
    so.prefix = prefix;
    int64_t decisions = 0, differ = 0;
    absl::Status s = ops::Readjudicate(so, [&](const ops::Redecision& r) {
      ++decisions;
      std::string diff = r.error.empty() ? ops::DecisionDiff(r.recorded, r.again)
                                         : "could not decide again: " + r.error;
      if (diff.empty()) return;
      ++differ;
      std::cout << absl::StrFormat("RULES  claim %s (%s, partition %d offset %d event %s): %s\n",
                                   r.recorded.claim_id(), ops::BenefitName(r.recorded.benefit()),
                                   r.partition, r.offset, r.event_id, diff);
    });
    if (!s.ok()) {
      std::cerr << "mutualctl audit: re-running decisions: " << s << '\n';
      return 2;
    }
    std::cout << absl::StrFormat("rules  %d claim decisions re-run, %s\n", decisions,
                                 differ == 0 ? "all repeat" : absl::StrCat(differ, " differ"));
    problems += differ;
  }
  std::cout << (problems == 0 ? "audit: OK\n" : absl::StrCat("audit: ", problems, " problems\n"));
  return problems == 0 ? 0 : 1;
}

// The overridable PlanData fields (numbers and switches).
absl::Status Override(plan::PlanData& d, const json::Value& rules) {
  std::map<std::string, int*> ints = {
      {"max_age_exclusive", &d.max_age_exclusive},
      {"min_age", &d.min_age},
      {"max_workers_per_phone", &d.max_workers_per_phone},
      {"hospital_waiting_days", &d.hospital_waiting_days},
      {"critical_illness_waiting_days", &d.critical_illness_waiting_days},
      {"illness_death_waiting_days", &d.illness_death_waiting_days},
      {"accident_waiting_days", &d.accident_waiting_days},
      {"hospital_max_days_per_plan_year", &d.hospital_max_days_per_plan_year},
      {"critical_illness_per_plan_year", &d.critical_illness_per_plan_year},
      {"accident_window_days", &d.accident_window_days},
      {"accident_filing_days", &d.accident_filing_days},
      {"illness_death_filing_months", &d.illness_death_filing_months},
      {"other_filing_years", &d.other_filing_years},
      {"payment_due_days", &d.payment_due_days},
  };
  std::map<std::string, int64_t*> fens = {
      {"hospital_daily_fen", &d.hospital_daily_fen},
      {"critical_illness_fen", &d.critical_illness_fen},
      {"covid19_fen", &d.covid19_fen},
      {"subsidy_cap_per_plan_year_fen", &d.subsidy_cap_per_plan_year_fen},
      {"illness_death_fen", &d.illness_death_fen},
      {"accidental_death_fen", &d.accidental_death_fen},
      {"disability_full_fen", &d.disability_full_fen},
      {"disability_cap_per_plan_year_fen", &d.disability_cap_per_plan_year_fen},
      {"consolation_fen", &d.consolation_fen},
      {"consolation_cap_per_plan_year_fen", &d.consolation_cap_per_plan_year_fen},
      {"per_accident_cap_fen", &d.per_accident_cap_fen},
      {"investigation_threshold_fen", &d.investigation_threshold_fen},
  };
  std::map<std::string, bool*> bools = {
      {"hospital_pays_days_after_coverage_end", &d.hospital_pays_days_after_coverage_end},
      {"hospital_pays_each_day_once", &d.hospital_pays_each_day_once},
      {"subsidy_requires_benefit_in_same_plan_year", &d.subsidy_requires_benefit_in_same_plan_year},
      {"review_name_change_across_years", &d.review_name_change_across_years},
  };
  if (!rules.is_object()) return absl::InvalidArgumentError("rules: a JSON object");
  for (const json::Member& m : rules.members()) {
    if (m.name == "plan_year" || m.name == "comment" || m.name == "_comment") continue;
    if (auto it = ints.find(m.name); it != ints.end()) {
      std::optional<int64_t> v = m.value.Int64();
      if (!v) return absl::InvalidArgumentError(m.name + ": a whole number");
      *it->second = static_cast<int>(*v);
    } else if (auto it = fens.find(m.name); it != fens.end()) {
      std::optional<int64_t> v = m.value.Int64();
      if (!v) return absl::InvalidArgumentError(m.name + ": a whole number of fen");
      *it->second = *v;
    } else if (auto it = bools.find(m.name); it != bools.end()) {
      if (!m.value.is_bool()) return absl::InvalidArgumentError(m.name + ": true or false");
      *it->second = m.value.bool_value();
    } else if (m.name == "disability_percent_by_grade") {
      if (!m.value.is_array() || m.value.items().size() != 10) {
        return absl::InvalidArgumentError(m.name + ": 10 whole numbers");
      }
      for (size_t i = 0; i < 10; ++i) {
        std::optional<int64_t> v = m.value.items()[i].Int64();
        if (!v) return absl::InvalidArgumentError(m.name + ": 10 whole numbers");
        d.disability_percent_by_grade[i] = static_cast<int>(*v);
      }
    } else {
      return absl::InvalidArgumentError("rules: unknown or unsupported PlanData field \"" +
                                        m.name + "\"");
    }
  }
  return absl::OkStatus();
}

int WhatIf(const ops::Args& args) {
  const std::string rules_file = args.Get("rules");
  int plan_year = 0;
  if (rules_file.empty() || !absl::SimpleAtoi(args.Get("plan-year"), &plan_year)) {
    return Usage("what-if: --rules FILE and --plan-year Y are required");
  }
  absl::StatusOr<std::string> text = ops::ReadFile(rules_file);
  if (!text.ok()) return Usage(std::string(text.status().message()));
  absl::StatusOr<json::Value> rules = json::Parse(*text);
  if (!rules.ok()) return Usage(absl::StrCat(rules_file, ": ", rules.status().message()));
  plan::PlanBook book = plan::BuiltInPlanBook();
  bool found = false;
  for (plan::PlanData& d : book.tables) {
    if (&d == &book.ForPlanYear(plan_year)) {
      if (absl::Status s = Override(d, *rules); !s.ok()) return Usage(std::string(s.message()));
      found = true;
    }
  }
  if (!found) return Usage("no plan table for that year");

  ops::ShadowOptions so;
  so.client = ops::ClientFrom(args);
  so.prefix = ops::PrefixFrom(args);
  so.book = &book;
  so.fold_redecided = true;
  so.plan_year = plan_year;
  // Each claim's last decision, recorded and again: the filing's, or the
  // investigator's verdict on it. Approved means what the report counts:
  // approved or paid, not denied and not still waiting for an investigator.
  struct Outcome {
    v1::ClaimDecision recorded, again;
    bool changed = false;
  };
  std::map<std::string, Outcome> outcomes;
  std::cout << absl::StrFormat("what-if: plan year %d under %s (nothing is written)\n", plan_year,
                               rules_file);
  absl::Status s = ops::Readjudicate(so, [&](const ops::Redecision& r) {
    Outcome& o = outcomes[r.recorded.claim_id()];
    o.recorded = r.recorded;
    // A verdict with nothing to decide (the claim decided again does not wait
    // for an investigator) leaves the claim as decided again.
    const bool moot = r.verdict && r.error.empty() && r.again.status() == v1::CLAIM_STATUS_UNSPECIFIED;
    if (!moot) o.again = r.again;
    std::string diff = r.error.empty() ? ops::DecisionDiff(r.recorded, o.again) : "error: " + r.error;
    if (diff.empty()) return;
    o.changed = true;
    std::cout << absl::StrFormat("  claim %-20s %-22s %s%s\n", r.recorded.claim_id(),
                                 ops::BenefitName(r.recorded.benefit()),
                                 r.verdict ? "investigator's verdict: " : "", diff);
  });
  if (!s.ok()) {
    std::cerr << "mutualctl audit what-if: " << s << '\n';
    return 2;
  }
  auto approved = [](const v1::ClaimDecision& c) {
    return c.status() == v1::CLAIM_STATUS_APPROVED || c.status() == v1::CLAIM_STATUS_PAID
               ? c.amount_fen()
               : int64_t{0};
  };
  auto investigating = [](const v1::ClaimDecision& c) {
    return c.status() == v1::CLAIM_STATUS_INVESTIGATING ? c.amount_fen() : int64_t{0};
  };
  int64_t changed = 0, before_fen = 0, after_fen = 0, before_inv_fen = 0, after_inv_fen = 0;
  for (const auto& [id, o] : outcomes) {
    changed += o.changed ? 1 : 0;
    if (o.recorded.plan_year() == plan_year) {
      before_fen += approved(o.recorded);
      before_inv_fen += investigating(o.recorded);
    }
    if (o.again.plan_year() == plan_year) {
      after_fen += approved(o.again);
      after_inv_fen += investigating(o.again);
    }
  }
  std::cout << absl::StrFormat(
      "claims %d, changed %d; approved amount %s -> %s yuan (%s%s)\n", outcomes.size(), changed,
      ops::Yuan(before_fen), ops::Yuan(after_fen), after_fen >= before_fen ? "+" : "",
      ops::Yuan(after_fen - before_fen));
  if (before_inv_fen != 0 || after_inv_fen != 0) {
    std::cout << absl::StrFormat("awaiting investigation %s -> %s yuan\n", ops::Yuan(before_inv_fen),
                                 ops::Yuan(after_inv_fen));
  }
  return 0;
}

}  // namespace

int RunAuditCommand(int argc, char** argv) {
  absl::StatusOr<ops::Args> args = ops::ParseArgs(argc, argv, {"no-decisions", "help"});
  if (!args.ok()) return Usage(std::string(args.status().message()));
  if (args->On("help")) {
    std::cout << kUsage;
    return 0;
  }
  if (args->positional.size() != 1) return Usage("audit: verify or what-if");
  if (args->positional[0] == "verify") return Verify(*args);
  if (args->positional[0] == "what-if") return WhatIf(*args);
  return Usage("audit: verify or what-if");
}

}  // namespace mutualaid::mutualctl
