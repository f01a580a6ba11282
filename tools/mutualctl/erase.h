// mutualctl erase: PIPL erasure of a worker's personal data (operations).
#ifndef MUTUALAID_TOOLS_MUTUALCTL_ERASE_H_
#define MUTUALAID_TOOLS_MUTUALCTL_ERASE_H_

namespace mutualaid::mutualctl {

// mutualctl erase (--id-number ID | --worker-key K) --server HOST:PORT --token-file FILE
int RunEraseCommand(int argc, char** argv);

}  // namespace mutualaid::mutualctl

#endif  // MUTUALAID_TOOLS_MUTUALCTL_ERASE_H_
