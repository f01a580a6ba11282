// Claims decision latency against a broker, in one run:
//   1. raw (the yardstick): N ClaimFiled request envelopes (built like the
//      claims gRPC edge builds them) produced into a topic with the services'
//      partition count and consumed back (read_committed);
//   2. starts the enrollment and claims service binaries as child processes on
//      the same topics (own config, tokens, worker-key secret, topic prefix,
//      stores; simulated clock), registers a platform and enrolls K workers
//      through SubmitEnrollments on 2022-03-15 (concentrated enrollment, plan
//      year 2022, no waiting period), then moves both clocks to 2022-06-20;
//   3. files hospital-allowance claims over gRPC (FileClaim, hall clerk's
//      token) with an OPEN-LOOP schedule: claim i is due at t0 + i / rate and
//      is sent then whether or not earlier ones were answered (a sender thread
//      and asynchronous calls on 8 connections); the latency of a claim is
//      measured from its due time to its answer, so a stalled service counts
//      against every claim that waited (no coordinated omission);
//   4. the answer of FileClaim is the claims processor's decision, returned
//      after the Kafka transaction holding its ClaimDecided event committed
//      and the state was written to RocksDB (processor on_committed ->
//      server::Answers): so "filing -> decision event committed" is what is
//      measured;
//   5. per rate: offered and achieved rate, p50/p99/p999/max latency,
//      statuses, errors; the services' peak RSS (VmHWM sampled every 200 ms)
//      and CPU.
// Rates: --rates 500,1000,… each for --seconds S (default 500 for 30 s);
// --max: after the fixed rates, a ladder of doubling rates (1000, 2000, …,
// then bisection) for --max-seconds each; a rate is sustained when the
// answers keep up (achieved >= 95 % of offered, no errors) and p99 < 1 s.
// Usage:
//   MUTUALAID_KAFKA_BOOTSTRAP=127.0.0.1:19506 claims_bench [--workers K]
//       [--rates 500] [--seconds 30] [--max] [--max-seconds 15]
//       [--partitions 6] [--broker-pid PID] [--services DIR] [--raw N] [--keep]
// tools/bench/claims.sh runs it against a private broker.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "memory.h"
#include "mutualaid/core/clock.h"
#include "mutualaid/core/worker_key.h"
#include "mutualaid/events/convert.h"
#include "mutualaid/events/envelope.h"
#include "mutualaid/kafka/admin.h"
#include "mutualaid/kafka/partition_reader.h"
#include "mutualaid/kafka/producer.h"
#include "mutualaid/kafka/topics.h"
#include "mutualaid/v1/admin.grpc.pb.h"
#include "mutualaid/v1/claims.grpc.pb.h"
#include "mutualaid/v1/enrollment.grpc.pb.h"
#include "year_workers.h"

namespace {

using namespace mutualaid;
using Stopwatch = std::chrono::steady_clock;

constexpr char kSecret[] = "a-bench-deployment-secret-of-48-bytes-0123456789";
constexpr char kOperationsToken[] = "operations-token-000001";
constexpr char kPlatformToken[] = "platform-p01-token-0001";
constexpr char kHallToken[] = "hall-clerk-token-000001";
constexpr char kTokens[] = R"(platform-p01-token-0001  platform     P01
hall-clerk-token-000001  hall         wang
operations-token-000001  operations   ops
)";
constexpr int kChannels = 8;

double Seconds(Stopwatch::time_point a, Stopwatch::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "claims_bench: %s\n", what.c_str());
  std::exit(1);
}
void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) Die(absl::StrCat(what, ": ", s.ToString()));
}

absl::CivilDay ClaimDay() { return absl::CivilDay(2022, 6, 20); }
absl::Time At(absl::CivilDay d) {
  return absl::FromCivil(absl::CivilSecond(d.year(), d.month(), d.day(), 10, 0, 0),
                         absl::FixedTimeZone(8 * 3600));
}

