// The event-sourcing core against the local broker, in one run:
//   1. raw: produce N envelope-sized records (idempotent, lz4) and consume them
//      all back (read_committed) — the yardstick;
//   2. processor: the same N records as requests through a trivial processor
//      (one event per request, RocksDB state) — end to end, until every request
//      is decided and committed;
//   3. replay: rebuild the processor's state from its events topic into a fresh
//      store, and check the digest equals the live one.
// Prints rates and ratios. Usage:
//   MUTUALAID_KAFKA_BOOTSTRAP=127.0.0.1:19092 processor_bench [N] [PARTITIONS] [MAX_BATCH] [PIPELINED 1|0]
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "mutualaid/kafka/admin.h"
#include "mutualaid/kafka/consumer.h"
#include "mutualaid/kafka/partition_reader.h"
#include "mutualaid/kafka/producer.h"
#include "mutualaid/processor/chain.h"
#include "mutualaid/processor/processor.h"
#include "mutualaid/processor/replay.h"

namespace {

using namespace mutualaid;
using Stopwatch = std::chrono::steady_clock;

double Seconds(Stopwatch::time_point a, Stopwatch::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Decide: one event per request, counting per worker (one read, one write).
class EchoLogic : public processor::Logic {
 public:
  std::vector<std::string> ColumnFamilies() const override { return {"workers"}; }
  absl::Status Decide(const processor::State&, const kafka::Message& request,
                      std::vector<kafka::Record>* events) override {
    kafka::Record e;
    e.key = request.key;
    e.value = request.value;
    events->push_back(std::move(e));
    return absl::OkStatus();
  }
  absl::Status Apply(processor::State& state, const kafka::Message& event) override {
    auto prev = state.Get("workers", event.key);
    if (!prev.ok()) return prev.status();
    uint64_t n = prev->has_value() ? std::stoull(**prev) + 1 : 1;
    state.Put("workers", event.key, std::to_string(n));
    return absl::OkStatus();
  }
};

void Die(const absl::Status& s, const char* what) {
  std::fprintf(stderr, "processor_bench: %s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

int64_t ProduceAll(const kafka::ClientConfig& client, const std::string& topic, int64_t n) {
  auto producer = kafka::Producer::Create({.client = client, .linger = absl::Milliseconds(5)});
  if (!producer.ok()) Die(producer.status(), "producer");
  std::string payload(300, 'x');  // about an envelope's size
  std::atomic<int64_t> failed{0};
  for (int64_t i = 0; i < n; ++i) {
    kafka::Record r{topic, absl::StrCat("worker-", i % 100000), absl::StrCat(i, ":", payload), {}};
    absl::Status s;
    while (!(s = (*producer)->AppendAsync(r, [&](auto d) { if (!d.ok()) ++failed; })).ok()) {
      if (s.code() != absl::StatusCode::kResourceExhausted) Die(s, "append");
      (void)(*producer)->Flush(absl::Milliseconds(50));
    }
  }
  if (auto s = (*producer)->Flush(absl::Minutes(5)); !s.ok()) Die(s, "flush");
  return failed.load();
}

int64_t ConsumeAll(const kafka::ClientConfig& client, const std::string& topic, int partitions) {
  int64_t count = 0;
  for (int p = 0; p < partitions; ++p) {
    auto reader = kafka::PartitionReader::Open(client, topic, p, 0);
    if (!reader.ok()) Die(reader.status(), "reader");
    while (true) {
      auto m = (*reader)->Next();
      if (!m.ok()) Die(m.status(), "read");
      if (!m->has_value()) break;
      ++count;
    }
  }
  return count;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = argc > 1 ? std::stoll(argv[1]) : 1000000;
  int partitions = argc > 2 ? std::stoi(argv[2]) : 6;
  size_t max_batch = argc > 3 ? std::stoul(argv[3]) : processor::ProcessorOptions().max_batch;
  bool pipelined = argc > 4 ? std::string(argv[4]) != "0" : true;
  auto client = kafka::ClientConfigFromEnv("processor-bench");
  if (!client.ok()) Die(client.status(), "config");
  auto admin = kafka::Admin::Create(*client);
  if (!admin.ok()) Die(admin.status(), "admin");
  std::string base = absl::StrCat("bench.", getpid(), ".", std::random_device{}() % 100000);
  std::string raw = base + ".raw", requests = base + ".requests", events = base + ".events";
  if (auto s = (*admin)->EnsureTopics({kafka::TopicSpec::EventLog(raw, partitions),
                                       kafka::TopicSpec::EventLog(requests, partitions),
                                       kafka::TopicSpec::EventLog(events, partitions),
                                       kafka::TopicSpec::EventLog(base + ".dead", 1)});
      !s.ok()) {
    Die(s, "topics");
  }
  std::filesystem::path dir = std::filesystem::temp_directory_path() / base;

  // 1. raw produce + consume
  auto t0 = Stopwatch::now();
  ProduceAll(*client, raw, n);
  auto t1 = Stopwatch::now();
  int64_t consumed = ConsumeAll(*client, raw, partitions);
  auto t2 = Stopwatch::now();
  double raw_produce = n / Seconds(t0, t1), raw_consume = consumed / Seconds(t1, t2);
  double raw_both = n / Seconds(t0, t2);

  // 2. through the processor
  ProduceAll(*client, requests, n);
  EchoLogic logic;
  store::StateStore::Options so;
  so.column_families = processor::ColumnFamiliesFor(logic);
  auto live = store::StateStore::Open((dir / "live").string(), so);
  if (!live.ok()) Die(live.status(), "store");
  processor::ProcessorOptions po;
  po.client = *client;
  po.name = "bench";
  po.group_id = base + ".group";
  po.transactional_id = base + "-0";
  po.requests_topic = requests;
  po.events_topic = events;
  po.dead_letter_topic = base + ".dead";
  po.max_batch = max_batch;
  po.pipelined = pipelined;
  auto proc = processor::Processor::Create(po, &logic, live->get());
  if (!proc.ok()) Die(proc.status(), "processor");
  std::atomic<bool> stop{false};
  auto t3 = Stopwatch::now();
  absl::Status run_status;
  std::thread runner([&] { run_status = (*proc)->Run(stop); });
  while ((*proc)->stats().requests < n && !stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto t4 = Stopwatch::now();
  stop.store(true);
  runner.join();
  if (!run_status.ok()) Die(run_status, "run");
  double proc_rate = n / Seconds(t3, t4);
  processor::ProcessorStats st = (*proc)->stats();
  auto live_digest = (*live)->Digest();

  // 3. replay
  auto fresh = store::StateStore::Open((dir / "replay").string(), so);
  if (!fresh.ok()) Die(fresh.status(), "store");
  processor::ReplayOptions ro;
  ro.client = *client;
  ro.topics = {events};
  auto t5 = Stopwatch::now();
  auto replayed = processor::Replay(ro, logic, **fresh);
  auto t6 = Stopwatch::now();
  if (!replayed.ok()) Die(replayed.status(), "replay");
  double replay_rate = replayed->events / Seconds(t5, t6);

  std::printf("records            %lld (partitions %d, ~300-byte values, lz4)\n",
              static_cast<long long>(n), partitions);
  std::printf("raw produce        %10.0f rec/s\n", raw_produce);
  std::printf("raw consume        %10.0f rec/s\n", raw_consume);
  std::printf("raw produce+consume%10.0f rec/s\n", raw_both);
  std::printf("processor          %10.0f req/s   %.0f%% of raw produce+consume (target >= 50%%)\n",
              proc_rate, 100 * proc_rate / raw_both);
  std::printf("  max_batch %zu, %s\n", max_batch,
              pipelined ? "pipelined" : "one batch at a time");
  std::printf("  batches %lld (%.0f requests each), aborts %lld; profile (s): poll %.2f, "
              "refresh %.2f, decide %.2f, waiting for the previous commit %.2f | commit thread: "
              "transaction %.2f, store %.2f\n",
              static_cast<long long>(st.batches),
              st.batches > 0 ? static_cast<double>(st.requests) / st.batches : 0.0,
              static_cast<long long>(st.aborts), st.poll_seconds, st.refresh_seconds,
              st.decide_seconds, st.wait_seconds, st.transaction_seconds, st.store_seconds);
  std::printf("replay             %10.0f ev/s    %.0f%% of raw consume (target >= 50%%)\n",
              replay_rate, 100 * replay_rate / raw_consume);
  std::printf("digest             live %s replay %s\n",
              live_digest.ok() && *live_digest == replayed->digest ? "==" : "!=",
              replayed->digest.substr(0, 16).c_str());
  (void)(*admin)->DeleteTopics({raw, requests, events, base + ".dead"});
  live->reset();
  fresh->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
