// The fake bank's business day follows the simulated clock it is given
// (POST /v1/clock, as `mutualctl demo` does whenever it moves the services'
// clock): credits are dated with that day, the ledger filters by it, a bad
// day is refused naming the field; the day is journaled with the ledger, so a
// restart keeps it. The fake runs as a child process; no broker.
#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "mutualaid/http/client.h"
#include "mutualaid/json/json.h"
#include "tests/gateways/fake_process.h"

namespace mutualaid::testing {
namespace {

std::string Transfer(const std::string& key) {
  return json::Write(json::Value::Object({{"idempotency_key", key},
                                          {"amount_fen", int64_t{300000}},
                                          {"payee_kind", "WORKER_CARD"},
                                          {"payee_account", "6222020200001234562"},
                                          {"payee_name", "张三"}}));
}

json::Value Parse(const absl::StatusOr<http::Response>& r, int status = 200) {
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return json::Value();
  EXPECT_EQ(r->status, status) << r->body;
  absl::StatusOr<json::Value> v = json::Parse(r->body);
  EXPECT_TRUE(v.ok()) << r->body;
  return v.ok() ? *v : json::Value();
}

std::string Text(const json::Value& v, const char* key) {
  const json::Value* f = v.Find(key);
  return f == nullptr ? "<missing>" : f->string_value();
}

class FakebankClockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / absl::StrCat("fakebank_clock_test.", getpid());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<FakeProcess> Start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--port", "0", "--ledger", (dir_ / "ledger.jsonl").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    auto fake = std::make_unique<FakeProcess>(FAKEBANK_BINARY, args);
    EXPECT_TRUE(fake->started());
    return fake;
  }
  std::filesystem::path dir_;
};

TEST_F(FakebankClockTest, CreditsCarryTheSimulatedDayItIsGiven) {
  auto fake = Start({"--today", "2022-03-10"});
  http::Client client = fake->Client();
  json::Value clock = Parse(client.Get("/v1/clock"));
  EXPECT_EQ(Text(clock, "today"), "2022-03-10");

  clock = Parse(client.Post("/v1/clock", R"({"today": "2022-08-20"})"));
  EXPECT_EQ(Text(clock, "today"), "2022-08-20");
  json::Value t = Parse(client.Post("/v1/transfers", Transfer("DEMO-1")));
  EXPECT_EQ(Text(t, "status"), "CONFIRMED");

  Parse(client.Post("/v1/clock", R"({"today": "2022-11-15"})"));
  Parse(client.Post("/v1/transfers", Transfer("DEMO-2")));
  // A repeat of the first key on a later day is the same credit, on its day.
  Parse(client.Post("/v1/transfers", Transfer("DEMO-1")));

  json::Value summer = Parse(client.Get("/v1/ledger?day=2022-08-20"));
  const std::string summer_text = json::Write(summer);
  EXPECT_NE(summer_text.find("DEMO-1"), std::string::npos) << summer_text;
  EXPECT_EQ(summer_text.find("DEMO-2"), std::string::npos) << summer_text;
  const std::string autumn_text = json::Write(Parse(client.Get("/v1/ledger?day=2022-11-15")));
  EXPECT_NE(autumn_text.find("DEMO-2"), std::string::npos) << autumn_text;
  EXPECT_EQ(autumn_text.find("DEMO-1"), std::string::npos) << autumn_text;
  // Two credits, each on the simulated day it was made: none on the real day.
  const std::string all = json::Write(Parse(client.Get("/v1/ledger")));
  int days = 0;
  for (size_t at = all.find("\"day\""); at != std::string::npos; at = all.find("\"day\"", at + 1)) ++days;
  EXPECT_EQ(days, 2) << all;
  EXPECT_NE(all.find("2022-08-20"), std::string::npos) << all;
  EXPECT_NE(all.find("2022-11-15"), std::string::npos) << all;
}

