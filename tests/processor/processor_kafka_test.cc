// The processor against the real broker: exactly once under SIGKILL at random
// instants, a poison request, a rebalance when one of two instances dies, and
// replay. Needs MUTUALAID_KAFKA_BOOTSTRAP (tools/test.sh starts the broker).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "counter_logic.h"
#include "mutualaid/processor/chain.h"
#include "kafka_test_util.h"
#include "mutualaid/kafka/admin.h"
#include "mutualaid/kafka/consumer.h"
#include "mutualaid/kafka/partition_reader.h"
#include "mutualaid/kafka/producer.h"
#include "mutualaid/core/clock.h"
#include "mutualaid/processor/replay.h"

namespace mutualaid::processor {
namespace {

using kafka::testing::UniqueName;
using kafka::testing::WaitFor;

constexpr int kPartitions = 3;

uint64_t Seed() {
  if (const char* s = std::getenv("MUTUALAID_TEST_SEED"); s != nullptr) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

class ProcessorKafkaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto client = kafka::ClientConfigFromEnv("processor-test");
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *client;
    std::string base = UniqueName("proc");
    requests_ = base + ".requests";
    events_ = base + ".events";
    dead_ = base + ".dead";
    group_ = base + ".group";
    auto admin = kafka::Admin::Create(client_);
    ASSERT_TRUE(admin.ok()) << admin.status();
    admin_ = std::move(*admin);
    ASSERT_TRUE(admin_
                    ->EnsureTopics({kafka::TopicSpec::EventLog(requests_, kPartitions),
                                    kafka::TopicSpec::EventLog(events_, kPartitions),
                                    kafka::TopicSpec::EventLog(dead_, 1)})
                    .ok());
    dir_ = std::filesystem::temp_directory_path() / base;
    std::filesystem::create_directories(dir_);
    auto producer = kafka::Producer::Create({.client = client_});
    ASSERT_TRUE(producer.ok()) << producer.status();
    producer_ = std::move(*producer);
  }

  void TearDown() override {
    for (pid_t pid : children_) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    if (admin_) (void)admin_->DeleteTopics({requests_, events_, dead_});
    std::filesystem::remove_all(dir_);
  }

  void ProduceRequests(int from, int to) {
    std::vector<kafka::Record> records;
    for (int i = from; i < to; ++i) {
      records.push_back({requests_, absl::StrCat("w", i % 37), absl::StrCat("req:", i), {}});
    }
    for (const auto& r : producer_->AppendBatch(records)) ASSERT_TRUE(r.ok()) << r.status();
  }

