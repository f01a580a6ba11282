// mutualctl's subcommands. To add one, write its Run function in its own file
// and add a row to kSubcommands in main.cc.
#ifndef MUTUALAID_TOOLS_MUTUALCTL_SUBCOMMAND_H_
#define MUTUALAID_TOOLS_MUTUALCTL_SUBCOMMAND_H_

#include <string_view>

namespace mutualaid::mutualctl {

struct Subcommand {
  std::string_view name;
  // Gets the arguments after the subcommand's name; returns the exit code.
  int (*run)(int argc, char** argv);
  std::string_view usage;    // "simulate FILE|-"
  std::string_view summary;  // one line
};

}  // namespace mutualaid::mutualctl

#endif  // MUTUALAID_TOOLS_MUTUALCTL_SUBCOMMAND_H_
