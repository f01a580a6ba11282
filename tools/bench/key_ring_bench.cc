// The data-key ring at scale (libs/crypto): how much memory a service's
// KafkaKeyRing holds, how long a fresh one takes to be ready, and how long
// KeyForOpening takes, for N workers' keys in the keys topic.
//
//   key_ring_bench generate TOPIC N SAMPLE_FILE
//       N workers' data keys, made and wrapped with the real code, appended to
//       TOPIC (created compacted like mutualaid.keys); every (N/10000)th key id
//       goes to SAMPLE_FILE.
//   key_ring_bench open TOPIC SAMPLE_FILE [CACHE_DIR]
//       In this (fresh) process: opens a KafkaKeyRing on TOPIC (with its key
//       cache in CACHE_DIR, if given; run twice for a cold and a warm start),
//       prints the time to ready, VmRSS before/after and VmHWM, bytes per key,
//       and KeyForOpening latency (p50/p99 µs) for the sampled keys (first
//       open, repeat open) and for unknown key ids.
//
// MUTUALAID_KAFKA_BOOTSTRAP names the broker (default 127.0.0.1:19092). The
// master key is a fixed bench key. Run by hand, never as a timed test.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "mutualaid/crypto/aead.h"
#include "mutualaid/crypto/kafka_key_ring.h"
#include "mutualaid/kafka/admin.h"
#include "mutualaid/kafka/config.h"
#include "mutualaid/kafka/producer.h"
#include "memory.h"

