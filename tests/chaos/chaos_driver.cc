// The whole-stack chaos test: a simulated plan year through the four services
// (enrollment, claims, payout, notification), the fake bank and the fake SMS
// gateway, on a Kafka broker of its own, while a driver thread SIGKILLs a
// random service at random instants and restarts the broker. Then it checks,
// from independent sources, that nothing was lost or done twice:
//
//   - every accepted enrollment is in the enrollment events topic exactly once,
//     with the status and fee `mutualctl simulate` gives for the same records;
//   - every claim is decided once, as the plan's rules (mutualctl simulate)
//     and the investigators' verdicts say, and every approved claim is
//     credited exactly once, for the expected amount, in the fake bank's ledger;
//   - at most one SMS per event and template at the fake gateway (exactly one
//     cover-start SMS per accepted worker, one payment SMS per paid claim);
//   - every service's live digest equals `mutualctl replay` into a fresh store;
//   - `mutualctl audit verify` is clean.
//
// Clients retry through the kills the way a platform or the hall would: the
// same record and claim ids, so a retry is idempotent.
//
//   chaos_driver [--seed N] [--kills N] [--broker-restarts N] [--workers N]
//                [--time-limit SECONDS] [--keep]
//
// Exit 0: every invariant held; 1: an invariant failed (listed); 2: usage or
// setup error. The seed is printed first; the same seed gives the same plan
// year, the same kill schedule (which service, after how long) and the same
// verdicts (the instants depend on the machine's speed).
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "mutualaid/events/envelope.h"
#include "mutualaid/http/client.h"
#include "mutualaid/json/json.h"
#include "mutualaid/kafka/config.h"
#include "mutualaid/kafka/partition_reader.h"
#include "mutualaid/kafka/topics.h"
#include "mutualaid/plan/validation.h"
#include "mutualaid/v1/admin.grpc.pb.h"
#include "mutualaid/v1/claims.grpc.pb.h"
#include "mutualaid/v1/enrollment.grpc.pb.h"

extern char** environ;

namespace mutualaid::chaos {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------
// Output

const auto kStarted = std::chrono::steady_clock::now();
absl::Mutex say_mu;

double Elapsed() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - kStarted).count();
}

template <typename... Args>
void Say(const absl::FormatSpec<Args...>& format, const Args&... args) {
  absl::MutexLock l(&say_mu);
  std::printf("[%6.1fs] %s\n", Elapsed(), absl::StrFormat(format, args...).c_str());
  std::fflush(stdout);
}

struct Failures {
  absl::Mutex mu;
  std::vector<std::string> list;
  void Add(std::string what) {
    Say("FAIL: %s", what);
    absl::MutexLock l(&mu);
    list.push_back(std::move(what));
  }
  size_t size() {
    absl::MutexLock l(&mu);
    return list.size();
  }
};
Failures failures;

// A fatal setup or progress error: the run cannot go on.
struct Abort {
  std::string why;
};

// ---------------------------------------------------------------------------
// Options

struct Options {
  uint64_t seed = 0;
  int kills = 12;
  int broker_restarts = 1;
  int workers = 300;
  int time_limit_s = 280;
  bool keep = false;
};

bool ParseOptions(int argc, char** argv, Options* o) {
  bool seeded = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&](auto* out) {
      if (i + 1 >= argc) return false;
      return absl::SimpleAtoi(argv[++i], out);
    };
    bool ok = true;
    if (a == "--seed") {
      ok = next(&o->seed);
      seeded = true;
    } else if (a == "--kills") {
      ok = next(&o->kills) && o->kills >= 4;
    } else if (a == "--broker-restarts") {
      ok = next(&o->broker_restarts) && o->broker_restarts >= 0;
    } else if (a == "--workers") {
      ok = next(&o->workers) && o->workers >= 50 && o->workers <= 10000;
    } else if (a == "--time-limit") {
      ok = next(&o->time_limit_s) && o->time_limit_s > 0;
    } else if (a == "--keep") {
      o->keep = true;
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr,
                   "usage: chaos_driver [--seed N] [--kills N>=4] [--broker-restarts N] "
                   "[--workers 50..10000] [--time-limit SECONDS] [--keep]\n");
      return false;
    }
  }
  if (!seeded) {
    const char* env = std::getenv("MUTUALAID_TEST_SEED");
    if (env != nullptr && absl::SimpleAtoi(env, &o->seed)) {
      seeded = true;
    }
  }
  if (!seeded) o->seed = std::random_device{}() % 1000000000u;
  return true;
}

// ---------------------------------------------------------------------------
// Processes

bool PortFree(int port);

// A free port below the kernel's ephemeral range (32768..), so that no
// client connection takes it as its local port while its server is down (a
// restarted broker or service must bind it again).
int FreePort() {
  static std::mt19937 rng{std::random_device{}()};
  for (int tries = 0; tries < 1000; ++tries) {
    int port = 20000 + static_cast<int>(rng() % 12000);
    if (PortFree(port)) return port;
  }
  return -1;
}

