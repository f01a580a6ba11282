// `mutualctl demo`: a plan year on the running local stack, through the
// services' own APIs — three platforms, a month of generated enrollments
// streamed per platform, the simulated clock moved through the plan year,
// claims of every kind at the hall and district centres, investigators'
// verdicts, payouts and SMS — then a summary read from the event log by the
// report code.
#ifndef MUTUALAID_TOOLS_MUTUALCTL_DEMO_H_
#define MUTUALAID_TOOLS_MUTUALCTL_DEMO_H_

namespace mutualaid::mutualctl {

int RunDemoCommand(int argc, char** argv);

}  // namespace mutualaid::mutualctl

#endif  // MUTUALAID_TOOLS_MUTUALCTL_DEMO_H_
