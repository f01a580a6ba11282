// Who is calling: bearer tokens mapped to roles, checked on every RPC.
#ifndef MUTUALAID_SERVER_AUTH_H_
#define MUTUALAID_SERVER_AUTH_H_

#include <initializer_list>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace grpc {
class ServerContext;
}

namespace mutualaid::server {

// The roles of the plan's users.
enum class Role {
  kPlatform,        // a gig platform; subject = its platform id
  kReviewer,        // 经办部门 reviewer of enrollments; subject = user name
  kHall,            // clerk at the mutual-aid service hall (服务大厅); subject = user name
  kDistrictCentre,  // clerk at a district worker-service centre; subject = the district, e.g. 浦东新区
  kInvestigator,    // checks claims before payment (调查核实); subject = user name
  kFinance,         // the finance office (payouts); subject = user name
  kOperations,      // runs the system; subject = user name
};

absl::string_view RoleName(Role role);                    // "platform", "reviewer", …
absl::StatusOr<Role> ParseRole(absl::string_view name);

struct Principal {
  Role role;
  std::string subject;  // platform id, district, or user name
  // "platform:P01", "hall:wang" — what decision records store as who acted.
  std::string ToString() const;
};

// Maps bearer tokens to principals. Tokens file, one per line:
//
//   # token                         role          subject
//   3c5b…(at least 16 chars)        platform      P01
//   sha256:<64 hex>                 operations    ops-oncall
//
// A token may be given as its SHA-256 (`sha256:` + hex) so the file need not
// hold it in clear. Lookups compare digests, never the raw token.
class TokenAuthenticator {
 public:
  static absl::StatusOr<TokenAuthenticator> LoadFile(const std::string& path);
  static absl::StatusOr<TokenAuthenticator> Parse(absl::string_view text,
                                                  absl::string_view source);

  // `authorization` is the header value, "Bearer <token>".
  absl::StatusOr<Principal> Authenticate(absl::string_view authorization) const;
  // Reads the `authorization` metadata of the call. Unauthenticated when absent
  // or unknown.
  absl::StatusOr<Principal> Authenticate(const grpc::ServerContext& context) const;

  size_t size() const { return by_digest_.size(); }

 private:
  std::map<std::string, Principal> by_digest_;  // hex SHA-256 of token -> principal
};

// PermissionDenied naming the principal and what was asked, unless its role is
// one of `allowed`.
absl::Status Authorize(const Principal& principal, absl::string_view rpc,
                       std::initializer_list<Role> allowed);

// Authenticate + Authorize: the principal of the call if its role is one of
// `allowed` (empty: any role), else Unauthenticated / PermissionDenied.
absl::StatusOr<Principal> CheckCall(const TokenAuthenticator& auth,
                                    const grpc::ServerContext& context, absl::string_view rpc,
                                    std::initializer_list<Role> allowed);

}  // namespace mutualaid::server

#endif  // MUTUALAID_SERVER_AUTH_H_
