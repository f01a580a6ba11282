// fakebank as a real bank gateway would be used: idempotency keys, status
// queries, refusals, a ledger that survives SIGKILL, injected faults, batch files.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fake_process.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mutualaid/csv/csv.h"
#include "mutualaid/http/client.h"
#include "mutualaid/json/json.h"

namespace mutualaid::testing {
namespace {

using ::testing::HasSubstr;

// Luhn-valid 19-digit UnionPay-style card numbers.
constexpr char kCard1[] = "6222020200001234562";
constexpr char kCard2[] = "6217000000000001234";
constexpr char kClosedCard[] = "6222020200000000000";  // ends 0000: ACCOUNT_CLOSED
constexpr char kBadLuhnCard[] = "6222020200001234568";
constexpr char kPlatformAccount[] = "31001234567890123";

std::string TransferBody(std::string_view key, int64_t amount, std::string_view account,
                         std::string_view kind = "WORKER_CARD") {
  return json::Write(json::Value::Object({{"idempotency_key", key},
                                          {"amount_fen", amount},
                                          {"payee_kind", kind},
                                          {"payee_account", account},
                                          {"payee_name", "张三"},
                                          {"memo", "claim C-1"}}));
}

std::vector<std::string> FakebankArgs(std::vector<std::string> extra) {
  std::vector<std::string> args = {"--port", "0", "--today", "2025-03-01"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

class FakebankTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    ledger_ = (dir_ / "ledger.jsonl").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<FakeProcess> Start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = FakebankArgs(std::move(extra));
    args.push_back("--ledger");
    args.push_back(ledger_);
    auto fake = std::make_unique<FakeProcess>(FAKEBANK_BINARY, args);
    EXPECT_TRUE(fake->started());
    return fake;
  }

  static json::Value Post(http::Client& client, const std::string& body, int expect_status = 200) {
    absl::StatusOr<http::Response> r = client.Post("/v1/transfers", body);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return json::Value();
    EXPECT_EQ(r->status, expect_status) << r->body;
    return ParseOrDie(r->body);
  }

  static json::Value Get(http::Client& client, const std::string& target, int expect_status = 200) {
    absl::StatusOr<http::Response> r = client.Get(target);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return json::Value();
    EXPECT_EQ(r->status, expect_status) << r->body;
    return ParseOrDie(r->body);
  }

  std::filesystem::path dir_;
  std::string ledger_;
};

TEST_F(FakebankTest, SameKeyTwiceCreditsOnce) {
  auto fake = Start();
  http::Client client = fake->Client();
  const json::Value first = Post(client, TransferBody("claim-1", 123456, kCard1));
  EXPECT_EQ(Str(first, "status"), "CONFIRMED");
  EXPECT_EQ(Str(first, "reason"), "");
  EXPECT_EQ(first.Find("amount_fen")->Int64(), 123456);
  const json::Value again = Post(client, TransferBody("claim-1", 123456, kCard1));
  EXPECT_EQ(again, first);
  const json::Value ledger = Get(client, "/v1/ledger");
  ASSERT_EQ(ledger.items().size(), 1u);
  EXPECT_EQ(Str(ledger.items()[0], "idempotency_key"), "claim-1");
  EXPECT_EQ(Str(ledger.items()[0], "transfer_id"), Str(first, "transfer_id"));
  EXPECT_EQ(Str(ledger.items()[0], "payee_account"), kCard1);
  EXPECT_EQ(Str(ledger.items()[0], "day"), "2025-03-01");
  EXPECT_EQ(ledger.items()[0].Find("amount_fen")->Int64(), 123456);
}

TEST_F(FakebankTest, ConflictingReuseOfAKeyIs409) {
  auto fake = Start();
  http::Client client = fake->Client();
  Post(client, TransferBody("claim-1", 1000, kCard1));
  json::Value conflict = Post(client, TransferBody("claim-1", 2000, kCard1), 409);
  EXPECT_EQ(Str(conflict, "error"), "IDEMPOTENCY_CONFLICT");
  EXPECT_THAT(Str(conflict, "reason"), HasSubstr("amount_fen"));
  conflict = Post(client, TransferBody("claim-1", 1000, kCard2), 409);
  EXPECT_THAT(Str(conflict, "reason"), HasSubstr("payee_account"));
  EXPECT_EQ(Get(client, "/v1/ledger").items().size(), 1u);
}

TEST_F(FakebankTest, StatusQuery) {
  auto fake = Start();
  http::Client client = fake->Client();
  const json::Value created = Post(client, TransferBody("claim/2025 #7", 500, kCard1));
  const json::Value queried =
      Get(client, absl::StrCat("/v1/transfers/", http::PercentEncode("claim/2025 #7")));
  EXPECT_EQ(queried, created);
  const json::Value missing = Get(client, "/v1/transfers/never-sent", 404);
  EXPECT_EQ(Str(missing, "error"), "NOT_FOUND");
}

TEST_F(FakebankTest, RefusedAccountsFailWithAReasonAndCreditNothing) {
  auto fake = Start();
  http::Client client = fake->Client();
  json::Value t = Post(client, TransferBody("k-closed", 100, kClosedCard));
  EXPECT_EQ(Str(t, "status"), "FAILED");
  EXPECT_EQ(Str(t, "reason"), "ACCOUNT_CLOSED");
  t = Post(client, TransferBody("k-luhn", 100, kBadLuhnCard));
  EXPECT_EQ(Str(t, "status"), "FAILED");
  EXPECT_EQ(Str(t, "reason"), "INVALID_ACCOUNT");
  t = Post(client, TransferBody("k-short", 100, "62220202"));
  EXPECT_EQ(Str(t, "reason"), "INVALID_ACCOUNT");
  t = Post(client, TransferBody("k-letters", 100, "62220202000012345X"));
  EXPECT_EQ(Str(t, "reason"), "INVALID_ACCOUNT");
  t = Post(client, TransferBody("k-platform-closed", 100, "310012345670000", "PLATFORM_ACCOUNT"));
  EXPECT_EQ(Str(t, "reason"), "ACCOUNT_CLOSED");
  // The refusal is final and idempotent too.
  EXPECT_EQ(Str(Get(client, "/v1/transfers/k-closed"), "status"), "FAILED");
  EXPECT_EQ(Str(Post(client, TransferBody("k-closed", 100, kClosedCard)), "reason"),
            "ACCOUNT_CLOSED");
  t = Post(client, TransferBody("k-platform", 100, kPlatformAccount, "PLATFORM_ACCOUNT"));
  EXPECT_EQ(Str(t, "status"), "CONFIRMED");
  const json::Value ledger = Get(client, "/v1/ledger");
  ASSERT_EQ(ledger.items().size(), 1u);
  EXPECT_EQ(Str(ledger.items()[0], "idempotency_key"), "k-platform");
}

TEST_F(FakebankTest, MalformedRequestsAre400AndRecordNothing) {
  auto fake = Start();
  http::Client client = fake->Client();
  json::Value body = ParseOrDie(TransferBody("k", 100, kCard1));
  for (const std::string& bad :
       {std::string("not json"), std::string("[]"), TransferBody("", 100, kCard1),
        TransferBody("k", 0, kCard1), TransferBody("k", -5, kCard1),
        TransferBody("k", 100, kCard1, "CASH"),
        std::string(R"({"idempotency_key":"k","amount_fen":1.5,"payee_kind":"WORKER_CARD",)"
                    R"("payee_account":"6222020200001234562","payee_name":"x"})"),
        std::string(R"({"idempotency_key":"k","amount_fen":100,"payee_kind":"WORKER_CARD",)"
                    R"("payee_account":"6222020200001234562"})")}) {
    const json::Value answer = Post(client, bad, 400);
    EXPECT_EQ(Str(answer, "error"), "INVALID_REQUEST") << bad;
  }
  Get(client, "/v1/transfers/k", 404);
}

TEST_F(FakebankTest, PendingUntilQueriedNTimes) {
  auto fake = Start({"--confirm-after-queries", "2"});
  http::Client client = fake->Client();
  EXPECT_EQ(Str(Post(client, TransferBody("k", 700, kCard1)), "status"), "PENDING");
  EXPECT_TRUE(Get(client, "/v1/ledger").items().empty());
  EXPECT_EQ(Str(Get(client, "/v1/transfers/k"), "status"), "PENDING");
  EXPECT_EQ(Str(Get(client, "/v1/transfers/k"), "status"), "PENDING");
  EXPECT_EQ(Str(Get(client, "/v1/transfers/k"), "status"), "CONFIRMED");
  EXPECT_EQ(Str(Get(client, "/v1/transfers/k"), "status"), "CONFIRMED");
  EXPECT_EQ(Str(Post(client, TransferBody("k", 700, kCard1)), "status"), "CONFIRMED");
  EXPECT_EQ(Get(client, "/v1/ledger").items().size(), 1u);
}

TEST_F(FakebankTest, LedgerByDay) {
  {
    auto fake = Start();
    http::Client client = fake->Client();
    Post(client, TransferBody("d1", 100, kCard1));
    Get(client, "/v1/ledger?day=2025-3-1", 400);
    fake->Terminate();
  }
  auto fake = Start({"--today", "2025-03-02"});  // the later flag wins
  http::Client client = fake->Client();
  Post(client, TransferBody("d2", 200, kCard2));
  EXPECT_EQ(Get(client, "/v1/ledger").items().size(), 2u);
  const json::Value first = Get(client, "/v1/ledger?day=2025-03-01");
  ASSERT_EQ(first.items().size(), 1u);
  EXPECT_EQ(Str(first.items()[0], "idempotency_key"), "d1");
  const json::Value second = Get(client, "/v1/ledger?day=2025-03-02");
  ASSERT_EQ(second.items().size(), 1u);
  EXPECT_EQ(Str(second.items()[0], "idempotency_key"), "d2");
  EXPECT_TRUE(Get(client, "/v1/ledger?day=2025-03-03").items().empty());
}

TEST_F(FakebankTest, LedgerSurvivesSigkillAndNeverDoubles) {
  std::vector<json::Value> made;
  {
    auto fake = Start();
    http::Client client = fake->Client();
    for (int i = 0; i < 5; ++i) {
      made.push_back(Post(client, TransferBody(absl::StrCat("k", i), 100 + i, kCard1)));
    }
    fake->Kill();
  }
  // A crash in the middle of a write leaves a torn line: never acknowledged, cut off.
  {
    std::ofstream torn(ledger_, std::ios::app);
    torn << R"({"idempotency_key":"half-writ)";
  }
  auto fake = Start();
  http::Client client = fake->Client();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Get(client, absl::StrCat("/v1/transfers/k", i)), made[static_cast<size_t>(i)]);
    EXPECT_EQ(Post(client, TransferBody(absl::StrCat("k", i), 100 + i, kCard1)),
              made[static_cast<size_t>(i)]);
  }
  Get(client, "/v1/transfers/half-writ", 404);
  const json::Value fresh = Post(client, TransferBody("k5", 105, kCard1));
  for (const json::Value& m : made) EXPECT_NE(Str(fresh, "transfer_id"), Str(m, "transfer_id"));
  EXPECT_EQ(Get(client, "/v1/ledger").items().size(), 6u);
}

