// fakesms as the notification service would use it: one message per
// message_id, delivery reports by query and by callback, a log that survives
// SIGKILL, injected faults, the rate limit.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "fake_process.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mutualaid/http/client.h"
#include "mutualaid/http/server.h"
#include "mutualaid/json/json.h"

namespace mutualaid::testing {
namespace {

using ::testing::HasSubstr;

std::string MessageBody(std::string_view id, std::string_view phone = "13800138000",
                        std::string_view text = "您的理赔款已支付", std::string_view callback = "") {
  json::Value v = json::Value::Object({{"message_id", id}, {"phone", phone}, {"text", text}});
  if (!callback.empty()) v.Set("callback_url", callback);
  return json::Write(v);
}

// Collects delivery reports POSTed to it.
class CallbackReceiver {
 public:
  CallbackReceiver() {
    server_.Handle("POST", "/reports", [this](const http::Request& r) {
      absl::MutexLock lock(&mu_);
      reports_.push_back(ParseOrDie(r.body));
      return http::Response::Json(200, "{}");
    });
    EXPECT_TRUE(server_.Start().ok());
  }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", server_.port(), "/reports"); }

  // Waits up to 10 s for at least `n` reports; returns what arrived.
  std::vector<json::Value> WaitFor(size_t n) {
    absl::MutexLock lock(&mu_);
    std::pair<CallbackReceiver*, size_t> arg(this, n);
    mu_.AwaitWithTimeout(absl::Condition(
                             +[](std::pair<CallbackReceiver*, size_t>* a) {
                               return a->first->reports_.size() >= a->second;
                             },
                             &arg),
                         absl::Seconds(10));
    return reports_;
  }
  std::vector<json::Value> Now() {
    absl::MutexLock lock(&mu_);
    return reports_;
  }

 private:
  http::Server server_;
  absl::Mutex mu_;
  std::vector<json::Value> reports_ ABSL_GUARDED_BY(mu_);
};

class FakesmsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    log_ = (dir_ / "messages.jsonl").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<FakeProcess> Start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--port", "0", "--log", log_};
    args.insert(args.end(), extra.begin(), extra.end());
    auto fake = std::make_unique<FakeProcess>(FAKESMS_BINARY, args);
    EXPECT_TRUE(fake->started());
    return fake;
  }

