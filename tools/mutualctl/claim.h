// `mutualctl claim`: a clerk files a claim with the claims service and reads
// the decision; `mutualctl claim get CLAIM_ID` reads one back (with its
// investigations and payment).
#ifndef MUTUALAID_TOOLS_MUTUALCTL_CLAIM_H_
#define MUTUALAID_TOOLS_MUTUALCTL_CLAIM_H_

#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "mutualaid/v1/claims.pb.h"

namespace mutualaid::mutualctl {

// Exit codes of `mutualctl claim`.
inline constexpr int kClaimApproved = 0;  // approved, investigating or paid
inline constexpr int kClaimDenied = 1;
inline constexpr int kClaimFailed = 2;    // usage, refusal by the service, connection

// The application the command line describes: --claim-id, --id-number,
// --benefit, --site and one flag per fact (--admission 2022-08-01 …).
// InvalidArgument names the flag at fault.
absl::StatusOr<v1::ClaimApplication> ParseClaimFlags(int argc, char** argv, bool* json,
                                                     std::string* server, std::string* token_file);

// The decision as a two-column table.
void PrintClaim(const v1::ClaimDecision& claim, std::ostream& out);

// The subcommand.
int RunClaimCommand(int argc, char** argv);

}  // namespace mutualaid::mutualctl

#endif  // MUTUALAID_TOOLS_MUTUALCTL_CLAIM_H_
