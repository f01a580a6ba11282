// libs/kafka against the real broker (deploy/local/kafka, Kafka 3.9) with
// Debian's librdkafka 2.0.2. Reads the address from MUTUALAID_KAFKA_BOOTSTRAP
// and fails when it is unset or nothing answers there. Every test uses its own
// topics and groups (UniqueName), so reruns and parallel runs do not collide.

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "kafka_test_util.h"
#include "mutualaid/kafka/admin.h"
#include "mutualaid/kafka/consumer.h"
#include "mutualaid/kafka/error.h"
#include "mutualaid/kafka/partition_reader.h"
#include "mutualaid/kafka/producer.h"
#include "mutualaid/kafka/topics.h"
#include "mutualaid/kafka/transactional_producer.h"

namespace mutualaid::kafka {
namespace {

using testing::UniqueName;
using testing::WaitFor;

class BrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = ClientConfigFromEnv("kafka-broker-test");
    ASSERT_TRUE(c.ok()) << c.status()
                        << " -- start the broker with deploy/local/kafka start and export "
                           "MUTUALAID_KAFKA_BOOTSTRAP";
    client_ = *c;
    auto admin = Admin::Create(client_);
    ASSERT_TRUE(admin.ok()) << admin.status();
    admin_ = std::move(*admin);
    auto topics = admin_->ListTopics(absl::Seconds(15));
    ASSERT_TRUE(topics.ok()) << "no broker answers at " << client_.bootstrap << ": "
                             << topics.status();
  }

  void TearDown() override {
    if (admin_ != nullptr && !created_.empty()) (void)admin_->DeleteTopics(created_);
  }

  // A fresh event-log topic, deleted again at the end of the test.
  std::string Topic(int32_t partitions) {
    std::string name = UniqueName("test");
    absl::Status s = admin_->EnsureTopics({TopicSpec::EventLog(name, partitions)});
    EXPECT_TRUE(s.ok()) << s;
    created_.push_back(name);
    return name;
  }

  std::vector<Message> ReadPartition(const std::string& topic, int32_t partition,
                                     int64_t from = 0, ClientConfig client = {}) {
    if (client.bootstrap.empty()) client = client_;
    std::vector<Message> out;
    auto reader = PartitionReader::Open(client, topic, partition, from);
    EXPECT_TRUE(reader.ok()) << reader.status();
    if (!reader.ok()) return out;
    while (true) {
      auto m = (*reader)->Next(absl::Seconds(30));
      EXPECT_TRUE(m.ok()) << m.status();
      if (!m.ok() || !m->has_value()) break;
      out.push_back(std::move(**m));
    }
    return out;
  }

  std::vector<std::string> Values(const std::vector<Message>& messages) {
    std::vector<std::string> v;
    for (const auto& m : messages) v.push_back(m.value);
    return v;
  }

  ClientConfig client_;
  std::unique_ptr<Admin> admin_;
  std::vector<std::string> created_;
};

// --- topics ------------------------------------------------------------------

TEST_F(BrokerTest, TopicsAreCreatedOnceWithInfiniteRetention) {
  std::string name = UniqueName("test");
  created_.push_back(name);
  MA_ASSERT_OK(admin_->EnsureTopics({TopicSpec::EventLog(name, 3)}));
  MA_ASSERT_OK(admin_->EnsureTopics({TopicSpec::EventLog(name, 3)}));  // idempotent

  auto d = admin_->DescribeTopic(name);
  MA_ASSERT_OK(d.status());
  EXPECT_EQ(d->partitions, 3);
  EXPECT_EQ(d->config["retention.ms"], "-1");
  EXPECT_EQ(d->config["retention.bytes"], "-1");

  auto list = admin_->ListTopics();
  MA_ASSERT_OK(list.status());
  EXPECT_NE(std::find(list->begin(), list->end(), name), list->end());
  for (const auto& t : *list) EXPECT_FALSE(absl::StartsWith(t, "__")) << t;

  absl::Status other = admin_->EnsureTopics({TopicSpec::EventLog(name, 4)});
  EXPECT_EQ(other.code(), absl::StatusCode::kFailedPrecondition) << other;

  EXPECT_EQ(admin_->DescribeTopic(UniqueName("missing")).status().code(),
            absl::StatusCode::kNotFound);

  MA_ASSERT_OK(admin_->DeleteTopics({name}));
  EXPECT_TRUE(WaitFor(
      [&] {
        auto l = admin_->ListTopics();
        return l.ok() && std::find(l->begin(), l->end(), name) == l->end();
      },
      absl::Seconds(30)));
  MA_EXPECT_OK(admin_->DeleteTopics({name}));  // missing is fine
}

