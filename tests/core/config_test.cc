#include "mutualaid/core/config.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mutualaid {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A fake environment so tests never depend on (or change) the real one.
Config::EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name)
             -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

constexpr char kText[] = R"(# enrollment service
listen_address = 0.0.0.0:50051
kafka.bootstrap=localhost:9092

  max_batch = 500
  fsync = yes
poll_timeout = 250ms
catch_up = 1h30m
retention = 7d
greeting = "  hello # not a comment  "
state_dir = state/enrollment
)";

Config MustParse(absl::string_view text, Config::EnvLookup env = FakeEnv({})) {
  absl::StatusOr<Config> c = Config::Parse(text, "test.conf", std::move(env));
  EXPECT_TRUE(c.ok()) << c.status();
  return *std::move(c);
}

TEST(ConfigTest, ParsesTypedValues) {
  const Config c = MustParse(kText);
  EXPECT_EQ(*c.GetString("listen_address"), "0.0.0.0:50051");
  EXPECT_EQ(*c.GetString("kafka.bootstrap"), "localhost:9092");
  EXPECT_EQ(*c.GetInt64("max_batch"), 500);
  EXPECT_TRUE(*c.GetBool("fsync"));
  EXPECT_EQ(*c.GetDuration("poll_timeout"), absl::Milliseconds(250));
  EXPECT_EQ(*c.GetDuration("catch_up"), absl::Minutes(90));
  EXPECT_EQ(*c.GetDuration("retention"), absl::Hours(7 * 24));
  EXPECT_EQ(*c.GetString("greeting"), "  hello # not a comment  ");
  EXPECT_EQ(*c.GetPath("state_dir"), "state/enrollment");
  EXPECT_THAT(c.FileKeys(),
              ElementsAre("catch_up", "fsync", "greeting", "kafka.bootstrap",
                          "listen_address", "max_batch", "poll_timeout",
                          "retention", "state_dir"));
}

TEST(ConfigTest, BoolSpellings) {
  const Config c = MustParse("a=TRUE\nb=off\nc=1\nd=No\n");
  EXPECT_TRUE(*c.GetBool("a"));
  EXPECT_FALSE(*c.GetBool("b"));
  EXPECT_TRUE(*c.GetBool("c"));
  EXPECT_FALSE(*c.GetBool("d"));
}

TEST(ConfigTest, FallbacksOnlyWhenAbsent) {
  const Config c = MustParse("n = 12\nbad = twelve\n");
  EXPECT_EQ(*c.GetInt64("n", 7), 12);
  EXPECT_EQ(*c.GetInt64("missing", 7), 7);
  EXPECT_EQ(*c.GetString("missing", "dflt"), "dflt");
  EXPECT_FALSE(*c.GetBool("missing", false));
  EXPECT_EQ(*c.GetDuration("missing", absl::Seconds(3)), absl::Seconds(3));
  // Present but malformed is an error even with a fallback.
  EXPECT_EQ(c.GetInt64("bad", 7).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ConfigTest, MissingRequiredKeyIsNotFoundAndNamesKeyAndEnvVar) {
  const Config c = MustParse("");
  absl::StatusOr<std::string> s = c.GetString("kafka.bootstrap");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.status().message(), HasSubstr("\"kafka.bootstrap\""));
  EXPECT_THAT(s.status().message(), HasSubstr("MUTUALAID_KAFKA_BOOTSTRAP"));
}

TEST(ConfigTest, BadValuesNameKeyAndLine) {
  const Config c = MustParse(
      "port = 50o51\nfsync = maybe\ntimeout = 30 seconds\nwait = -5s\n"
      "forever = inf\n");
  struct Case {
    absl::Status status;
    const char* key;
    const char* where;
  };
  for (const Case& k : {Case{c.GetInt64("port").status(), "port", "test.conf:1"},
                        Case{c.GetBool("fsync").status(), "fsync", "test.conf:2"},
                        Case{c.GetDuration("timeout").status(), "timeout",
                             "test.conf:3"},
                        Case{c.GetDuration("wait").status(), "wait",
                             "test.conf:4"},
                        Case{c.GetDuration("forever").status(), "forever",
                             "test.conf:5"}}) {
    EXPECT_EQ(k.status.code(), absl::StatusCode::kInvalidArgument) << k.key;
    EXPECT_THAT(k.status.message(), HasSubstr(std::string("\"") + k.key + "\""));
    EXPECT_THAT(k.status.message(), HasSubstr(k.where));
  }
}

