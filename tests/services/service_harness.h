// Runs a service binary as a child process against the real broker, with its
// own config, topics (a unique kafka.topic_prefix), store and simulated clock,
// and gives tests authenticated gRPC stubs. Kill/Restart for crash tests.
#ifndef MUTUALAID_TESTS_SERVICES_SERVICE_HARNESS_H_
#define MUTUALAID_TESTS_SERVICES_SERVICE_HARNESS_H_

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "mutualaid/plan/validation.h"

namespace mutualaid::testing {

// Tokens every harness config accepts.
inline constexpr char kTokens[] = R"(platform-p01-token-0001  platform     P01
platform-p02-token-0002  platform     P02
platform-p03-token-0003  platform     P03
reviewer-token-00000001  reviewer     li
hall-clerk-token-000001  hall         wang
district-token-00000001  district     浦东新区
investigator-token-0001  investigator zhao
finance-token-000000001  finance      qian
operations-token-000001  operations   ops
)";
inline constexpr char kP01[] = "platform-p01-token-0001";
inline constexpr char kP02[] = "platform-p02-token-0002";
inline constexpr char kReviewer[] = "reviewer-token-00000001";
inline constexpr char kHall[] = "hall-clerk-token-000001";
inline constexpr char kInvestigator[] = "investigator-token-0001";
inline constexpr char kFinance[] = "finance-token-000000001";
inline constexpr char kOperations[] = "operations-token-000001";

// A valid 18-character ID number born on `birth` (YYYYMMDD), Shanghai code.
inline std::string IdNumber(const std::string& birth, int serial) {
  char seq[8];
  std::snprintf(seq, sizeof seq, "%03d", (serial % 1000 + 1000) % 1000);
  std::string first17 = absl::StrCat("310101", birth, seq);
  return first17 + plan::IdNumberCheckChar(first17);
}

inline std::unique_ptr<grpc::ClientContext> Call(const std::string& token,
                                                 absl::Duration timeout = absl::Seconds(60)) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + absl::ToChronoSeconds(timeout));
  return ctx;
}

// A card number: `first15` and a valid Luhn check digit.
inline std::string LuhnCard(const std::string& first15) {
  int sum = 0;
  bool twice = true;
  for (auto it = first15.rbegin(); it != first15.rend(); ++it, twice = !twice) {
    int d = *it - '0';
    if (twice) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return first15 + std::to_string((10 - sum % 10) % 10);
}

// A shell command's exit code and its stdout and stderr together.
struct ShellResult {
  int code = -1;
  std::string out;
};
inline ShellResult Shell(const std::string& cmd) {
  ShellResult r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, got);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Polls `done` every `interval` until it holds or `timeout` has passed (then
// once more). True if it held. A condition poll with a deadline, not a
// timing assertion.
template <typename F>
bool WaitFor(F done, absl::Duration timeout, absl::Duration interval = absl::Milliseconds(100)) {
  const auto deadline = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(interval));
  }
  return done();
}

class ServiceProcess {
 public:
  // `extra` config lines are appended (e.g. "clock.start = 2022-05-10").
  ServiceProcess(std::string binary, std::string name, std::string extra = "")
      : binary_(std::move(binary)), name_(std::move(name)) {
    static std::mt19937_64 rng{std::random_device{}()};
    const char* bootstrap = std::getenv("MUTUALAID_KAFKA_BOOTSTRAP");
    EXPECT_NE(bootstrap, nullptr) << "MUTUALAID_KAFKA_BOOTSTRAP is not set";
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    prefix_ = absl::StrCat("t", getpid(), "-", rng() % 1000000, "-",
                           info != nullptr ? info->name() : "x", ".");
    dir_ = std::filesystem::temp_directory_path() / prefix_;
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "tokens.conf") << kTokens;
    std::ofstream(dir_ / "secret.key") << "a-test-deployment-secret-of-48-bytes-0123456789";
    // The master key that wraps the workers' data keys (libs/crypto).
    std::ofstream(dir_ / "master.key")
        << "6d757475616c6169642d746573742d6d61737465722d6b65792d303132333435\n";
    std::ofstream(dir_ / "service.conf")
        << "kafka.bootstrap = " << (bootstrap ? bootstrap : "") << "\n"
        << "kafka.partitions = 3\n"
        << "kafka.topic_prefix = " << prefix_ << "\n"
        << "grpc.listen = 127.0.0.1:0\n"
        << "auth.tokens_file = tokens.conf\n"
        << "store.path = store-" << name_ << "\n"
        << "worker_key.secret_file = secret.key\n"
        << "crypto.master_key_file = master.key\n"
        << "clock = simulated\n"
        << extra << "\n";
  }
  // Another service on `other`'s topics (same kafka.topic_prefix), tokens,
  // worker-key secret and directory, with its own config, store and log: how
  // a test runs several services that talk through the topics. `other` must
  // outlive this one (it owns the directory).
  ServiceProcess(std::string binary, std::string name, const ServiceProcess& other,
                 std::string extra = "")
      : binary_(std::move(binary)),
        name_(std::move(name)),
        prefix_(other.prefix_),
        dir_(other.dir_),
        config_(name_ + ".conf"),
        owns_dir_(false) {
    const char* bootstrap = std::getenv("MUTUALAID_KAFKA_BOOTSTRAP");
    std::ofstream(dir_ / config_)
        << "kafka.bootstrap = " << (bootstrap ? bootstrap : "") << "\n"
        << "kafka.partitions = 3\n"
        << "kafka.topic_prefix = " << prefix_ << "\n"
        << "grpc.listen = 127.0.0.1:0\n"
        << "auth.tokens_file = tokens.conf\n"
        << "store.path = store-" << name_ << "\n"
        << "worker_key.secret_file = secret.key\n"
        << "crypto.master_key_file = master.key\n"
        << "clock = simulated\n"
        << extra << "\n";
  }
  ~ServiceProcess() {
    Kill();
    if (owns_dir_) std::filesystem::remove_all(dir_);
  }

  const std::filesystem::path& dir() const { return dir_; }
  const std::string& prefix() const { return prefix_; }

  // Starts the service and waits for its "listening ADDRESS" line.
  void Start() {
    int out[2];
    ASSERT_EQ(pipe(out), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      if (chdir(dir_.c_str()) != 0) _exit(126);
      std::string log = (dir_ / (name_ + ".log")).string();
      FILE* err = std::freopen(log.c_str(), "a", stderr);
      (void)err;
      execl(binary_.c_str(), binary_.c_str(), "--config", config_.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    FILE* f = fdopen(out[0], "r");
    char line[256] = {0};
    bool got = std::fgets(line, sizeof line, f) != nullptr;
    std::fclose(f);
    ASSERT_TRUE(got) << name_ << " did not start; its log:\n" << Log();
    std::string l(line);
    ASSERT_EQ(l.rfind("listening ", 0), 0u) << l;
    address_ = l.substr(10, l.find_last_not_of("\n") - 9);
    channel_ = grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
  }
  void Kill() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  int Stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::string Log() const {
    std::ifstream in(dir_ / (name_ + ".log"));
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return s.size() > 4000 ? s.substr(s.size() - 4000) : s;
  }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  const std::string& address() const { return address_; }

 private:
  std::string binary_;
  std::string name_;
  std::string prefix_;
  std::filesystem::path dir_;
  std::string config_ = "service.conf";
  bool owns_dir_ = true;
  pid_t pid_ = -1;
  std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace mutualaid::testing

#endif  // MUTUALAID_TESTS_SERVICES_SERVICE_HARNESS_H_
