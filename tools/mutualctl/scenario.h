// A scenario file (shared/spec/scenario-format.md), read and checked.
#ifndef MUTUALAID_TOOLS_MUTUALCTL_SCENARIO_H_
#define MUTUALAID_TOOLS_MUTUALCTL_SCENARIO_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "mutualaid/plan/worker_file.h"

namespace mutualaid::mutualctl {

struct ScenarioPlatform {
  std::string name;
  // Extension: a platform named in the scenario but not registered with the
  // union platform ("registered": false) — its records are UNKNOWN_PLATFORM.
  bool registered = true;
};

struct ScenarioWorker {
  std::string id_number;
  std::string name;
  std::string phone;
};

struct EnrollStep {
  std::string worker;    // key into Scenario::workers
  std::string platform;  // key into Scenario::platforms
  std::string industry;  // as written: an unknown value is a rejection, not an error
  absl::CivilDay received_on;
  int64_t worker_share_fen = 0;  // optional §四(二) split
};

struct ClaimStep {
  std::string worker;
  plan::ClaimRequest request;
};

struct Step {
  std::variant<EnrollStep, ClaimStep> action;
};

struct Scenario {
  std::optional<std::string> plan;  // rule-set version, e.g. "sh-gig-mutual-aid-2022"
  std::map<std::string, ScenarioPlatform> platforms;
  std::map<std::string, ScenarioWorker> workers;
  std::vector<Step> steps;
};

// Parses and checks a scenario. The error message names the place at fault,
// e.g. "steps[3].admission: not a date (YYYY-MM-DD)".
absl::StatusOr<Scenario> ParseScenario(std::string_view text);

}  // namespace mutualaid::mutualctl

#endif  // MUTUALAID_TOOLS_MUTUALCTL_SCENARIO_H_
