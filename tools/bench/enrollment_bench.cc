// The enrollment service end to end against a broker, in one run:
//   1. raw: produce N records the size of the enrollment requests (serialized
//      EnrollmentRequested envelopes, built like the gRPC edge builds them;
//      idempotent producer, lz4, the library's default linger) into a topic
//      with the service's partition count, and consume them all back
//      (read_committed) — the yardstick;
//   2. starts the enrollment service binary as a child process (own config,
//      tokens, worker-key secret, topic prefix and store in a temp dir;
//      simulated clock at 2022-03-10) and registers three platforms;
//   3. streams N generated records split over 3 platforms, one bidi
//      StreamEnrollments stream each (writer + reader thread), ~1 % invalid ID
//      numbers and ~2 % of workers sent by two platforms (DUPLICATE_IN_PLAN_YEAR),
//      and times from the first record sent to the last result received;
//   4. prints rates, the ratio, results by status and reason, the service's
//      peak RSS (VmHWM, sampled), the CPU each process and each service thread
//      group used during the stream, and (--metrics) the processor's counters
//      from the service's /metrics.
// Usage:
//   MUTUALAID_KAFKA_BOOTSTRAP=127.0.0.1:19392 enrollment_bench [N] [--service PATH]
//       [--partitions P] [--metrics] [--broker-pid PID] [--keep] [--no-sealing]
//   (sealing on by default, as deployed: a master key, a data key per new worker)
// tools/bench/enrollment.sh runs it against a private broker.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "mutualaid/core/clock.h"
#include "mutualaid/core/worker_key.h"
#include "mutualaid/events/convert.h"
#include "mutualaid/events/envelope.h"
#include "mutualaid/http/client.h"
#include "mutualaid/kafka/admin.h"
#include "mutualaid/kafka/partition_reader.h"
#include "mutualaid/kafka/producer.h"
#include "mutualaid/kafka/topics.h"
#include "mutualaid/plan/validation.h"
#include "mutualaid/v1/admin.grpc.pb.h"
#include "mutualaid/v1/enrollment.grpc.pb.h"

namespace {

using namespace mutualaid;
using Stopwatch = std::chrono::steady_clock;

constexpr char kSecret[] = "a-bench-deployment-secret-of-48-bytes-0123456789";
constexpr char kOperationsToken[] = "operations-token-000001";
constexpr const char* kPlatforms[] = {"P01", "P02", "P03"};
constexpr const char* kPlatformTokens[] = {"platform-p01-token-0001", "platform-p02-token-0002",
                                           "platform-p03-token-0003"};
constexpr char kTokens[] = R"(platform-p01-token-0001  platform     P01
platform-p02-token-0002  platform     P02
platform-p03-token-0003  platform     P03
operations-token-000001  operations   ops
)";

double Seconds(Stopwatch::time_point a, Stopwatch::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "enrollment_bench: %s\n", what.c_str());
  std::exit(1);
}
void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) Die(absl::StrCat(what, ": ", s.ToString()));
}

// --- generated workers ---------------------------------------------------------

constexpr const char* kSurnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
                                     "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "高"};
constexpr const char* kGiven[] = {"伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "杰", "涛",
                                  "强", "军", "平", "刚", "桂英", "建华", "海燕", "志强", "秀英"};
constexpr const char* kIndustries[] = {"FOOD_DELIVERY", "INSTANT_DELIVERY", "EXPRESS_DELIVERY",
                                       "RIDE_HAILING", "INTRACITY_FREIGHT"};
constexpr const char* kRegions[] = {"310101", "310115", "340104", "320106", "410102", "510104"};