// Claim n: worker 1 + n % workers, admitted between 2022-04-01 and 2022-06-10
// (distinct admissions for a worker's successive claims).
v1::ClaimApplication ClaimFor(const std::string& run, int64_t n, int64_t workers) {
  const uint64_t w = 1 + static_cast<uint64_t>(n % workers);
  const int64_t round = n / workers;
  absl::CivilDay admission = absl::CivilDay(2022, 4, 1) + (round * 11 + static_cast<int64_t>(w % 7)) % 70;
  return bench::HospitalClaim(absl::StrCat(run, "-", n), bench::WorkerRecord(w).id_number(),
                              admission, static_cast<uint64_t>(n));
}

// --- raw yardstick -------------------------------------------------------------

struct Raw {
  double produce = 0, consume = 0, both = 0;
  size_t avg_bytes = 0;
};

// The request record the claims edge appends for `app` (claims_api.cc FileClaim).
kafka::Record FiledRecord(const std::string& topic, const WorkerKeyer& keyer,
                          const v1::ClaimApplication& app, int64_t n, int partitions) {
  const absl::Time now = At(ClaimDay());
  const std::string wk = keyer.KeyFor(app.id_number());
  events::EnvelopeHeader h;
  h.event_id = absl::StrFormat("claim-request/%016x", bench::Mix(static_cast<uint64_t>(n)));
  h.worker_key = wk;
  h.occurred_on = ShanghaiDay(now);
  h.recorded_at = now;
  h.causation_id = absl::StrCat("claim/", app.claim_id());
  h.producer = "claims";
  v1::Envelope env = events::NewEnvelope(h);
  v1::ClaimFiled* filed = env.mutable_claim_filed();
  *filed->mutable_application() = app;
  *filed->mutable_received_on() = events::ToProto(ShanghaiDay(now));
  *filed->mutable_received_at() = events::ToProto(now);
  filed->set_caller("hall:wang");
  filed->set_enrollment_requests_offset(n);
  kafka::Record r = events::ToRecord(topic, std::move(env));
  r.partition = kafka::PartitionOf(wk, partitions);
  return r;
}

Raw RawProduceConsume(const kafka::ClientConfig& client, kafka::Admin& admin,
                      const std::string& topic, int partitions, int64_t n, int64_t workers) {
  Check(admin.EnsureTopics({kafka::TopicSpec::EventLog(topic, partitions)}), "raw topic");
  auto keyer = WorkerKeyer::Create(kSecret);
  Check(keyer.status(), "keyer");
  std::vector<kafka::Record> samples;
  size_t bytes = 0;
  for (int i = 0; i < 3000; ++i) {
    samples.push_back(FiledRecord(topic, *keyer, ClaimFor("raw", i, workers), i, partitions));
    bytes += samples.back().value.size();
  }
  Raw raw;
  raw.avg_bytes = bytes / samples.size();
  auto producer = kafka::Producer::Create({.client = client});
  Check(producer.status(), "producer");
  std::atomic<int64_t> failed{0};
  auto t0 = Stopwatch::now();
  for (int64_t i = 0; i < n; ++i) {
    const kafka::Record& r = samples[static_cast<size_t>(i) % samples.size()];
    absl::Status s;
    while (!(s = (*producer)->AppendAsync(r, [&](auto d) { if (!d.ok()) ++failed; })).ok()) {
      if (s.code() != absl::StatusCode::kResourceExhausted) Check(s, "append");
      (void)(*producer)->Flush(absl::Milliseconds(50));
    }
  }
  Check((*producer)->Flush(absl::Minutes(5)), "flush");
  auto t1 = Stopwatch::now();
  if (failed.load() > 0) Die(absl::StrCat(failed.load(), " raw records failed"));
  int64_t count = 0;
  for (int p = 0; p < partitions; ++p) {
    auto reader = kafka::PartitionReader::Open(client, topic, p, 0);
    Check(reader.status(), "reader");
    while (true) {
      auto m = (*reader)->Next();
      Check(m.status(), "read");
      if (!m->has_value()) break;
      ++count;
    }
  }
  auto t2 = Stopwatch::now();
  if (count != n) Die(absl::StrCat("raw: consumed ", count, " of ", n));
  raw.produce = n / Seconds(t0, t1);
  raw.consume = n / Seconds(t1, t2);
  raw.both = n / Seconds(t0, t2);
  return raw;
}

