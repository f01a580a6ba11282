#include "mutualaid/server/auth.h"

#include <gtest/gtest.h>

#include "mutualaid/core/hash.h"

namespace mutualaid::server {
namespace {

constexpr char kTokens[] = R"(
# token                      role          subject
platform-p01-token-0001      platform      P01
platform-p02-token-0002      platform      P02
hall-clerk-token-000001      hall          wang
district-token-00000001      district      浦东新区
)";

TEST(TokenAuthenticatorTest, MapsBearerTokensToPrincipals) {
  auto auth = TokenAuthenticator::Parse(kTokens, "tokens");
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_EQ(auth->size(), 4u);
  auto p = auth->Authenticate("Bearer platform-p01-token-0001");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->role, Role::kPlatform);
  EXPECT_EQ(p->subject, "P01");
  EXPECT_EQ(p->ToString(), "platform:P01");
  auto d = auth->Authenticate("bearer   district-token-00000001 ");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->subject, "浦东新区");
}

TEST(TokenAuthenticatorTest, RefusesUnknownOrMissingTokens) {
  auto auth = TokenAuthenticator::Parse(kTokens, "tokens");
  ASSERT_TRUE(auth.ok());
  EXPECT_EQ(auth->Authenticate("Bearer nope-nope-nope-nope").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth->Authenticate("platform-p01-token-0001").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth->Authenticate("").status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(TokenAuthenticatorTest, AcceptsDigestEntries) {
  std::string text = "sha256:" + Sha256Hex("operations-secret-1") + " operations oncall\n";
  auto auth = TokenAuthenticator::Parse(text, "tokens");
  ASSERT_TRUE(auth.ok()) << auth.status();
  auto p = auth->Authenticate("Bearer operations-secret-1");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->role, Role::kOperations);
}

TEST(TokenAuthenticatorTest, RejectsBadFilesNamingTheLine) {
  auto short_token = TokenAuthenticator::Parse("short platform P01\n", "t.conf");
  EXPECT_EQ(short_token.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(short_token.status().message().find("t.conf:1"), std::string::npos);
  auto bad_role = TokenAuthenticator::Parse("\nlong-enough-token-123 king\n", "t.conf");
  EXPECT_NE(bad_role.status().message().find("t.conf:2"), std::string::npos);
  EXPECT_NE(bad_role.status().message().find("king"), std::string::npos);
  auto no_subject = TokenAuthenticator::Parse("long-enough-token-123 platform\n", "t.conf");
  EXPECT_EQ(no_subject.status().code(), absl::StatusCode::kInvalidArgument);
  auto dup = TokenAuthenticator::Parse(
      "long-enough-token-123 hall a\nlong-enough-token-123 hall b\n", "t.conf");
  EXPECT_NE(dup.status().message().find("duplicate"), std::string::npos);
}

TEST(AuthorizeTest, AllowsListedRolesOnly) {
  Principal p{Role::kPlatform, "P01"};
  EXPECT_TRUE(Authorize(p, "StreamEnrollments", {Role::kPlatform}).ok());
  absl::Status denied = Authorize(p, "DecideReview", {Role::kReviewer, Role::kOperations});
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(denied.message().find("platform:P01 may not call DecideReview"), std::string::npos);
}

}  // namespace
}  // namespace mutualaid::server