TEST_F(BrokerTest, SystemTopicNamesAreTheSpecifiedOnes) {
  std::set<std::string> names(kAllTopics.begin(), kAllTopics.end());
  EXPECT_EQ(names, (std::set<std::string>{
                       "mutualaid.enrollment.requests", "mutualaid.enrollment.events",
                       "mutualaid.claims.requests", "mutualaid.claims.events",
                       "mutualaid.payout.requests", "mutualaid.payout.events",
                       "mutualaid.notification.requests", "mutualaid.notification.events",
                       "mutualaid.deadletter"}));
}

TEST_F(BrokerTest, AutoCreationIsOffSoATypoFails) {
  auto producer = Producer::Create({.client = client_, .delivery_timeout = absl::Seconds(3)});
  MA_ASSERT_OK(producer.status());
  auto at = (*producer)->Append(UniqueName("typo"), "k", "v");
  ASSERT_FALSE(at.ok());
  EXPECT_TRUE(at.status().code() == absl::StatusCode::kNotFound ||
              at.status().code() == absl::StatusCode::kDeadlineExceeded)
      << at.status();
}

// --- producing -----------------------------------------------------------------

class CompressionTest : public BrokerTest,
                        public ::testing::WithParamInterface<const char*> {};

TEST_P(CompressionTest, RecordsRoundTrip) {
  const std::string codec = GetParam();
  // The Debian build must have the codec built in.
  char features[512];
  size_t size = sizeof(features);
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  ASSERT_EQ(rd_kafka_conf_get(conf, "builtin.features", features, &size), RD_KAFKA_CONF_OK);
  rd_kafka_conf_destroy(conf);
  if (codec != "gzip") {  // gzip is reported as "gzip" too; all four are listed
    EXPECT_TRUE(absl::StrContains(features, codec)) << features;
  }

  std::string topic = Topic(1);
  auto producer = Producer::Create({.client = client_, .compression = codec});
  MA_ASSERT_OK(producer.status());
  std::vector<Record> records;
  for (int i = 0; i < 300; ++i) {
    // Compressible, like real envelopes: repeated field names.
    std::string value;
    for (int j = 0; j < 20; ++j) absl::StrAppend(&value, "{\"worker\":", i, ",\"n\":", j, "}");
    records.push_back({topic, absl::StrCat("worker-", i % 7), value, {{"codec", codec}}});
  }
  auto results = (*producer)->AppendBatch(records);
  for (const auto& r : results) MA_ASSERT_OK(r.status());

  auto read = ReadPartition(topic, 0);
  ASSERT_EQ(read.size(), records.size());
  for (size_t i = 0; i < read.size(); ++i) {
    EXPECT_EQ(read[i].value, records[i].value);
    EXPECT_EQ(read[i].key, records[i].key);
    EXPECT_EQ(read[i].headers, records[i].headers);
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, CompressionTest,
                         ::testing::Values("gzip", "snappy", "lz4", "zstd"));

TEST_F(BrokerTest, IdempotentProducerAppendsInOrderAndReportsOffsets) {
  std::string topic = Topic(3);
  auto producer = Producer::Create({.client = client_});
  MA_ASSERT_OK(producer.status());

  // Synchronous appends: each answer is the record's place in the log.
  std::map<int32_t, int64_t> next;
  for (int i = 0; i < 20; ++i) {
    auto at = (*producer)->Append(topic, absl::StrCat("worker-", i % 4), absl::StrCat("s", i));
    MA_ASSERT_OK(at.status());
    EXPECT_EQ(at->offset, next[at->partition]++);
  }

  std::vector<Record> records;
  for (int i = 0; i < 600; ++i) {
    records.push_back({topic, absl::StrCat("worker-", i % 10), absl::StrCat("b", i), {}});
  }
  auto results = (*producer)->AppendBatch(records);
  std::map<int32_t, std::vector<std::string>> expected;
  for (size_t i = 0; i < results.size(); ++i) {
    MA_ASSERT_OK(results[i].status());
    EXPECT_EQ(results[i]->offset, next[results[i]->partition]++);
    expected[results[i]->partition].push_back(records[i].value);
  }

  int64_t total = 0;
  for (int32_t p = 0; p < 3; ++p) {
    auto w = admin_->QueryWatermarks(topic, p);
    MA_ASSERT_OK(w.status());
    EXPECT_EQ(w->low, 0);
    EXPECT_EQ(w->high, next[p]);
    total += w->high;
    // Batch records of each partition are in the log in the order given.
    std::vector<std::string> got;
    for (const auto& m : ReadPartition(topic, p)) {
      if (absl::StartsWith(m.value, "b")) got.push_back(m.value);
    }
    EXPECT_EQ(got, expected[p]);
  }
  EXPECT_EQ(total, 620);
  MA_EXPECT_OK((*producer)->FatalError());
}

// --- transactions --------------------------------------------------------------

std::unique_ptr<TransactionalProducer> NewTxnProducer(const ClientConfig& client,
                                                      const std::string& id) {
  auto p = TransactionalProducer::Create({.client = client, .transactional_id = id});
  EXPECT_TRUE(p.ok()) << p.status();
  if (!p.ok()) return nullptr;
  absl::Status s = (*p)->InitTransactions(absl::Seconds(30));
  EXPECT_TRUE(s.ok()) << s;
  return s.ok() ? std::move(*p) : nullptr;
}

TEST_F(BrokerTest, CommittedTransactionIsVisibleAbortedOneIsNot) {
  std::string topic = Topic(1);
  auto p = NewTxnProducer(client_, UniqueName("txn"));
  ASSERT_NE(p, nullptr);

  MA_ASSERT_OK(p->BeginTransaction());
  MA_ASSERT_OK(p->Send({topic, "k", "a", {}}));
  MA_ASSERT_OK(p->Send({topic, "k", "b", {}}));
  MA_ASSERT_OK(p->CommitTransaction(absl::Seconds(30)));

  ClientConfig uncommitted = client_;
  uncommitted.properties = {{"isolation.level", "read_uncommitted"}};

  MA_ASSERT_OK(p->BeginTransaction());
  MA_ASSERT_OK(p->Send({topic, "k", "x", {}}));
  MA_ASSERT_OK(p->Send({topic, "k", "y", {}}));
  // Abort only once x and y are in the log, so the abort is a marker the
  // readers must honour, not a purge of records never sent.
  ASSERT_TRUE(WaitFor([&] { return ReadPartition(topic, 0, 0, uncommitted).size() == 4; },
                      absl::Seconds(30)));
  MA_ASSERT_OK(p->AbortTransaction(absl::Seconds(30)));

  MA_ASSERT_OK(p->BeginTransaction());
  MA_ASSERT_OK(p->Send({topic, "k", "c", {}}));
  MA_ASSERT_OK(p->CommitTransaction(absl::Seconds(30)));

  EXPECT_EQ(Values(ReadPartition(topic, 0)), (std::vector<std::string>{"a", "b", "c"}));

  // The aborted records are in the log: a read_uncommitted reader sees them.
  EXPECT_EQ(Values(ReadPartition(topic, 0, 0, uncommitted)),
            (std::vector<std::string>{"a", "b", "x", "y", "c"}));

  // a b COMMIT x y ABORT c COMMIT
  auto w = admin_->QueryWatermarks(topic, 0);
  MA_ASSERT_OK(w.status());
  EXPECT_EQ(w->high, 8);
  EXPECT_EQ(p->failed_deliveries(), 0);
}

TEST_F(BrokerTest, OpenTransactionHoldsBackTheEndOfAReplay) {
  std::string topic = Topic(1);
  auto producer = Producer::Create({.client = client_});
  MA_ASSERT_OK(producer.status());
  MA_ASSERT_OK((*producer)->Append(topic, "k", "before").status());

  auto p = NewTxnProducer(client_, UniqueName("txn"));
  ASSERT_NE(p, nullptr);
  MA_ASSERT_OK(p->BeginTransaction());
  MA_ASSERT_OK(p->Send({topic, "k", "pending", {}}));
  // The pending record reaches the log (a read_uncommitted reader sees it)...
  ClientConfig uncommitted = client_;
  uncommitted.properties = {{"isolation.level", "read_uncommitted"}};
  ASSERT_TRUE(WaitFor([&] { return ReadPartition(topic, 0, 0, uncommitted).size() == 2; },
                      absl::Seconds(30)));
  // ...but a replay ends before it, without waiting for the transaction.
  EXPECT_EQ(Values(ReadPartition(topic, 0)), (std::vector<std::string>{"before"}));
  auto w = admin_->QueryWatermarks(topic, 0);
  MA_ASSERT_OK(w.status());
  EXPECT_EQ(w->high, 1);  // the last stable offset
  MA_ASSERT_OK(p->CommitTransaction(absl::Seconds(30)));
  EXPECT_EQ(Values(ReadPartition(topic, 0)), (std::vector<std::string>{"before", "pending"}));
}

TEST_F(BrokerTest, NewerInstanceFencesTheOldOne) {
  std::string topic = Topic(1);
  std::string id = UniqueName("txn");
  auto old_instance = NewTxnProducer(client_, id);
  ASSERT_NE(old_instance, nullptr);
  MA_ASSERT_OK(old_instance->BeginTransaction());
  MA_ASSERT_OK(old_instance->Send({topic, "k", "zombie", {}}));

  // The restarted instance takes over the id: the old one's open transaction
  // is aborted and it is fenced.
  auto new_instance = NewTxnProducer(client_, id);
  ASSERT_NE(new_instance, nullptr);
  absl::Status s = old_instance->CommitTransaction(absl::Seconds(30));
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(IsFenced(s)) << s;
  EXPECT_TRUE(IsFatal(s)) << s;
  EXPECT_FALSE(IsRetriable(s)) << s;

  MA_ASSERT_OK(new_instance->BeginTransaction());
  MA_ASSERT_OK(new_instance->Send({topic, "k", "fresh", {}}));
  MA_ASSERT_OK(new_instance->CommitTransaction(absl::Seconds(30)));
  EXPECT_EQ(Values(ReadPartition(topic, 0)), (std::vector<std::string>{"fresh"}));
}

// consume -> produce -> send offsets -> commit; then abort, rewind, redo.
TEST_F(BrokerTest, ConsumeTransformProduceCommitsOffsetsWithOutput) {
  std::string in = Topic(2);
  std::string out = Topic(2);
  std::string group = UniqueName("group");

  auto producer = Producer::Create({.client = client_});
  MA_ASSERT_OK(producer.status());
  auto append_inputs = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      auto at = (*producer)->Append(in, absl::StrCat("worker-", i % 3), absl::StrCat("req", i));
      ASSERT_TRUE(at.ok()) << at.status();
    }
  };
  append_inputs(0, 10);

  auto consumer = Consumer::Create({.client = client_, .group_id = group});
  MA_ASSERT_OK(consumer.status());
  MA_ASSERT_OK((*consumer)->Subscribe({in}));
  auto txn = NewTxnProducer(client_, UniqueName("txn"));
  ASSERT_NE(txn, nullptr);

  // Polls until `n` records arrived, then runs them through one transaction.
  auto process = [&](size_t n, bool commit) -> std::vector<Message> {
    std::vector<Message> got;
    EXPECT_TRUE(WaitFor(
        [&] {
          auto batch = (*consumer)->PollBatch(n - got.size(), absl::Milliseconds(200));
          EXPECT_TRUE(batch.ok()) << batch.status();
          if (batch.ok()) got.insert(got.end(), batch->begin(), batch->end());
          return got.size() >= n;
        },
        absl::Seconds(60)));
    EXPECT_TRUE(txn->BeginTransaction().ok());
    std::map<std::pair<std::string, int32_t>, int64_t> next;
    for (const auto& m : got) {
      EXPECT_TRUE(txn->Send({out, m.key, absl::StrCat("decided:", m.value), {}}).ok());
      next[{m.topic, m.partition}] = std::max(next[{m.topic, m.partition}], m.offset + 1);
    }
    std::vector<TopicPartitionOffset> offsets;
    for (const auto& [tp, o] : next) offsets.push_back({tp.first, tp.second, o});
    absl::Status s = txn->SendOffsetsToTransaction(**consumer, offsets, absl::Seconds(30));
    EXPECT_TRUE(s.ok()) << s;
    s = commit ? txn->CommitTransaction(absl::Seconds(30))
               : txn->AbortTransaction(absl::Seconds(30));
    EXPECT_TRUE(s.ok()) << s;
    return got;
  };
  auto committed_total = [&]() -> int64_t {
    auto c = (*consumer)->Committed({{in, 0}, {in, 1}}, absl::Seconds(10));
    EXPECT_TRUE(c.ok()) << c.status();
    int64_t sum = 0;
    if (c.ok()) {
      for (const auto& o : *c) sum += std::max<int64_t>(o.offset, 0);
    }
    return sum;
  };
  auto visible_outputs = [&]() {
    std::multiset<std::string> v;
    for (int32_t p = 0; p < 2; ++p) {
      for (const auto& m : ReadPartition(out, p)) v.insert(m.value);
    }
    return v;
  };

  process(10, /*commit=*/true);
  EXPECT_EQ(committed_total(), 10);
  EXPECT_EQ(visible_outputs().size(), 10u);

  // A failed round: outputs invisible, offsets not moved.
  append_inputs(10, 15);
  auto aborted = process(5, /*commit=*/false);
  EXPECT_EQ(committed_total(), 10);
  EXPECT_EQ(visible_outputs().size(), 10u);

  // Rewind to the committed offsets and redo the same five requests.
  MA_ASSERT_OK((*consumer)->RewindToCommitted(absl::Seconds(30)));
  auto redone = process(5, /*commit=*/true);
  std::multiset<std::string> a, b;
  for (const auto& m : aborted) a.insert(m.value);
  for (const auto& m : redone) b.insert(m.value);
  EXPECT_EQ(a, b);
  EXPECT_EQ(committed_total(), 15);

  std::multiset<std::string> want;
  for (int i = 0; i < 15; ++i) want.insert(absl::StrCat("decided:req", i));
  EXPECT_EQ(visible_outputs(), want);  // each request decided exactly once
  MA_EXPECT_OK((*consumer)->Close());
}

