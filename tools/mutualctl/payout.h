// Finance and operations subcommands over PayoutService.
#ifndef MUTUALAID_TOOLS_MUTUALCTL_PAYOUT_H_
#define MUTUALAID_TOOLS_MUTUALCTL_PAYOUT_H_

namespace mutualaid::mutualctl {

// mutualctl payout get|list|reissue|reconcile|at-risk|import …
int RunPayoutCommand(int argc, char** argv);

}  // namespace mutualaid::mutualctl

#endif  // MUTUALAID_TOOLS_MUTUALCTL_PAYOUT_H_
