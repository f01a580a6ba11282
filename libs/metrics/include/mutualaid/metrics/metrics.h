// Prometheus metrics: counters, gauges and histograms with labels, rendered in
// the text exposition format (0.0.4), served over HTTP by MetricsServer.
//
//   metrics::Registry registry;
//   auto& decisions = registry.Counter("mutualaid_decisions_total",
//                                      "Decisions by type and outcome", {"type", "outcome"});
//   decisions.With({"enrollment", "ACCEPTED"}).Increment();
//   registry.GaugeCallback("mutualaid_consumer_lag", "…", {"partition"}, [&] { return …; });
//
// Families are created once (at start) and live as long as the registry;
// updating a metric is lock-free after its first use with a label set.
#ifndef MUTUALAID_METRICS_METRICS_H_
#define MUTUALAID_METRICS_METRICS_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace mutualaid::metrics {

using LabelValues = std::vector<std::string>;

class CounterValue {
 public:
  void Increment(int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

class GaugeValue {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class HistogramValue {
 public:
  explicit HistogramValue(const std::vector<double>* bounds);
  void Observe(double v);
  // Cumulative counts per bound (+Inf last), sum, count.
  void Snapshot(std::vector<int64_t>* cumulative, double* sum, int64_t* count) const;

 private:
  const std::vector<double>* bounds_;
  std::unique_ptr<std::atomic<int64_t>[]> buckets_;  // per bound, plus +Inf
  std::atomic<double> sum_{0};
  std::atomic<int64_t> count_{0};
};

// A metric family: one name, a fixed list of label names, a value per label set.
template <typename V>
class Family {
 public:
  // The value for these label values (as many as the family's label names).
  V& With(const LabelValues& values);
  V& Get() { return With({}); }

 private:
  friend class Registry;
  std::function<std::unique_ptr<V>()> make_;
  absl::Mutex mu_;
  std::map<LabelValues, std::unique_ptr<V>> values_ ABSL_GUARDED_BY(mu_);
};

// A sample a callback gauge reports at scrape time.
struct Sample {
  LabelValues labels;
  double value = 0;
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Family<CounterValue>& Counter(const std::string& name, const std::string& help,
                                std::vector<std::string> labels = {});
  Family<GaugeValue>& Gauge(const std::string& name, const std::string& help,
                            std::vector<std::string> labels = {});
  // Seconds by default: 1 ms … 10 s.
  Family<HistogramValue>& Histogram(const std::string& name, const std::string& help,
                                    std::vector<std::string> labels = {},
                                    std::vector<double> bounds = DefaultLatencyBounds());
  // A gauge whose samples are computed when scraped (lag, store size).
  void GaugeCallback(const std::string& name, const std::string& help,
                     std::vector<std::string> labels, std::function<std::vector<Sample>()> fn);
  // A counter kept elsewhere (e.g. a processor's stats), read when scraped.
  void CounterCallback(const std::string& name, const std::string& help,
                       std::vector<std::string> labels, std::function<std::vector<Sample>()> fn);

  // The text exposition format, families in registration order.
  std::string Render() const;

  static std::vector<double> DefaultLatencyBounds();

 private:
  struct Entry;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
};

// GET /metrics on an HTTP port (e.g. "127.0.0.1:9101"; "0.0.0.0:9090" in a pod).
class MetricsServer {
 public:
  MetricsServer(const Registry& registry, std::string listen);
  ~MetricsServer();
  absl::Status Start();
  std::string address() const;
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// --- implementation details of the template -------------------------------
template <typename V>
V& Family<V>::With(const LabelValues& values) {
  absl::MutexLock l(&mu_);
  auto it = values_.find(values);
  if (it == values_.end()) it = values_.emplace(values, make_()).first;
  return *it->second;
}

}  // namespace mutualaid::metrics

#endif  // MUTUALAID_METRICS_METRICS_H_