// --- consumer groups ---------------------------------------------------------------

class RecordingHandler : public RebalanceHandler {
 public:
  absl::Status OnAssigned(std::vector<PartitionStart>& partitions) override {
    assign_calls.push_back(partitions.size());
    for (const auto& p : partitions) owned.insert({p.topic, p.partition});
    return absl::OkStatus();
  }
  void OnRevoked(const std::vector<TopicPartition>& partitions, bool lost) override {
    revoke_calls.push_back(partitions.size());
    any_lost |= lost;
    for (const auto& p : partitions) owned.erase(p);
  }
  std::set<TopicPartition> owned;
  std::vector<size_t> assign_calls;
  std::vector<size_t> revoke_calls;
  bool any_lost = false;
};

TEST_F(BrokerTest, CooperativeRebalanceMovesOnlyThePartitionsThatChangeOwner) {
  std::string topic = Topic(6);
  std::string group = UniqueName("group");
  RecordingHandler ha, hb;
  auto a = Consumer::Create({.client = client_, .group_id = group, .rebalance_handler = &ha});
  auto b = Consumer::Create({.client = client_, .group_id = group, .rebalance_handler = &hb});
  MA_ASSERT_OK(a.status());
  MA_ASSERT_OK(b.status());
  std::map<std::string, std::set<int32_t>> seen_by;  // consumer -> partitions it read
  auto poll = [&](Consumer& c, const std::string& name) {
    auto m = c.Poll(absl::Milliseconds(50));
    EXPECT_TRUE(m.ok()) << m.status();
    if (m.ok() && m->has_value()) seen_by[name].insert((*m)->partition);
  };

  MA_ASSERT_OK((*a)->Subscribe({topic}));
  ASSERT_TRUE(WaitFor([&] { poll(**a, "a"); return ha.owned.size() == 6; }, absl::Seconds(60)));
  EXPECT_EQ(ha.assign_calls, (std::vector<size_t>{6}));

  MA_ASSERT_OK((*b)->Subscribe({topic}));
  ASSERT_TRUE(WaitFor(
      [&] {
        poll(**a, "a");
        poll(**b, "b");
        return ha.owned.size() == 3 && hb.owned.size() == 3;
      },
      absl::Seconds(90)))
      << "a owns " << ha.owned.size() << ", b owns " << hb.owned.size();
  // Cooperative: a gave up exactly the three partitions b took, kept the
  // other three throughout, and was never handed its own partitions back.
  EXPECT_EQ(ha.revoke_calls, (std::vector<size_t>{3}));
  EXPECT_EQ(ha.assign_calls, (std::vector<size_t>{6}));
  EXPECT_EQ(hb.assign_calls, (std::vector<size_t>{3}));
  EXPECT_FALSE(ha.any_lost);
  for (const auto& tp : hb.owned) EXPECT_EQ(ha.owned.count(tp), 0u);
  auto assignment = (*a)->Assignment();
  MA_ASSERT_OK(assignment.status());
  EXPECT_EQ(assignment->size(), 3u);

  // Each member reads only what it owns.
  auto producer = Producer::Create({.client = client_});
  MA_ASSERT_OK(producer.status());
  for (int32_t p = 0; p < 6; ++p) {
    MA_ASSERT_OK((*producer)->Append({topic, "k", absl::StrCat("p", p), {}, p}).status());
  }
  seen_by.clear();
  ASSERT_TRUE(WaitFor(
      [&] {
        poll(**a, "a");
        poll(**b, "b");
        return seen_by["a"].size() + seen_by["b"].size() == 6;
      },
      absl::Seconds(60)));
  for (int32_t p : seen_by["a"]) EXPECT_EQ(ha.owned.count({topic, p}), 1u);
  for (int32_t p : seen_by["b"]) EXPECT_EQ(hb.owned.count({topic, p}), 1u);

  // b leaves cleanly: a gets b's three partitions added, nothing revoked.
  MA_ASSERT_OK((*b)->Close());
  EXPECT_EQ(hb.owned.size(), 0u);
  ASSERT_TRUE(WaitFor([&] { poll(**a, "a"); return ha.owned.size() == 6; }, absl::Seconds(60)));
  EXPECT_EQ(ha.assign_calls, (std::vector<size_t>{6, 3}));
  EXPECT_EQ(ha.revoke_calls, (std::vector<size_t>{3}));
  MA_EXPECT_OK((*a)->Close());
}

