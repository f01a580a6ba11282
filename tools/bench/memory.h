// Peak memory and CPU of processes, read from /proc, for the benchmarks in
// this folder (claims_bench, year_replay). Linux only, like the benches.
#ifndef MUTUALAID_TOOLS_BENCH_MEMORY_H_
#define MUTUALAID_TOOLS_BENCH_MEMORY_H_

#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace mutualaid::bench {

struct ProcMemory {
  int64_t hwm_kb = 0;  // VmHWM: the peak resident set since the process started
  int64_t rss_kb = 0;  // VmRSS: now
};

inline ProcMemory ReadMemory(pid_t pid) {
  ProcMemory m;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) m.hwm_kb = std::atoll(line.c_str() + 6);
    if (line.rfind("VmRSS:", 0) == 0) m.rss_kb = std::atoll(line.c_str() + 6);
  }
  return m;
}

// utime + stime of a process, in seconds (0 if it is gone).
inline double ProcessCpuSeconds(pid_t pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = s.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(s.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::atof(field.c_str());
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

inline double LoadAverage() {
  double l = 0;
  std::ifstream("/proc/loadavg") >> l;
  return l;
}

// Samples VmHWM/VmRSS of some processes every `period` on a thread of its
// own, keeping the largest seen per name (a process's VmHWM only grows, so
// the last sample is its peak; sampling also keeps the figure when the
// process exits between samples).
class PeakSampler {
 public:
  explicit PeakSampler(std::chrono::milliseconds period = std::chrono::milliseconds(200))
      : period_(period) {}
  ~PeakSampler() { Stop(); }

  void Watch(const std::string& name, pid_t pid) {
    std::lock_guard<std::mutex> l(mu_);
    pids_[name] = pid;
  }
  void Start() {
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        SampleOnce();
        std::this_thread::sleep_for(period_);
      }
    });
  }
  void Stop() {
    if (!thread_.joinable()) return;
    stop_.store(true);
    thread_.join();
    SampleOnce();
  }
  // Peak VmHWM in KiB by name.
  std::map<std::string, int64_t> Peaks() const {
    std::lock_guard<std::mutex> l(mu_);
    return peaks_;
  }

 private:
  void SampleOnce() {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [name, pid] : pids_) {
      ProcMemory m = ReadMemory(pid);
      peaks_[name] = std::max({peaks_[name], m.hwm_kb, m.rss_kb});
    }
  }

  std::chrono::milliseconds period_;
  mutable std::mutex mu_;
  std::map<std::string, pid_t> pids_;
  std::map<std::string, int64_t> peaks_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

inline double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  size_t k = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  k = std::min(k, v.size() - 1);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// The median (the mean of the middle two of an even count).
inline double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace mutualaid::bench

#endif  // MUTUALAID_TOOLS_BENCH_MEMORY_H_
