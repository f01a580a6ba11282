#include "mutualaid/core/worker_key.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mutualaid {
namespace {

using ::testing::HasSubstr;

constexpr char kSecret[] = "mutualaid-test-secret-0123456789abcdef";  // 38 B

// Computed independently at dev time:
//   printf '%s' 31010119900307123X |
//     openssl dgst -sha256 -hmac mutualaid-test-secret-0123456789abcdef
constexpr char kKeyOf31010119900307123X[] =
    "4254d7df33b2e6a33fd1268a0398a008d0fd470ace853264f29c0501f232cdaf";

WorkerKeyer TestKeyer() {
  absl::StatusOr<WorkerKeyer> k = WorkerKeyer::Create(kSecret);
  EXPECT_TRUE(k.ok()) << k.status();
  return *std::move(k);
}

TEST(WorkerKeyTest, KnownVector) {
  EXPECT_EQ(TestKeyer().KeyFor("31010119900307123X"), kKeyOf31010119900307123X);
}

// RFC 4231 test case 6 (key longer than the block size; no 'x' or spaces in
// the data, so normalisation leaves it unchanged).
TEST(WorkerKeyTest, Rfc4231Case6) {
  absl::StatusOr<WorkerKeyer> k = WorkerKeyer::Create(std::string(131, '\xaa'));
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->KeyFor("Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(WorkerKeyTest, NormalisationLowerXEqualsUpperX) {
  const WorkerKeyer k = TestKeyer();
  EXPECT_EQ(k.KeyFor("31010119900307123x"), kKeyOf31010119900307123X);
  EXPECT_EQ(k.KeyFor("  31010119900307123x\t\r\n"), kKeyOf31010119900307123X);
  EXPECT_EQ(NormalizeIdNumber(" 31010119900307123x "), "31010119900307123X");
  EXPECT_EQ(NormalizeIdNumber("310101199003071234"), "310101199003071234");
}

TEST(WorkerKeyTest, KeyShapeAndDistinctness) {
  const WorkerKeyer k = TestKeyer();
  const std::string a = k.KeyFor("310101199003071234");
  const std::string b = k.KeyFor("310101199003071235");
  EXPECT_EQ(a.size(), 64u);
  EXPECT_THAT(a, ::testing::MatchesRegex("[0-9a-f]{64}"));
  EXPECT_NE(a, b);
}

TEST(WorkerKeyTest, DifferentSecretDifferentKey) {
  absl::StatusOr<WorkerKeyer> other =
      WorkerKeyer::Create(std::string(kSecret) + "!");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->KeyFor("31010119900307123X"), kKeyOf31010119900307123X);
}

TEST(WorkerKeyTest, ShortSecretRejected) {
  absl::StatusOr<WorkerKeyer> k = WorkerKeyer::Create(std::string(31, 's'));
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(k.status().message(), HasSubstr("at least 32"));
  EXPECT_TRUE(WorkerKeyer::Create(std::string(32, 's')).ok());
}

TEST(WorkerKeyTest, MovedKeyerStillWorks) {
  WorkerKeyer a = TestKeyer();
  WorkerKeyer b = std::move(a);
  EXPECT_EQ(b.KeyFor("31010119900307123X"), kKeyOf31010119900307123X);
}

class SecretFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("worker_key_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(SecretFileTest, FileWithTrailingNewline) {
  const std::string path = Write("secret", std::string(kSecret) + "\n");
  absl::StatusOr<std::string> s = LoadWorkerKeySecretFromFile(path);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s, kSecret);
  absl::StatusOr<std::string> crlf =
      LoadWorkerKeySecretFromFile(Write("crlf", std::string(kSecret) + "\r\n"));
  ASSERT_TRUE(crlf.ok());
  EXPECT_EQ(*crlf, kSecret);
  absl::StatusOr<std::string> via = LoadWorkerKeySecret(path);
  ASSERT_TRUE(via.ok());
  EXPECT_EQ(*via, kSecret);
}

TEST_F(SecretFileTest, MissingFileIsNotFoundAndNamesPath) {
  const std::string path = (dir_ / "nope").string();
  absl::StatusOr<std::string> s = LoadWorkerKeySecretFromFile(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.status().message(), HasSubstr(path));
}

TEST_F(SecretFileTest, ShortFileRejected) {
  absl::StatusOr<std::string> s =
      LoadWorkerKeySecretFromFile(Write("short", "too-short\n"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(), HasSubstr("9 bytes"));
}

TEST(SecretEnvTest, FromEnv) {
  constexpr char kVar[] = "MUTUALAID_TEST_WORKER_KEY_SECRET";
  ::unsetenv(kVar);
  absl::StatusOr<std::string> unset = LoadWorkerKeySecretFromEnv(kVar);
  ASSERT_FALSE(unset.ok());
  EXPECT_EQ(unset.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(unset.status().message(), HasSubstr(kVar));

  ::setenv(kVar, "short", 1);
  EXPECT_EQ(LoadWorkerKeySecretFromEnv(kVar).status().code(),
            absl::StatusCode::kInvalidArgument);

  ::setenv(kVar, kSecret, 1);
  absl::StatusOr<std::string> s = LoadWorkerKeySecret("", kVar);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s, kSecret);
  ::unsetenv(kVar);
}

}  // namespace
}  // namespace mutualaid