bool PortFree(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string Tail(const fs::path& p, size_t n = 3000) {
  std::string s = ReadFile(p);
  return s.size() > n ? s.substr(s.size() - n) : s;
}

// A child process whose stdout goes to `out` and stderr to `log`; Start waits
// for its "listening HOST:PORT" line.
class Child {
 public:
  absl::StatusOr<std::string> Start(const std::vector<std::string>& argv, const fs::path& cwd,
                                    const std::vector<std::string>& extra_env, const fs::path& out,
                                    const fs::path& log, absl::Duration timeout) {
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
    for (const std::string& e : extra_env) env_strings.push_back(e);
    std::vector<char*> envp, args;
    for (std::string& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_copy = argv;
    for (std::string& a : argv_copy) args.push_back(a.data());
    args.push_back(nullptr);
    const std::string out_s = out.string(), log_s = log.string(), cwd_s = cwd.string();
    int out_fd = open(out_s.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int log_fd = open(log_s.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out_fd < 0 || log_fd < 0) return absl::InternalError("cannot open " + out_s);
    pid_t pid = fork();
    if (pid == 0) {
      setpgid(0, 0);
      dup2(out_fd, STDOUT_FILENO);
      dup2(log_fd, STDERR_FILENO);
      int devnull = open("/dev/null", O_RDONLY);
      if (devnull >= 0) dup2(devnull, STDIN_FILENO);
      if (chdir(cwd_s.c_str()) != 0) _exit(126);
      execve(args[0], args.data(), envp.data());
      _exit(127);
    }
    close(out_fd);
    close(log_fd);
    if (pid < 0) return absl::InternalError("fork failed");
    {
      absl::MutexLock l(&mu_);
      pid_ = pid;
    }
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      std::string text = ReadFile(out);
      size_t at = text.find("listening ");
      if (at != std::string::npos) {
        size_t end = text.find('\n', at);
        if (end != std::string::npos) return text.substr(at + 10, end - at - 10);
      }
      int status = 0;
      pid_t r;
      {
        absl::MutexLock l(&mu_);
        r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_) pid_ = -1;
      }
      if (r > 0) {
        return absl::UnavailableError(absl::StrCat(
            argv[0], " exited (", WIFEXITED(status) ? WEXITSTATUS(status) : -1, ") before listening"));
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    Kill();
    return absl::DeadlineExceededError(absl::StrCat(argv[0], " did not listen in time"));
  }
  void Kill() { Signal(SIGKILL, absl::Seconds(10)); }
  // SIGTERM, then SIGKILL after `grace`.
  void Signal(int sig, absl::Duration grace) {
    absl::MutexLock l(&mu_);
    if (pid_ <= 0) return;
    kill(pid_, sig);
    const absl::Time deadline = absl::Now() + grace;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (absl::Now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    pid_ = -1;
  }
  // True while the process runs (reaps it if it died on its own).
  bool Alive() {
    absl::MutexLock l(&mu_);
    if (pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }

 private:
  absl::Mutex mu_;
  pid_t pid_ ABSL_GUARDED_BY(mu_) = -1;
};

// ---------------------------------------------------------------------------
// Tokens and ids

constexpr char kTokens[] = R"(platform-p01-token-0001  platform     P01
platform-p02-token-0002  platform     P02
platform-p03-token-0003  platform     P03
hall-clerk-token-000001  hall         wang
investigator-token-0001  investigator zhao
finance-token-000000001  finance      qian
operations-token-000001  operations   ops
)";
constexpr char kHall[] = "hall-clerk-token-000001";
constexpr char kInvestigator[] = "investigator-token-0001";
constexpr char kOperations[] = "operations-token-000001";
const std::vector<std::string> kPlatforms = {"P01", "P02", "P03"};
std::string PlatformToken(const std::string& p) {
  if (p == "P01") return "platform-p01-token-0001";
  if (p == "P02") return "platform-p02-token-0002";
  return "platform-p03-token-0003";
}
std::string PlatformAccount(const std::string& p) { return absl::StrCat("3100123456789", "01", p.substr(1)); }
std::string PlatformPhone(const std::string& p) { return absl::StrCat("139000000", p.substr(1)); }

std::string IdNumber(int year, int month, int day, int serial) {
  std::string first17 = absl::StrFormat("310101%04d%02d%02d%03d", year, month, day, serial % 1000);
  return first17 + plan::IdNumberCheckChar(first17);
}

std::string Luhn(const std::string& first15) {
  int sum = 0;
  bool twice = true;
  for (auto it = first15.rbegin(); it != first15.rend(); ++it, twice = !twice) {
    int d = *it - '0';
    if (twice) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return first15 + std::to_string((10 - sum % 10) % 10);
}

std::string DayText(absl::CivilDay d) { return absl::FormatCivilTime(d); }

v1::Date ToDate(absl::CivilDay d) {
  v1::Date out;
  out.set_year(static_cast<int32_t>(d.year()));
  out.set_month(d.month());
  out.set_day(d.day());
  return out;
}

std::string ReasonName(int code) {
  std::string n = v1::ReasonCode_Name(static_cast<v1::ReasonCode>(code));
  return absl::StartsWith(n, "REASON_CODE_") ? n.substr(12) : n;
}

// ---------------------------------------------------------------------------
// The plan year to drive

constexpr absl::CivilDay kConcentratedDay(2022, 3, 10);  // 集中参保
constexpr absl::CivilDay kInstantDay(2022, 5, 10);       // 即时参保: cover from 06-01
constexpr absl::CivilDay kClaimsDay1(2022, 9, 15);
constexpr absl::CivilDay kClaimsDay2(2022, 10, 20);
constexpr absl::CivilDay kPayDay(2022, 11, 1);

const std::vector<std::string> kIndustries = {"INTRACITY_FREIGHT", "FOOD_DELIVERY", "INSTANT_DELIVERY",
                                              "RIDE_HAILING", "EXPRESS_DELIVERY"};

struct Worker {
  int index = 0;
  std::string key;  // scenario key "w<index>"
  std::string id_number, name, phone, platform, industry;
  absl::CivilDay day;           // when its platform sends it
  std::string record_id;        // the platform's record id
  std::string card;             // its union member card
  // Outcome
  std::string expected;         // ACCEPTED / REJECTED (simulate)
  int64_t expected_fee = 0;
  v1::EnrollmentResult result;  // what the service answered
  bool answered = false;
};

// A platform resending another platform's worker (the first one wins).
struct Resend {
  int worker = 0;
  std::string platform, record_id;
  std::string expected;
  v1::EnrollmentResult result;
  bool answered = false;
};

struct Claim {
  std::string claim_id;
  int worker = -1;  // index into workers
  int phase = 1;
  v1::ClaimApplication app;
  bool by_platform = false;
  std::string filer_token;
  // simulate's verdict
  std::string sim_decision;
  int64_t sim_amount = 0;
  std::vector<std::string> sim_reasons;
  // the service
  v1::ClaimDecision first;      // FileClaim's answer
  bool investigated = false;
  bool investigator_approves = true;
  v1::ClaimDecision final_decision;
  // expected end state
  bool expect_paid() const { return sim_decision == "APPROVED" && (!investigated || investigator_approves); }
};

// ---------------------------------------------------------------------------
// gRPC with retries

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token, absl::Duration timeout) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  return ctx;
}

std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
  grpc::ChannelArguments args;
  // Reconnect quickly after a kill (the default backoff grows to 2 minutes).
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

std::atomic<int64_t> rpc_retries{0};
// --time-limit: no wait goes past it.
std::atomic<int> time_limit_s{280};
// Set when the run cannot go on (e.g. the broker does not come back): every
// wait ends at once.
std::atomic<bool> aborting{false};

absl::Time Clamp(absl::Time t) {
  if (aborting.load()) return absl::Now();
  const absl::Time limit = absl::Now() + absl::Seconds(time_limit_s.load() - Elapsed());
  return std::min(t, limit);
}

bool Retriable(grpc::StatusCode c) {
  switch (c) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return true;
    default:
      return false;
  }
}

// Calls `f` until it succeeds, fails for a non-retriable reason, or `budget`
// passes. Every retry carries the same ids (idempotent).
grpc::Status Retry(const std::string& what, const std::function<grpc::Status()>& f,
                   absl::Duration budget = absl::Seconds(240)) {
  const absl::Time deadline = Clamp(absl::Now() + budget);
  absl::Duration pause = absl::Milliseconds(100);
  while (true) {
    grpc::Status s = f();
    if (s.ok() || !Retriable(s.error_code()) || absl::Now() > deadline) {
      if (!s.ok()) Say("%s: %s (code %d), giving up", what, s.error_message(), s.error_code());
      return s;
    }
    rpc_retries.fetch_add(1);
    absl::SleepFor(pause);
    pause = std::min(pause * 2, absl::Seconds(2));
  }
}

// ---------------------------------------------------------------------------
// The stack

struct Service {
  std::string name;
  std::string binary;
  int port = 0;
  std::string address;
  Child child;
  absl::Mutex mu;  // held while killed/restarting
  std::shared_ptr<grpc::Channel> channel;
  int kills = 0;
};

struct KillRecord {
  std::string what;
  double at = 0, restarted_after = 0;
  std::string phase;
};

class Stack {
 public:
  Stack(const Options& o, fs::path dir) : o_(o), dir_(std::move(dir)) {}

  const fs::path& dir() const { return dir_; }
  const std::string& prefix() const { return prefix_; }
  const std::string& bootstrap() const { return bootstrap_; }
  Service& service(const std::string& name) {
    for (auto& s : services_) {
      if (s->name == name) return *s;
    }
    throw Abort{"no service " + name};
  }
  std::vector<std::unique_ptr<Service>>& services() { return services_; }
  const std::string& bank_url() const { return bank_url_; }
  const std::string& sms_url() const { return sms_url_; }

  void Up() {
    fs::create_directories(dir_);
    std::ofstream(dir_ / "tokens.conf") << kTokens;
    std::ofstream(dir_ / "secret.key") << "a-chaos-test-deployment-secret-of-48-bytes-0123";
    std::ofstream(dir_ / "operations.token") << kOperations << "\n";
    // The master key that wraps the workers' data keys (libs/crypto).
    std::ofstream(dir_ / "master.key") << "6368616f732d746573742d6d61737465722d6b65792d30313233343536373839\n";
    prefix_ = absl::StrCat("chaos", o_.seed, "-", getpid(), ".");
    // The broker: its own port (and controller port + 1) and data dir.
    for (int tries = 0; tries < 50 && kafka_port_ <= 0; ++tries) {
      int p = FreePort();
      if (p > 0 && PortFree(p + 1)) kafka_port_ = p;
    }
    if (kafka_port_ <= 0) throw Abort{"no free port pair for the broker"};
    bootstrap_ = absl::StrCat("127.0.0.1:", kafka_port_);
    setenv("MUTUALAID_KAFKA_BOOTSTRAP", bootstrap_.c_str(), 1);
    Say("broker: starting on %s (data %s)", bootstrap_, (dir_ / "kafka").string());
    if (Broker("start") != 0) throw Abort{"the broker did not start; see " + (dir_ / "broker.log").string()};
    broker_up_ = true;
    Say("broker: up");

    // The gateways (never killed: they are the independent witnesses).
    {
      auto a = fakebank_.Start({FAKEBANK_BINARY, "--port", "0", "--ledger", (dir_ / "ledger.jsonl").string(),
                                "--today", DayText(kPayDay)},
                               dir_, {}, dir_ / "fakebank.out", dir_ / "fakebank.log", absl::Seconds(30));
      if (!a.ok()) throw Abort{std::string(a.status().message())};
      bank_url_ = "http://" + *a;
      auto b = fakesms_.Start({FAKESMS_BINARY, "--port", "0", "--log", (dir_ / "sms.jsonl").string(), "--rate",
                               "1000"},
                              dir_, {}, dir_ / "fakesms.out", dir_ / "fakesms.log", absl::Seconds(30));
      if (!b.ok()) throw Abort{std::string(b.status().message())};
      sms_url_ = "http://" + *b;
      Say("gateways: fakebank %s, fakesms %s", bank_url_, sms_url_);
    }

    std::set<int> used = {kafka_port_, kafka_port_ + 1};
    for (const auto& [name, binary] : std::vector<std::pair<std::string, std::string>>{
             {"enrollment", ENROLLMENT_BINARY},
             {"claims", CLAIMS_BINARY},
             {"payout", PAYOUT_BINARY},
             {"notification", NOTIFICATION_BINARY}}) {
      auto s = std::make_unique<Service>();
      s->name = name;
      s->binary = binary;
      do {
        s->port = FreePort();
      } while (used.count(s->port) > 0);
      used.insert(s->port);
      s->address = absl::StrCat("127.0.0.1:", s->port);
      s->channel = Channel(s->address);
      std::ofstream conf(dir_ / (name + ".conf"));
      conf << "kafka.bootstrap = " << bootstrap_ << "\n"
           << "kafka.partitions = 3\n"
           << "kafka.topic_prefix = " << prefix_ << "\n"
           << "grpc.listen = " << s->address << "\n"
           << "auth.tokens_file = tokens.conf\n"
           << "store.path = store-" << name << "\n"
           << "worker_key.secret_file = secret.key\n"
           << "crypto.master_key_file = master.key\n"
           << "clock = simulated\n"
           << "clock.start = " << DayText(kConcentratedDay) << "\n"
           << "replica = 0\n";
      if (name == "claims") conf << "claims.investigation_threshold_fen = 1000000\n";
      if (name == "payout") {
        conf << "bank.mode = http\nbank.url = " << bank_url_ << "\n"
             << "payout.tick_interval = 300ms\npayout.retry_base = 30s\npayout.retry_max = 1h\n";
      }
      if (name == "notification") {
        conf << "sms.gateway_url = " << sms_url_ << "\n"
             << "sms.rate = 200\nsms.daily_cap = 0\nsms.quiet_hours = none\nsms.tick_interval = 100ms\n";
      }
      services_.push_back(std::move(s));
    }
    for (auto& s : services_) StartService(*s);
  }

  // Starts (or restarts) a service on the current business day.
  void StartService(Service& s) {
    const absl::Time deadline = Clamp(absl::Now() + absl::Seconds(180));
    while (true) {
      std::string day = DayText(today());
      auto a = s.child.Start({s.binary, "--config", s.name + ".conf"}, dir_,
                             {"MUTUALAID_CLOCK_START=" + day}, dir_ / (s.name + ".out"),
                             dir_ / (s.name + ".log"), absl::Seconds(100));
      if (a.ok()) {
        if (*a != s.address) throw Abort{s.name + " listens on " + *a + ", not " + s.address};
        return;
      }
      Say("%s: start failed (%s); retrying", s.name, a.status().message());
      if (absl::Now() > deadline) throw Abort{s.name + " does not start; its log:\n" + Tail(dir_ / (s.name + ".log"))};
      absl::SleepFor(absl::Seconds(1));
    }
  }

  int Broker(const std::string& command) {
    std::string cmd = absl::StrCat("KAFKA_PORT=", kafka_port_, " KAFKA_CONTROLLER_PORT=", kafka_port_ + 1,
                                   " KAFKA_DATA=", (dir_ / "kafka").string(), " KAFKA_HEAP=384m ", KAFKA_SCRIPT,
                                   " ", command, " >>", (dir_ / "broker.log").string(), " 2>&1");
    int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }

  absl::CivilDay today() {
    absl::MutexLock l(&day_mu_);
    return today_;
  }
  // Moves every service's business clock to `day` (and restarts use it).
  void SetDay(absl::CivilDay day) {
    {
      absl::MutexLock l(&day_mu_);
      today_ = day;
    }
    for (auto& s : services_) SetClockOf(*s, day);
    Say("clock: %s on every service", DayText(day));
  }
  void SetClockOf(Service& s, absl::CivilDay day) {
    auto stub = v1::AdminService::NewStub(s.channel);
    grpc::Status st = Retry("SetClock " + s.name, [&] {
      v1::SetClockRequest req;
      *req.mutable_today() = ToDate(day);
      v1::ClockState resp;
      return stub->SetClock(Ctx(kOperations, absl::Seconds(10)).get(), req, &resp);
    });
    if (!st.ok()) throw Abort{"SetClock " + s.name + ": " + st.error_message()};
  }

  void Down() {
    for (auto& s : services_) s->child.Signal(SIGKILL, absl::Seconds(5));
    fakebank_.Signal(SIGTERM, absl::Seconds(5));
    fakesms_.Signal(SIGTERM, absl::Seconds(5));
    if (broker_up_) {
      Broker("stop");
      broker_up_ = false;
    }
  }

  std::string LogsTail() {
    std::string out;
    for (auto& s : services_) {
      out += absl::StrCat("---- ", s->name, ".log (tail)\n", Tail(dir_ / (s->name + ".log"), 1500), "\n");
    }
    return out;
  }

  std::atomic<bool> broker_restarting{false};

 private:
  const Options& o_;
  fs::path dir_;
  std::string prefix_, bootstrap_;
  int kafka_port_ = -1;
  bool broker_up_ = false;
  Child fakebank_, fakesms_;
  std::string bank_url_, sms_url_;
  std::vector<std::unique_ptr<Service>> services_;
  absl::Mutex day_mu_;
  absl::CivilDay today_ ABSL_GUARDED_BY(day_mu_) = kConcentratedDay;
};

// ---------------------------------------------------------------------------
// Chaos: SIGKILL a random service at random instants, restart the broker.

class Chaos {
 public:
  Chaos(const Options& o, Stack* stack, std::mt19937_64 rng) : o_(o), stack_(stack), rng_(rng) {
    // Every service at least once (a random order), then random ones.
    std::vector<std::string> names = {"enrollment", "claims", "payout", "notification"};
    std::shuffle(names.begin(), names.end(), rng_);
    for (int i = 0; i < o_.kills; ++i) {
      plan_.push_back(i < 4 ? names[i] : names[rng_() % 4]);
    }
    // The broker restarts after random kills (not the first).
    for (int b = 0; b < o_.broker_restarts; ++b) {
      int after = 1 + static_cast<int>(rng_() % std::max(1, o_.kills - 1));
      plan_.insert(plan_.begin() + std::min<int>(after + b, static_cast<int>(plan_.size())), "broker");
    }
    for (size_t i = 0; i < plan_.size(); ++i) {
      pauses_ms_.push_back(800 + static_cast<int>(rng_() % 2400));
      down_ms_.push_back(static_cast<int>(rng_() % 800));
    }
    Say("chaos plan: %s", absl::StrJoin(plan_, " "));
  }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  void Stop() { stop_.store(true); }
  bool done() const { return done_.load(); }
  void set_phase(const std::string& p) {
    absl::MutexLock l(&mu_);
    phase_ = p;
  }
  std::vector<KillRecord> records() {
    absl::MutexLock l(&mu_);
    return records_;
  }
  std::string error() {
    absl::MutexLock l(&mu_);
    return error_;
  }

 private:
  std::string phase() {
    absl::MutexLock l(&mu_);
    return phase_;
  }
  void Run() {
    try {
      for (size_t i = 0; i < plan_.size() && !stop_.load(); ++i) {
        absl::SleepFor(absl::Milliseconds(pauses_ms_[i]));
        if (stop_.load()) break;
        KillRecord r;
        r.what = plan_[i];
        r.at = Elapsed();
        r.phase = phase();
        CheckAlive();
        if (plan_[i] == "broker") {
          Say("chaos: broker restart (stop, start) during %s", r.phase);
          stack_->broker_restarting.store(true);
          if (stack_->Broker("stop") != 0) throw Abort{"broker stop failed"};
          absl::SleepFor(absl::Milliseconds(down_ms_[i]));
          if (stack_->Broker("start") != 0) throw Abort{"broker start failed"};
          stack_->broker_restarting.store(false);
        } else {
          Service& s = stack_->service(plan_[i]);
          Say("chaos: SIGKILL %s during %s", s.name, r.phase);
          s.child.Kill();
          ++s.kills;
          absl::SleepFor(absl::Milliseconds(down_ms_[i]));
          stack_->StartService(s);
          // The restarted service is on the current day already
          // (clock.start); set it again in case the day moved meanwhile.
          stack_->SetClockOf(s, stack_->today());
        }
        r.restarted_after = Elapsed() - r.at;
        Say("chaos: %s back after %.1fs", r.what, r.restarted_after);
        absl::MutexLock l(&mu_);
        records_.push_back(r);
      }
      // Until the run ends: a service that dies on its own is restarted too.
      done_.store(true);
      while (!stop_.load()) {
        CheckAlive();
        absl::SleepFor(absl::Milliseconds(500));
      }
    } catch (const Abort& a) {
      absl::MutexLock l(&mu_);
      error_ = a.why;
      aborting.store(true);
    }
    done_.store(true);
  }

  // A service that exited without being killed is a finding (its log says
  // why); it is restarted, as a supervisor would, so the run goes on.
  void CheckAlive() {
    for (auto& s : stack_->services()) {
      if (s->child.Alive()) continue;
      std::string last;
      for (absl::string_view line : absl::StrSplit(Tail(stack_->dir() / (s->name + ".log"), 600), '\n',
                                                    absl::SkipEmpty())) {
        last = std::string(line);
      }
      failures.Add(absl::StrCat(s->name, " exited on its own during ", phase(), ": ", last));
      stack_->StartService(*s);
      stack_->SetClockOf(*s, stack_->today());
    }
  }

  const Options& o_;
  Stack* stack_;
  std::mt19937_64 rng_;
  std::vector<std::string> plan_;
  std::vector<int> pauses_ms_, down_ms_;
  std::thread thread_;
  std::atomic<bool> stop_{false}, done_{false};
  absl::Mutex mu_;
  std::string phase_ ABSL_GUARDED_BY(mu_) = "start";
  std::vector<KillRecord> records_ ABSL_GUARDED_BY(mu_);
  std::string error_ ABSL_GUARDED_BY(mu_);
};

// ---------------------------------------------------------------------------
// The oracle: mutualctl simulate over the same records and claims.

std::string RunCapture(const std::string& cmd, int* code) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    *code = -1;
    return out;
  }
  char buf[8192];
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, got);
  int status = pclose(p);
  *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