class StartAtOffset : public RebalanceHandler {
 public:
  explicit StartAtOffset(int64_t offset) : offset_(offset) {}
  absl::Status OnAssigned(std::vector<PartitionStart>& partitions) override {
    for (auto& p : partitions) p.offset = offset_;
    return absl::OkStatus();
  }
  void OnRevoked(const std::vector<TopicPartition>&, bool) override {}

 private:
  int64_t offset_;
};

TEST_F(BrokerTest, OwnerChoosesWhereAnAssignedPartitionStarts) {
  std::string topic = Topic(1);
  auto producer = Producer::Create({.client = client_});
  MA_ASSERT_OK(producer.status());
  for (int i = 0; i < 10; ++i) MA_ASSERT_OK((*producer)->Append(topic, "k", absl::StrCat(i)).status());

  // E.g. the processor's store says offsets up to 6 are applied.
  StartAtOffset handler(7);
  auto c = Consumer::Create(
      {.client = client_, .group_id = UniqueName("group"), .rebalance_handler = &handler});
  MA_ASSERT_OK(c.status());
  MA_ASSERT_OK((*c)->Subscribe({topic}));
  std::vector<Message> got;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto batch = (*c)->PollBatch(10, absl::Milliseconds(200));
        EXPECT_TRUE(batch.ok()) << batch.status();
        if (batch.ok()) got.insert(got.end(), batch->begin(), batch->end());
        return got.size() >= 3;
      },
      absl::Seconds(60)));
  EXPECT_EQ(Values(got), (std::vector<std::string>{"7", "8", "9"}));
  EXPECT_EQ(got.front().offset, 7);
  MA_EXPECT_OK((*c)->Close());
}