  static json::Value Send(http::Client& client, const std::string& body, int expect_status = 200) {
    absl::StatusOr<http::Response> r = client.Post("/v1/messages", body);
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
  std::string log_;
};

TEST_F(FakesmsTest, SameMessageIdTwiceSendsOneMessage) {
  auto fake = Start();
  http::Client client = fake->Client();
  const json::Value first = Send(client, MessageBody("evt-1:paid"));
  EXPECT_EQ(Str(first, "message_id"), "evt-1:paid");
  EXPECT_EQ(Str(first, "status"), "ACCEPTED");
  EXPECT_FALSE(Str(first, "gateway_id").empty());
  EXPECT_EQ(Send(client, MessageBody("evt-1:paid")), first);
  const json::Value all = Get(client, "/v1/messages");
  ASSERT_EQ(all.items().size(), 1u);
  EXPECT_EQ(Str(all.items()[0], "phone"), "13800138000");
  EXPECT_EQ(Str(all.items()[0], "text"), "您的理赔款已支付");
}

TEST_F(FakesmsTest, ConflictingReuseIs409) {
  auto fake = Start();
  http::Client client = fake->Client();
  Send(client, MessageBody("m1"));
  const json::Value conflict = Send(client, MessageBody("m1", "13900139000"), 409);
  EXPECT_EQ(Str(conflict, "error"), "IDEMPOTENCY_CONFLICT");
  EXPECT_THAT(Str(conflict, "reason"), HasSubstr("phone"));
  EXPECT_EQ(Get(client, "/v1/messages").items().size(), 1u);
}

TEST_F(FakesmsTest, InvalidRequests) {
  auto fake = Start();
  http::Client client = fake->Client();
  for (const char* phone : {"12345", "23800138000", "1380013800a", "+8512800138000", ""}) {
    EXPECT_EQ(Str(Send(client, MessageBody("m", phone), 400), "error"), "INVALID_PHONE") << phone;
  }
  EXPECT_EQ(Str(Send(client, MessageBody("m", "+8613800138000")), "status"), "ACCEPTED");
  EXPECT_EQ(Str(Send(client, MessageBody("t", "13800138000", ""), 400), "error"), "INVALID_REQUEST");
  EXPECT_EQ(Str(Send(client, "{}", 400), "error"), "INVALID_REQUEST");
  EXPECT_EQ(Str(Send(client, MessageBody("u", "13800138000", "x", "ftp://x"), 400), "error"),
            "INVALID_REQUEST");
  EXPECT_EQ(Get(client, "/v1/messages").items().size(), 1u);
}

TEST_F(FakesmsTest, DeliveredImmediatelyByDefault) {
  auto fake = Start();
  http::Client client = fake->Client();
  Send(client, MessageBody("m1"));
  const json::Value report = Get(client, "/v1/messages/m1");
  EXPECT_EQ(Str(report, "status"), "DELIVERED");
  EXPECT_EQ(Str(report, "reason"), "");
  Get(client, "/v1/messages/unknown", 404);
}

TEST_F(FakesmsTest, DeliveredAfterNQueries) {
  auto fake = Start({"--deliver-after-queries", "2"});
  http::Client client = fake->Client();
  Send(client, MessageBody("m1"));
  EXPECT_EQ(Str(Get(client, "/v1/messages/m1"), "status"), "ACCEPTED");
  EXPECT_EQ(Str(Get(client, "/v1/messages/m1"), "status"), "ACCEPTED");
  EXPECT_EQ(Str(Get(client, "/v1/messages/m1"), "status"), "DELIVERED");
  EXPECT_EQ(Str(Get(client, "/v1/messages/m1"), "status"), "DELIVERED");
}

TEST_F(FakesmsTest, FailPhonesEndUnreachable) {
  auto fake = Start({"--fail-phones", "13900000001,13900000002"});
  http::Client client = fake->Client();
  Send(client, MessageBody("m1", "13900000002"));
  const json::Value report = Get(client, "/v1/messages/m1");
  EXPECT_EQ(Str(report, "status"), "FAILED");
  EXPECT_EQ(Str(report, "reason"), "UNREACHABLE");
}

TEST_F(FakesmsTest, ListByPhone) {
  auto fake = Start();
  http::Client client = fake->Client();
  Send(client, MessageBody("a", "13800000001"));
  Send(client, MessageBody("b", "13800000002"));
  Send(client, MessageBody("c", "13800000001"));
  const json::Value one = Get(client, "/v1/messages?phone=13800000001");
  ASSERT_EQ(one.items().size(), 2u);
  EXPECT_EQ(Str(one.items()[0], "message_id"), "a");
  EXPECT_EQ(Str(one.items()[1], "message_id"), "c");
  EXPECT_EQ(Get(client, "/v1/messages?phone=%2B8613800000001").items().size(), 0u);
  EXPECT_EQ(Get(client, "/v1/messages").items().size(), 3u);
}

TEST_F(FakesmsTest, DeliveryReportCallbacks) {
  CallbackReceiver receiver;
  auto fake = Start({"--fail-phones", "13900000009"});
  http::Client client = fake->Client();
  Send(client, MessageBody("ok-1", "13800138000", "text", receiver.url()));
  Send(client, MessageBody("bad-1", "13900000009", "text", receiver.url()));
  std::vector<json::Value> reports = receiver.WaitFor(2);
  ASSERT_EQ(reports.size(), 2u);
  std::map<std::string, json::Value> by_id;
  for (const json::Value& r : reports) by_id[Str(r, "message_id")] = r;
  EXPECT_EQ(Str(by_id["ok-1"], "status"), "DELIVERED");
  EXPECT_EQ(Str(by_id["bad-1"], "status"), "FAILED");
  EXPECT_EQ(Str(by_id["bad-1"], "reason"), "UNREACHABLE");
  // A replayed submission does not report again.
  Send(client, MessageBody("ok-1", "13800138000", "text", receiver.url()));
  Send(client, MessageBody("marker", "13800138000", "text", receiver.url()));
  reports = receiver.WaitFor(3);
  EXPECT_EQ(reports.size(), 3u);
  EXPECT_EQ(Str(reports.back(), "message_id"), "marker");
}

TEST_F(FakesmsTest, DuplicateCallbacks) {
  CallbackReceiver receiver;
  auto fake = Start({"--duplicate-callbacks", "--deliver-after-queries", "1"});
  http::Client client = fake->Client();
  Send(client, MessageBody("m1", "13800138000", "text", receiver.url()));
  EXPECT_EQ(Str(Get(client, "/v1/messages/m1"), "status"), "ACCEPTED");
  EXPECT_TRUE(receiver.Now().empty());  // not final yet, so no report
  EXPECT_EQ(Str(Get(client, "/v1/messages/m1"), "status"), "DELIVERED");
  const std::vector<json::Value> reports = receiver.WaitFor(2);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0], reports[1]);
  EXPECT_EQ(Str(reports[0], "message_id"), "m1");
  EXPECT_EQ(Str(reports[0], "status"), "DELIVERED");
}