TEST(ConfigTest, SyntaxErrorsNameTheLine) {
  for (const char* text : {"ok = 1\nno equals sign\n", "ok = 1\n = value\n",
                           "ok = 1\nbad key = 1\n"}) {
    absl::StatusOr<Config> c = Config::Parse(text, "svc.conf", FakeEnv({}));
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(c.status().message(), HasSubstr("svc.conf:2"));
  }
}

TEST(ConfigTest, DuplicateKeyRejected) {
  absl::StatusOr<Config> c =
      Config::Parse("port = 1\nport = 2\n", "svc.conf", FakeEnv({}));
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("svc.conf:1"));
  EXPECT_THAT(c.status().message(), HasSubstr("svc.conf:2"));
}

TEST(ConfigTest, EnvOverridesFileAndFillsGaps) {
  const Config c = MustParse(
      "kafka.bootstrap = localhost:9092\nmax_batch = 500\n",
      FakeEnv({{"MUTUALAID_KAFKA_BOOTSTRAP", "broker:19092"},
               {"MUTUALAID_POLL_TIMEOUT", "2s"},
               {"MUTUALAID_MAX_BATCH", "lots"}}));
  EXPECT_EQ(*c.GetString("kafka.bootstrap"), "broker:19092");
  EXPECT_EQ(*c.GetDuration("poll_timeout"), absl::Seconds(2));
  EXPECT_TRUE(c.Has("poll_timeout"));
  absl::StatusOr<int64_t> bad = c.GetInt64("max_batch");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("env MUTUALAID_MAX_BATCH"));
  // Env-only keys are not file keys.
  EXPECT_THAT(c.FileKeys(), ElementsAre("kafka.bootstrap", "max_batch"));
}

TEST(ConfigTest, EnvName) {
  EXPECT_EQ(Config::EnvName("kafka.bootstrap"), "MUTUALAID_KAFKA_BOOTSTRAP");
  EXPECT_EQ(Config::EnvName("block-cache_mb"), "MUTUALAID_BLOCK_CACHE_MB");
}

TEST(ConfigTest, FromEnvOnly) {
  const Config c = Config::FromEnv(FakeEnv({{"MUTUALAID_PORT", "8080"}}));
  EXPECT_EQ(*c.GetInt64("port"), 8080);
}

TEST(ConfigTest, ProcessEnvIsConsulted) {
  ::setenv("MUTUALAID_CONFIG_TEST_ONLY_KEY", "from-process", 1);
  const Config c = MustParse("config_test_only_key = from-file\n",
                             Config::ProcessEnv());
  EXPECT_EQ(*c.GetString("config_test_only_key"), "from-process");
  ::unsetenv("MUTUALAID_CONFIG_TEST_ONLY_KEY");
}

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("config_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "etc");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(ConfigFileTest, LoadFileResolvesRelativePathsAgainstFileDir) {
  const std::string path = (dir_ / "etc" / "claims.conf").string();
  std::ofstream(path) << "state_dir = ../var/claims\nsecret = /run/secret\r\n";
  absl::StatusOr<Config> c = Config::LoadFile(
      path, FakeEnv({{"MUTUALAID_OTHER_DIR", "rel/from/env"}}));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(*c->GetPath("state_dir"), (dir_ / "var" / "claims").string());
  EXPECT_EQ(*c->GetPath("secret"), "/run/secret");
  EXPECT_EQ(*c->GetPath("other_dir"), "rel/from/env");
}

TEST_F(ConfigFileTest, MissingFileIsNotFound) {
  const std::string path = (dir_ / "nope.conf").string();
  absl::StatusOr<Config> c = Config::LoadFile(path, FakeEnv({}));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(c.status().message(), HasSubstr(path));
}

}  // namespace
}  // namespace mutualaid
