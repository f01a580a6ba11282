// The machinery against librdkafka's in-process mock cluster: no broker
// process, but real protocol traffic, and injected broker errors.

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kafka_test_util.h"
#include "mutualaid/kafka/consumer.h"
#include "mutualaid/kafka/error.h"
#include "mutualaid/kafka/partition_reader.h"
#include "mutualaid/kafka/producer.h"
#include "mutualaid/kafka/transactional_producer.h"

namespace mutualaid::kafka {
namespace {

using testing::WaitFor;

// Kafka protocol ApiKeys (not in librdkafka's public headers).
constexpr int16_t kProduceApi = 0;
constexpr int16_t kAddPartitionsToTxnApi = 24;
constexpr int16_t kEndTxnApi = 26;

class MockCluster {
 public:
  MockCluster() {
    char errstr[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    mcluster_ = rd_kafka_mock_cluster_new(rk_, 1);
  }
  ~MockCluster() {
    rd_kafka_mock_cluster_destroy(mcluster_);
    rd_kafka_destroy(rk_);
  }
  rd_kafka_mock_cluster_t* get() { return mcluster_; }
  ClientConfig Client(std::string id = "mock-test") {
    ClientConfig c;
    c.bootstrap = rd_kafka_mock_cluster_bootstraps(mcluster_);
    c.client_id = std::move(id);
    return c;
  }
  void CreateTopic(const std::string& name, int partitions) {
    ASSERT_EQ(rd_kafka_mock_topic_create(mcluster_, name.c_str(), partitions, 1),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }

 private:
  rd_kafka_t* rk_;
  rd_kafka_mock_cluster_t* mcluster_;
};

std::vector<Message> ReadAll(const ClientConfig& client, const std::string& topic,
                             int32_t partition) {
  std::vector<Message> out;
  auto reader = PartitionReader::Open(client, topic, partition, 0);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return out;
  while (true) {
    auto m = (*reader)->Next(absl::Seconds(20));
    EXPECT_TRUE(m.ok()) << m.status();
    if (!m.ok() || !m->has_value()) break;
    out.push_back(std::move(**m));
  }
  return out;
}

TEST(KafkaMockTest, AppendWaitsForAckAndReturnsOffsets) {
  MockCluster mc;
  mc.CreateTopic("t", 1);
  auto producer = Producer::Create({.client = mc.Client()});
  MA_ASSERT_OK(producer.status());
  for (int i = 0; i < 3; ++i) {
    auto at = (*producer)->Append("t", "worker-1", absl::StrCat("v", i),
                                  {{"idempotency-key", absl::StrCat("k", i)}});
    MA_ASSERT_OK(at.status());
    EXPECT_EQ(at->topic, "t");
    EXPECT_EQ(at->partition, 0);
    EXPECT_EQ(at->offset, i);
  }
  auto read = ReadAll(mc.Client(), "t", 0);
  ASSERT_EQ(read.size(), 3u);
  EXPECT_EQ(read[2].key, "worker-1");
  EXPECT_EQ(read[2].value, "v2");
  ASSERT_EQ(read[2].headers.size(), 1u);
  EXPECT_EQ(read[2].headers[0], (Header{"idempotency-key", "k2"}));
}

TEST(KafkaMockTest, SameKeySamePartitionAndBatchKeepsOrder) {
  MockCluster mc;
  mc.CreateTopic("t", 4);
  auto producer = Producer::Create({.client = mc.Client()});
  MA_ASSERT_OK(producer.status());
  std::vector<Record> records;
  for (int i = 0; i < 60; ++i) {
    records.push_back({"t", absl::StrCat("worker-", i % 5), absl::StrCat(i), {}});
  }
  auto results = (*producer)->AppendBatch(records);
  ASSERT_EQ(results.size(), records.size());
  std::map<std::string, int32_t> partition_of;
  std::map<int32_t, int64_t> last_offset;
  for (size_t i = 0; i < results.size(); ++i) {
    MA_ASSERT_OK(results[i].status());
    auto [it, inserted] = partition_of.emplace(records[i].key, results[i]->partition);
    EXPECT_EQ(it->second, results[i]->partition) << "key moved partitions";
    auto last = last_offset.find(results[i]->partition);
    if (last != last_offset.end()) {
      EXPECT_GT(results[i]->offset, last->second);
    }
    last_offset[results[i]->partition] = results[i]->offset;
  }
}

TEST(KafkaMockTest, AppendAsyncCallsBackOncePerRecord) {
  MockCluster mc;
  mc.CreateTopic("t", 2);
  auto producer = Producer::Create({.client = mc.Client()});
  MA_ASSERT_OK(producer.status());
  std::atomic<int> ok{0}, failed{0};
  for (int i = 0; i < 100; ++i) {
    MA_ASSERT_OK((*producer)->AppendAsync(
        {"t", absl::StrCat("k", i), "v", {}},
        [&](absl::StatusOr<TopicPartitionOffset> r) { (r.ok() ? ok : failed)++; }));
  }
  MA_ASSERT_OK((*producer)->Flush(absl::Seconds(10)));
  EXPECT_EQ(ok.load(), 100);
  EXPECT_EQ(failed.load(), 0);
}

// Idempotence: the broker refuses the first produce requests; librdkafka
// retries them with the same sequence numbers, and the log ends up with each
// record exactly once, in order.
TEST(KafkaMockTest, IdempotentRetriesWriteEachRecordOnceInOrder) {
  MockCluster mc;
  mc.CreateTopic("t", 1);
  auto producer = Producer::Create({.client = mc.Client()});
  MA_ASSERT_OK(producer.status());
  MA_ASSERT_OK((*producer)->Append("t", "k", "warm-up").status());
  rd_kafka_mock_push_request_errors(mc.get(), kProduceApi, 3,
                                    RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                    RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
  std::vector<Record> records;
  for (int i = 0; i < 20; ++i) records.push_back({"t", "k", absl::StrCat(i), {}});
  for (const auto& r : (*producer)->AppendBatch(records)) MA_ASSERT_OK(r.status());
  auto read = ReadAll(mc.Client(), "t", 0);
  ASSERT_EQ(read.size(), 21u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(read[i + 1].value, absl::StrCat(i));
}

TEST(KafkaMockTest, UnreachableBrokerIsUnavailable) {
  ClientConfig c;
  c.bootstrap = "127.0.0.1:1";  // nothing listens on port 1
  auto producer = Producer::Create(
      {.client = c, .delivery_timeout = absl::Milliseconds(1500)});
  MA_ASSERT_OK(producer.status());
  auto at = (*producer)->Append("t", "k", "v");
  ASSERT_FALSE(at.ok());
  EXPECT_EQ(at.status().code(), absl::StatusCode::kUnavailable) << at.status();
  EXPECT_TRUE(IsRetriable(at.status()));
  EXPECT_NE(at.status().message().find("may or may not"), absl::string_view::npos);
}

TEST(KafkaMockTest, BadConfigIsInvalidArgument) {
  ClientConfig c;
  EXPECT_EQ(Producer::Create({.client = c}).status().code(),
            absl::StatusCode::kInvalidArgument);  // no bootstrap
  c.bootstrap = "127.0.0.1:1";
  EXPECT_EQ(Producer::Create({.client = c, .compression = "brotli"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Consumer::Create({.client = c, .group_id = ""}).status().code(),
            absl::StatusCode::kInvalidArgument);  // no group
  EXPECT_EQ(TransactionalProducer::Create({.client = c, .transactional_id = ""}).status().code(),
            absl::StatusCode::kInvalidArgument);  // no transactional id
}

std::unique_ptr<TransactionalProducer> TxnProducer(MockCluster& mc, const std::string& id) {
  auto p = TransactionalProducer::Create({.client = mc.Client(), .transactional_id = id});
  EXPECT_TRUE(p.ok()) << p.status();
  if (!p.ok()) return nullptr;
  absl::Status s = (*p)->InitTransactions(absl::Seconds(10));
  EXPECT_TRUE(s.ok()) << s;
  return std::move(*p);
}

TEST(KafkaMockTest, TransactionCommits) {
  MockCluster mc;
  mc.CreateTopic("out", 1);
  auto p = TxnProducer(mc, "txn-commit");
  ASSERT_NE(p, nullptr);
  MA_ASSERT_OK(p->BeginTransaction());
  MA_ASSERT_OK(p->Send({"out", "k", "a", {}}));
  MA_ASSERT_OK(p->Send({"out", "k", "b", {}}));
  MA_ASSERT_OK(p->CommitTransaction(absl::Seconds(10)));
  auto read = ReadAll(mc.Client(), "out", 0);
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].value, "a");
  EXPECT_EQ(read[1].value, "b");
}

TEST(KafkaMockTest, CommitRetriesTransientCoordinatorErrors) {
  MockCluster mc;
  mc.CreateTopic("out", 1);
  auto p = TxnProducer(mc, "txn-retry");
  ASSERT_NE(p, nullptr);
  MA_ASSERT_OK(p->BeginTransaction());
  MA_ASSERT_OK(p->Send({"out", "k", "a", {}}));
  rd_kafka_mock_push_request_errors(mc.get(), kEndTxnApi, 2,
                                    RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
                                    RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS);
  MA_EXPECT_OK(p->CommitTransaction(absl::Seconds(20)));
}

TEST(KafkaMockTest, AbortableErrorRequiresAbortThenProducerIsUsable) {
  MockCluster mc;
  mc.CreateTopic("out", 1);
  auto p = TxnProducer(mc, "txn-abortable");
  ASSERT_NE(p, nullptr);
  MA_ASSERT_OK(p->BeginTransaction());
  rd_kafka_mock_push_request_errors(mc.get(), kAddPartitionsToTxnApi, 1,
                                    RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  MA_ASSERT_OK(p->Send({"out", "k", "lost", {}}));
  absl::Status commit = p->CommitTransaction(absl::Seconds(10));
  ASSERT_FALSE(commit.ok());
  EXPECT_TRUE(RequiresAbort(commit)) << commit;
  EXPECT_FALSE(IsFatal(commit)) << commit;
  EXPECT_EQ(commit.code(), absl::StatusCode::kAborted) << commit;
  MA_ASSERT_OK(p->AbortTransaction(absl::Seconds(10)));

  MA_ASSERT_OK(p->BeginTransaction());
  MA_ASSERT_OK(p->Send({"out", "k", "kept", {}}));
  MA_ASSERT_OK(p->CommitTransaction(absl::Seconds(10)));
}

TEST(KafkaMockTest, FencedProducerIsFatal) {
  MockCluster mc;
  mc.CreateTopic("out", 1);
  auto p = TxnProducer(mc, "txn-fenced");
  ASSERT_NE(p, nullptr);
  MA_ASSERT_OK(p->BeginTransaction());
  MA_ASSERT_OK(p->Send({"out", "k", "zombie", {}}));
  rd_kafka_mock_push_request_errors(mc.get(), kEndTxnApi, 1,
                                    RD_KAFKA_RESP_ERR_PRODUCER_FENCED);
  absl::Status commit = p->CommitTransaction(absl::Seconds(10));
  ASSERT_FALSE(commit.ok());
  EXPECT_TRUE(IsFenced(commit)) << commit;
  EXPECT_TRUE(IsFatal(commit)) << commit;
  EXPECT_FALSE(IsRetriable(commit)) << commit;
  // Nothing more goes through a fenced producer.
  EXPECT_FALSE(p->BeginTransaction().ok());
}

class StartAt : public RebalanceHandler {
 public:
  explicit StartAt(int64_t offset) : offset_(offset) {}
  absl::Status OnAssigned(std::vector<PartitionStart>& partitions) override {
    for (auto& p : partitions) p.offset = offset_;
    assigned += partitions.size();
    return absl::OkStatus();
  }
  void OnRevoked(const std::vector<TopicPartition>&, bool) override {}
  size_t assigned = 0;

 private:
  int64_t offset_;
};

TEST(KafkaMockTest, ConsumerStartsWhereTheHandlerSays) {
  MockCluster mc;
  mc.CreateTopic("in", 1);
  auto producer = Producer::Create({.client = mc.Client()});
  MA_ASSERT_OK(producer.status());
  for (int i = 0; i < 10; ++i) MA_ASSERT_OK((*producer)->Append("in", "k", absl::StrCat(i)).status());

  StartAt handler(6);
  auto consumer = Consumer::Create(
      {.client = mc.Client(), .group_id = "g", .rebalance_handler = &handler});
  MA_ASSERT_OK(consumer.status());
  MA_ASSERT_OK((*consumer)->Subscribe({"in"}));
  std::vector<Message> got;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto batch = (*consumer)->PollBatch(100, absl::Milliseconds(200));
        EXPECT_TRUE(batch.ok()) << batch.status();
        if (batch.ok()) got.insert(got.end(), batch->begin(), batch->end());
        return got.size() >= 4;
      },
      absl::Seconds(30)));
  EXPECT_EQ(handler.assigned, 1u);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got.front().offset, 6);
  EXPECT_EQ(got.front().value, "6");
  MA_ASSERT_OK((*consumer)->CommitOffsets({{"in", 0, 10}}));
  auto committed = (*consumer)->Committed({{"in", 0}}, absl::Seconds(5));
  MA_ASSERT_OK(committed.status());
  EXPECT_EQ(committed->at(0).offset, 10);
  MA_EXPECT_OK((*consumer)->Close());
}

}  // namespace
}  // namespace mutualaid::kafka
