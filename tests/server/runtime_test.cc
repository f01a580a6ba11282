#include "mutualaid/server/runtime.h"

#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

namespace mutualaid::server {
namespace {

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("runtime_test." + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "tokens.conf") << "operations-token-000001 operations ops\n";
    std::ofstream(dir_ / "secret.key") << "a-test-deployment-secret-of-48-bytes-0123456789\n";
    std::ofstream(dir_ / "password") << "s3cret\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  absl::StatusOr<std::unique_ptr<Runtime>> Load(const std::string& extra) {
    std::ofstream(dir_ / "svc.conf") << "kafka.bootstrap = 127.0.0.1:1\n"
                                     << "auth.tokens_file = tokens.conf\n"
                                     << "worker_key.secret_file = secret.key\n"
                                     << "store.path = store\n"
                                     << extra;
    std::string path = (dir_ / "svc.conf").string();
    char arg0[] = "svc", arg1[] = "--config";
    char* argv[] = {arg0, arg1, path.data()};
    return Runtime::Load("enrollment", 3, argv);
  }
  std::filesystem::path dir_;
};

TEST_F(RuntimeTest, PassesKafkaSecurityPropertiesToLibrdkafka) {
  auto rt = Load(
      "kafka.property.security.protocol = SASL_SSL\n"
      "kafka.property.sasl.mechanism = SCRAM-SHA-512\n"
      "kafka.sasl.password_file = password\n");
  ASSERT_TRUE(rt.ok()) << rt.status();
  std::map<std::string, std::string> props((*rt)->kafka().properties.begin(),
                                           (*rt)->kafka().properties.end());
  EXPECT_EQ(props["security.protocol"], "SASL_SSL");
  EXPECT_EQ(props["sasl.mechanism"], "SCRAM-SHA-512");
  EXPECT_EQ(props["sasl.password"], "s3cret");
}

TEST_F(RuntimeTest, TopicPrefixSeparatesTopicsGroupsAndTransactionalIds) {
  auto rt = Load("kafka.topic_prefix = staging.\nreplica = 2\n");
  ASSERT_TRUE(rt.ok()) << rt.status();
  EXPECT_EQ((*rt)->topic("mutualaid.enrollment.events"), "staging.mutualaid.enrollment.events");
  EXPECT_EQ((*rt)->group(), "staging.mutualaid.enrollment");
  EXPECT_EQ((*rt)->instance(), "staging.enrollment-2");
}

TEST_F(RuntimeTest, BadValuesAreNamed) {
  auto rt = Load("clock = sundial\n");
  EXPECT_EQ(rt.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(rt.status().message().find("clock"), std::string::npos);
  auto missing = Load("kafka.sasl.password_file = nope\n");
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("kafka.sasl.password_file"), std::string::npos);
}

}  // namespace
}  // namespace mutualaid::server
