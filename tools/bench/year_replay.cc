// year_replay: replays each service from zero over a plan year written by
// year_gen, with the project's replay (`mutualctl replay --service S`, i.e.
// libs/processor Replay into a fresh store), and measures in the same run:
//   - raw consume (the yardstick): every record of the topics that service's
//     replay reads (its events topic and input event topics), read_committed,
//     through kafka::PartitionReader, counted and timed;
//   - the replay: `mutualctl replay` as a child process, its events/s (as it
//     prints them: events applied over its run, digest included), wall time,
//     and its peak RSS (VmHWM sampled every 100 ms, and the kernel's
//     ru_maxrss at exit);
//   - the digest it prints, compared with the one year_gen wrote for the
//     service's generated state (DIR/<service>.digest).
// Each service is measured --repeat times (default 1); the table gives every
// run and the median ratio.
// Usage:
//   MUTUALAID_KAFKA_BOOTSTRAP=… year_replay --prefix P --dir DIR --mutualctl PATH
//       [--repeat N] [--services enrollment,claims,payout,notification] [--delete]
// --delete: deletes the prefix's topics afterwards.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "memory.h"
#include "mutualaid/kafka/admin.h"
#include "mutualaid/kafka/partition_reader.h"
#include "mutualaid/kafka/topics.h"

namespace {

using namespace mutualaid;
using Stopwatch = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "year_replay: %s\n", what.c_str());
  std::exit(1);
}
void Check(const absl::Status& s, const std::string& what) {
  if (!s.ok()) Die(absl::StrCat(what, ": ", s.ToString()));
}

// The topics `mutualctl replay --service S` reads (tools/mutualctl/ops/replay.cc).
std::vector<std::string> TopicsOf(const std::string& service, const std::string& prefix) {
  auto t = [&](absl::string_view n) { return prefix + std::string(n); };
  if (service == "enrollment") return {t(kafka::kEnrollmentEvents), t(kafka::kClaimsEvents)};
  if (service == "claims") return {t(kafka::kClaimsEvents), t(kafka::kEnrollmentEvents)};
  if (service == "payout") {
    return {t(kafka::kPayoutEvents), t(kafka::kEnrollmentEvents), t(kafka::kClaimsEvents)};
  }
  if (service == "notification") return {t(kafka::kNotificationEvents), t(kafka::kEnrollmentEvents)};
  Die("unknown service " + service);
}

struct RawConsume {
  int64_t records = 0;
  double seconds = 0;
  double cpu = 0;  // CPU seconds of this process (its librdkafka threads included)
};

double SelfCpu() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

RawConsume Consume(const kafka::ClientConfig& client, kafka::Admin& admin,
                   const std::vector<std::string>& topics) {
  RawConsume out;
  const double cpu0 = SelfCpu();
  auto t0 = Stopwatch::now();
  for (const std::string& topic : topics) {
    auto desc = admin.DescribeTopic(topic);
    Check(desc.status(), topic);
    for (int32_t p = 0; p < desc->partitions; ++p) {
      auto reader = kafka::PartitionReader::Open(client, topic, p, 0);
      Check(reader.status(), "reader");
      while (true) {
        auto m = (*reader)->Next();
        Check(m.status(), "read");
        if (!m->has_value()) break;
        ++out.records;
      }
    }
  }
  out.seconds = std::chrono::duration<double>(Stopwatch::now() - t0).count();
  out.cpu = SelfCpu() - cpu0;
  return out;
}

struct ReplayRun {
  int64_t events = 0;
  double events_per_s = 0;  // as mutualctl prints it
  double wall = 0;          // fork -> exit, as measured here
  std::string digest;
  int64_t peak_kb = 0;
  double cpu = 0;  // the child's CPU seconds (rusage)
  int exit_code = -1;
  std::string output;
};