TEST_F(FakebankTest, OneLedgerOneProcess) {
  auto fake = Start();
  FakeProcess second(FAKEBANK_BINARY, {"--port", "0", "--ledger", ledger_});
  EXPECT_FALSE(second.started());
  EXPECT_EQ(second.WaitExit(), 1);
}

TEST_F(FakebankTest, TimeoutInjectionDoesTheTransferOnce) {
  auto fake = Start({"--timeout-rate", "1", "--hang-ms", "60000"});
  http::Client client = fake->Client({.timeout = absl::Milliseconds(300)});
  absl::StatusOr<http::Response> r = client.Post("/v1/transfers", TransferBody("t1", 900, kCard1));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
  EXPECT_TRUE(http::OutcomeUnknown(r.status()));
  // Outcome unknown: ask before any retry. Queries are not faulted by default.
  http::Client query = fake->Client();
  const json::Value t = Get(query, "/v1/transfers/t1");
  EXPECT_EQ(Str(t, "status"), "CONFIRMED");
  EXPECT_EQ(Get(query, "/v1/ledger").items().size(), 1u);
}

TEST_F(FakebankTest, ErrorInjectionDoesNothing) {
  auto fake = Start({"--error-rate", "1"});
  http::Client client = fake->Client();
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<http::Response> r = client.Post("/v1/transfers", TransferBody("e1", 1, kCard1));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->status == 500 || r->status == 503) << r->status;
  }
  Get(client, "/v1/transfers/e1", 404);
  EXPECT_TRUE(Get(client, "/v1/ledger").items().empty());
}