json::Value DateValue(const v1::Date& d) {
  return json::Value(absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day()));
}

std::string Suffix(const std::string& enum_name, const std::string& prefix) {
  return absl::StartsWith(enum_name, prefix) ? enum_name.substr(prefix.size()) : enum_name;
}

json::Value ClaimStep(const Claim& c, const std::vector<Worker>& workers, absl::CivilDay received) {
  const v1::ClaimFacts& f = c.app.facts();
  json::Value s = json::Value::Object({{"op", "claim"},
                                       {"worker", workers[c.worker].key},
                                       {"claim_id", c.claim_id},
                                       {"benefit", Suffix(v1::Benefit_Name(f.benefit()), "BENEFIT_")},
                                       {"received_on", DayText(received)},
                                       {"claimant", Suffix(v1::Claimant_Name(f.claimant()), "CLAIMANT_")},
                                       {"site", c.app.site()}});
  if (f.cause() != v1::CAUSE_UNSPECIFIED) s.Set("cause", Suffix(v1::Cause_Name(f.cause()), "CAUSE_"));
  if (f.hospital() != v1::HOSPITAL_KIND_UNSPECIFIED) {
    s.Set("hospital", Suffix(v1::HospitalKind_Name(f.hospital()), "HOSPITAL_KIND_"));
  }
  if (f.has_admission()) s.Set("admission", DateValue(f.admission()));
  if (f.has_discharge()) s.Set("discharge", DateValue(f.discharge()));
  if (f.category() != v1::CRITICAL_ILLNESS_CATEGORY_UNSPECIFIED) {
    s.Set("category", Suffix(v1::CriticalIllnessCategory_Name(f.category()), "CRITICAL_ILLNESS_CATEGORY_"));
  }
  if (f.has_diagnosed_on()) s.Set("diagnosed_on", DateValue(f.diagnosed_on()));
  if (f.has_hospitalized()) s.Set("hospitalized", f.hospitalized());
  if (f.has_out_of_pocket_fen()) s.Set("out_of_pocket_fen", f.out_of_pocket_fen());
  if (f.has_died_on()) s.Set("died_on", DateValue(f.died_on()));
  if (f.has_in_shanghai()) s.Set("in_shanghai", f.in_shanghai());
  if (!f.accident_id().empty()) s.Set("accident_id", f.accident_id());
  if (f.has_accident_on()) s.Set("accident_on", DateValue(f.accident_on()));
  if (f.has_assessed_on()) s.Set("assessed_on", DateValue(f.assessed_on()));
  if (f.grade() != 0) s.Set("grade", f.grade());
  if (f.has_meets_criteria()) s.Set("meets_criteria", f.meets_criteria());
  return s;
}