ReplayRun RunReplay(const std::string& mutualctl, const std::string& service,
                    const std::string& prefix, const std::string& bootstrap,
                    const std::filesystem::path& store_dir) {
  ReplayRun run;
  int out[2];
  if (pipe(out) != 0) Die("pipe");
  auto t0 = Stopwatch::now();
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    execl(mutualctl.c_str(), mutualctl.c_str(), "replay", "--service", service.c_str(),
          "--topic-prefix", prefix.c_str(), "--bootstrap", bootstrap.c_str(), "--dir",
          store_dir.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  bench::PeakSampler sampler(std::chrono::milliseconds(100));
  sampler.Watch(service, pid);
  sampler.Start();
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  close(out[0]);
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  run.wall = std::chrono::duration<double>(Stopwatch::now() - t0).count();
  sampler.Stop();
  run.peak_kb = std::max<int64_t>(sampler.Peaks()[service], ru.ru_maxrss);
  run.cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.output = text;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("events applied", 0) == 0) run.events = std::atoll(line.c_str() + 14);
    if (line.rfind("events/s", 0) == 0) run.events_per_s = std::atof(line.c_str() + 8);
    if (line.rfind("digest", 0) == 0) {
      run.digest = line.substr(6);
      run.digest.erase(0, run.digest.find_first_not_of(' '));
    }
  }
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  std::string prefix, dir_arg, mutualctl;
  int repeat = 1;
  bool remove = false;
  std::vector<std::string> services = {"enrollment", "claims", "payout", "notification"};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die(a + ": needs a value");
      return argv[++i];
    };
    if (a == "--prefix") {
      prefix = next();
    } else if (a == "--dir") {
      dir_arg = next();
    } else if (a == "--mutualctl") {
      mutualctl = next();
    } else if (a == "--repeat") {
      repeat = std::atoi(next().c_str());
    } else if (a == "--delete") {
      remove = true;
    } else if (a == "--services") {
      services = absl::StrSplit(next(), ',', absl::SkipEmpty());
    } else {
      Die("usage: year_replay --prefix P --dir DIR --mutualctl PATH [--repeat N] [--services a,b] [--delete]");
    }
  }
  if (prefix.empty() || dir_arg.empty() || mutualctl.empty() || repeat < 1) {
    Die("usage: year_replay --prefix P --dir DIR --mutualctl PATH [--repeat N] [--services a,b] [--delete]");
  }
  signal(SIGPIPE, SIG_IGN);
  const std::filesystem::path dir = dir_arg;
  auto client = kafka::ClientConfigFromEnv("year-replay");
  Check(client.status(), "config");
  auto admin = kafka::Admin::Create(*client);
  Check(admin.status(), "admin");

  std::printf("\n| service | run | records read | raw consume | replay | ratio | replay wall | CPU µs/record raw / replay | digest | peak RSS |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  std::fflush(stdout);
  bool all_equal = true;
  std::map<std::string, std::vector<double>> ratios;
  std::map<std::string, int64_t> peaks;
  for (const std::string& service : services) {
    std::string expected;
    std::ifstream(dir / (service + ".digest")) >> expected;
    for (int r = 0; r < repeat; ++r) {
      RawConsume raw = Consume(*client, **admin, TopicsOf(service, prefix));
      const std::filesystem::path store_dir = dir / absl::StrCat("replay-", service, "-", r);
      std::filesystem::remove_all(store_dir);
      ReplayRun run = RunReplay(mutualctl, service, prefix, client->bootstrap, store_dir);
      std::filesystem::remove_all(store_dir);
      if (run.exit_code != 0) {
        Die(absl::StrCat("mutualctl replay --service ", service, " exited ", run.exit_code, ":\n", run.output));
      }
      const double raw_rate = raw.records / std::max(raw.seconds, 1e-9);
      const double ratio = run.events_per_s / raw_rate;
      ratios[service].push_back(ratio);
      peaks[service] = std::max(peaks[service], run.peak_kb);
      const bool equal = !expected.empty() && run.digest == expected;
      all_equal = all_equal && equal;
      std::printf("| %s | %d | %lld | %.0f rec/s | %.0f ev/s (%lld events) | %.0f %% | %.1f s | %.0f / %.0f | %s | %.0f MiB |\n",
                  service.c_str(), r + 1, static_cast<long long>(raw.records), raw_rate,
                  run.events_per_s, static_cast<long long>(run.events), 100 * ratio, run.wall,
                  1e6 * raw.cpu / std::max<int64_t>(1, raw.records),
                  1e6 * run.cpu / std::max<int64_t>(1, run.events),
                  equal ? "equal" : ("DIFFERS (" + run.digest.substr(0, 12) + " vs " + expected.substr(0, 12) + ")").c_str(),
                  run.peak_kb / 1024.0);
      std::fflush(stdout);
    }
  }
  std::printf("\n");
  for (const auto& [service, v] : ratios) {
    const double median = bench::Median(v);
    std::printf("%-13s median replay/raw consume %.0f %% of %zu run(s) (target >= 50 %%: %s), peak RSS %.0f MiB (target < 512 MiB: %s)\n",
                service.c_str(), 100 * median, v.size(), median >= 0.5 ? "met" : "MISSED",
                peaks[service] / 1024.0, peaks[service] < 512 * 1024 ? "met" : "MISSED");
  }
  std::printf("year_replay's own peak RSS (raw consume only: librdkafka readers, no store): %.0f MiB\n",
              bench::ReadMemory(getpid()).hwm_kb / 1024.0);
  std::printf("digests: %s\n", all_equal ? "every replay rebuilt the generated state" : "SOME DIFFER");
  std::fflush(stdout);
  if (remove) {
    std::vector<std::string> topics;
    for (absl::string_view n : kafka::kAllTopics) topics.push_back(prefix + std::string(n));
    (void)(*admin)->DeleteTopics(topics);
  }
  return all_equal ? 0 : 1;
}