uint64_t Mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Worker `w` (distinct workers get distinct ID numbers up to 74 M): born
// 1967..2003 (18-55 on 2022-03-10), like `mutualctl generate workers`.
v1::EnrollmentRecord WorkerRecord(uint64_t w) {
  uint64_t h = Mix(w);
  uint64_t rest = w / 6;
  int seq = static_cast<int>(rest % 1000);
  uint64_t d = rest / 1000;  // distinct (year, month, day) per thousand
  int day = 1 + static_cast<int>(d % 28);
  int month = 1 + static_cast<int>((d / 28) % 12);
  int year = 1967 + static_cast<int>((d / 336 + h) % 37);
  std::string first17 =
      absl::StrFormat("%s%04d%02d%02d%03d", kRegions[w % 6], year, month, day, seq);
  v1::EnrollmentRecord r;
  r.set_name(std::string(kSurnames[h % 20]) + kGiven[(h >> 8) % 19]);
  r.set_id_number(first17 + plan::IdNumberCheckChar(first17));
  r.set_phone(absl::StrFormat("1%d%09d", 3 + static_cast<int>((h >> 16) % 7),
                              static_cast<int>(w % 1000000000)));
  r.set_industry(kIndustries[(h >> 24) % 5]);
  return r;
}

// The records of platform `p` (0..2) out of `per` each: workers
// [p*(per-overlap), …), so neighbouring platforms share `overlap` workers;
// ~1 % of records carry a wrong check character.
struct Plan {
  int64_t per = 0;
  int64_t overlap = 0;
  v1::EnrollmentRecord Record(int p, int64_t i) const {
    uint64_t worker = static_cast<uint64_t>(p * (per - overlap) + i) + 1;
    v1::EnrollmentRecord r = WorkerRecord(worker);
    r.set_platform_record_id(absl::StrCat("R", i));
    if (Mix(worker * 7 + static_cast<uint64_t>(p)) % 100 == 0) {
      std::string id = r.id_number();
      id.back() = id.back() == '0' ? '1' : '0';
      if (plan::IdNumberCheckChar(id.substr(0, 17)) == id.back()) id.back() = '2';
      r.set_id_number(id);
    }
    return r;
  }
};

// The request envelope the gRPC edge appends for `record` (enrollment_api.cc Prepare).
kafka::Record RequestRecord(const std::string& topic, const WorkerKeyer& keyer,
                            const std::string& platform, const v1::EnrollmentRecord& record,
                            absl::Time now, uint64_t n) {
  std::string request_id = absl::StrCat(platform, "/", record.platform_record_id());
  events::EnvelopeHeader h;
  h.event_id = absl::StrFormat("enrollment-request/%016x%016x", Mix(n), Mix(n + 1));
  h.worker_key = keyer.KeyFor(record.id_number());
  h.occurred_on = ShanghaiDay(now);
  h.recorded_at = now;
  h.causation_id = request_id;
  h.producer = "enrollment-0";
  v1::Envelope env = events::NewEnvelope(h);
  v1::EnrollmentRequested* req = env.mutable_enrollment_requested();
  req->set_request_id(request_id);
  req->set_platform_id(platform);
  *req->mutable_record() = record;
  *req->mutable_application_date() = events::ToProto(ShanghaiDay(now));
  *req->mutable_received_at() = events::ToProto(now);
  req->set_caller(absl::StrCat("platform:", platform));
  return events::ToRecord(topic, std::move(env));
}

// --- raw yardstick -------------------------------------------------------------

struct Raw {
  double produce = 0, consume = 0, both = 0;
  size_t avg_bytes = 0;
};