// --- the service processes -----------------------------------------------------

struct Service {
  std::string name;
  pid_t pid = -1;
  std::filesystem::path dir;
  std::string address;

  std::string Log() const {
    std::ifstream in(dir / (name + ".log"));
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return s.size() > 4000 ? s.substr(s.size() - 4000) : s;
  }
  int Stop() {
    if (pid <= 0) return -1;
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
};

Service StartService(const std::string& binary, const std::string& name,
                     const std::filesystem::path& dir, const std::string& bootstrap,
                     const std::string& prefix, int partitions, const std::string& extra) {
  Service svc;
  svc.name = name;
  svc.dir = dir;
  std::ofstream(dir / (name + ".conf"))
      << "kafka.bootstrap = " << bootstrap << "\n"
      << "kafka.partitions = " << partitions << "\n"
      << "kafka.topic_prefix = " << prefix << "\n"
      << "grpc.listen = 127.0.0.1:0\n"
      << "auth.tokens_file = tokens.conf\n"
      << "store.path = store-" << name << "\n"
      << "worker_key.secret_file = secret.key\n"
      << "clock = simulated\n"
      << "clock.start = 2022-03-15\n"
      << extra;
  int out[2];
  if (pipe(out) != 0) Die("pipe");
  svc.pid = fork();
  if (svc.pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    if (chdir(dir.c_str()) != 0) _exit(126);
    FILE* err = std::freopen((dir / (name + ".log")).c_str(), "a", stderr);
    (void)err;
    std::string config = name + ".conf";
    execl(binary.c_str(), binary.c_str(), "--config", config.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  FILE* f = fdopen(out[0], "r");
  char line[256] = {0};
  bool got = std::fgets(line, sizeof line, f) != nullptr;
  std::fclose(f);
  std::string l(line);
  if (!got || l.rfind("listening ", 0) != 0) {
    Die(absl::StrCat(name, " did not start (", binary, "); its log:\n", svc.Log()));
  }
  svc.address = l.substr(10, l.find_last_not_of("\n") - 9);
  return svc;
}

std::unique_ptr<grpc::ClientContext> Call(const std::string& token, absl::Duration timeout) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  return ctx;
}

void SetDay(const Service& svc, absl::CivilDay day) {
  auto stub = v1::AdminService::NewStub(
      grpc::CreateChannel(svc.address, grpc::InsecureChannelCredentials()));
  v1::SetClockRequest req;
  *req.mutable_today() = events::ToProto(day);
  v1::ClockState resp;
  grpc::Status s = stub->SetClock(Call(kOperationsToken, absl::Seconds(30)).get(), req, &resp);
  if (!s.ok()) Die(absl::StrCat(svc.name, " SetClock: ", s.error_message()));
}

// --- the open-loop run ---------------------------------------------------------

struct Outcome {
  double offered = 0;       // claims/s scheduled
  int64_t sent = 0;
  int64_t ok = 0;
  int64_t errors = 0;
  double wall = 0;          // first due time -> last answer
  double achieved = 0;      // answers OK per second over `wall`
  double send_lag_max_ms = 0;  // how late the sender was against the schedule (client health)
  std::vector<double> latency_ms;  // due time -> answer, OK answers
  std::map<std::string, int64_t> by_status;
  std::map<std::string, int64_t> by_error;
  double claims_cpu = 0, enrollment_cpu = 0, broker_cpu = 0, self_cpu = 0;
  double load0 = 0, load1 = 0;
  bool Sustained() const {
    return errors == 0 && ok == sent && achieved >= 0.95 * offered &&
           mutualaid::bench::Percentile(latency_ms, 0.99) < 1000;
  }
};

struct AsyncCall {
  grpc::ClientContext ctx;
  v1::FileClaimResponse resp;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::FileClaimResponse>> rpc;
  Stopwatch::time_point due;
};

Outcome RunRate(const std::vector<std::unique_ptr<v1::ClaimsService::Stub>>& stubs,
                const std::string& run, int64_t first_claim, double rate, double seconds,
                int64_t workers, pid_t claims_pid, pid_t enrollment_pid, pid_t broker_pid) {
  Outcome out;
  out.offered = rate;
  const int64_t n = std::max<int64_t>(1, static_cast<int64_t>(rate * seconds));
  // Requests built before the clock starts, so the sender only sends.
  std::vector<v1::FileClaimRequest> requests(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    *requests[static_cast<size_t>(i)].mutable_application() = ClaimFor(run, first_claim + i, workers);
  }
  grpc::CompletionQueue cq;
  std::mutex mu;
  Stopwatch::time_point last_answer;
  std::thread reaper([&] {
    void* tag = nullptr;
    bool ok = false;
    int64_t done = 0;
    while (done < n && cq.Next(&tag, &ok)) {
      auto now = Stopwatch::now();
      std::unique_ptr<AsyncCall> c(static_cast<AsyncCall*>(tag));
      std::lock_guard<std::mutex> l(mu);
      last_answer = now;
      ++done;
      if (ok && c->status.ok()) {
        ++out.ok;
        out.latency_ms.push_back(std::chrono::duration<double, std::milli>(now - c->due).count());
        ++out.by_status[v1::ClaimStatus_Name(c->resp.claim().status()).substr(13)];
      } else {
        ++out.errors;
        ++out.by_error[absl::StrCat(c->status.error_code(), " ", c->status.error_message().substr(0, 60))];
      }
    }
  });
  out.load0 = bench::LoadAverage();
  const double c0 = bench::ProcessCpuSeconds(claims_pid), e0 = bench::ProcessCpuSeconds(enrollment_pid);
  const double b0 = bench::ProcessCpuSeconds(broker_pid), s0 = bench::ProcessCpuSeconds(getpid());
  const auto t0 = Stopwatch::now() + std::chrono::milliseconds(20);
  const auto period = std::chrono::duration<double>(1.0 / rate);
  for (int64_t i = 0; i < n; ++i) {
    const auto due = t0 + std::chrono::duration_cast<Stopwatch::duration>(period * static_cast<double>(i));
    std::this_thread::sleep_until(due);
    const auto now = Stopwatch::now();
    out.send_lag_max_ms =
        std::max(out.send_lag_max_ms, std::chrono::duration<double, std::milli>(now - due).count());
    auto* c = new AsyncCall;
    c->due = due;
    c->ctx.AddMetadata("authorization", std::string("Bearer ") + kHallToken);
    c->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    c->rpc = stubs[static_cast<size_t>(i) % stubs.size()]->AsyncFileClaim(
        &c->ctx, requests[static_cast<size_t>(i)], &cq);
    c->rpc->Finish(&c->resp, &c->status, c);
    ++out.sent;
  }
  reaper.join();
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
  out.claims_cpu = bench::ProcessCpuSeconds(claims_pid) - c0;
  out.enrollment_cpu = bench::ProcessCpuSeconds(enrollment_pid) - e0;
  out.broker_cpu = bench::ProcessCpuSeconds(broker_pid) - b0;
  out.self_cpu = bench::ProcessCpuSeconds(getpid()) - s0;
  out.load1 = bench::LoadAverage();
  out.wall = Seconds(t0, last_answer);
  out.achieved = out.ok / std::max(out.wall, 1e-9);
  return out;
}

void PrintRow(const char* label, const Outcome& o) {
  std::printf("| %s | %.0f/s | %.0f/s | %lld | %lld | %.0f | %.0f | %.0f | %.0f | %.1f s / %.1f s / %.1f s | %.1f -> %.1f | %s |\n",
              label, o.offered, o.achieved, static_cast<long long>(o.ok),
              static_cast<long long>(o.errors), bench::Percentile(o.latency_ms, 0.5),
              bench::Percentile(o.latency_ms, 0.99), bench::Percentile(o.latency_ms, 0.999),
              bench::Percentile(o.latency_ms, 1.0), o.claims_cpu, o.enrollment_cpu, o.broker_cpu,
              o.load0, o.load1, o.Sustained() ? "yes" : "no");
  std::fflush(stdout);
}

std::string Dir(const char* argv0) {
  std::filesystem::path self = std::filesystem::absolute(argv0);
  return (self.parent_path() / ".." / ".." / "services").lexically_normal().string();
}

}  // namespace

int main(int argc, char** argv) {
  int64_t workers = 20000;
  int partitions = 6;
  double seconds = 30, max_seconds = 15;
  std::vector<double> rates = {500};
  bool max = false, keep = false;
  int64_t raw_n = 100000;
  pid_t broker_pid = -1;
  std::string services = Dir(argv[0]);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die(absl::StrCat(a, ": needs a value"));
      return argv[++i];
    };
    if (a == "--max") {
      max = true;
    } else if (a == "--keep") {
      keep = true;
    } else if (a == "--workers") {
      workers = std::atoll(next().c_str());
    } else if (a == "--partitions") {
      partitions = std::atoi(next().c_str());
    } else if (a == "--seconds") {
      seconds = std::atof(next().c_str());
    } else if (a == "--max-seconds") {
      max_seconds = std::atof(next().c_str());
    } else if (a == "--raw") {
      raw_n = std::atoll(next().c_str());
    } else if (a == "--broker-pid") {
      broker_pid = std::atoi(next().c_str());
    } else if (a == "--services") {
      services = std::filesystem::absolute(next()).string();
    } else if (a == "--rates") {
      rates.clear();
      for (absl::string_view r : absl::StrSplit(next(), ',', absl::SkipEmpty())) {
        double v = 0;
        if (!absl::SimpleAtod(r, &v) || v <= 0) Die("--rates: positive numbers, comma-separated");
        rates.push_back(v);
      }
    } else {
      Die("usage: claims_bench [--workers K] [--rates 500,...] [--seconds S] [--max] "
          "[--max-seconds S] [--partitions P] [--raw N] [--broker-pid PID] [--services DIR] [--keep]");
    }
  }
  if (workers < 1 || partitions < 1 || seconds <= 0) Die("--workers, --partitions, --seconds: > 0");
  signal(SIGPIPE, SIG_IGN);
  auto client = kafka::ClientConfigFromEnv("claims-bench");
  Check(client.status(), "config");
  auto admin = kafka::Admin::Create(*client);
  Check(admin.status(), "admin");
  const std::string prefix =
      absl::StrCat("benchclm", getpid(), "-", std::random_device{}() % 100000, ".");
  std::printf("claims_bench: %lld workers, %d partitions, load %.2f, %ld cores\n",
              static_cast<long long>(workers), partitions, bench::LoadAverage(),
              sysconf(_SC_NPROCESSORS_ONLN));
  std::fflush(stdout);

  // 1. the yardstick
  const std::string raw_topic = prefix + "raw";
  Raw raw = RawProduceConsume(*client, **admin, raw_topic, partitions, raw_n, workers);
  std::printf("raw                %lld ClaimFiled records (%zu bytes): %.0f rec/s produce, %.0f rec/s consume, %.0f rec/s both\n",
              static_cast<long long>(raw_n), raw.avg_bytes, raw.produce, raw.consume, raw.both);
  std::fflush(stdout);

  // 2. the services, on topics made (and led) first
  auto ts0 = Stopwatch::now();
  {
    std::vector<kafka::TopicSpec> topics;
    for (absl::string_view t : kafka::kAllTopics) {
      topics.push_back(kafka::TopicSpec::EventLog(prefix + std::string(t), partitions));
    }
    Check((*admin)->EnsureTopics(topics, absl::Seconds(60)), "service topics");
    for (const auto& t : topics) {
      for (int p = 0; p < partitions; ++p) {
        for (int attempt = 0; !(*admin)->QueryWatermarks(t.name, p).ok(); ++attempt) {
          if (attempt > 100) Die(absl::StrCat("no leader for ", t.name, "/", p));
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
      }
    }
  }
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / prefix;
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "tokens.conf") << kTokens;
  std::ofstream(dir / "secret.key") << kSecret;
  Service enrollment = StartService(services + "/enrollment/enrollment", "enrollment", dir,
                                    client->bootstrap, prefix, partitions, "");
  Service claims = StartService(services + "/claims/claims", "claims", dir, client->bootstrap,
                                prefix, partitions, "");
  bench::PeakSampler sampler;
  sampler.Watch("enrollment", enrollment.pid);
  sampler.Watch("claims", claims.pid);
  sampler.Start();
  {
    auto channel = grpc::CreateChannel(enrollment.address, grpc::InsecureChannelCredentials());
    auto admin_stub = v1::AdminService::NewStub(channel);
    v1::RegisterPlatformRequest req;
    req.mutable_platform()->set_platform_id("P01");
    req.mutable_platform()->set_name("平台P01");
    req.mutable_platform()->set_payout_account("6222000000P01");
    v1::RegisterPlatformResponse resp;
    grpc::Status s = admin_stub->RegisterPlatform(Call(kOperationsToken, absl::Seconds(120)).get(), req, &resp);
    if (!s.ok()) Die(absl::StrCat("RegisterPlatform: ", s.error_message(), "\n", enrollment.Log()));
    // K workers in calls of 1000.
    auto stub = v1::EnrollmentService::NewStub(channel);
    int64_t accepted = 0;
    for (int64_t w = 1; w <= workers; w += 1000) {
      v1::SubmitEnrollmentsRequest sr;
      for (int64_t k = w; k < std::min(workers + 1, w + 1000); ++k) {
        *sr.add_records() = bench::WorkerRecord(static_cast<uint64_t>(k));
      }
      v1::SubmitEnrollmentsResponse sresp;
      grpc::Status ss = stub->SubmitEnrollments(Call(kPlatformToken, absl::Seconds(120)).get(), sr, &sresp);
      if (!ss.ok()) Die(absl::StrCat("SubmitEnrollments: ", ss.error_message(), "\n", enrollment.Log()));
      for (const auto& r : sresp.results()) accepted += r.status() == v1::ENROLLMENT_STATUS_ACCEPTED;
    }
    std::printf("enrolled           %lld of %lld workers accepted (2022-03-15, concentrated)\n",
                static_cast<long long>(accepted), static_cast<long long>(workers));
  }
  SetDay(enrollment, ClaimDay());
  SetDay(claims, ClaimDay());
  std::vector<std::unique_ptr<v1::ClaimsService::Stub>> stubs;
  for (int c = 0; c < kChannels; ++c) {
    grpc::ChannelArguments args;
    args.SetInt("bench.channel", c);  // a distinct connection each
    stubs.push_back(v1::ClaimsService::NewStub(
        grpc::CreateCustomChannel(claims.address, grpc::InsecureChannelCredentials(), args)));
  }
  std::printf("services           up, platform registered, workers enrolled in %.1f s (enrollment pid %d, claims pid %d)\n",
              Seconds(ts0, Stopwatch::now()), enrollment.pid, claims.pid);
  std::fflush(stdout);

  // Warm-up: the claims processor reads the enrollment events, connections open.
  const std::string run = absl::StrFormat("B%d", getpid());
  int64_t next_claim = 0;
  {
    Outcome warm = RunRate(stubs, run, next_claim, 100, 3, workers, claims.pid, enrollment.pid, broker_pid);
    next_claim += warm.sent;
    std::printf("warm-up            %lld claims at 100/s: %lld OK, p50 %.0f ms\n",
                static_cast<long long>(warm.sent), static_cast<long long>(warm.ok),
                bench::Percentile(warm.latency_ms, 0.5));
  }

  std::printf("\n| run | offered | achieved | OK | errors | p50 ms | p99 ms | p999 ms | max ms | CPU claims / enrollment / broker | load | sustained |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  std::vector<std::pair<std::string, Outcome>> outcomes;
  for (double r : rates) {
    Outcome o = RunRate(stubs, run, next_claim, r, seconds, workers, claims.pid, enrollment.pid, broker_pid);
    next_claim += o.sent;
    std::string label = absl::StrFormat("fixed %.0f/s, %.0f s", r, seconds);
    PrintRow(label.c_str(), o);
    outcomes.push_back({label, std::move(o)});
  }
  double best = 0;
  if (max) {
    // Doubling until a rate is not sustained, then bisect between the last
    // sustained and the first not (3 steps).
    double lo = 0, hi = 0;
    for (double r = 1000; r <= 64000; r *= 2) {
      Outcome o = RunRate(stubs, run, next_claim, r, max_seconds, workers, claims.pid, enrollment.pid, broker_pid);
      next_claim += o.sent;
      std::string label = absl::StrFormat("ladder %.0f/s, %.0f s", r, max_seconds);
      PrintRow(label.c_str(), o);
      const bool ok = o.Sustained();
      outcomes.push_back({label, std::move(o)});
      if (!ok) {
        hi = r;
        break;
      }
      lo = r;
    }
    if (hi == 0) hi = lo * 2;
    for (int step = 0; step < 3 && hi - lo > 100; ++step) {
      double r = std::round((lo + hi) / 2 / 50) * 50;
      if (r <= lo || r >= hi) break;
      // Let the backlog of the failed step drain first.
      std::this_thread::sleep_for(std::chrono::seconds(5));
      Outcome o = RunRate(stubs, run, next_claim, r, max_seconds, workers, claims.pid, enrollment.pid, broker_pid);
      next_claim += o.sent;
      std::string label = absl::StrFormat("bisect %.0f/s, %.0f s", r, max_seconds);
      PrintRow(label.c_str(), o);
      (o.Sustained() ? lo : hi) = r;
      outcomes.push_back({label, std::move(o)});
    }
    best = lo;
  }
  sampler.Stop();
  auto peaks = sampler.Peaks();

  std::printf("\nraw produce+consume of the same ClaimFiled records: %.0f rec/s (produce %.0f, consume %.0f)\n",
              raw.both, raw.produce, raw.consume);
  for (const auto& [label, o] : outcomes) {
    std::string statuses, errors;
    for (const auto& [k, v] : o.by_status) absl::StrAppend(&statuses, statuses.empty() ? "" : ", ", k, " ", v);
    for (const auto& [k, v] : o.by_error) absl::StrAppend(&errors, errors.empty() ? "" : "; ", k, " x", v);
    std::printf("%-26s decisions: %s%s%s; sender max %.1f ms late\n", label.c_str(),
                statuses.c_str(), errors.empty() ? "" : "; errors: ", errors.c_str(),
                o.send_lag_max_ms);
  }
  for (const auto& [label, o] : outcomes) {
    if (label.rfind("fixed 500/s", 0) != 0) continue;
    const double p99 = bench::Percentile(o.latency_ms, 0.99);
    std::printf("target p99 < 250 ms at 500/s: p99 %.0f ms -> %s\n", p99, p99 < 250 ? "met" : "MISSED");
  }
  if (max) {
    std::printf("max sustainable rate: %.0f claims/s (%.0f %% of raw produce+consume)\n", best,
                100 * best / raw.both);
  }
  std::printf("peak RSS (VmHWM): claims %.0f MiB, enrollment %.0f MiB (%lld workers enrolled, %lld claims filed)\n",
              peaks["claims"] / 1024.0, peaks["enrollment"] / 1024.0,
              static_cast<long long>(workers), static_cast<long long>(next_claim));
  std::fflush(stdout);

  int code_c = claims.Stop();
  int code_e = enrollment.Stop();
  if (code_c != 0) std::printf("claims exited %d; its log:\n%s\n", code_c, claims.Log().c_str());
  if (code_e != 0) std::printf("enrollment exited %d; its log:\n%s\n", code_e, enrollment.Log().c_str());
  if (!keep) {
    std::vector<std::string> topics = {raw_topic};
    for (absl::string_view t : kafka::kAllTopics) topics.push_back(prefix + std::string(t));
    (void)(*admin)->DeleteTopics(topics);
    std::filesystem::remove_all(dir);
  }
  return 0;
}