// Runs simulate over the enrollments and the claims of phases <= `phase`,
// filling the expectations in.
void Simulate(const fs::path& dir, std::vector<Worker>& workers, std::vector<Resend>& resends,
              std::vector<Claim>& claims, int phase) {
  json::Value platforms = json::Value::Object();
  for (const std::string& p : kPlatforms) platforms.Set(p, json::Value::Object({{"name", "平台" + p}}));
  json::Value ws = json::Value::Object();
  for (const Worker& w : workers) {
    ws.Set(w.key, json::Value::Object({{"id_number", w.id_number}, {"name", w.name}, {"phone", w.phone}}));
  }
  json::Value steps = json::Value::Array();
  // What each output line is about.
  std::vector<std::function<void(const json::Value&)>> sinks;
  auto enroll = [&](const Worker& w, const std::string& platform, absl::CivilDay day,
                    std::function<void(const json::Value&)> sink) {
    steps.Append(json::Value::Object({{"op", "enroll"},
                                      {"worker", w.key},
                                      {"platform", platform},
                                      {"industry", w.industry},
                                      {"received_on", DayText(day)}}));
    sinks.push_back(std::move(sink));
  };
  // The service's order: the concentrated month (the platforms' streams in
  // parallel: no worker is in two of them), the resends after them, then
  // the instant enrollments.
  for (Worker& w : workers) {
    if (w.day != kConcentratedDay || w.record_id.empty()) continue;
    enroll(w, w.platform, w.day, [&w](const json::Value& v) {
      w.expected = v.Find("decision")->string_value();
      w.expected_fee = v.Find("fee_fen") != nullptr ? v.Find("fee_fen")->Int64().value_or(0) : 0;
    });
  }
  for (Resend& r : resends) {
    enroll(workers[r.worker], r.platform, kConcentratedDay,
           [&r](const json::Value& v) { r.expected = v.Find("decision")->string_value(); });
  }
  for (Worker& w : workers) {
    if (w.day != kInstantDay || w.record_id.empty()) continue;
    enroll(w, w.platform, w.day, [&w](const json::Value& v) {
      w.expected = v.Find("decision")->string_value();
      w.expected_fee = v.Find("fee_fen") != nullptr ? v.Find("fee_fen")->Int64().value_or(0) : 0;
    });
  }
  for (Claim& c : claims) {
    if (c.phase > phase) continue;
    steps.Append(ClaimStep(c, workers, c.phase == 1 ? kClaimsDay1 : kClaimsDay2));
    sinks.push_back([&c](const json::Value& v) {
      c.sim_decision = v.Find("decision")->string_value();
      c.sim_amount = v.Find("amount_fen") != nullptr ? v.Find("amount_fen")->Int64().value_or(0) : 0;
      c.sim_reasons.clear();
      if (const json::Value* rs = v.Find("reasons")) {
        for (const json::Value& r : rs->items()) c.sim_reasons.push_back(r.string_value());
      }
    });
  }
  json::Value scenario =
      json::Value::Object({{"platforms", platforms}, {"workers", ws}, {"steps", steps}});
  const fs::path file = dir / absl::StrCat("scenario-phase", phase, ".json");
  std::ofstream(file) << json::Write(scenario) << "\n";
  int code = 0;
  std::string out = RunCapture(absl::StrCat(MUTUALCTL_BINARY, " simulate ", file.string(), " 2>&1"), &code);
  if (code != 0) throw Abort{"mutualctl simulate " + file.string() + ": exit " + std::to_string(code) + ": " + out.substr(0, 2000)};
  size_t n = 0;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    auto v = json::Parse(std::string_view(line.data(), line.size()));
    if (!v.ok() || n >= sinks.size()) throw Abort{"simulate: unexpected line: " + std::string(line)};
    sinks[n++](*v);
  }
  if (n != sinks.size()) throw Abort{absl::StrCat("simulate: ", n, " lines for ", sinks.size(), " steps")};
}

// ---------------------------------------------------------------------------
// The workload

class Workload {
 public:
  Workload(const Options& o, Stack* stack, std::mt19937_64 rng) : o_(o), stack_(stack), rng_(rng) {}

  std::vector<Worker> workers;
  std::vector<Resend> resends;
  std::vector<Claim> claims;

