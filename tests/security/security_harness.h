// What the security tests share: a service binary run as a child process whose
// stdout and stderr both go to files (the PII-in-logs test reads every line),
// the four services side by side on one topic prefix, and a raw gRPC call by
// method name (for RPCs enumerated from descriptors, not compiled stubs).
#ifndef MUTUALAID_TESTS_SECURITY_SECURITY_HARNESS_H_
#define MUTUALAID_TESTS_SECURITY_SECURITY_HARNESS_H_

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "service_harness.h"  // kTokens, IdNumber, Call

namespace mutualaid::testing {

inline constexpr char kDistrict[] = "district-token-00000001";  // 浦东新区 in kTokens
inline constexpr char kTestSecret[] = "a-test-deployment-secret-of-48-bytes-0123456789";

inline std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A directory for one test's processes: tokens, worker-key secret, a unique
// topic prefix. Removed at the end.
class TestDir {
 public:
  TestDir() {
    static std::mt19937_64 rng{std::random_device{}()};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    prefix_ = absl::StrCat("sec", getpid(), "-", rng() % 1000000, "-",
                           info != nullptr ? info->name() : "x", ".");
    dir_ = std::filesystem::temp_directory_path() / prefix_;
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "tokens.conf") << kTokens;
    std::ofstream(dir_ / "secret.key") << kTestSecret;
    // The master key that wraps the workers' data keys (libs/crypto).
    std::ofstream(dir_ / "master.key")
        << "73656375726974792d746573742d6d61737465722d6b65792d30313233343536\n";
  }
  ~TestDir() {
    if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir_);
  }
  const std::filesystem::path& path() const { return dir_; }
  const std::string& prefix() const { return prefix_; }

  // The config every service gets here; `extra` lines are appended.
  std::string ServiceConfig(const std::string& name, const std::string& extra = "") const {
    const char* bootstrap = std::getenv("MUTUALAID_KAFKA_BOOTSTRAP");
    return absl::StrCat("kafka.bootstrap = ", bootstrap ? bootstrap : "", "\n",
                        "kafka.partitions = 3\n", "kafka.topic_prefix = ", prefix_, "\n",
                        "grpc.listen = 127.0.0.1:0\n", "auth.tokens_file = tokens.conf\n",
                        "store.path = store-", name, "\n", "worker_key.secret_file = secret.key\n", "crypto.master_key_file = master.key\n",
                        "clock = simulated\n", extra, "\n");
  }

 private:
  std::string prefix_;
  std::filesystem::path dir_;
};

// The extra config of each of the four services run side by side against a
// fake bank on `bank_port` and a fake SMS gateway on `sms_port`, their
// simulated clocks at `day`, with short ticks and retries for tests: name ->
// config lines, in the order to start them.
inline std::vector<std::pair<std::string, std::string>> FourServiceConfigs(int bank_port, int sms_port,
                                                                           const std::string& day) {
  const std::string clock = absl::StrCat("clock.start = ", day, "\n");
  return {
      {"enrollment", clock},
      {"claims", clock},
      {"payout", absl::StrCat(clock, "bank.url = http://127.0.0.1:", bank_port,
                              "\nbank.timeout = 2s\nbank.connect_timeout = 1s\npayout.tick_interval = 100ms\n"
                              "payout.retry_base = 1s\npayout.retry_max = 2s\npayout.pending_recheck = 1s\n")},
      {"notification",
       absl::StrCat(clock, "sms.gateway_url = http://127.0.0.1:", sms_port,
                    "\nsms.gateway_timeout = 2s\nsms.tick_interval = 100ms\nsms.retry_initial = 200ms\n"
                    "sms.retry_max = 2s\nsms.rate = 50\nsms.daily_cap = 0\nsms.quiet_hours = none\n")},
  };
}

// A binary with `--config NAME.conf` in `dir`; stdout to NAME.stdout, stderr
// to NAME.stderr; started when it printed "listening ADDRESS".
class LoggedProcess {
 public:
  LoggedProcess(std::string binary, std::string name, std::filesystem::path dir,
                const std::string& config)
      : binary_(std::move(binary)), name_(std::move(name)), dir_(std::move(dir)) {
    std::ofstream(dir_ / (name_ + ".conf")) << config;
  }
  ~LoggedProcess() { Kill(); }