TEST_F(FakebankClockTest, WithoutTodayTheClockCanStillBeSet) {
  auto fake = Start();
  http::Client client = fake->Client();
  EXPECT_EQ(Parse(client.Post("/v1/clock", R"({"today": "2023-06-29"})")).Find("simulated")->bool_value(),
            true);
  Parse(client.Post("/v1/transfers", Transfer("DEMO-3")));
  const std::string day = json::Write(Parse(client.Get("/v1/ledger?day=2023-06-29")));
  EXPECT_NE(day.find("DEMO-3"), std::string::npos) << day;
}

TEST_F(FakebankClockTest, BadDayIsRefusedNamingTheField) {
  auto fake = Start({"--today", "2022-03-10"});
  http::Client client = fake->Client();
  for (const char* body : {R"({"today": "2022-13-01"})", R"({"today": 20220301})", R"({})", "not json"}) {
    absl::StatusOr<http::Response> r = client.Post("/v1/clock", body);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 400) << body;
    EXPECT_NE(r->body.find("INVALID_REQUEST"), std::string::npos) << r->body;
    EXPECT_TRUE(r->body.find("today") != std::string::npos || r->body.find("body") != std::string::npos)
        << r->body;
  }
  EXPECT_EQ(Text(Parse(client.Get("/v1/clock")), "today"), "2022-03-10");
}

// The day is journaled with the ledger: a bank killed and started again
// (with the flags it had, as deploy/local/up and the tests' restarts do) is
// on the day it was moved to, and dates its credits with it.
TEST_F(FakebankClockTest, ARestartKeepsTheDayItWasMovedTo) {
  {
    auto fake = Start({"--today", "2022-03-10"});
    http::Client client = fake->Client();
    EXPECT_EQ(Text(Parse(client.Post("/v1/clock", R"({"today": "2022-08-20"})")), "today"), "2022-08-20");
    fake->Kill();
  }
  {
    auto fake = Start({"--today", "2022-03-10"});
    http::Client client = fake->Client();
    json::Value clock = Parse(client.Get("/v1/clock"));
    EXPECT_EQ(Text(clock, "today"), "2022-08-20");
    EXPECT_TRUE(clock.Find("simulated") != nullptr && clock.Find("simulated")->bool_value());
    Parse(client.Post("/v1/transfers", Transfer("DEMO-4")));
    const std::string day = json::Write(Parse(client.Get("/v1/ledger?day=2022-08-20")));
    EXPECT_NE(day.find("DEMO-4"), std::string::npos) << day;
    EXPECT_EQ(Text(Parse(client.Post("/v1/clock", R"({"today": "2022-11-15"})")), "today"), "2022-11-15");
    EXPECT_EQ(fake->Terminate(), 0);
  }
  // Without --today too.
  auto fake = Start();
  http::Client client = fake->Client();
  EXPECT_EQ(Text(Parse(client.Get("/v1/clock")), "today"), "2022-11-15");
  // The credit kept its day.
  const std::string summer = json::Write(Parse(client.Get("/v1/ledger?day=2022-08-20")));
  EXPECT_NE(summer.find("DEMO-4"), std::string::npos) << summer;
}

TEST_F(FakebankClockTest, TodayAloneIsKeptAndANewTodayWins) {
  {
    auto fake = Start({"--today", "2022-03-10"});
    EXPECT_EQ(fake->Terminate(), 0);
  }
  {
    auto fake = Start();
    http::Client client = fake->Client();
    EXPECT_EQ(Text(Parse(client.Get("/v1/clock")), "today"), "2022-03-10");
    Parse(client.Post("/v1/clock", R"({"today": "2022-06-01"})"));
    EXPECT_EQ(fake->Terminate(), 0);
  }
  // A --today other than the one the ledger was started with is a new start day.
  auto fake = Start({"--today", "2023-01-05"});
  http::Client client = fake->Client();
  EXPECT_EQ(Text(Parse(client.Get("/v1/clock")), "today"), "2023-01-05");
}

}  // namespace
}  // namespace mutualaid::testing