  void Generate() {
    const char* surnames[] = {"张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴"};
    const char* given[] = {"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋",
                           "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "华", "平"};
    for (int i = 0; i < o_.workers; ++i) {
      Worker w;
      w.index = i;
      w.key = absl::StrCat("w", i);
      int year = 1970 + i % 30, month = 1 + (i / 30) % 12, day = 1 + (i / 360) % 28;
      const int roll = static_cast<int>(rng_() % 100);
      if (roll < 2) year = 1955;  // 60 or over: rejected
      w.id_number = IdNumber(year, month, day, i);
      w.name = absl::StrCat(surnames[i % 10], given[(i / 10) % 20], i % 3 == 0 ? given[(i / 200) % 20] : "");
      w.phone = roll >= 2 && roll < 4 ? absl::StrFormat("12%09d", i) : absl::StrFormat("137%08d", i);
      w.platform = kPlatforms[rng_() % 3];
      w.industry = kIndustries[rng_() % kIndustries.size()];
      w.day = rng_() % 10 == 0 ? kInstantDay : kConcentratedDay;
      w.record_id = absl::StrCat(w.platform, "-", DayText(w.day).substr(0, 7), "-", i);
      std::string card = Luhn(absl::StrFormat("6222020%08d", i + 1));
      if (absl::EndsWith(card, "0000")) card = Luhn(absl::StrFormat("6222021%08d", i + 1));
      w.card = card;
      workers.push_back(std::move(w));
    }
    // A few workers of the concentrated month sent again by another platform.
    for (Worker& w : workers) {
      if (w.day == kConcentratedDay && rng_() % 40 == 0) {
        Resend r;
        r.worker = w.index;
        r.platform = kPlatforms[(std::find(kPlatforms.begin(), kPlatforms.end(), w.platform) - kPlatforms.begin() + 1) % 3];
        r.record_id = absl::StrCat(r.platform, "-resend-", w.index);
        resends.push_back(r);
      }
    }
    // People a clerk files for who were never enrolled.
    for (int i = 0; i < 2; ++i) {
      Worker w;
      w.index = static_cast<int>(workers.size());
      w.key = absl::StrCat("w", w.index);
      w.id_number = IdNumber(1988, 8, 8, 900 + i);
      w.name = "钱多多";
      w.phone = absl::StrFormat("136%08d", i);
      w.platform = "P01";
      w.industry = "FOOD_DELIVERY";
      w.card = Luhn(absl::StrFormat("6222029%08d", i + 1));
      workers.push_back(std::move(w));  // no record_id: never sent
    }
    // Phase 1 claims: each benefit over a shuffled set of workers.
    std::vector<int> order;
    for (const Worker& w : workers) order.push_back(w.index);
    std::shuffle(order.begin(), order.end(), rng_);
    const int n_claims = std::max(24, o_.workers / 5);
    for (int c = 0; c < n_claims && c < static_cast<int>(order.size()); ++c) {
      claims.push_back(MakeClaim(c, order[c], c % 8));
    }
  }

  // One claim of `kind` (0..7) for worker `wi`.
  Claim MakeClaim(int c, int wi, int kind) {
    const Worker& w = workers[wi];
    Claim cl;
    cl.claim_id = absl::StrFormat("C%05d", c);
    cl.worker = wi;
    cl.phase = 1;
    v1::ClaimApplication& a = cl.app;
    a.set_claim_id(cl.claim_id);
    a.set_id_number(w.id_number);
    const char* sites[] = {"服务大厅", "浦东新区", "黄浦", "静安", "徐汇", "长宁", "普陀", "虹口", "杨浦",
                           "宝山", "闵行", "嘉定", "金山", "松江", "青浦", "奉贤", "崇明"};
    a.set_site(sites[c % 17]);
    v1::ClaimFacts* f = a.mutable_facts();
    f->set_claimant(v1::CLAIMANT_WORKER);
    auto card = [&] {
      a.mutable_payee_card()->set_kind(c % 2 ? v1::CARD_KIND_UNION_MEMBER_CARD : v1::CARD_KIND_SHANGHAI_DEBIT_CARD);
      a.mutable_payee_card()->set_card_number(w.card);
      a.mutable_payee_card()->set_holder_name(w.name);
    };
    cl.filer_token = kHall;
    switch (kind) {
      case 0:
      case 7: {  // hospital allowance (every 5th at an ineligible hospital)
        f->set_benefit(v1::BENEFIT_HOSPITAL_ALLOWANCE);
        f->set_cause(v1::CAUSE_ILLNESS);
        f->set_hospital(c % 5 == 0 ? v1::HOSPITAL_KIND_OTHER_HOSPITAL
                                   : (c % 3 == 0 ? v1::HOSPITAL_KIND_COMMUNITY_HEALTH_CENTER
                                                 : v1::HOSPITAL_KIND_DESIGNATED_HOSPITAL));
        absl::CivilDay in = absl::CivilDay(2022, 8, 1) + c % 20;
        *f->mutable_admission() = ToDate(in);
        *f->mutable_discharge() = ToDate(in + 1 + c % 9);
        card();
        break;
      }
      case 1:  // critical illness
        f->set_benefit(v1::BENEFIT_CRITICAL_ILLNESS);
        f->set_category(static_cast<v1::CriticalIllnessCategory>(1 + c % 12));
        f->set_hospital(v1::HOSPITAL_KIND_DESIGNATED_HOSPITAL);
        *f->mutable_diagnosed_on() = ToDate(absl::CivilDay(2022, 8, 5));
        f->set_hospitalized(c % 7 != 0);
        card();
        break;
      case 2:  // COVID-19 (some in an instant enrollment's waiting period)
        f->set_benefit(v1::BENEFIT_COVID19);
        f->set_hospital(v1::HOSPITAL_KIND_DESIGNATED_HOSPITAL);
        *f->mutable_diagnosed_on() = ToDate(c % 4 == 2 ? absl::CivilDay(2022, 7, 20) : absl::CivilDay(2022, 8, 10));
        card();
        break;
      case 3:  // illness death, filed by the platform
        f->set_benefit(v1::BENEFIT_ILLNESS_DEATH);
        f->set_claimant(v1::CLAIMANT_PLATFORM);
        *f->mutable_died_on() = ToDate(absl::CivilDay(2022, 8, 20));
        f->set_in_shanghai(c % 5 != 3);
        a.set_platform_id(w.platform);
        cl.by_platform = true;
        cl.filer_token = PlatformToken(w.platform);
        break;
      case 4:  // accidental death, filed by the platform
        f->set_benefit(v1::BENEFIT_ACCIDENTAL_DEATH);
        f->set_claimant(v1::CLAIMANT_PLATFORM);
        f->set_accident_id(absl::StrCat("A-", cl.claim_id));
        *f->mutable_accident_on() = ToDate(absl::CivilDay(2022, 7, 1));
        *f->mutable_died_on() = ToDate(absl::CivilDay(2022, 7, 5));
        f->set_in_shanghai(true);
        a.set_platform_id(w.platform);
        cl.by_platform = true;
        cl.filer_token = PlatformToken(w.platform);
        break;
      case 5:  // accidental disability
        f->set_benefit(v1::BENEFIT_ACCIDENTAL_DISABILITY);
        f->set_accident_id(absl::StrCat("A-", cl.claim_id));
        // Every 6th: an accident before the cover started, filed too late.
        *f->mutable_accident_on() = ToDate(c % 6 == 5 ? absl::CivilDay(2022, 2, 20) : absl::CivilDay(2022, 7, 1));
        *f->mutable_assessed_on() = ToDate(absl::CivilDay(2022, 9, 1));
        f->set_grade(1 + c % 10);
        f->set_in_shanghai(true);
        card();
        break;
      case 6:  // accident consolation
        f->set_benefit(v1::BENEFIT_ACCIDENT_CONSOLATION);
        f->set_accident_id(absl::StrCat("A-", cl.claim_id));
        *f->mutable_accident_on() = ToDate(absl::CivilDay(2022, 8, 1));
        f->set_meets_criteria(c % 4 != 2);
        f->set_in_shanghai(true);
        card();
        break;
    }
    // Investigators turn down some COVID-19 and disability claims.
    cl.investigator_approves = !((kind == 2 && c % 3 == 0) || (kind == 5 && c % 4 == 1));
    return cl;
  }

  // Phase 2, from simulate's view of phase 1: subsidies after approved
  // critical illness, claims after an approved death, identical refilings.
  void PlanPhase2() {
    int c = static_cast<int>(claims.size());
    const int64_t pockets[] = {1500000, 2500000, 4500000, 9000000, 16000000};
    std::vector<Claim> more;
    bool orphan_subsidy = false;
    for (const Claim& p : claims) {
      const v1::ClaimFacts& f = p.app.facts();
      const bool approved = p.sim_decision == "APPROVED";
      if (f.benefit() == v1::BENEFIT_CRITICAL_ILLNESS) {
        if (!approved && orphan_subsidy) continue;
        if (!approved) orphan_subsidy = true;  // one subsidy without the benefit
        Claim s = MakeClaim(c, p.worker, 0);
        s.claim_id = absl::StrFormat("C%05d", c++);
        s.app.set_claim_id(s.claim_id);
        s.phase = 2;
        v1::ClaimFacts* g = s.app.mutable_facts();
        g->Clear();
        g->set_benefit(v1::BENEFIT_CRITICAL_ILLNESS_SUBSIDY);
        g->set_claimant(v1::CLAIMANT_WORKER);
        g->set_category(f.category());
        g->set_hospital(v1::HOSPITAL_KIND_DESIGNATED_HOSPITAL);
        *g->mutable_admission() = ToDate(absl::CivilDay(2022, 9, 1));
        *g->mutable_discharge() = ToDate(absl::CivilDay(2022, 9, 12));
        g->set_out_of_pocket_fen(pockets[c % 5]);
        s.investigator_approves = true;
        more.push_back(std::move(s));
      } else if (approved && (f.benefit() == v1::BENEFIT_ILLNESS_DEATH ||
                              f.benefit() == v1::BENEFIT_ACCIDENTAL_DEATH)) {
        // A stay after the death: WORKER_DECEASED (the death is approved by the investigator).
        Claim s = MakeClaim(c, p.worker, 0);
        s.claim_id = absl::StrFormat("C%05d", c++);
        s.app.set_claim_id(s.claim_id);
        s.phase = 2;
        v1::ClaimFacts* g = s.app.mutable_facts();
        g->set_hospital(v1::HOSPITAL_KIND_DESIGNATED_HOSPITAL);
        *g->mutable_admission() = ToDate(absl::CivilDay(2022, 9, 3));
        *g->mutable_discharge() = ToDate(absl::CivilDay(2022, 9, 6));
        more.push_back(std::move(s));
      } else if (approved && f.benefit() == v1::BENEFIT_HOSPITAL_ALLOWANCE && p.claim_id.back() % 2 == 0) {
        // The same stay filed again under a new claim id: DUPLICATE_CLAIM.
        Claim s = p;
        s.claim_id = absl::StrFormat("C%05d", c++);
        s.app.set_claim_id(s.claim_id);
        s.phase = 2;
        s.first.Clear();
        s.final_decision.Clear();
        s.investigated = false;
        more.push_back(std::move(s));
      }
    }
    for (Claim& s : more) claims.push_back(std::move(s));
  }

  // ---- enrollment

  void RegisterPlatforms() {
    auto admin = v1::AdminService::NewStub(stack_->service("enrollment").channel);
    for (const std::string& p : kPlatforms) {
      grpc::Status s = Retry("RegisterPlatform " + p, [&] {
        v1::RegisterPlatformRequest req;
        v1::Platform* pl = req.mutable_platform();
        pl->set_platform_id(p);
        pl->set_name("平台" + p);
        pl->set_payout_account(PlatformAccount(p));
        pl->set_payout_bank("工商银行");
        pl->set_contact_name("王经理");
        pl->set_contact_phone(PlatformPhone(p));
        v1::RegisterPlatformResponse resp;
        return admin->RegisterPlatform(Ctx(kOperations, absl::Seconds(20)).get(), req, &resp);
      });
      if (!s.ok()) throw Abort{"RegisterPlatform " + p + ": " + s.error_message()};
    }
    Say("platforms: P01 P02 P03 registered");
  }

  // One platform's stream of records; resends the unanswered ones after a
  // broken stream (same record ids).
  struct Item {
    v1::EnrollmentRecord record;
    v1::EnrollmentResult* result;
    bool* answered;
  };
  void Stream(const std::string& platform, std::vector<Item> items) {
    auto stub = v1::EnrollmentService::NewStub(stack_->service("enrollment").channel);
    const absl::Time deadline = Clamp(absl::Now() + absl::Seconds(o_.time_limit_s));
    int attempt = 0;
    while (true) {
      std::vector<Item*> pending;
      for (Item& it : items) {
        if (!*it.answered) pending.push_back(&it);
      }
      if (pending.empty()) return;
      if (absl::Now() >= deadline || aborting.load()) throw Abort{platform + ": enrollments unanswered at the time limit"};
      if (attempt++ > 0) {
        rpc_retries.fetch_add(1);
        absl::SleepFor(absl::Milliseconds(300));
      }
      std::map<std::string, Item*> by_id;
      for (Item* it : pending) by_id[it->record.platform_record_id()] = it;
      auto ctx = Ctx(PlatformToken(platform), absl::Seconds(90));
      auto stream = stub->StreamEnrollments(ctx.get());
      std::thread writer([&] {
        for (Item* it : pending) {
          if (!stream->Write(it->record)) return;
        }
        stream->WritesDone();
      });
      v1::EnrollmentResult r;
      int got = 0;
      while (stream->Read(&r)) {
        auto at = by_id.find(r.platform_record_id());
        if (at == by_id.end()) continue;
        *at->second->result = r;
        *at->second->answered = true;
        ++got;
      }
      writer.join();
      grpc::Status s = stream->Finish();
      if (!s.ok() && !Retriable(s.error_code())) {
        throw Abort{platform + ": StreamEnrollments: " + s.error_message()};
      }
      if (!s.ok() || got < static_cast<int>(pending.size())) {
        Say("%s: stream ended (%s) with %d of %d answered; resending the rest", platform,
            s.ok() ? "ok" : s.error_message(), got, pending.size());
      }
    }
  }

  void Enroll(absl::CivilDay day) {
    std::map<std::string, std::vector<Item>> by_platform;
    for (Worker& w : workers) {
      if (w.day != day || w.record_id.empty()) continue;
      Item it;
      it.record.set_platform_record_id(w.record_id);
      it.record.set_name(w.name);
      it.record.set_id_number(w.id_number);
      it.record.set_phone(w.phone);
      it.record.set_industry(w.industry);
      it.result = &w.result;
      it.answered = &w.answered;
      by_platform[w.platform].push_back(std::move(it));
    }
    std::vector<std::thread> threads;
    std::vector<std::string> errors(by_platform.size());
    int i = 0;
    for (auto& [platform, items] : by_platform) {
      threads.emplace_back([&, p = platform, i] {
        try {
          Stream(p, std::move(items));
        } catch (const Abort& a) {
          errors[i] = a.why;
        }
      });
      ++i;
    }
    for (auto& t : threads) t.join();
    for (const auto& e : errors) {
      if (!e.empty()) throw Abort{e};
    }
    Say("enrollment %s: every record answered", DayText(day));
  }

  void EnrollResends() {
    std::map<std::string, std::vector<Item>> by_platform;
    for (Resend& r : resends) {
      const Worker& w = workers[r.worker];
      Item it;
      it.record.set_platform_record_id(r.record_id);
      it.record.set_name(w.name);
      it.record.set_id_number(w.id_number);
      it.record.set_phone(w.phone);
      it.record.set_industry(w.industry);
      it.result = &r.result;
      it.answered = &r.answered;
      by_platform[r.platform].push_back(std::move(it));
    }
    for (auto& [platform, items] : by_platform) Stream(platform, std::move(items));
    Say("enrollment: %d workers resent by another platform, answered", resends.size());
  }

  // ---- claims

  void FileClaims(int phase) {
    std::vector<Claim*> todo;
    for (Claim& c : claims) {
      if (c.phase == phase) todo.push_back(&c);
    }
    auto stub = v1::ClaimsService::NewStub(stack_->service("claims").channel);
    std::atomic<size_t> next{0};
    std::vector<std::string> errors(4);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (size_t i = next.fetch_add(1); i < todo.size(); i = next.fetch_add(1)) {
          Claim& c = *todo[i];
          v1::FileClaimResponse resp;
          grpc::Status s = Retry("FileClaim " + c.claim_id, [&] {
            v1::FileClaimRequest req;
            *req.mutable_application() = c.app;
            resp.Clear();
            return stub->FileClaim(Ctx(c.filer_token, absl::Seconds(40)).get(), req, &resp);
          });
          if (!s.ok()) {
            errors[t] = "FileClaim " + c.claim_id + ": " + s.error_message();
            return;
          }
          c.first = resp.claim();
          c.investigated = resp.claim().status() == v1::CLAIM_STATUS_INVESTIGATING;
          c.final_decision = resp.claim();
        }
      });
    }
    for (auto& t : threads) t.join();
    for (const auto& e : errors) {
      if (!e.empty()) throw Abort{e};
    }
    int inv = 0;
    for (Claim* c : todo) inv += c->investigated;
    Say("claims phase %d: %d filed and answered, %d waiting for investigators", phase, todo.size(), inv);
  }

  // The investigators decide every claim of the phase waiting for them.
  void Investigate(int phase) {
    auto stub = v1::ClaimsService::NewStub(stack_->service("claims").channel);
    int decided = 0;
    for (Claim& c : claims) {
      if (c.phase != phase || !c.investigated) continue;
      const absl::Time deadline = Clamp(absl::Now() + absl::Seconds(240));
      while (true) {
        v1::DecideInvestigationRequest req;
        req.set_claim_id(c.claim_id);
        req.set_approve(c.investigator_approves);
        req.set_reason(c.investigator_approves ? "材料齐全，核实无误" : "核实发现材料不实");
        v1::DecideInvestigationResponse resp;
        grpc::Status s = stub->DecideInvestigation(Ctx(kInvestigator, absl::Seconds(40)).get(), req, &resp);
        if (s.ok()) {
          c.final_decision = resp.claim();
          break;
        }
        if (!Retriable(s.error_code()) && s.error_code() != grpc::StatusCode::FAILED_PRECONDITION) {
          throw Abort{"DecideInvestigation " + c.claim_id + ": " + s.error_message()};
        }
        // A kill may have cut the answer off: read the claim.
        v1::GetClaimRequest g;
        g.set_claim_id(c.claim_id);
        v1::GetClaimResponse got;
        grpc::Status gs = stub->GetClaim(Ctx(kInvestigator, absl::Seconds(20)).get(), g, &got);
        if (gs.ok() && got.claim().status() != v1::CLAIM_STATUS_INVESTIGATING) {
          c.final_decision = got.claim();
          break;
        }
        if (absl::Now() > deadline) throw Abort{"DecideInvestigation " + c.claim_id + ": no verdict recorded"};
        rpc_retries.fetch_add(1);
        absl::SleepFor(absl::Milliseconds(300));
      }
      ++decided;
    }
    Say("claims phase %d: investigators decided %d claims", phase, decided);
  }

 private:
  const Options& o_;
  Stack* stack_;
  std::mt19937_64 rng_;
};