TEST_F(FakebankTest, RetryingThroughFaultsPaysEachClaimExactlyOnce) {
  auto fake = Start({"--error-rate", "0.3", "--timeout-rate", "0.3", "--hang-ms", "2000",
                     "--seed", "7"});
  http::Client client = fake->Client({.timeout = absl::Milliseconds(200)});
  http::Client query = fake->Client();
  for (int claim = 0; claim < 10; ++claim) {
    const std::string key = absl::StrCat("claim-", claim);
    std::string status;
    for (int attempt = 0; attempt < 50 && status.empty(); ++attempt) {
      absl::StatusOr<http::Response> r = client.Post("/v1/transfers", TransferBody(key, 100, kCard1));
      if (r.ok() && r->status == 200) {
        status = Str(ParseOrDie(r->body), "status");
      } else if (!r.ok()) {
        ASSERT_TRUE(http::OutcomeUnknown(r.status())) << r.status();
        // Outcome unknown: the status query decides whether to send again.
        absl::StatusOr<http::Response> q = query.Get(absl::StrCat("/v1/transfers/", key));
        ASSERT_TRUE(q.ok()) << q.status();
        if (q->status == 200) status = Str(ParseOrDie(q->body), "status");
      }
    }
    EXPECT_EQ(status, "CONFIRMED") << key;
  }
  EXPECT_EQ(Get(query, "/v1/ledger").items().size(), 10u);
}

