#include "mutualaid/metrics/metrics.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mutualaid/http/server.h"

namespace mutualaid::metrics {
namespace {

void AddDouble(std::atomic<double>& a, double v) {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return absl::StrFormat("%.0f", v);
  return absl::StrFormat("%.9g", v);
}

// {a="x",b="y"} with an optional extra label (le for buckets); "" when empty.
std::string Labels(const std::vector<std::string>& names, const LabelValues& values,
                   const std::string& extra_name = "", const std::string& extra_value = "") {
  std::string out;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    absl::StrAppend(&out, out.empty() ? "" : ",", names[i], "=\"", EscapeLabel(values[i]), "\"");
  }
  if (!extra_name.empty()) {
    absl::StrAppend(&out, out.empty() ? "" : ",", extra_name, "=\"", extra_value, "\"");
  }
  return out.empty() ? "" : absl::StrCat("{", out, "}");
}

}  // namespace

HistogramValue::HistogramValue(const std::vector<double>* bounds)
    : bounds_(bounds), buckets_(new std::atomic<int64_t>[bounds->size() + 1]) {
  for (size_t i = 0; i <= bounds_->size(); ++i) buckets_[i].store(0);
}

void HistogramValue::Observe(double v) {
  size_t i = std::lower_bound(bounds_->begin(), bounds_->end(), v) - bounds_->begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  AddDouble(sum_, v);
  count_.fetch_add(1, std::memory_order_relaxed);
}

void HistogramValue::Snapshot(std::vector<int64_t>* cumulative, double* sum,
                              int64_t* count) const {
  cumulative->clear();
  int64_t running = 0;
  for (size_t i = 0; i <= bounds_->size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    cumulative->push_back(running);
  }
  *sum = sum_.load(std::memory_order_relaxed);
  *count = running;
}

struct Registry::Entry {
  std::string name, help, type;
  std::vector<std::string> labels;
  std::vector<double> bounds;
  std::unique_ptr<Family<CounterValue>> counter;
  std::unique_ptr<Family<GaugeValue>> gauge;
  std::unique_ptr<Family<HistogramValue>> histogram;
  std::function<std::vector<Sample>()> callback;
};

Registry::Registry() = default;
Registry::~Registry() = default;

Family<CounterValue>& Registry::Counter(const std::string& name, const std::string& help,
                                        std::vector<std::string> labels) {
  auto e = std::make_unique<Entry>();
  e->name = name;
  e->help = help;
  e->type = "counter";
  e->labels = std::move(labels);
  e->counter = std::make_unique<Family<CounterValue>>();
  e->counter->make_ = [] { return std::make_unique<CounterValue>(); };
  Family<CounterValue>& f = *e->counter;
  absl::MutexLock l(&mu_);
  entries_.push_back(std::move(e));
  return f;
}

Family<GaugeValue>& Registry::Gauge(const std::string& name, const std::string& help,
                                    std::vector<std::string> labels) {
  auto e = std::make_unique<Entry>();
  e->name = name;
  e->help = help;
  e->type = "gauge";
  e->labels = std::move(labels);
  e->gauge = std::make_unique<Family<GaugeValue>>();
  e->gauge->make_ = [] { return std::make_unique<GaugeValue>(); };
  Family<GaugeValue>& f = *e->gauge;
  absl::MutexLock l(&mu_);
  entries_.push_back(std::move(e));
  return f;
}

Family<HistogramValue>& Registry::Histogram(const std::string& name, const std::string& help,
                                            std::vector<std::string> labels,
                                            std::vector<double> bounds) {
  auto e = std::make_unique<Entry>();
  e->name = name;
  e->help = help;
  e->type = "histogram";
  e->labels = std::move(labels);
  std::sort(bounds.begin(), bounds.end());
  e->bounds = std::move(bounds);
  e->histogram = std::make_unique<Family<HistogramValue>>();
  const std::vector<double>* b = &e->bounds;
  e->histogram->make_ = [b] { return std::make_unique<HistogramValue>(b); };
  Family<HistogramValue>& f = *e->histogram;
  absl::MutexLock l(&mu_);
  entries_.push_back(std::move(e));
  return f;
}