// ---------------------------------------------------------------------------
// Reading the independent sources

std::vector<v1::Envelope> ReadTopic(const std::string& topic) {
  auto client = kafka::ClientConfigFromEnv("chaos-check");
  if (!client.ok()) throw Abort{std::string(client.status().message())};
  std::vector<v1::Envelope> out;
  for (int32_t p = 0; p < 3; ++p) {
    auto reader = kafka::PartitionReader::Open(*client, topic, p, 0);
    if (!reader.ok()) throw Abort{topic + ": " + std::string(reader.status().message())};
    while (true) {
      auto m = (*reader)->Next();
      if (!m.ok()) throw Abort{topic + ": " + std::string(m.status().message())};
      if (!m->has_value()) break;
      auto env = events::ParseEnvelope(**m);
      if (env.ok()) out.push_back(*std::move(env));
    }
  }
  return out;
}

json::Value GetJson(const std::string& url, const std::string& target) {
  auto client = http::Client::ForUrl(url);
  if (!client.ok()) throw Abort{url + ": " + std::string(client.status().message())};
  auto r = client->Get(target);
  if (!r.ok() || r->status != 200) throw Abort{url + target + ": no answer"};
  auto v = json::Parse(r->body);
  if (!v.ok() || !v->is_array()) throw Abort{url + target + ": not a JSON array"};
  return *std::move(v);
}

// ---------------------------------------------------------------------------
// The run

class Run {
 public:
  explicit Run(const Options& o)
      : o_(o),
        dir_(fs::temp_directory_path() / absl::StrCat("mutualaid-chaos-", o.seed, "-", getpid())),
        stack_(o, dir_),
        rng_(o.seed),
        chaos_(o, &stack_, std::mt19937_64(o.seed ^ 0x9e3779b97f4a7c15ULL)),
        work_(o, &stack_, std::mt19937_64(o.seed + 1)) {}

