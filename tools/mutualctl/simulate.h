// `mutualctl simulate`: runs a scenario through the rules library, exactly as
// the services will (shared/spec/scenario-format.md).
#ifndef MUTUALAID_TOOLS_MUTUALCTL_SIMULATE_H_
#define MUTUALAID_TOOLS_MUTUALCTL_SIMULATE_H_

#include <ostream>
#include <string_view>

namespace mutualaid::mutualctl {

// Exit codes of `mutualctl simulate`.
inline constexpr int kExitOk = 0;
inline constexpr int kExitInvalidScenario = 2;

// Runs the scenario text: one JSON line per step on `out` and 0, or one line
// naming the step and field on `err` and 2 (nothing on `out`).
int Simulate(std::string_view scenario_text, std::ostream& out, std::ostream& err);

// The subcommand: `mutualctl simulate FILE|-`.
int RunSimulateCommand(int argc, char** argv);

}  // namespace mutualaid::mutualctl

#endif  // MUTUALAID_TOOLS_MUTUALCTL_SIMULATE_H_
