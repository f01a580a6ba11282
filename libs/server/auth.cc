#include "mutualaid/server/auth.h"

#include <fstream>
#include <sstream>
#include <vector>

#include <grpcpp/server_context.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "mutualaid/core/hash.h"

namespace mutualaid::server {
namespace {

constexpr struct {
  Role role;
  const char* name;
} kRoles[] = {
    {Role::kPlatform, "platform"},         {Role::kReviewer, "reviewer"},
    {Role::kHall, "hall"},                 {Role::kDistrictCentre, "district"},
    {Role::kInvestigator, "investigator"}, {Role::kFinance, "finance"},
    {Role::kOperations, "operations"},
};

constexpr size_t kMinTokenLength = 16;

}  // namespace

absl::string_view RoleName(Role role) {
  for (const auto& r : kRoles) {
    if (r.role == role) return r.name;
  }
  return "unknown";
}

absl::StatusOr<Role> ParseRole(absl::string_view name) {
  for (const auto& r : kRoles) {
    if (name == r.name) return r.role;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown role '", name, "'"));
}

std::string Principal::ToString() const {
  return absl::StrCat(RoleName(role), ":", subject);
}

absl::StatusOr<TokenAuthenticator> TokenAuthenticator::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("tokens file ", path, ": cannot open"));
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path);
}

absl::StatusOr<TokenAuthenticator> TokenAuthenticator::Parse(absl::string_view text,
                                                             absl::string_view source) {
  TokenAuthenticator auth;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> parts =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    auto where = [&] { return absl::StrCat(source, ":", line_no); };
    if (parts.size() < 2 || parts.size() > 3) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), ": expected 'token role [subject]'"));
    }
    absl::StatusOr<Role> role = ParseRole(parts[1]);
    if (!role.ok()) return absl::InvalidArgumentError(absl::StrCat(where(), ": ", role.status().message()));
    std::string subject = parts.size() == 3 ? std::string(parts[2]) : "";
    if (subject.empty() && (*role == Role::kPlatform || *role == Role::kDistrictCentre)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), ": role ", parts[1], " needs a subject (platform id or district)"));
    }
    std::string digest;
    if (absl::StartsWith(parts[0], "sha256:")) {
      digest = absl::AsciiStrToLower(parts[0].substr(7));
      if (digest.size() != 64) {
        return absl::InvalidArgumentError(absl::StrCat(where(), ": sha256 digest must be 64 hex chars"));
      }
    } else {
      if (parts[0].size() < kMinTokenLength) {
        return absl::InvalidArgumentError(
            absl::StrCat(where(), ": token shorter than ", kMinTokenLength, " characters"));
      }
      digest = Sha256Hex(parts[0]);
    }
    if (!auth.by_digest_.emplace(digest, Principal{*role, subject}).second) {
      return absl::InvalidArgumentError(absl::StrCat(where(), ": duplicate token"));
    }
  }
  return auth;
}

absl::StatusOr<Principal> TokenAuthenticator::Authenticate(absl::string_view authorization) const {
  authorization = absl::StripAsciiWhitespace(authorization);
  if (!absl::StartsWithIgnoreCase(authorization, "bearer ")) {
    return absl::UnauthenticatedError("missing bearer token (authorization: Bearer <token>)");
  }
  absl::string_view token = absl::StripAsciiWhitespace(authorization.substr(7));
  auto it = by_digest_.find(Sha256Hex(token));
  if (it == by_digest_.end()) return absl::UnauthenticatedError("unknown bearer token");
  return it->second;
}

absl::StatusOr<Principal> TokenAuthenticator::Authenticate(
    const grpc::ServerContext& context) const {
  const auto& md = context.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) {
    return absl::UnauthenticatedError("missing bearer token (authorization: Bearer <token>)");
  }
  return Authenticate(absl::string_view(it->second.data(), it->second.size()));
}

absl::Status Authorize(const Principal& principal, absl::string_view rpc,
                       std::initializer_list<Role> allowed) {
  for (Role r : allowed) {
    if (principal.role == r) return absl::OkStatus();
  }
  std::vector<absl::string_view> names;
  for (Role r : allowed) names.push_back(RoleName(r));
  return absl::PermissionDeniedError(absl::StrCat(principal.ToString(), " may not call ", rpc,
                                                  " (allowed: ", absl::StrJoin(names, ", "), ")"));
}

absl::StatusOr<Principal> CheckCall(const TokenAuthenticator& auth,
                                    const grpc::ServerContext& context, absl::string_view rpc,
                                    std::initializer_list<Role> allowed) {
  absl::StatusOr<Principal> principal = auth.Authenticate(context);
  if (!principal.ok()) return principal.status();
  if (allowed.size() == 0) return principal;
  if (absl::Status s = Authorize(*principal, rpc, allowed); !s.ok()) return s;
  return principal;
}

}  // namespace mutualaid::server