Raw RawProduceConsume(const kafka::ClientConfig& client, kafka::Admin& admin,
                      const std::string& topic, int partitions, int64_t n, const Plan& plan) {
  Check(admin.EnsureTopics({kafka::TopicSpec::EventLog(topic, partitions)}), "raw topic");
  auto keyer = WorkerKeyer::Create(kSecret);
  Check(keyer.status(), "keyer");
  // 3000 real request envelopes, cycled (so the loop measures the broker, not
  // envelope building).
  const absl::Time now = absl::FromCivil(absl::CivilSecond(2022, 3, 10, 9, 0, 0),
                                         absl::FixedTimeZone(8 * 3600));
  std::vector<kafka::Record> samples;
  size_t bytes = 0;
  for (int i = 0; i < 3000; ++i) {
    int p = i % 3;
    samples.push_back(RequestRecord(topic, *keyer, kPlatforms[p], plan.Record(p, i / 3), now, i));
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

// --- the service process -------------------------------------------------------

struct Service {
  pid_t pid = -1;
  std::filesystem::path dir;
  std::string address;
  std::string metrics_address;

  std::string Log() const {
    std::ifstream in(dir / "enrollment.log");
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

Service StartService(const std::string& binary, const std::string& bootstrap,
                     const std::string& prefix, int partitions, bool metrics, bool sealing) {
  Service svc;
  svc.dir = std::filesystem::temp_directory_path() / prefix;
  std::filesystem::create_directories(svc.dir);
  std::ofstream(svc.dir / "tokens.conf") << kTokens;
  std::ofstream(svc.dir / "secret.key") << kSecret;
  // As deployed: personal data sealed under per-worker keys (a key made and
  // appended to the keys topic for each new worker). --no-sealing: without.
  if (sealing) {
    std::ofstream(svc.dir / "master.key")
        << "62656e63682d6d61737465722d6b65792d6f662d33322d62797465732d303031\n";
  }
  std::ofstream(svc.dir / "service.conf")
      << "kafka.bootstrap = " << bootstrap << "\n"
      << "kafka.partitions = " << partitions << "\n"
      << "kafka.topic_prefix = " << prefix << "\n"
      << "grpc.listen = 127.0.0.1:0\n"
      << "auth.tokens_file = tokens.conf\n"
      << "store.path = store\n"
      << "worker_key.secret_file = secret.key\n"
      << "clock = simulated\n"
      << "clock.start = 2022-03-10\n"
      << (sealing ? "crypto.master_key_file = master.key\n" : "")
      << (metrics ? "metrics.listen = 127.0.0.1:0\n" : "");
  int out[2];
  if (pipe(out) != 0) Die("pipe");
  svc.pid = fork();
  if (svc.pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    if (chdir(svc.dir.c_str()) != 0) _exit(126);
    FILE* err = std::freopen((svc.dir / "enrollment.log").c_str(), "a", stderr);
    (void)err;
    execl(binary.c_str(), binary.c_str(), "--config", "service.conf", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  FILE* f = fdopen(out[0], "r");
  char line[256] = {0};
  bool got = std::fgets(line, sizeof line, f) != nullptr;
  std::fclose(f);
  std::string l(line);
  if (!got || l.rfind("listening ", 0) != 0) {
    Die(absl::StrCat("the service did not start (", binary, "); its log:\n", svc.Log()));
  }
  svc.address = l.substr(10, l.find_last_not_of("\n") - 9);
  if (metrics) {
    std::ifstream in(svc.dir / "enrollment.log");
    std::string s;
    while (std::getline(in, s)) {
      if (s.find("metrics listening") == std::string::npos) continue;
      size_t a = s.find("\"address\":\"");
      if (a == std::string::npos) continue;
      a += 11;
      svc.metrics_address = s.substr(a, s.find('"', a) - a);
    }
  }
  return svc;
}

std::unique_ptr<grpc::ClientContext> Call(const std::string& token, absl::Duration timeout) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + absl::ToChronoSeconds(timeout));
  return ctx;
}

// --- /proc sampling ------------------------------------------------------------

struct ProcStatus {
  int64_t hwm_kb = 0, rss_kb = 0;
};
ProcStatus ReadStatus(pid_t pid) {
  ProcStatus st;
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) st.hwm_kb = std::atoll(line.c_str() + 6);
    if (line.rfind("VmRSS:", 0) == 0) st.rss_kb = std::atoll(line.c_str() + 6);
  }
  return st;
}

// utime+stime in seconds of a /proc/…/stat file, and its comm.
std::pair<std::string, double> ReadCpu(const std::string& stat_path) {
  std::ifstream in(stat_path);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t open = s.find('('), close = s.rfind(')');
  if (open == std::string::npos || close == std::string::npos) return {"", 0};
  std::string comm = s.substr(open + 1, close - open - 1);
  std::istringstream rest(s.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::atof(field.c_str());
  }
  return {comm, ticks / static_cast<double>(sysconf(_SC_CLK_TCK))};
}

// CPU seconds by thread name (digits dropped, so a pool is one row).
std::map<std::string, double> ThreadCpu(pid_t pid) {
  std::map<std::string, double> out;
  std::error_code ec;
  for (const auto& e :
       std::filesystem::directory_iterator(absl::StrCat("/proc/", pid, "/task"), ec)) {
    auto [comm, secs] = ReadCpu((e.path() / "stat").string());
    std::string name;
    for (char c : comm) {
      if (c < '0' || c > '9') name += c;
    }
    out[name] += secs;
  }
  return out;
}

double ProcessCpu(pid_t pid) {
  if (pid <= 0) return 0;
  return ReadCpu(absl::StrCat("/proc/", pid, "/stat")).second;
}

double LoadAverage() {
  double l = 0;
  std::ifstream("/proc/loadavg") >> l;
  return l;
}

// --- the streams ---------------------------------------------------------------

struct StreamResult {
  int64_t sent = 0, received = 0;
  Stopwatch::time_point first_sent, all_sent, first_result, last_result;
  std::map<std::string, int64_t> by_status;
  std::map<std::string, int64_t> by_reason;
  std::vector<double> latency_ms;  // sampled: every 16th record
  grpc::Status status;
};

std::atomic<int64_t> g_received{0};

// The processor's consumer lag on the requests topic, from /metrics (-1: unknown).
int64_t RequestsLag(http::Client& mc) {
  auto got = mc.Get("/metrics");
  if (!got.ok()) return -1;
  int64_t lag = 0;
  std::istringstream in(got->body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("mutualaid_consumer_lag{", 0) != 0) continue;
    if (line.find("enrollment.requests") == std::string::npos) continue;
    lag += static_cast<int64_t>(std::atof(line.c_str() + line.rfind(' ') + 1));
  }
  return lag;
}

StreamResult RunStream(const std::shared_ptr<grpc::Channel>& channel, int p, const Plan& plan,
                       int64_t count) {
  StreamResult out;
  auto stub = v1::EnrollmentService::NewStub(channel);
  auto ctx = Call(kPlatformTokens[p], absl::Hours(2));
  auto stream = stub->StreamEnrollments(ctx.get());
  std::vector<Stopwatch::time_point> sent_at(static_cast<size_t>(count / 16 + 1));
  std::thread writer([&] {
    out.first_sent = Stopwatch::now();
    for (int64_t i = 0; i < count; ++i) {
      v1::EnrollmentRecord r = plan.Record(p, i);
      if (i % 16 == 0) sent_at[static_cast<size_t>(i / 16)] = Stopwatch::now();
      if (!stream->Write(r)) break;
      ++out.sent;
    }
    stream->WritesDone();
    out.all_sent = Stopwatch::now();
  });
  v1::EnrollmentResult result;
  while (stream->Read(&result)) {
    auto now = Stopwatch::now();
    if (out.received == 0) out.first_result = now;
    out.last_result = now;
    ++out.received;
    g_received.fetch_add(1, std::memory_order_relaxed);
    ++out.by_status[v1::EnrollmentStatus_Name(result.status()).substr(18)];
    for (int code : result.decision().reasons()) {
      ++out.by_reason[v1::ReasonCode_Name(code).substr(12)];
    }
    int64_t i = 0;
    if (absl::SimpleAtoi(absl::string_view(result.platform_record_id()).substr(1), &i) &&
        i % 16 == 0) {
      out.latency_ms.push_back(
          std::chrono::duration<double, std::milli>(now - sent_at[static_cast<size_t>(i / 16)])
              .count());
    }
  }
  writer.join();
  out.status = stream->Finish();
  return out;
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  size_t k = static_cast<size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

std::string DefaultServiceBinary(const char* argv0) {
  std::filesystem::path self = std::filesystem::absolute(argv0);
  return (self.parent_path() / ".." / ".." / "services" / "enrollment" / "enrollment")
      .lexically_normal()
      .string();
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = 1000000;
  int partitions = 6;
  bool metrics = false, keep = false, sealing = true;
  pid_t broker_pid = -1;
  std::string binary = DefaultServiceBinary(argv[0]);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--metrics") {
      metrics = true;
    } else if (a == "--keep") {
      keep = true;
    } else if (a == "--no-sealing") {
      sealing = false;
    } else if (a == "--service" && i + 1 < argc) {
      binary = std::filesystem::absolute(argv[++i]).string();
    } else if (a == "--partitions" && i + 1 < argc) {
      partitions = std::atoi(argv[++i]);
    } else if (a == "--broker-pid" && i + 1 < argc) {
      broker_pid = std::atoi(argv[++i]);
    } else if (!absl::SimpleAtoi(a, &n) || n < 3) {
      Die("usage: enrollment_bench [N] [--service PATH] [--partitions P] [--metrics] "
          "[--broker-pid PID] [--keep] [--no-sealing]");
    }
  }
  signal(SIGPIPE, SIG_IGN);
  auto client = kafka::ClientConfigFromEnv("enrollment-bench");
  Check(client.status(), "config");
  auto admin = kafka::Admin::Create(*client);
  Check(admin.status(), "admin");
  const std::string prefix =
      absl::StrCat("benchenr", getpid(), "-", std::random_device{}() % 100000, ".");
  Plan plan;
  plan.per = n / 3;
  plan.overlap = plan.per / 50;  // 2 % of each platform's workers also come from the next one
  const int64_t total = n;  // platform p sends plan.per + (p < n % 3)
  auto count_of = [&](int p) { return plan.per + (p < n % 3 ? 1 : 0); };
  std::printf("enrollment_bench: N %lld (3 platforms x ~%lld), %d partitions, load %.2f, %ld cores\n",
              static_cast<long long>(total), static_cast<long long>(plan.per), partitions,
              LoadAverage(), sysconf(_SC_NPROCESSORS_ONLN));
  std::fflush(stdout);

  // 1. the yardstick
  const std::string raw_topic = prefix + "raw";
  Raw raw = RawProduceConsume(*client, **admin, raw_topic, partitions, total, plan);
  std::printf("raw                %.0f rec/s produce, %.0f rec/s consume, %.0f rec/s both (%zu-byte values)\n",
              raw.produce, raw.consume, raw.both, raw.avg_bytes);
  std::fflush(stdout);

  // 2. the service. Its topics are made here first and every partition's
  // leader waited for: a processor started on just-created topics can stop
  // with NOT_LEADER_FOR_PARTITION (seen under load; reported, not fixed here).
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
  Service svc = StartService(binary, client->bootstrap, prefix, partitions, metrics, sealing);
  int restarts = 0;
  for (const char* id : kPlatforms) {
    for (int attempt = 1;; ++attempt) {
      auto channel = grpc::CreateChannel(svc.address, grpc::InsecureChannelCredentials());
      auto admin_stub = v1::AdminService::NewStub(channel);
      v1::RegisterPlatformRequest req;
      req.mutable_platform()->set_platform_id(id);
      req.mutable_platform()->set_name(absl::StrCat("平台", id));
      req.mutable_platform()->set_payout_account(absl::StrCat("6222000000", id));
      v1::RegisterPlatformResponse resp;
      grpc::Status s = admin_stub->RegisterPlatform(
          Call(kOperationsToken, absl::Seconds(120)).get(), req, &resp);
      if (s.ok()) break;
      if (attempt >= 3) {
        Die(absl::StrCat("RegisterPlatform ", id, ": ", s.error_message(), "\n", svc.Log()));
      }
      std::fprintf(stderr, "enrollment_bench: RegisterPlatform %s: %s; retrying\n", id,
                   s.error_message().c_str());
      if (waitpid(svc.pid, nullptr, WNOHANG) == svc.pid) {  // it stopped: start it again
        std::fprintf(stderr, "enrollment_bench: the service stopped; its log:\n%s\n",
                     svc.Log().c_str());
        svc.pid = -1;
        svc = StartService(binary, client->bootstrap, prefix, partitions, metrics, sealing);
        ++restarts;
      }
    }
  }
  auto ts1 = Stopwatch::now();
  std::printf("service            up and 3 platforms registered in %.1f s (pid %d, %d restarts)\n",
              Seconds(ts0, ts1), svc.pid, restarts);
  std::fflush(stdout);

  // RSS sampler
  std::atomic<bool> sampling{true};
  int64_t peak_rss_kb = 0, peak_hwm_kb = 0;
  // Every second: results so far, and (--metrics) the processor's lag.
  std::vector<std::pair<int64_t, int64_t>> timeline;
  std::thread sampler([&] {
    std::unique_ptr<http::Client> mc;
    if (!svc.metrics_address.empty()) {
      size_t colon = svc.metrics_address.rfind(':');
      mc = std::make_unique<http::Client>(svc.metrics_address.substr(0, colon),
                                          std::atoi(svc.metrics_address.c_str() + colon + 1));
    }
    for (int tick = 0; sampling.load(); ++tick) {
      ProcStatus st = ReadStatus(svc.pid);
      peak_rss_kb = std::max(peak_rss_kb, st.rss_kb);
      peak_hwm_kb = std::max(peak_hwm_kb, st.hwm_kb);
      if (tick % 5 == 4) timeline.push_back({g_received.load(), mc ? RequestsLag(*mc) : -1});
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });

  // 3. the streams: one channel (connection) per platform
  auto threads0 = ThreadCpu(svc.pid);
  double svc_cpu0 = ProcessCpu(svc.pid), broker_cpu0 = ProcessCpu(broker_pid);
  double self_cpu0 = ProcessCpu(getpid());
  double load0 = LoadAverage();
  std::vector<StreamResult> results(3);
  std::vector<std::thread> streams;
  for (int p = 0; p < 3; ++p) {
    grpc::ChannelArguments args;
    args.SetInt("bench.platform", p);  // a distinct connection per platform
    args.SetMaxReceiveMessageSize(-1);
    auto ch = grpc::CreateCustomChannel(svc.address, grpc::InsecureChannelCredentials(), args);
    streams.emplace_back([&, p, ch] { results[p] = RunStream(ch, p, plan, count_of(p)); });
  }
  for (auto& t : streams) t.join();
  double svc_cpu1 = ProcessCpu(svc.pid), broker_cpu1 = ProcessCpu(broker_pid);
  double self_cpu1 = ProcessCpu(getpid());
  auto threads1 = ThreadCpu(svc.pid);
  double load1 = LoadAverage();
  sampling.store(false);
  sampler.join();
  ProcStatus end = ReadStatus(svc.pid);
  peak_hwm_kb = std::max(peak_hwm_kb, end.hwm_kb);

  std::string metrics_text;
  if (!svc.metrics_address.empty()) {
    size_t colon = svc.metrics_address.rfind(':');
    http::Client mc(svc.metrics_address.substr(0, colon),
                    std::atoi(svc.metrics_address.c_str() + colon + 1));
    auto got = mc.Get("/metrics");
    if (got.ok()) metrics_text = got->body;
  }

  // 4. the table
  Stopwatch::time_point first = results[0].first_sent, last = results[0].last_result;
  int64_t received = 0, sent = 0;
  std::map<std::string, int64_t> by_status, by_reason;
  std::vector<double> latencies;
  bool all_ok = true;
  for (const StreamResult& r : results) {
    first = std::min(first, r.first_sent);
    last = std::max(last, r.last_result);
    received += r.received;
    sent += r.sent;
    for (const auto& [k, v] : r.by_status) by_status[k] += v;
    for (const auto& [k, v] : r.by_reason) by_reason[k] += v;
    latencies.insert(latencies.end(), r.latency_ms.begin(), r.latency_ms.end());
    if (!r.status.ok()) {
      all_ok = false;
      std::printf("stream             ended %d: %s\n", r.status.error_code(),
                  r.status.error_message().c_str());
    }
  }
  const double wall = Seconds(first, last);
  const double e2e = received / wall;
  std::printf("\n| measure | value |\n|---|---|\n");
  std::printf("| N | %lld records, 3 platforms, %d partitions, personal data %s |\n",
              static_cast<long long>(total), partitions,
              sealing ? "sealed (a data key per new worker)" : "NOT sealed (--no-sealing)");
  std::printf("| raw produce+consume | %.0f rec/s (produce %.0f, consume %.0f; %zu-byte values) |\n",
              raw.both, raw.produce, raw.consume, raw.avg_bytes);
  std::printf("| end to end | %.0f rec/s (%lld results of %lld sent in %.1f s) |\n", e2e,
              static_cast<long long>(received), static_cast<long long>(sent), wall);
  std::printf("| ratio | %.0f %% (target >= 50 %%): %s |\n", 100 * e2e / raw.both,
              e2e >= 0.5 * raw.both ? "met" : "MISSED");
  std::printf("| 1 M in < 2 min | %s (projected 1 M: %.0f s) |\n",
              total >= 1000000 ? (wall < 120 ? "yes" : "NO") : "n/a (N < 1 M)", 1e6 / e2e);
  std::string statuses;
  for (const auto& [k, v] : by_status) absl::StrAppend(&statuses, statuses.empty() ? "" : ", ", k, " ", v);
  std::printf("| results by status | %s |\n", statuses.c_str());
  std::string reasons;
  for (const auto& [k, v] : by_reason) absl::StrAppend(&reasons, reasons.empty() ? "" : ", ", k, " ", v);
  std::printf("| reasons | %s |\n", reasons.c_str());
  std::printf("| latency send->result | p50 %.0f ms, p99 %.0f ms, max %.0f ms (every 16th record) |\n",
              Percentile(latencies, 0.5), Percentile(latencies, 0.99), Percentile(latencies, 1.0));
  std::printf("| service peak RSS | %.0f MiB (VmHWM; sampled VmRSS max %.0f MiB) |\n",
              peak_hwm_kb / 1024.0, peak_rss_kb / 1024.0);
  std::printf("| CPU during stream | service %.1f s, broker %s, bench client %.1f s, over %.1f s wall "
              "(%ld cores; load %.1f -> %.1f) |\n",
              svc_cpu1 - svc_cpu0,
              broker_pid > 0 ? absl::StrFormat("%.1f s", broker_cpu1 - broker_cpu0).c_str() : "?",
              self_cpu1 - self_cpu0, wall, sysconf(_SC_NPROCESSORS_ONLN), load0, load1);
  std::printf("| all streams OK | %s |\n", all_ok && received == total ? "yes" : "NO");

  std::vector<std::pair<double, std::string>> per_thread;
  for (const auto& [name, secs] : threads1) {
    double d = secs - (threads0.count(name) ? threads0[name] : 0);
    if (d > 0.05) per_thread.push_back({d, name});
  }
  std::sort(per_thread.rbegin(), per_thread.rend());
  std::printf("\nservice CPU by thread name during the stream (s, share of service CPU):\n");
  for (const auto& [d, name] : per_thread) {
    std::printf("  %-18s %7.1f  %4.0f %%\n", name.c_str(), d, 100 * d / (svc_cpu1 - svc_cpu0));
  }
  if (!metrics_text.empty()) {
    std::printf("\nprocessor (service /metrics):\n");
    std::istringstream in(metrics_text);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("mutualaid_processor_records_total", 0) == 0 ||
          line.rfind("mutualaid_transaction_aborts_total", 0) == 0 ||
          line.rfind("mutualaid_producer_restarts_total", 0) == 0 ||
          line.rfind("mutualaid_store_bytes", 0) == 0) {
        std::printf("  %s\n", line.c_str());
      }
    }
  }
  // Transactions: each commit leaves one marker in every events partition it
  // wrote to, so high watermarks minus events = commits x partitions touched.
  int64_t events_hw = 0;
  for (int p = 0; p < partitions; ++p) {
    auto w = (*admin)->QueryWatermarks(prefix + std::string(kafka::kEnrollmentEvents), p);
    if (w.ok()) events_hw += w->high;
  }
  const int64_t events = received + 3 * partitions;  // + the platform registrations
  std::printf("\nevents topic: %lld offsets for ~%lld events -> ~%lld transaction markers "
              "(commits x partitions each touched); ~%.0f results per marker\n",
              static_cast<long long>(events_hw), static_cast<long long>(events),
              static_cast<long long>(events_hw - events),
              static_cast<double>(events) / static_cast<double>(std::max<int64_t>(1, events_hw - events)));
  // What one Processor::RefreshInputs costs (processor.cc: at most every
  // 200 ms, a CatchUp per assigned partition of the claims-events input
  // topic, each opening a new PartitionReader, i.e. a new librdkafka handle,
  // even when the topic is empty): the same opens, timed here.
  {
    auto r0 = Stopwatch::now();
    for (int p = 0; p < partitions; ++p) {
      auto reader = kafka::PartitionReader::Open(
          *client, prefix + std::string(kafka::kClaimsEvents), p, 0);
      if (!reader.ok()) break;
      while (true) {
        auto m = (*reader)->Next();
        if (!m.ok() || !m->has_value()) break;
      }
    }
    std::printf("open+read-to-end of the empty claims-events topic, %d partitions (what one "
                "RefreshInputs does): %.0f ms\n",
                partitions, 1000 * Seconds(r0, Stopwatch::now()));
  }
  std::printf("timeline (per second: results/s%s):\n ", metrics ? " [requests-topic lag]" : "");
  int64_t prev = 0;
  for (size_t i = 0; i < timeline.size(); ++i) {
    std::printf(" %lld", static_cast<long long>(timeline[i].first - prev));
    if (timeline[i].second >= 0) std::printf("[%lld]", static_cast<long long>(timeline[i].second));
    prev = timeline[i].first;
    if (i % 15 == 14) std::printf("\n ");
  }
  std::printf("\n");
  std::fflush(stdout);

  int code = svc.Stop();
  if (code != 0) std::printf("service exited %d; its log:\n%s\n", code, svc.Log().c_str());
  // The processor's profile (ProcessorStats, logged when it stops): where the
  // processor thread and its commit thread spent the run.
  {
    std::ifstream in(svc.dir / "enrollment.log");
    std::string line;
    while (std::getline(in, line)) {
      if (line.find("\"processor stopped\"") != std::string::npos) {
        std::printf("processor profile (log line at stop): %s\n", line.c_str());
      }
    }
  }
  if (!keep) {
    std::vector<std::string> topics = {raw_topic};
    for (absl::string_view t : kafka::kAllTopics) topics.push_back(prefix + std::string(t));
    (void)(*admin)->DeleteTopics(topics);
    std::filesystem::remove_all(svc.dir);
  }
  return all_ok && received == total ? 0 : 1;
}