// --- replay ----------------------------------------------------------------------

TEST_F(BrokerTest, ReplayReadsAPartitionFromAnOffsetToItsEnd) {
  std::string topic = Topic(2);
  auto producer = Producer::Create({.client = client_});
  MA_ASSERT_OK(producer.status());
  for (int i = 0; i < 25; ++i) {
    MA_ASSERT_OK((*producer)->Append({topic, "k", absl::StrCat(i), {}, 0}).status());
  }
  auto all = ReadPartition(topic, 0);
  ASSERT_EQ(all.size(), 25u);
  for (int i = 0; i < 25; ++i) {
    EXPECT_EQ(all[i].offset, i);
    EXPECT_EQ(all[i].value, absl::StrCat(i));
    EXPECT_EQ(all[i].topic, topic);
    EXPECT_GT(all[i].timestamp, absl::UnixEpoch());
  }
  auto tail = ReadPartition(topic, 0, 20);
  ASSERT_EQ(tail.size(), 5u);
  EXPECT_EQ(tail.front().offset, 20);

  // An empty partition ends at once; the reader stays at the end.
  auto reader = PartitionReader::Open(client_, topic, 1, 0);
  MA_ASSERT_OK(reader.status());
  auto m = (*reader)->Next(absl::Seconds(30));
  MA_ASSERT_OK(m.status());
  EXPECT_FALSE(m->has_value());
  EXPECT_TRUE((*reader)->at_end());

  EXPECT_EQ(PartitionReader::Open(client_, UniqueName("missing"), 0, 0).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace mutualaid::kafka