TEST_F(FakebankTest, CrashAfterRequestThenRestartKnowsTheTransfer) {
  json::Value first;
  {
    auto fake = Start({"--crash-after", "2"});
    http::Client client = fake->Client();
    first = Post(client, TransferBody("c1", 300, kCard1));
    absl::StatusOr<http::Response> r = client.Post("/v1/transfers", TransferBody("c2", 400, kCard2));
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(http::OutcomeUnknown(r.status())) << r.status();
    EXPECT_EQ(fake->WaitExit(), 1);
  }
  auto fake = Start();
  http::Client client = fake->Client();
  const json::Value c2 = Get(client, "/v1/transfers/c2");
  EXPECT_EQ(Str(c2, "status"), "CONFIRMED");
  EXPECT_EQ(Post(client, TransferBody("c2", 400, kCard2)), c2);
  EXPECT_EQ(Get(client, "/v1/transfers/c1"), first);
  EXPECT_EQ(Get(client, "/v1/ledger").items().size(), 2u);
}

TEST_F(FakebankTest, SlowGatewayTimesOut) {
  auto fake = Start({"--slow-ms", "2000"});
  http::Client client = fake->Client({.timeout = absl::Milliseconds(100)});
  absl::StatusOr<http::Response> r = client.Get("/v1/ledger");
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
}