namespace mutualaid::bench {
namespace {

constexpr char kMasterHex[] =
    "6b65797363616c652062656e6368206d6173746572206b657920303132333435";

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

uint64_t SplitMix(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A worker key shaped like the real ones (64 hex chars), distinct per i.
std::string WorkerKey(uint64_t i) {
  uint64_t s = i * 4 + 1;
  return absl::StrFormat("%016x%016x%016x%016x", SplitMix(s), SplitMix(s), SplitMix(s), i);
}

kafka::ClientConfig Client() {
  kafka::ClientConfig c;
  const char* b = std::getenv(kafka::kBootstrapEnv);
  c.bootstrap = b != nullptr ? b : "127.0.0.1:19092";
  c.client_id = "key_ring_bench";
  return c;
}

crypto::MasterKey Master() { return crypto::ParseMasterKey(kMasterHex, "bench").value(); }

int Generate(const std::string& topic, int64_t n, const std::string& sample_file) {
  auto admin = kafka::Admin::Create(Client());
  if (!admin.ok()) return std::cerr << admin.status() << "\n", 1;
  if (auto s = (*admin)->EnsureTopics({crypto::KafkaKeyRing::Spec(topic)}, absl::Seconds(30));
      !s.ok()) {
    return std::cerr << s << "\n", 1;
  }
  kafka::ProducerOptions po;
  po.client = Client();
  po.linger = absl::Milliseconds(20);
  po.delivery_timeout = absl::Seconds(120);
  auto producer = kafka::Producer::Create(po);
  if (!producer.ok()) return std::cerr << producer.status() << "\n", 1;
  crypto::MasterKey master = Master();
  std::ofstream sample(sample_file);
  const int64_t every = std::max<int64_t>(1, n / 10000);
  const auto t0 = Clock::now();
  std::vector<kafka::Record> batch;
  for (int64_t i = 0; i < n; ++i) {
    crypto::DataKey key = crypto::NewDataKey(WorkerKey(i));
    auto w = crypto::WrapDataKey(master, key);
    if (!w.ok()) return std::cerr << w.status() << "\n", 1;
    w->set_created_at_unix(1650000000 + i);
    w->set_created_by("enrollment-0");
    if (i % every == 0) sample << key.worker_key << " " << key.key_id << "\n";
    batch.push_back(kafka::Record{topic, absl::StrCat(key.worker_key, "/", key.key_id),
                                  w->SerializeAsString(), {}, 0});
    if (batch.size() == 5000 || i + 1 == n) {
      for (const auto& r : (*producer)->AppendBatch(batch)) {
        if (!r.ok()) return std::cerr << r.status() << "\n", 1;
      }
      batch.clear();
    }
  }
  std::printf("generated %lld keys into %s in %.1f s\n", static_cast<long long>(n),
              topic.c_str(), Seconds(t0, Clock::now()));
  return 0;
}

struct Percentiles {
  double p50 = 0, p99 = 0;
};
Percentiles Of(std::vector<double> us) {
  if (us.empty()) return {};
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], us[std::min(us.size() - 1, us.size() * 99 / 100)]};
}

int Open(const std::string& topic, const std::string& sample_file, const std::string& cache) {
  std::vector<std::pair<std::string, std::string>> samples;
  {
    std::ifstream in(sample_file);
    std::string line;
    while (std::getline(in, line)) {
      std::vector<std::string> p = absl::StrSplit(line, ' ');
      if (p.size() == 2) samples.emplace_back(p[0], p[1]);
    }
  }
  const ProcMemory before = ReadMemory(getpid());
  crypto::KafkaKeyRingOptions o;
  o.client = Client();
  o.topic = topic;
  o.creator = "bench";
  o.timeout = absl::Seconds(120);
  o.cache_path = cache;
  const auto t0 = Clock::now();
  auto ring = crypto::KafkaKeyRing::Create(Master(), o);
  const auto t1 = Clock::now();
  if (!ring.ok()) return std::cerr << ring.status() << "\n", 1;
  const ProcMemory after = ReadMemory(getpid());
  auto time_opens = [&](std::vector<double>& us) {
    for (const auto& [worker, id] : samples) {
      const auto a = Clock::now();
      auto k = (*ring)->KeyForOpening(worker, id);
      const auto b = Clock::now();
      if (!k.ok()) {
        std::cerr << "open " << id << ": " << k.status() << "\n";
        std::exit(1);
      }
      us.push_back(Seconds(a, b) * 1e6);
    }
  };
  std::vector<double> first, repeat, unknown;
  time_opens(first);
  time_opens(repeat);
  for (int i = 0; i < 200; ++i) {
    const auto a = Clock::now();
    auto k = (*ring)->KeyForOpening(WorkerKey(i), absl::StrCat("unknown-", i));
    const auto b = Clock::now();
    if (k.ok() || k.status().code() != absl::StatusCode::kNotFound) {
      std::cerr << "unknown key: " << k.status() << "\n";
      return 1;
    }
    unknown.push_back(Seconds(a, b) * 1e6);
  }
  const ProcMemory end = ReadMemory(getpid());
  const Percentiles f = Of(first), r = Of(repeat), u = Of(unknown);
  const int64_t read = (*ring)->records_read();
  const int64_t keys = static_cast<int64_t>((*ring)->size());
  std::printf(
      "open %s cache=%s: ready in %.2f s, records read %lld of %lld keys; VmRSS %lld -> %lld KB (end %lld), "
      "VmHWM %lld KB, %.0f bytes/key; KeyForOpening p50/p99 us: first %.1f/%.1f, repeat "
      "%.1f/%.1f, unknown %.0f/%.0f (%zu samples)\n",
      topic.c_str(), cache.empty() ? "-" : cache.c_str(), Seconds(t0, t1),
      static_cast<long long>(read), static_cast<long long>(keys),
      static_cast<long long>(before.rss_kb),
      static_cast<long long>(after.rss_kb), static_cast<long long>(end.rss_kb),
      static_cast<long long>(end.hwm_kb),
      samples.empty() ? 0.0
                      : (after.rss_kb - before.rss_kb) * 1024.0 /
                            static_cast<double>(std::max<int64_t>(1, keys)),
      f.p50, f.p99, r.p50, r.p99, u.p50, u.p99, samples.size());
  return 0;
}

}  // namespace
}  // namespace mutualaid::bench

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "generate" && argc == 5) {
    return mutualaid::bench::Generate(argv[2], std::stoll(argv[3]), argv[4]);
  }
  if (mode == "open" && (argc == 4 || argc == 5)) {
    return mutualaid::bench::Open(argv[2], argv[3], argc == 5 ? argv[4] : "");
  }
  std::cerr << "usage: key_ring_bench generate TOPIC N SAMPLE_FILE\n"
               "       key_ring_bench open TOPIC SAMPLE_FILE [CACHE_DIR]\n";
  return 2;
}
