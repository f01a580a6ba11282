// Operations subcommands over AdminService: platforms and the simulated clock.
#ifndef MUTUALAID_TOOLS_MUTUALCTL_ADMIN_H_
#define MUTUALAID_TOOLS_MUTUALCTL_ADMIN_H_

namespace mutualaid::mutualctl {

// mutualctl platform register|list …
int RunPlatformCommand(int argc, char** argv);
// mutualctl clock get|set DAY|advance DAYS --server A[,B…] …
int RunClockCommand(int argc, char** argv);

}  // namespace mutualaid::mutualctl

#endif  // MUTUALAID_TOOLS_MUTUALCTL_ADMIN_H_
