// The operations subcommands over the event log (rows in tools/mutualctl/main.cc).
#ifndef MUTUALAID_TOOLS_MUTUALCTL_OPS_OPS_H_
#define MUTUALAID_TOOLS_MUTUALCTL_OPS_OPS_H_

namespace mutualaid::mutualctl {

// mutualctl replay --service S [--until D] [--dir DIR] [--server H:P --token-file F]
int RunReplayCommand(int argc, char** argv);
// mutualctl audit verify | audit what-if --rules FILE --plan-year Y
int RunAuditCommand(int argc, char** argv);
// mutualctl report --plan-year Y [--format table|csv|html] [--out FILE]
int RunReportCommand(int argc, char** argv);
// mutualctl history --worker ID --secret-file F [--unmask]
int RunHistoryCommand(int argc, char** argv);

}  // namespace mutualaid::mutualctl

#endif  // MUTUALAID_TOOLS_MUTUALCTL_OPS_OPS_H_