TEST_F(FakesmsTest, LogSurvivesSigkill) {
  json::Value first;
  {
    auto fake = Start();
    http::Client client = fake->Client();
    first = Send(client, MessageBody("m1"));
    Send(client, MessageBody("m2"));
    EXPECT_EQ(Str(Get(client, "/v1/messages/m1"), "status"), "DELIVERED");
    fake->Kill();
  }
  auto fake = Start();
  http::Client client = fake->Client();
  EXPECT_EQ(Send(client, MessageBody("m1")), first);
  EXPECT_EQ(Str(Get(client, "/v1/messages/m1"), "status"), "DELIVERED");
  const json::Value fresh = Send(client, MessageBody("m3"));
  EXPECT_NE(Str(fresh, "gateway_id"), Str(first, "gateway_id"));
  EXPECT_EQ(Get(client, "/v1/messages").items().size(), 3u);
}

TEST_F(FakesmsTest, RateLimitIs429AndSendsNothing) {
  auto fake = Start({"--rate", "2"});
  http::Client client = fake->Client();
  int accepted = 0;
  int limited = 0;
  std::vector<std::string> refused;
  for (int i = 0; i < 30; ++i) {
    const std::string id = absl::StrCat("r", i);
    absl::StatusOr<http::Response> r = client.Post("/v1/messages", MessageBody(id));
    ASSERT_TRUE(r.ok()) << r.status();
    if (r->status == 200) ++accepted;
    if (r->status == 429) {
      ++limited;
      refused.push_back(id);
      EXPECT_EQ(r->header("Retry-After"), "1");
    }
  }
  EXPECT_GT(limited, 0);
  EXPECT_EQ(accepted + limited, 30);
  const json::Value all = Get(client, "/v1/messages");
  EXPECT_EQ(all.items().size(), static_cast<size_t>(accepted));
  for (const json::Value& m : all.items()) {
    EXPECT_THAT(refused, ::testing::Not(::testing::Contains(Str(m, "message_id"))));
  }
  // A replay of an accepted message is not a new message: never limited.
  EXPECT_EQ(Send(client, MessageBody("r0")).Find("status")->string_value(), "ACCEPTED");
}

TEST_F(FakesmsTest, TimeoutInjectionAcceptsOnce) {
  auto fake = Start({"--timeout-rate", "1", "--hang-ms", "60000"});
  http::Client client = fake->Client({.timeout = absl::Milliseconds(300)});
  absl::StatusOr<http::Response> r = client.Post("/v1/messages", MessageBody("m1"));
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
  http::Client query = fake->Client();
  EXPECT_EQ(Str(Get(query, "/v1/messages/m1"), "status"), "DELIVERED");
  EXPECT_EQ(Get(query, "/v1/messages").items().size(), 1u);
}

TEST_F(FakesmsTest, ErrorInjectionSendsNothing) {
  auto fake = Start({"--error-rate", "1"});
  http::Client client = fake->Client();
  absl::StatusOr<http::Response> r = client.Post("/v1/messages", MessageBody("m1"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->status == 500 || r->status == 503);
  Get(client, "/v1/messages/m1", 404);
  EXPECT_TRUE(Get(client, "/v1/messages").items().empty());
}

TEST_F(FakesmsTest, FaultQueriesAlsoFailsStatusQueries) {
  auto fake = Start({"--error-rate", "1", "--fault-queries"});
  http::Client client = fake->Client();
  absl::StatusOr<http::Response> r = client.Get("/v1/messages/m1");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->status == 500 || r->status == 503);
}

TEST_F(FakesmsTest, CrashAfterAcceptKeepsTheMessage) {
  {
    auto fake = Start({"--crash-after", "1"});
    http::Client client = fake->Client();
    absl::StatusOr<http::Response> r = client.Post("/v1/messages", MessageBody("m1"));
    EXPECT_TRUE(http::OutcomeUnknown(r.status())) << r.status();
    EXPECT_EQ(fake->WaitExit(), 1);
  }
  auto fake = Start();
  http::Client client = fake->Client();
  EXPECT_EQ(Str(Get(client, "/v1/messages/m1"), "status"), "DELIVERED");
  Send(client, MessageBody("m1"));
  EXPECT_EQ(Get(client, "/v1/messages").items().size(), 1u);
}

}  // namespace
}  // namespace mutualaid::testing
