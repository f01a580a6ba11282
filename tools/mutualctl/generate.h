// mutualctl generate workers: a platform's monthly enrollment CSV of made-up
// workers (valid ID numbers, some invalid and duplicate rows), for demos,
// benchmarks and load tests.
#ifndef MUTUALAID_TOOLS_MUTUALCTL_GENERATE_H_
#define MUTUALAID_TOOLS_MUTUALCTL_GENERATE_H_

namespace mutualaid::mutualctl {

int RunGenerateCommand(int argc, char** argv);

}  // namespace mutualaid::mutualctl

#endif  // MUTUALAID_TOOLS_MUTUALCTL_GENERATE_H_