void Registry::GaugeCallback(const std::string& name, const std::string& help,
                             std::vector<std::string> labels,
                             std::function<std::vector<Sample>()> fn) {
  auto e = std::make_unique<Entry>();
  e->name = name;
  e->help = help;
  e->type = "gauge";
  e->labels = std::move(labels);
  e->callback = std::move(fn);
  absl::MutexLock l(&mu_);
  entries_.push_back(std::move(e));
}

void Registry::CounterCallback(const std::string& name, const std::string& help,
                               std::vector<std::string> labels,
                               std::function<std::vector<Sample>()> fn) {
  auto e = std::make_unique<Entry>();
  e->name = name;
  e->help = help;
  e->type = "counter";
  e->labels = std::move(labels);
  e->callback = std::move(fn);
  absl::MutexLock l(&mu_);
  entries_.push_back(std::move(e));
}

std::vector<double> Registry::DefaultLatencyBounds() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::string Registry::Render() const {
  std::string out;
  absl::MutexLock l(&mu_);
  for (const auto& e : entries_) {
    absl::StrAppend(&out, "# HELP ", e->name, " ", e->help, "\n# TYPE ", e->name, " ", e->type,
                    "\n");
    if (e->counter) {
      absl::MutexLock fl(&e->counter->mu_);
      for (const auto& [labels, v] : e->counter->values_) {
        absl::StrAppend(&out, e->name, Labels(e->labels, labels), " ", v->value(), "\n");
      }
    } else if (e->gauge) {
      absl::MutexLock fl(&e->gauge->mu_);
      for (const auto& [labels, v] : e->gauge->values_) {
        absl::StrAppend(&out, e->name, Labels(e->labels, labels), " ", FormatValue(v->value()),
                        "\n");
      }
    } else if (e->histogram) {
      absl::MutexLock fl(&e->histogram->mu_);
      for (const auto& [labels, v] : e->histogram->values_) {
        std::vector<int64_t> cumulative;
        double sum = 0;
        int64_t count = 0;
        v->Snapshot(&cumulative, &sum, &count);
        for (size_t i = 0; i < cumulative.size(); ++i) {
          std::string le = i < e->bounds.size() ? FormatValue(e->bounds[i]) : "+Inf";
          absl::StrAppend(&out, e->name, "_bucket", Labels(e->labels, labels, "le", le), " ",
                          cumulative[i], "\n");
        }
        absl::StrAppend(&out, e->name, "_sum", Labels(e->labels, labels), " ", FormatValue(sum),
                        "\n", e->name, "_count", Labels(e->labels, labels), " ", count, "\n");
      }
    } else if (e->callback) {
      for (const Sample& s : e->callback()) {
        absl::StrAppend(&out, e->name, Labels(e->labels, s.labels), " ", FormatValue(s.value),
                        "\n");
      }
    }
  }
  return out;
}

struct MetricsServer::Impl {
  const Registry& registry;
  std::string listen;
  std::unique_ptr<http::Server> server;
};

MetricsServer::MetricsServer(const Registry& registry, std::string listen)
    : impl_(new Impl{registry, std::move(listen), nullptr}) {}

MetricsServer::~MetricsServer() { Stop(); }

absl::Status MetricsServer::Start() {
  http::ServerOptions o;
  size_t colon = impl_->listen.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("metrics.listen: HOST:PORT, got ", impl_->listen));
  }
  o.host = impl_->listen.substr(0, colon);
  o.port = std::atoi(impl_->listen.substr(colon + 1).c_str());
  o.threads = 2;
  impl_->server = std::make_unique<http::Server>(o);
  const Registry* registry = &impl_->registry;
  impl_->server->Handle("GET", "/metrics", [registry](const http::Request&) {
    http::Response r = http::Response::Text(200, registry->Render());
    r.headers = {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}};
    return r;
  });
  return impl_->server->Start();
}

std::string MetricsServer::address() const {
  return impl_->server ? impl_->server->address() : "";
}

void MetricsServer::Stop() {
  if (impl_ && impl_->server) {
    impl_->server->Stop();
    impl_->server.reset();
  }
}

}  // namespace mutualaid::metrics