constexpr char kBatch[] =
    "idempotency_key,amount_fen,payee_kind,payee_account,payee_name,memo\r\n"
    "b1,10000,WORKER_CARD,6222020200001234562,张三,\"claim C-1, hospital\"\r\n"
    "b2,20000,WORKER_CARD,6222020200000000000,李四,claim C-2\r\n"
    "b3,abc,WORKER_CARD,6222020200001234562,王五,claim C-3\r\n"
    "b4,30000,PLATFORM_ACCOUNT,31001234567890123,某平台有限公司,consolation\r\n"
    "b1,10000,WORKER_CARD,6222020200001234562,张三,\"claim C-1, hospital\"\r\n"
    "b4,99999,PLATFORM_ACCOUNT,31001234567890123,某平台有限公司,consolation\r\n"
    "b5,1,WORKER_CARD\r\n";

std::vector<std::vector<std::string>> ResultRows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  for (const csv::Record& record : csv::ParseRecords(text)) {
    EXPECT_TRUE(record.ok()) << "line " << record.line;
    rows.push_back(record.fields);
  }
  return rows;
}
TEST_F(FakebankTest, BatchFileRoundTrip) {
  const std::string in = (dir_ / "batch.csv").string();
  const std::string out = (dir_ / "result.csv").string();
  std::ofstream(in, std::ios::binary) << kBatch;
  ASSERT_EQ(RunToExit(FAKEBANK_BINARY,
                      {"process-file", in, out, "--ledger", ledger_, "--today", "2025-03-01"}),
            0);
  const auto rows = ResultRows(ReadFile(out));
  ASSERT_EQ(rows.size(), 8u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"idempotency_key", "status", "transfer_id", "reason"}));
  EXPECT_EQ(rows[1][0], "b1");
  EXPECT_EQ(rows[1][1], "CONFIRMED");
  EXPECT_EQ(rows[2][1], "FAILED");
  EXPECT_EQ(rows[2][3], "ACCOUNT_CLOSED");
  EXPECT_EQ(rows[3][1], "REJECTED");
  EXPECT_THAT(rows[3][3], HasSubstr("amount_fen"));
  EXPECT_EQ(rows[4][1], "CONFIRMED");
  EXPECT_EQ(rows[5], rows[1]);  // the same key again: the same transfer
  EXPECT_EQ(rows[6][1], "REJECTED");
  EXPECT_THAT(rows[6][3], HasSubstr("IDEMPOTENCY_CONFLICT"));
  EXPECT_EQ(rows[7][1], "REJECTED");

  // Running the same file again credits nothing new.
  ASSERT_EQ(RunToExit(FAKEBANK_BINARY, {"process-file", in, (dir_ / "again.csv").string(),
                                        "--ledger", ledger_, "--today", "2025-03-01"}),
            0);
  EXPECT_EQ(ReadFile(dir_ / "again.csv"), ReadFile(out));

  // The same ledger over HTTP: the file's transfers, and the same keys replay.
  auto fake = Start();
  http::Client client = fake->Client();
  const json::Value ledger = Get(client, "/v1/ledger");
  ASSERT_EQ(ledger.items().size(), 2u);
  EXPECT_EQ(Str(ledger.items()[0], "idempotency_key"), "b1");
  EXPECT_EQ(Str(ledger.items()[1], "idempotency_key"), "b4");
  const json::Value b1 = Post(client, TransferBody("b1", 10000, kCard1));
  EXPECT_EQ(Str(b1, "transfer_id"), rows[1][2]);
  // ... and the same file over HTTP answers the same result file.
  absl::StatusOr<http::Response> r = client.Post("/v1/batch-files", kBatch, "text/csv");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, ReadFile(out));
  EXPECT_EQ(Get(client, "/v1/ledger").items().size(), 2u);
}

TEST_F(FakebankTest, BatchFileWithAWrongHeaderIsRefused) {
  const std::string in = (dir_ / "batch.csv").string();
  std::ofstream(in, std::ios::binary) << "key,amount\nb1,100\n";
  EXPECT_EQ(RunToExit(FAKEBANK_BINARY, {"process-file", in, (dir_ / "out.csv").string(),
                                        "--ledger", ledger_}),
            2);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out.csv"));
}

}  // namespace
}  // namespace mutualaid::testing