  pid_t Spawn(const std::string& txid, const std::string& store, int max_batch) {
    pid_t pid = fork();
    if (pid == 0) {
      std::string batch = std::to_string(max_batch);
      execl(COUNTER_PROCESSOR_PATH, "counter_processor", client_.bootstrap.c_str(),
            requests_.c_str(), events_.c_str(), dead_.c_str(), group_.c_str(), txid.c_str(),
            store.c_str(), batch.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    children_.insert(pid);
    return pid;
  }

  // Waits up to `d` for the child to exit by itself; true if it did.
  bool WaitExit(pid_t pid, absl::Duration d, int* status) {
    bool exited = WaitFor([&] { return waitpid(pid, status, WNOHANG) == pid; }, d,
                          absl::Milliseconds(10));
    if (exited) children_.erase(pid);
    return exited;
  }

  void Kill(pid_t pid) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    children_.erase(pid);
  }

  int Stop(pid_t pid) {
    kill(pid, SIGTERM);
    int status = 0;
    if (!WaitExit(pid, absl::Seconds(60), &status)) {
      Kill(pid);
      return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // The sum of the group's committed request offsets (-1 if unknown).
  int64_t CommittedTotal() {
    kafka::ConsumerOptions co{.client = client_, .group_id = group_};
    auto consumer = kafka::Consumer::Create(co);
    if (!consumer.ok()) return -1;
    std::vector<kafka::TopicPartition> parts;
    for (int p = 0; p < kPartitions; ++p) parts.push_back({requests_, p});
    auto committed = (*consumer)->Committed(parts, absl::Seconds(10));
    if (!committed.ok()) return -1;
    int64_t total = 0;
    for (const auto& c : *committed) total += std::max<int64_t>(0, c.offset);
    return total;
  }

  // The group's committed request offsets have reached the end of every
  // request partition: every request is decided and committed.
  bool AllDecided() {
    kafka::ConsumerOptions co{.client = client_, .group_id = group_};
    auto consumer = kafka::Consumer::Create(co);
    if (!consumer.ok()) return false;
    std::vector<kafka::TopicPartition> parts;
    for (int p = 0; p < kPartitions; ++p) parts.push_back({requests_, p});
    auto committed = (*consumer)->Committed(parts, absl::Seconds(10));
    if (!committed.ok()) return false;
    for (const auto& c : *committed) {
      auto wm = admin_->QueryWatermarks(requests_, c.partition);
      // A partition that never had a request has no committed offset.
      int64_t committed_offset = c.offset < 0 ? 0 : c.offset;
      if (!wm.ok() || committed_offset != wm->high) return false;
    }
    return true;
  }

  // Every committed event of a topic, read_committed.
  std::vector<kafka::Message> ReadAll(const std::string& topic, int partitions) {
    std::vector<kafka::Message> out;
    for (int p = 0; p < partitions; ++p) {
      auto reader = kafka::PartitionReader::Open(client_, topic, p, 0);
      EXPECT_TRUE(reader.ok()) << reader.status();
      if (!reader.ok()) continue;
      while (true) {
        auto m = (*reader)->Next();
        EXPECT_TRUE(m.ok()) << m.status();
        if (!m.ok() || !m->has_value()) break;
        out.push_back(**m);
      }
    }
    return out;
  }

  // Every partition of the events topic is one unbroken audit chain.
  void ExpectUnbrokenChain() {
    for (int p = 0; p < kPartitions; ++p) {
      auto reader = kafka::PartitionReader::Open(client_, events_, p, 0);
      ASSERT_TRUE(reader.ok()) << reader.status();
      ChainVerifier verifier;
      while (true) {
        auto m = (*reader)->Next();
        ASSERT_TRUE(m.ok()) << m.status();
        if (!m->has_value()) break;
        EXPECT_EQ(verifier.Check(**m), "") << "partition " << p << " offset " << (*m)->offset;
      }
    }
  }

  // Exactly one decision per request id in [0, n), numbered 1.. per worker.
  void ExpectExactlyOnce(int n) {
    ExpectUnbrokenChain();
    std::map<std::string, int> per_id;
    std::map<std::string, std::set<int>> numbers;
    for (const auto& m : ReadAll(events_, kPartitions)) {
      std::vector<std::string> parts = absl::StrSplit(m.value, ':');
      ASSERT_EQ(parts.size(), 3u) << m.value;
      ++per_id[parts[1]];
      numbers[m.key].insert(std::stoi(parts[2]));
    }
    EXPECT_EQ(per_id.size(), static_cast<size_t>(n)) << "requests without a decision";
    for (const auto& [id, count] : per_id) EXPECT_EQ(count, 1) << "request " << id;
    for (const auto& [key, ns] : numbers) {
      EXPECT_EQ(static_cast<int>(ns.size()), *ns.rbegin()) << "worker " << key << " numbering gap";
    }
  }

  std::string ReplayDigest() {
    CounterLogicHolder holder;
    store::StateStore::Options so;
    so.column_families = ColumnFamiliesFor(holder.logic);
    auto fresh = store::StateStore::Open((dir_ / "replay").string(), so);
    EXPECT_TRUE(fresh.ok()) << fresh.status();
    if (!fresh.ok()) return "";
    ReplayOptions ro;
    ro.client = client_;
    ro.topics = {events_};
    auto result = Replay(ro, holder.logic, **fresh);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->digest : "";
  }

  std::string StoreDigest(const std::string& path) {
    CounterLogicHolder holder;
    store::StateStore::Options so;
    so.column_families = ColumnFamiliesFor(holder.logic);
    auto s = store::StateStore::Open(path, so);
    EXPECT_TRUE(s.ok()) << s.status();
    if (!s.ok()) return "";
    auto d = (*s)->Digest();
    return d.ok() ? *d : "";
  }

  struct CounterLogicHolder {
    testing::CounterLogic logic;
  };

  kafka::ClientConfig client_;
  std::unique_ptr<kafka::Admin> admin_;
  std::unique_ptr<kafka::Producer> producer_;
  std::string requests_, events_, dead_, group_;
  std::filesystem::path dir_;
  std::set<pid_t> children_;
};

TEST_F(ProcessorKafkaTest, ExactlyOnceUnderRandomKills) {
  const uint64_t seed = Seed();
  std::printf("seed=%llu (MUTUALAID_TEST_SEED to repeat)\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  const int kRequests = 3000;
  const int kKills = 20;
  ProduceRequests(0, kRequests / 2);
  std::string store = (dir_ / "live").string();
  for (int kill_no = 0; kill_no < kKills; ++kill_no) {
    if (kill_no == kKills / 2) ProduceRequests(kRequests / 2, kRequests);
    pid_t pid = Spawn("counter-0", store, 1 + static_cast<int>(rng() % 60));
    int status = 0;
    absl::Duration live = absl::Milliseconds(300 + rng() % 2500);
    ASSERT_FALSE(WaitExit(pid, live, &status)) << "processor exited early, status " << status;
    Kill(pid);
  }
  pid_t pid = Spawn("counter-0", store, 100);
  ASSERT_TRUE(WaitFor([&] { return AllDecided(); }, absl::Seconds(120), absl::Milliseconds(250)))
      << "requests left undecided after the last restart";
  ASSERT_EQ(Stop(pid), 0);
  ExpectExactlyOnce(kRequests);
  EXPECT_EQ(StoreDigest(store), ReplayDigest());
}

TEST_F(ProcessorKafkaTest, PoisonRequestGoesToDeadLetterAndPartitionFlows) {
  std::vector<kafka::Record> records = {
      {requests_, "w1", "req:a", {}, 0},
      {requests_, "w1", "garbage", {}, 0},
      {requests_, "w1", "req:b", {}, 0},
  };
  for (const auto& r : producer_->AppendBatch(records)) ASSERT_TRUE(r.ok()) << r.status();
  pid_t pid = Spawn("counter-poison", (dir_ / "live").string(), 10);
  ASSERT_TRUE(WaitFor([&] { return AllDecided(); }, absl::Seconds(60), absl::Milliseconds(100)));
  ASSERT_EQ(Stop(pid), 0);
  std::vector<kafka::Message> events = ReadAll(events_, kPartitions);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].value, "dec:a:1");
  EXPECT_EQ(events[1].value, "dec:b:2");
  std::vector<kafka::Message> dead = ReadAll(dead_, 1);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].value, "garbage");
  std::map<std::string, std::string> headers;
  for (const auto& h : dead[0].headers) headers[h.key] = h.value;
  EXPECT_NE(headers[kDeadLetterReasonHeader].find("not a request"), std::string::npos);
  EXPECT_EQ(headers[kDeadLetterSourceHeader], absl::StrCat(requests_, "/0/1"));
}

TEST_F(ProcessorKafkaTest, SurvivorTakesOverPartitionsWithTheirState) {
  ProduceRequests(0, 600);
  std::string store_a = (dir_ / "a").string();
  std::string store_b = (dir_ / "b").string();
  pid_t a = Spawn("counter-a", store_a, 20);
  pid_t b = Spawn("counter-b", store_b, 20);
  ASSERT_TRUE(WaitFor([&] { return AllDecided(); }, absl::Seconds(90), absl::Milliseconds(200)));
  Kill(a);
  ProduceRequests(600, 1200);
  ASSERT_TRUE(WaitFor([&] { return AllDecided(); }, absl::Seconds(120), absl::Milliseconds(200)))
      << "the survivor did not take over";
  ASSERT_EQ(Stop(b), 0);
  ExpectExactlyOnce(1200);
  // The survivor holds every partition's state now, the same as a replay.
  EXPECT_EQ(StoreDigest(store_b), ReplayDigest());
}

TEST(ChainTest, VerifierNamesChangedMissingAndMovedEvents) {
  std::vector<kafka::Message> log;
  std::string prev;
  for (int i = 0; i < 5; ++i) {
    kafka::Message m{"t", 0, i, "k", absl::StrCat("v", i), {}, {}};
    std::string h = ChainHash(prev, m.key, m.value);
    m.headers = {{kChainPrevHeader, prev}, {kChainHeader, h}};
    prev = h;
    log.push_back(m);
  }
  auto problems = [](const std::vector<kafka::Message>& events) {
    ChainVerifier v;
    std::vector<int64_t> bad;
    for (const auto& m : events) {
      if (!v.Check(m).empty()) bad.push_back(m.offset);
    }
    return bad;
  };
  EXPECT_TRUE(problems(log).empty());
  auto changed = log;
  changed[2].value = "tampered";
  EXPECT_EQ(problems(changed), std::vector<int64_t>({2}));
  auto missing = log;
  missing.erase(missing.begin() + 1);
  EXPECT_EQ(problems(missing), std::vector<int64_t>({2}));
  auto moved = log;
  std::swap(moved[1], moved[3]);
  EXPECT_FALSE(problems(moved).empty());
}

TEST_F(ProcessorKafkaTest, PartitionOfIsWhereTheProducerPutsAKey) {
  for (int i = 0; i < 50; ++i) {
    std::string key = absl::StrCat("worker-key-", i * 7919);
    auto landed = producer_->Append(requests_, key, "req:x");
    ASSERT_TRUE(landed.ok()) << landed.status();
    EXPECT_EQ(landed->partition, kafka::PartitionOf(key, kPartitions)) << key;
  }
}

// Decides requests from two co-partitioned topics, and on Tick emits one
// "tick:<partition>" event per partition that had a request.
// State of all partitions shares one store, so what a tick acts on is keyed
// by partition.
class TickingLogic : public testing::CounterLogic {
 public:
  absl::Status Apply(State& state, const kafka::Message& event) override {
    if (event.value.rfind("dec:tick", 0) == 0) {  // "dec:tick<p>:0": marks the tick done
      state.Put(kSeen, absl::StrCat("tick", event.partition), "1");
      return absl::OkStatus();
    }
    if (absl::Status s = CounterLogic::Apply(state, event); !s.ok()) return s;
    state.Put(kSeen, absl::StrCat("active", event.partition), "1");
    return absl::OkStatus();
  }
  absl::Status Tick(const State& state, int32_t partition, absl::Time,
                    std::vector<kafka::Record>* events) override {
    auto done = state.Get(kSeen, absl::StrCat("tick", partition));
    if (!done.ok()) return done.status();
    auto any = state.Get(kSeen, absl::StrCat("active", partition));
    if (!any.ok()) return any.status();
    if (done->has_value() || !any->has_value()) return absl::OkStatus();
    kafka::Record r;
    r.key = "w-tick";
    r.value = absl::StrCat("dec:tick", partition, ":0");
    events->push_back(std::move(r));
    return absl::OkStatus();
  }
};

TEST_F(ProcessorKafkaTest, DecidesCoPartitionedTopicsAndTicks) {
  std::string second = requests_ + ".second";
  ASSERT_TRUE(admin_->EnsureTopics({kafka::TopicSpec::EventLog(second, kPartitions)}).ok());
  std::vector<kafka::Record> records = {{requests_, "w-tick", "req:one", {}},
                                        {second, "w-tick", "req:two", {}}};
  for (const auto& r : producer_->AppendBatch(records)) ASSERT_TRUE(r.ok()) << r.status();
  TickingLogic logic;
  store::StateStore::Options so;
  so.column_families = ColumnFamiliesFor(logic);
  auto store = store::StateStore::Open((dir_ / "tick").string(), so);
  ASSERT_TRUE(store.ok()) << store.status();
  SimulatedClock clock;
  ProcessorOptions po;
  po.client = client_;
  po.name = "ticking";
  po.group_id = group_;
  po.transactional_id = group_ + "-tick";
  po.requests_topic = requests_;
  po.extra_request_topics = {second};
  po.events_topic = events_;
  po.dead_letter_topic = dead_;
  po.tick_interval = absl::Milliseconds(10);
  po.clock = &clock;
  auto proc = Processor::Create(po, &logic, store->get());
  ASSERT_TRUE(proc.ok()) << proc.status();
  std::atomic<bool> stop{false};
  absl::Status run;
  std::thread runner([&] { run = (*proc)->Run(stop); });
  // Done: both requests decided, the tick made, and no lag left.
  bool done = WaitFor(
      [&] {
        ProcessorStats st = (*proc)->stats();
        return st.ticks >= 1 && st.requests >= 2 && st.lag == 0 && !st.lag_by_partition.empty();
      },
      absl::Seconds(60));
  stop.store(true);
  runner.join();
  ASSERT_TRUE(done) << "requests " << (*proc)->stats().requests << " ticks "
                    << (*proc)->stats().ticks;
  EXPECT_TRUE(run.ok()) << run;
  std::vector<std::string> values;
  for (const auto& m : ReadAll(events_, kPartitions)) values.push_back(m.value);
  // Both topics' requests decided in one partition by one state (numbered 1
  // and 2, in whichever order the two topics were fetched), and one tick
  // (after the first request, maybe before the second).
  ASSERT_EQ(values.size(), 3u);
  std::set<std::string> decided;
  int ticks = 0;
  for (const std::string& v : values) {
    if (v.rfind("dec:tick", 0) == 0) {
      ++ticks;
    } else {
      decided.insert(v);
    }
  }
  EXPECT_EQ(ticks, 1);
  EXPECT_TRUE(decided == std::set<std::string>({"dec:one:1", "dec:two:2"}) ||
              decided == std::set<std::string>({"dec:two:1", "dec:one:2"}))
      << values[0] << " " << values[1] << " " << values[2];
  (void)admin_->DeleteTopics({second});
}

// Batches fill from several polls while the previous transaction commits,
// and the next batch is decided on top of the committing one: requests keep
// arriving in small bursts, and the processor is SIGKILLed at a random
// instant once it is deciding (so between and inside overlapped commits).
// Still every request has exactly one decision, numbered without gaps, one
// unbroken chain, and the store equals a replay.
TEST_F(ProcessorKafkaTest, ExactlyOnceWhileRequestsStreamInUnderRandomKills) {
  const uint64_t seed = Seed();
  std::printf("seed=%llu (MUTUALAID_TEST_SEED to repeat)\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  const int kBurst = 10;
  std::atomic<bool> feeding{true};
  std::atomic<int> produced{0};
  std::atomic<bool> produce_failed{false};
  std::thread feeder([&] {
    for (int from = 0; feeding.load(); from += kBurst) {
      std::vector<kafka::Record> records;
      for (int i = from; i < from + kBurst; ++i) {
        records.push_back({requests_, absl::StrCat("w", i % 37), absl::StrCat("req:", i), {}});
      }
      for (const auto& r : producer_->AppendBatch(records)) {
        if (!r.ok()) produce_failed.store(true);
      }
      produced.store(from + kBurst);
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  });
  std::string store = (dir_ / "live").string();
  for (int kill_no = 0; kill_no < 6; ++kill_no) {
    const int64_t before = CommittedTotal();
    pid_t pid = Spawn("counter-stream", store, 20 + static_cast<int>(rng() % 400));
    // Once it commits, it is deciding and committing in overlap.
    bool deciding = WaitFor([&] { return CommittedTotal() > before; }, absl::Seconds(90),
                            absl::Milliseconds(100));
    if (deciding) std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 700));
    int status = 0;
    bool exited = WaitExit(pid, absl::ZeroDuration(), &status);
    if (!exited) Kill(pid);
    if (!deciding || exited) {
      feeding.store(false);
      feeder.join();
      FAIL() << "kill " << kill_no << ": processor " << (exited ? "exited early" : "never committed");
    }
  }
  feeding.store(false);
  feeder.join();
  ASSERT_FALSE(produce_failed.load());
  pid_t pid = Spawn("counter-stream", store, 5000);
  ASSERT_TRUE(WaitFor([&] { return AllDecided(); }, absl::Seconds(120), absl::Milliseconds(250)))
      << "requests left undecided after the last restart";
  ASSERT_EQ(Stop(pid), 0);
  ExpectExactlyOnce(produced.load());
  EXPECT_EQ(StoreDigest(store), ReplayDigest());
}

// on_committed (how a gRPC edge answers) sees a batch only once its
// transaction committed and its state is in RocksDB, in commit order, even
// though the next batch is being decided meanwhile.
TEST_F(ProcessorKafkaTest, AnswersOnlyAfterCommitWhilePipelined) {
  const int kRequests = 4000;
  testing::CounterLogic logic;
  store::StateStore::Options so;
  so.column_families = ColumnFamiliesFor(logic);
  auto store = store::StateStore::Open((dir_ / "answers").string(), so);
  ASSERT_TRUE(store.ok()) << store.status();
  ProcessorOptions po;
  po.client = client_;
  po.name = "answers";
  po.group_id = group_;
  po.transactional_id = group_ + "-answers";
  po.requests_topic = requests_;
  po.events_topic = events_;
  po.dead_letter_topic = dead_;
  po.max_batch = 300;
  std::atomic<int> answered{0};
  std::atomic<int> answered_before_stored{0};
  std::map<int32_t, int64_t> last_number;  // per worker key: numbers must rise
  std::atomic<int> out_of_order{0};
  po.on_committed = [&](const std::vector<kafka::Record>& events) {
    for (const kafka::Record& e : events) {
      std::vector<std::string> parts = absl::StrSplit(e.value, ':');
      auto seen = (*store)->Get(testing::CounterLogic::kSeen, parts.size() == 3 ? parts[1] : "");
      if (!seen.ok() || !seen->has_value()) ++answered_before_stored;
      int64_t n = parts.size() == 3 ? std::stoll(parts[2]) : 0;
      int32_t worker = std::stoi(e.key.substr(1));
      if (n <= last_number[worker]) ++out_of_order;
      last_number[worker] = n;
      ++answered;
    }
  };
  auto proc = Processor::Create(po, &logic, store->get());
  ASSERT_TRUE(proc.ok()) << proc.status();
  std::atomic<bool> stop{false};
  absl::Status run;
  std::thread runner([&] { run = (*proc)->Run(stop); });
  for (int from = 0; from < kRequests; from += 100) {
    ProduceRequests(from, from + 100);
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
  bool done = WaitFor([&] { return answered.load() >= kRequests; }, absl::Seconds(120));
  stop.store(true);
  runner.join();
  ASSERT_TRUE(done) << "answered " << answered.load();
  EXPECT_TRUE(run.ok()) << run;
  EXPECT_EQ(answered.load(), kRequests);
  EXPECT_EQ(answered_before_stored.load(), 0);
  EXPECT_EQ(out_of_order.load(), 0);
  EXPECT_EQ((*proc)->stats().requests, kRequests);
  store->reset();
  ExpectExactlyOnce(kRequests);
}

}  // namespace
}  // namespace mutualaid::processor