  // Starts it; false (with the reason in *error) if it exited or printed no
  // "listening" line within 120 s.
  bool Start(std::string* error) {
    std::filesystem::remove(stdout_path());
    pid_ = fork();
    if (pid_ == 0) {
      if (chdir(dir_.c_str()) != 0) _exit(126);
      if (std::freopen(stdout_path().c_str(), "w", stdout) == nullptr) _exit(125);
      if (std::freopen(stderr_path().c_str(), "a", stderr) == nullptr) _exit(125);
      const std::string config = name_ + ".conf";
      execl(binary_.c_str(), binary_.c_str(), "--config", config.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
      std::string out = ReadAll(stdout_path());
      size_t at = out.find("listening ");
      size_t nl = out.find('\n', at);
      if (at != std::string::npos && nl != std::string::npos) {
        address_ = out.substr(at + 10, nl - at - 10);
        return true;
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        *error = absl::StrCat(name_, " exited while starting (status ", status, "); stderr:\n",
                              Tail(ReadAll(stderr_path())));
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    *error = absl::StrCat(name_, " printed no 'listening' line in 120 s; stderr:\n",
                          Tail(ReadAll(stderr_path())));
    return false;
  }
  // SIGTERM and wait: the exit code (-1 if it was not running or was killed).
  int Stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  void Kill() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  bool Running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }

  const std::string& name() const { return name_; }
  const std::string& address() const { return address_; }
  std::filesystem::path stdout_path() const { return dir_ / (name_ + ".stdout"); }
  std::filesystem::path stderr_path() const { return dir_ / (name_ + ".stderr"); }
  std::string StderrTail() const { return Tail(ReadAll(stderr_path())); }

 private:
  static std::string Tail(const std::string& s) {
    return s.size() > 4000 ? s.substr(s.size() - 4000) : s;
  }
  std::string binary_;
  std::string name_;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  std::string address_;
};

// One call of `method` ("/pkg.Service/Method") with raw request bytes, for any
// kind of RPC: start, write `request` (unless null), half-close, read every
// response, finish. `token` empty: no authorization header.
inline grpc::Status RawCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                            const std::string& token, const std::string* request,
                            std::vector<std::string>* responses = nullptr,
                            absl::Duration timeout = absl::Seconds(30)) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
  ctx.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  grpc::CompletionQueue cq;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call = stub.PrepareCall(&ctx, method, &cq);
  void* tag = nullptr;
  bool ok = false;
  auto next = [&] {
    ok = false;
    return cq.Next(&tag, &ok) && ok;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  bool open = next();
  if (open && request != nullptr) {
    grpc::Slice slice(*request);
    grpc::ByteBuffer buffer(&slice, 1);
    call->Write(buffer, reinterpret_cast<void*>(2));
    open = next();
  }
  if (open) {
    call->WritesDone(reinterpret_cast<void*>(3));
    open = next();
  }
  while (open) {
    grpc::ByteBuffer in;
    call->Read(&in, reinterpret_cast<void*>(4));
    if (!next()) break;
    if (responses != nullptr) {
      std::vector<grpc::Slice> slices;
      (void)in.Dump(&slices);
      std::string bytes;
      for (const grpc::Slice& s : slices) {
        bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
      responses->push_back(std::move(bytes));
    }
  }
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  next();
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return status;
}

// grpc.health.v1.Health/Check of the whole server: true when SERVING.
inline grpc::Status HealthCheck(const std::shared_ptr<grpc::Channel>& channel, bool* serving) {
  const std::string empty;  // HealthCheckRequest{service: ""}
  std::vector<std::string> responses;
  grpc::Status s = RawCall(channel, "/grpc.health.v1.Health/Check", "", &empty, &responses,
                           absl::Seconds(10));
  // HealthCheckResponse{status: SERVING (1)} is the two bytes 08 01.
  *serving = s.ok() && responses.size() == 1 && responses[0] == std::string("\x08\x01", 2);
  return s;
}

}  // namespace mutualaid::testing

#endif  // MUTUALAID_TESTS_SECURITY_SECURITY_HARNESS_H_