  int Main() {
    Say("seed %d (repeat: --seed %d); kills %d, broker restarts %d, workers %d; dir %s", o_.seed, o_.seed,
        o_.kills, o_.broker_restarts, o_.workers, dir_.string());
    int rc = 0;
    // The last resort: past the time limit (and the grace the checks get),
    // stop every process this run started, broker included, and fail.
    std::thread([this] {
      absl::SleepFor(absl::Seconds(o_.time_limit_s + 25));
      Say("watchdog: %ds passed; stopping everything", o_.time_limit_s + 25);
      stack_.Down();
      std::fflush(stdout);
      _exit(1);
    }).detach();
    try {
      fs::create_directories(dir_);
      work_.Generate();
      Simulate(dir_, work_.workers, work_.resends, work_.claims, 1);
      work_.PlanPhase2();
      Simulate(dir_, work_.workers, work_.resends, work_.claims, 2);
      Say("plan year: %d workers (+%d resent), %d claims; simulate expects %d enrollments accepted, %d claims approved",
          work_.workers.size() - 2, work_.resends.size(), work_.claims.size(), CountAccepted(),
          CountApprovedBySim());
      stack_.Up();
      chaos_.Start();
      Drive();
      chaos_.set_phase("settling");
      // Wait for the chaos plan to finish before the final checks.
      WaitFor("the chaos plan", [&] { return chaos_.done(); }, absl::Seconds(o_.time_limit_s));
      if (!chaos_.error().empty()) throw Abort{"chaos: " + chaos_.error()};
      Check();
    } catch (const Abort& a) {
      failures.Add("aborted: " + a.why);
    }
    chaos_.Stop();
    chaos_.Join();
    Summary();
    if (failures.size() > 0) {
      std::printf("%s", stack_.LogsTail().c_str());
      rc = 1;
    }
    stack_.Down();
    if (rc == 0 && !o_.keep) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    } else {
      Say("kept %s (logs, stores, broker data)", dir_.string());
    }
    Say("%s in %.0fs", rc == 0 ? "PASSED" : "FAILED", Elapsed());
    return rc;
  }

 private:
  void Deadline() {
    if (Elapsed() > o_.time_limit_s) throw Abort{absl::StrCat("time limit (", o_.time_limit_s, "s) reached")};
  }
  void WaitFor(const std::string& what, const std::function<bool()>& cond, absl::Duration within) {
    const absl::Time deadline = absl::Now() + within;
    while (!cond()) {
      if (absl::Now() > deadline || Elapsed() > o_.time_limit_s || aborting.load()) {
        throw Abort{"timed out waiting for " + what + (chaos_.error().empty() ? "" : " (chaos: " + chaos_.error() + ")")};
      }
      absl::SleepFor(absl::Milliseconds(500));
    }
  }
  int CountAccepted() {
    int n = 0;
    for (const Worker& w : work_.workers) n += w.expected == "ACCEPTED";
    for (const Resend& r : work_.resends) n += r.expected == "ACCEPTED";
    return n;
  }
  int CountApprovedBySim() {
    int n = 0;
    for (const Claim& c : work_.claims) n += c.sim_decision == "APPROVED";
    return n;
  }

  void Phase(const std::string& name) {
    Deadline();
    chaos_.set_phase(name);
    Say("== %s", name);
  }

  void Drive() {
    Phase("platforms");
    work_.RegisterPlatforms();
    Phase("enrollment 2022-03 (集中参保)");
    stack_.SetDay(kConcentratedDay);
    work_.Enroll(kConcentratedDay);
    Phase("enrollment resends (first platform wins)");
    work_.EnrollResends();
    Phase("enrollment 2022-05 (即时参保)");
    stack_.SetDay(kInstantDay);
    work_.Enroll(kInstantDay);
    Phase("claims 2022-09-15");
    stack_.SetDay(kClaimsDay1);
    work_.FileClaims(1);
    Phase("investigations 1");
    work_.Investigate(1);
    Phase("claims 2022-10-20");
    stack_.SetDay(kClaimsDay2);
    work_.FileClaims(2);
    Phase("investigations 2");
    work_.Investigate(2);
    Phase("payouts 2022-11-01");
    stack_.SetDay(kPayDay);
  }

  // ---- the invariants

  void Expect(bool ok, const std::string& what) {
    if (!ok) failures.Add(what);
  }

  void Check() {
    chaos_.set_phase("checks");
    std::set<std::string> to_pay;
    int64_t to_pay_fen = 0;
    std::map<std::string, const Claim*> by_id;
    for (const Claim& c : work_.claims) {
      by_id[c.claim_id] = &c;
      if (c.expect_paid()) {
        to_pay.insert(c.claim_id);
        to_pay_fen += c.sim_amount;
      }
    }
    // Settle: the bank has every expected credit and the services caught up.
    Say("settling: waiting for %d credits at the bank", to_pay.size());
    WaitFor("the bank's credits", [&] {
      json::Value ledger = GetJson(stack_.bank_url(), "/v1/ledger");
      std::set<std::string> keys;
      for (const json::Value& e : ledger.items()) keys.insert(e.Find("idempotency_key")->string_value());
      for (const std::string& k : to_pay) {
        if (keys.count(k) == 0) return false;
      }
      return true;
    }, absl::Seconds(120));

    // 1. Enrollment answers as simulate says.
    int accepted = 0, rejected = 0, answers_wrong = 0;
    std::set<std::string> accepted_requests;
    std::map<std::string, const Worker*> phone_of_accepted;
    auto status_name = [](const v1::EnrollmentResult& r) {
      return Suffix(v1::EnrollmentStatus_Name(r.status()), "ENROLLMENT_STATUS_");
    };
    for (const Worker& w : work_.workers) {
      if (w.record_id.empty()) continue;
      if (status_name(w.result) != w.expected ||
          (w.expected == "ACCEPTED" && w.result.fee_fen() != w.expected_fee)) {
        ++answers_wrong;
        if (answers_wrong <= 5) {
          failures.Add(absl::StrCat("enrollment ", w.record_id, ": answered ", status_name(w.result), " fee ",
                                    w.result.fee_fen(), ", simulate says ", w.expected, " fee ", w.expected_fee));
        }
      }
      if (w.expected == "ACCEPTED") {
        ++accepted;
        accepted_requests.insert(w.platform + "/" + w.record_id);
        phone_of_accepted[w.phone] = &w;
      } else {
        ++rejected;
      }
    }
    for (const Resend& r : work_.resends) {
      if (status_name(r.result) != r.expected) {
        ++answers_wrong;
        failures.Add(absl::StrCat("resend ", r.record_id, ": answered ", status_name(r.result), ", simulate says ",
                                  r.expected));
      }
      if (r.expected == "ACCEPTED") {
        accepted_requests.insert(r.platform + "/" + r.record_id);
      } else {
        ++rejected;
      }
    }
    Say("check: enrollment answers vs simulate: %d accepted, %d rejected, %d wrong", accepted, rejected,
        answers_wrong);

    // 2. The enrollment events topic: each accepted enrollment exactly once.
    const std::string p = stack_.prefix();
    std::vector<v1::Envelope> enrollment_events = ReadTopic(p + std::string(kafka::kEnrollmentEvents));
    std::map<std::string, int> accepted_events;
    std::map<std::string, int> decided_events;  // accepted + rejected per request id
    for (const v1::Envelope& e : enrollment_events) {
      if (e.has_enrollment_accepted()) {
        ++accepted_events[e.enrollment_accepted().enrollment().request_id()];
        ++decided_events[e.enrollment_accepted().enrollment().request_id()];
      } else if (e.has_enrollment_rejected()) {
        ++decided_events[e.enrollment_rejected().request_id()];
      }
    }
    int dup_accepts = 0, missing = 0, extra = 0, redecided = 0;
    for (const std::string& id : accepted_requests) {
      auto it = accepted_events.find(id);
      if (it == accepted_events.end()) {
        ++missing;
        failures.Add("accepted enrollment " + id + " is not in the events topic");
      } else if (it->second != 1) {
        ++dup_accepts;
        failures.Add(absl::StrCat("enrollment ", id, " accepted ", it->second, " times in the events topic"));
      }
    }
    for (const auto& [id, n] : accepted_events) {
      if (accepted_requests.count(id) == 0) {
        ++extra;
        failures.Add("enrollment " + id + " accepted in the topic, but simulate rejects it");
      }
    }
    for (const auto& [id, n] : decided_events) {
      if (n > 1) {
        ++redecided;
        if (redecided <= 5) failures.Add(absl::StrCat("enrollment request ", id, " decided ", n, " times"));
      }
    }
    Say("check: enrollment events topic: %d accepted enrollments, each once: %d missing, %d twice, %d unexpected, "
        "%d requests decided more than once",
        accepted_events.size(), missing, dup_accepts, extra, redecided);

    // 3. Claims: decided once each, as simulate and the investigators say.
    std::vector<v1::Envelope> claim_events = ReadTopic(p + std::string(kafka::kClaimsEvents));
    std::map<std::string, int> decided, investigated, paid;
    std::map<std::string, v1::ClaimDecision> last;
    std::map<std::string, std::string> denial_event_claim;  // event id -> claim id
    for (const v1::Envelope& e : claim_events) {
      if (e.has_claim_decided()) {
        const auto& c = e.claim_decided().claim();
        ++decided[c.claim_id()];
        last[c.claim_id()] = c;
        if (c.status() == v1::CLAIM_STATUS_DENIED) denial_event_claim[e.event_id()] = c.claim_id();
      } else if (e.has_claim_investigation_decided()) {
        const auto& c = e.claim_investigation_decided().claim();
        ++investigated[c.claim_id()];
        last[c.claim_id()] = c;
        if (c.status() == v1::CLAIM_STATUS_DENIED) denial_event_claim[e.event_id()] = c.claim_id();
      } else if (e.has_claim_paid()) {
        ++paid[e.claim_paid().claim_id()];
      }
    }
    int claims_ok = 0, claims_wrong = 0, approved_n = 0, denied_n = 0, investigated_n = 0;
    std::map<std::string, int> by_benefit;
    std::set<std::string> denied_claims;
    for (const Claim& c : work_.claims) {
      std::vector<std::string> why;
      if (decided[c.claim_id] != 1) why.push_back(absl::StrCat("ClaimDecided ", decided[c.claim_id], " times"));
      if (investigated[c.claim_id] > 1) {
        why.push_back(absl::StrCat("ClaimInvestigationDecided ", investigated[c.claim_id], " times"));
      }
      if (c.investigated != (investigated[c.claim_id] == 1)) why.push_back("investigation recorded wrongly");
      const v1::ClaimDecision& d = last[c.claim_id];
      const bool sim_approved = c.sim_decision == "APPROVED";
      if (sim_approved) {
        if (c.first.amount_fen() != c.sim_amount) {
          why.push_back(absl::StrCat("amount ", c.first.amount_fen(), ", simulate ", c.sim_amount));
        }
        if (c.first.status() == v1::CLAIM_STATUS_DENIED) why.push_back("denied, simulate approves");
        const v1::Benefit b = c.app.facts().benefit();
        if ((b == v1::BENEFIT_ILLNESS_DEATH || b == v1::BENEFIT_ACCIDENTAL_DEATH ||
             b == v1::BENEFIT_ACCIDENTAL_DISABILITY) && !c.investigated) {
          why.push_back("a death or disability claim approved without investigation");
        }
      } else {
        std::vector<std::string> reasons;
        for (int r : c.first.decision().reasons()) reasons.push_back(ReasonName(r));
        if (c.first.status() != v1::CLAIM_STATUS_DENIED) why.push_back("approved, simulate denies");
        if (reasons != c.sim_reasons) {
          why.push_back(absl::StrCat("reasons ", absl::StrJoin(reasons, ","), ", simulate ",
                                     absl::StrJoin(c.sim_reasons, ",")));
        }
      }
      const bool expect_paid = c.expect_paid();
      const bool final_approved = d.status() == v1::CLAIM_STATUS_APPROVED || d.status() == v1::CLAIM_STATUS_PAID;
      if (final_approved != expect_paid) {
        why.push_back(absl::StrCat("final status ", v1::ClaimStatus_Name(d.status()), ", expected ",
                                   expect_paid ? "approved" : "denied"));
      }
      if (expect_paid && paid[c.claim_id] != 1) why.push_back(absl::StrCat("ClaimPaid ", paid[c.claim_id], " times"));
      if (!expect_paid && paid[c.claim_id] != 0) why.push_back("paid, but not approved");
      if (why.empty()) {
        ++claims_ok;
      } else {
        ++claims_wrong;
        failures.Add("claim " + c.claim_id + " (" + v1::Benefit_Name(c.app.facts().benefit()) +
                     "): " + absl::StrJoin(why, "; "));
      }
      approved_n += expect_paid;
      denied_n += !expect_paid;
      if (!expect_paid) denied_claims.insert(c.claim_id);
      investigated_n += c.investigated;
      ++by_benefit[Suffix(v1::Benefit_Name(c.app.facts().benefit()), "BENEFIT_")];
    }
    std::vector<std::string> kinds;
    for (const auto& [b, n] : by_benefit) kinds.push_back(absl::StrCat(b, "=", n));
    Say("check: claims vs simulate + investigators: %d right, %d wrong (%d approved and paid, %d denied, %d "
        "investigated; %s)",
        claims_ok, claims_wrong, approved_n, denied_n, investigated_n, absl::StrJoin(kinds, " "));

    // 4. The bank's ledger: every approved claim credited exactly once.
    json::Value ledger = GetJson(stack_.bank_url(), "/v1/ledger");
    std::map<std::string, int> credits;
    std::map<std::string, int64_t> credited_fen;
    int64_t ledger_fen = 0;
    for (const json::Value& e : ledger.items()) {
      const std::string key = e.Find("idempotency_key")->string_value();
      ++credits[key];
      credited_fen[key] += e.Find("amount_fen")->Int64().value_or(-1);
      ledger_fen += e.Find("amount_fen")->Int64().value_or(0);
    }
    int bank_wrong = 0;
    for (const std::string& id : to_pay) {
      const Claim& c = *by_id[id];
      if (credits[id] != 1 || credited_fen[id] != c.sim_amount) {
        ++bank_wrong;
        failures.Add(absl::StrCat("bank: claim ", id, " credited ", credits[id], " times, ", credited_fen[id],
                                  " fen; expected once, ", c.sim_amount));
      }
    }
    for (const auto& [key, n] : credits) {
      if (to_pay.count(key) == 0) {
        ++bank_wrong;
        failures.Add(absl::StrCat("bank: credit ", key, " (", n, "x) for no approved claim"));
      }
    }
    Expect(ledger_fen == to_pay_fen, absl::StrCat("bank: ledger total ", ledger_fen, " fen, expected ", to_pay_fen));
    Say("check: bank ledger: %d credits, %d fen (expected %d credits, %d fen); %d wrong", ledger.items().size(),
        ledger_fen, to_pay.size(), to_pay_fen, bank_wrong);

    // 5. The SMS gateway: at most one message per event and template;
    //    exactly one cover-start SMS per accepted worker, one payment SMS per
    //    paid claim, at most one denial SMS per denied claim.
    std::vector<v1::Envelope> payout_events = ReadTopic(p + std::string(kafka::kPayoutEvents));
    std::map<std::string, std::string> confirmed_event_claim;
    std::map<std::string, int> confirmed;
    for (const v1::Envelope& e : payout_events) {
      if (e.has_payout_confirmed()) {
        confirmed_event_claim[e.event_id()] = e.payout_confirmed().payout().claim_id();
        ++confirmed[e.payout_confirmed().payout().claim_id()];
      }
    }
    for (const std::string& id : to_pay) {
      Expect(confirmed[id] == 1, absl::StrCat("payout events: claim ", id, " confirmed ", confirmed[id], " times"));
    }
    std::map<std::string, int> accepted_event_ids;
    for (const v1::Envelope& e : enrollment_events) {
      if (e.has_enrollment_accepted()) accepted_event_ids[e.event_id()] = 1;
    }
    int sms_settle_expected = accepted + static_cast<int>(to_pay.size());
    WaitFor("the SMS", [&] {
      json::Value m = GetJson(stack_.sms_url(), "/v1/messages");
      int cover = 0, paid_sms = 0;
      for (const json::Value& x : m.items()) {
        const std::string id = x.Find("message_id")->string_value();
        cover += absl::EndsWith(id, ":COVER_STARTED");
        paid_sms += absl::EndsWith(id, ":PAYOUT_CONFIRMED");
      }
      return cover + paid_sms >= sms_settle_expected;
    }, absl::Seconds(90));
    json::Value messages = GetJson(stack_.sms_url(), "/v1/messages");
    std::map<std::string, int> per_event_template, cover_per_phone, paid_per_claim, denied_per_claim;
    std::map<std::string, int> per_template;
    int sms_wrong = 0;
    for (const json::Value& x : messages.items()) {
      const std::string id = x.Find("message_id")->string_value();
      const std::string phone = x.Find("phone")->string_value();
      ++per_event_template[id];
      size_t colon = id.rfind(':');
      const std::string event = colon == std::string::npos ? id : id.substr(0, colon);
      const std::string tmpl = colon == std::string::npos ? "" : id.substr(colon + 1);
      ++per_template[tmpl];
      if (tmpl == "COVER_STARTED") {
        ++cover_per_phone[phone];
        if (accepted_event_ids.count(event) == 0) {
          ++sms_wrong;
          failures.Add("sms: cover-start " + id + " for no EnrollmentAccepted event");
        }
      } else if (tmpl == "PAYOUT_CONFIRMED") {
        auto it = confirmed_event_claim.find(event);
        if (it == confirmed_event_claim.end()) {
          ++sms_wrong;
          failures.Add("sms: payment " + id + " for no PayoutConfirmed event");
        } else {
          ++paid_per_claim[it->second];
        }
      } else if (tmpl == "CLAIM_DENIED") {
        auto it = denial_event_claim.find(event);
        if (it == denial_event_claim.end()) {
          ++sms_wrong;
          failures.Add("sms: denial " + id + " for no denying claims event");
        } else {
          ++denied_per_claim[it->second];
        }
      }
    }
    for (const auto& [id, n] : per_event_template) {
      if (n > 1) {
        ++sms_wrong;
        failures.Add(absl::StrCat("sms: ", id, " sent ", n, " times"));
      }
    }
    for (const auto& [phone, w] : phone_of_accepted) {
      if (cover_per_phone[phone] != 1) {
        ++sms_wrong;
        failures.Add(absl::StrCat("sms: worker ", w->key, " got ", cover_per_phone[phone], " cover-start SMS"));
      }
    }
    for (const auto& [phone, n] : cover_per_phone) {
      if (phone_of_accepted.count(phone) == 0) {
        ++sms_wrong;
        failures.Add(absl::StrCat("sms: cover-start SMS to ", phone, ", no accepted worker"));
      }
    }
    for (const std::string& id : to_pay) {
      if (paid_per_claim[id] != 1) {
        ++sms_wrong;
        failures.Add(absl::StrCat("sms: claim ", id, " has ", paid_per_claim[id], " payment SMS"));
      }
    }
    int denial_sms = 0;
    for (const auto& [id, n] : denied_per_claim) {
      denial_sms += n;
      if (n > 1 || denied_claims.count(id) == 0) {
        ++sms_wrong;
        failures.Add(absl::StrCat("sms: claim ", id, " has ", n, " denial SMS"));
      }
    }
    Say("check: SMS gateway: %d messages (COVER_STARTED %d for %d accepted workers, PAYOUT_CONFIRMED %d for %d "
        "paid claims, CLAIM_DENIED %d for %d denied claims), none twice per event+template: %d wrong",
        messages.items().size(), per_template["COVER_STARTED"], accepted, per_template["PAYOUT_CONFIRMED"],
        to_pay.size(), denial_sms, denied_claims.size(), sms_wrong);

    // 6. Each service's live digest equals a replay of its topics into a fresh store.
    for (auto& s : stack_.services()) {
      std::string out;
      int code = -1;
      for (int attempt = 0; attempt < 15; ++attempt) {
        out = RunCapture(absl::StrCat(MUTUALCTL_BINARY, " replay --service ", s->name, " --topic-prefix ",
                                      stack_.prefix(), " --server ", s->address, " --token-file ",
                                      (dir_ / "operations.token").string(), " 2>&1"),
                         &code);
        if (code == 0) break;
        absl::SleepFor(absl::Seconds(2));  // still applying the last events
      }
      std::string events = "?", digest = "?";
      for (absl::string_view line : absl::StrSplit(out, '\n')) {
        if (absl::StartsWith(line, "events applied")) events = std::string(absl::StripAsciiWhitespace(line.substr(14)));
        if (absl::StartsWith(line, "digest")) digest = std::string(absl::StripAsciiWhitespace(line.substr(6)));
      }
      Expect(code == 0, "replay " + s->name + ": live digest differs from the replay (exit " +
                            std::to_string(code) + "):\n" + out);
      Say("check: replay %s: %s events, digest %s: %s", s->name, events, digest.substr(0, 16),
          code == 0 ? "EQUAL to the live digest" : "DIFFERS");
    }

    // 7. The audit.
    {
      int code = -1;
      std::string out = RunCapture(
          absl::StrCat(MUTUALCTL_BINARY, " audit verify --topic-prefix ", stack_.prefix(), " 2>&1"), &code);
      Expect(code == 0 && absl::StrContains(out, "audit: OK"), "audit verify (exit " + std::to_string(code) + "):\n" + out);
      std::string summary;
      for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) summary = std::string(line);
      Say("check: audit verify: exit %d: %s", code, summary);
    }
  }

  void Summary() {
    std::vector<KillRecord> kills = chaos_.records();
    std::map<std::string, int> per;
    for (const KillRecord& k : kills) ++per[k.what];
    Say("== summary (seed %d)", o_.seed);
    for (const KillRecord& k : kills) {
      Say("  %-12s at %6.1fs during %-40s back after %.1fs", k.what == "broker" ? "broker restart" : "kill " + k.what,
          k.at, k.phase, k.restarted_after);
    }
    std::vector<std::string> parts;
    for (const auto& [w, n] : per) parts.push_back(absl::StrCat(w, "=", n));
    Say("  kills and restarts: %s; client retries through them: %d", absl::StrJoin(parts, " "), rpc_retries.load());
    if (per.size() < 4 + (o_.broker_restarts > 0 ? 1 : 0) && failures.size() == 0) {
      failures.Add("the chaos plan did not run to its end");
    }
    Say("  failures: %d", failures.size());
  }

  const Options& o_;
  fs::path dir_;
  Stack stack_;
  std::mt19937_64 rng_;
  Chaos chaos_;
  Workload work_;
};

}  // namespace
}  // namespace mutualaid::chaos

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  mutualaid::chaos::Options o;
  if (!mutualaid::chaos::ParseOptions(argc, argv, &o)) return 2;
  mutualaid::chaos::time_limit_s.store(o.time_limit_s);
  mutualaid::chaos::Run run(o);
  return run.Main();
}
