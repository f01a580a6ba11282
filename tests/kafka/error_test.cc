// Error mapping: librdkafka errors to canonical absl codes plus the
// retriable / abort / fatal / fenced classification. No broker.

#include "mutualaid/kafka/error.h"

#include <librdkafka/rdkafka.h>

#include "gtest/gtest.h"
#include "internal.h"
#include "mutualaid/kafka/config.h"

namespace mutualaid::kafka {
namespace {

using internal::MakeStatus;
using internal::StatusFromErr;

TEST(KafkaErrorTest, NoErrorIsOk) {
  EXPECT_TRUE(StatusFromErr(RD_KAFKA_RESP_ERR_NO_ERROR, "x").ok());
  EXPECT_TRUE(internal::StatusFromError(nullptr, "x").ok());
}

TEST(KafkaErrorTest, BrokerOutageIsUnavailableAndRetriable) {
  for (auto err : {RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
                   RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                   RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
                   RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION}) {
    absl::Status s = StatusFromErr(err, "append");
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << rd_kafka_err2name(err);
    EXPECT_TRUE(IsRetriable(s));
    EXPECT_FALSE(IsFatal(s));
    EXPECT_EQ(KafkaErrorName(s), rd_kafka_err2name(err));
  }
}

TEST(KafkaErrorTest, CanonicalCodes) {
  EXPECT_EQ(StatusFromErr(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, "x").code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(StatusFromErr(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, "x").code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(StatusFromErr(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, "x").code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(StatusFromErr(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, "x").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusFromErr(RD_KAFKA_RESP_ERR__QUEUE_FULL, "x").code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(StatusFromErr(RD_KAFKA_RESP_ERR__STATE, "x").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(StatusFromErr(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, "x").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_FALSE(IsRetriable(StatusFromErr(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, "x")));
}

TEST(KafkaErrorTest, MessageNamesWhatAndError) {
  absl::Status s = StatusFromErr(RD_KAFKA_RESP_ERR__TRANSPORT, "append to t", "conn refused");
  EXPECT_NE(s.message().find("append to t"), absl::string_view::npos);
  EXPECT_NE(s.message().find("_TRANSPORT"), absl::string_view::npos);
  EXPECT_NE(s.message().find("conn refused"), absl::string_view::npos);
}

TEST(KafkaErrorTest, AbortableTransactionErrorIsAborted) {
  absl::Status s = MakeStatus(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, "commit", "",
                              /*retriable=*/false, /*abortable=*/true, /*fatal=*/false);
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(RequiresAbort(s));
  EXPECT_FALSE(IsFatal(s));
  EXPECT_FALSE(IsRetriable(s));
}

TEST(KafkaErrorTest, FencingIsFatalAndNeverRetriable) {
  for (auto err : {RD_KAFKA_RESP_ERR__FENCED, RD_KAFKA_RESP_ERR_PRODUCER_FENCED,
                   RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH}) {
    absl::Status s = MakeStatus(err, "commit", "", /*retriable=*/true, /*abortable=*/true,
                                /*fatal=*/false);
    EXPECT_TRUE(IsFenced(s)) << rd_kafka_err2name(err);
    EXPECT_TRUE(IsFatal(s));
    EXPECT_FALSE(IsRetriable(s));
    EXPECT_FALSE(RequiresAbort(s));
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  }
}

TEST(KafkaErrorTest, FatalOutageDoesNotLookRetriable) {
  absl::Status s = MakeStatus(RD_KAFKA_RESP_ERR__TRANSPORT, "x", "", false, false, true);
  EXPECT_TRUE(IsFatal(s));
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
}

TEST(KafkaErrorTest, ForeignStatusesAreUnclassified) {
  absl::Status s = absl::UnavailableError("not from kafka");
  EXPECT_FALSE(IsRetriable(s));
  EXPECT_FALSE(RequiresAbort(s));
  EXPECT_FALSE(IsFatal(s));
  EXPECT_FALSE(IsFenced(s));
  EXPECT_EQ(KafkaErrorName(s), "");
  EXPECT_FALSE(IsRetriable(absl::OkStatus()));
}

TEST(KafkaErrorTest, TimeoutMsRoundsUpAndClamps) {
  EXPECT_EQ(internal::TimeoutMs(absl::ZeroDuration()), 0);
  EXPECT_EQ(internal::TimeoutMs(-absl::Seconds(1)), 0);
  EXPECT_EQ(internal::TimeoutMs(absl::Microseconds(1)), 1);
  EXPECT_EQ(internal::TimeoutMs(absl::Seconds(2)), 2000);
  EXPECT_GT(internal::TimeoutMs(absl::InfiniteDuration()), 0);
}

TEST(KafkaConfigTest, FromEnvRequiresBootstrap) {
  const char* saved = std::getenv(kBootstrapEnv);
  std::string keep = saved != nullptr ? saved : "";
  unsetenv(kBootstrapEnv);
  EXPECT_EQ(ClientConfigFromEnv().status().code(), absl::StatusCode::kFailedPrecondition);
  setenv(kBootstrapEnv, "127.0.0.1:1", 1);
  auto c = ClientConfigFromEnv("svc-0");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->bootstrap, "127.0.0.1:1");
  EXPECT_EQ(c->client_id, "svc-0");
  if (saved != nullptr) {
    setenv(kBootstrapEnv, keep.c_str(), 1);
  } else {
    unsetenv(kBootstrapEnv);
  }
}

TEST(KafkaConfigTest, BadPropertyIsInvalidArgument) {
  ClientConfig c;
  c.bootstrap = "127.0.0.1:1";
  c.properties = {{"no.such.property", "1"}};
  internal::ClientContext ctx(nullptr);
  auto conf = internal::BuildConf(c, {}, &ctx);
  EXPECT_EQ(conf.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(conf.status().message().find("no.such.property"), absl::string_view::npos);
}

}  // namespace
}  // namespace mutualaid::kafka
