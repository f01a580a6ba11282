// The processor keeps going when the broker restarts under it, without anyone
// touching it: no request lost, none decided twice. Restarts the broker that
// tools/test.sh started (deploy/local/kafka with the same KAFKA_PORT and
// KAFKA_DATA), so it runs alone (RUN_SERIAL).
#include <cstdlib>
#include <filesystem>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "counter_logic.h"
#include "mutualaid/processor/chain.h"
#include "kafka_test_util.h"
#include "mutualaid/kafka/admin.h"
#include "mutualaid/kafka/partition_reader.h"
#include "mutualaid/kafka/producer.h"

namespace mutualaid::processor {
namespace {

using kafka::testing::UniqueName;
using kafka::testing::WaitFor;

int Broker(const std::string& command) {
  std::string cmd = std::string(KAFKA_SCRIPT) + " " + command + " >/dev/null";
  return std::system(cmd.c_str());
}

TEST(BrokerRestartTest, ProcessingResumesAfterTheBrokerRestarts) {
  auto client = kafka::ClientConfigFromEnv("broker-restart-test");
  ASSERT_TRUE(client.ok()) << client.status();
  std::string base = UniqueName("restart");
  std::string requests = base + ".requests", events = base + ".events", dead = base + ".dead";
  {
    auto admin = kafka::Admin::Create(*client);
    ASSERT_TRUE(admin.ok());
    ASSERT_TRUE((*admin)
                    ->EnsureTopics({kafka::TopicSpec::EventLog(requests, 3),
                                    kafka::TopicSpec::EventLog(events, 3),
                                    kafka::TopicSpec::EventLog(dead, 1)})
                    .ok());
  }
  std::filesystem::path dir = std::filesystem::temp_directory_path() / base;
  testing::CounterLogic logic;
  store::StateStore::Options so;
  so.column_families = ColumnFamiliesFor(logic);
  auto store = store::StateStore::Open((dir / "live").string(), so);
  ASSERT_TRUE(store.ok()) << store.status();
  ProcessorOptions po;
  po.client = *client;
  po.name = "restart";
  po.group_id = base + ".group";
  po.transactional_id = base + "-0";
  po.requests_topic = requests;
  po.events_topic = events;
  po.dead_letter_topic = dead;
  po.max_batch = 50;
  auto proc = Processor::Create(po, &logic, store->get());
  ASSERT_TRUE(proc.ok()) << proc.status();
  std::atomic<bool> stop{false};
  absl::Status run_status;
  std::thread runner([&] { run_status = (*proc)->Run(stop); });

  auto produce = [&](int from, int to) {
    auto producer = kafka::Producer::Create({.client = *client});
    ASSERT_TRUE(producer.ok()) << producer.status();
    std::vector<kafka::Record> records;
    for (int i = from; i < to; ++i) {
      records.push_back({requests, absl::StrCat("w", i % 11), absl::StrCat("req:", i), {}});
    }
    for (const auto& r : (*producer)->AppendBatch(records)) ASSERT_TRUE(r.ok()) << r.status();
  };

  produce(0, 500);
  ASSERT_TRUE(WaitFor([&] { return (*proc)->stats().requests >= 500; }, absl::Seconds(60)));
  ASSERT_EQ(Broker("stop"), 0);
  ASSERT_EQ(Broker("start"), 0);
  produce(500, 1000);
  EXPECT_TRUE(WaitFor([&] { return (*proc)->stats().requests >= 1000; }, absl::Seconds(180)))
      << "decided " << (*proc)->stats().requests << " of 1000 after the restart";
  stop.store(true);
  runner.join();
  EXPECT_TRUE(run_status.ok()) << run_status;

  std::map<std::string, int> per_id;
  for (int p = 0; p < 3; ++p) {
    auto reader = kafka::PartitionReader::Open(*client, events, p, 0);
    ASSERT_TRUE(reader.ok()) << reader.status();
    while (true) {
      auto m = (*reader)->Next();
      ASSERT_TRUE(m.ok()) << m.status();
      if (!m->has_value()) break;
      std::vector<std::string> parts = absl::StrSplit((*m)->value, ':');
      ++per_id[parts.at(1)];
    }
  }
  EXPECT_EQ(per_id.size(), 1000u);
  for (const auto& [id, n] : per_id) EXPECT_EQ(n, 1) << "request " << id;
  store->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mutualaid::processor
