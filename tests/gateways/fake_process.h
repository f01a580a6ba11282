// Runs a gateway fake as a child process and finds its port from the
// "listening HOST:PORT" line it prints.
#ifndef MUTUALAID_TESTS_GATEWAYS_FAKE_PROCESS_H_
#define MUTUALAID_TESTS_GATEWAYS_FAKE_PROCESS_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "mutualaid/http/client.h"
#include "mutualaid/json/json.h"

namespace mutualaid::testing {

class FakeProcess {
 public:
  // Starts `binary args...`; waits up to 10 s for its "listening" line.
  FakeProcess(std::string binary, std::vector<std::string> args) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      std::vector<char*> argv;
      argv.push_back(binary.data());
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(binary.c_str(), argv.data());
      _exit(127);
    }
    ::close(out[1]);
    stdout_ = out[0];
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{stdout_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char c;
      if (::read(stdout_, &c, 1) != 1) break;
      if (c == '\n') break;
      line.push_back(c);
    }
    const std::string prefix = "listening 127.0.0.1:";
    if (line.rfind(prefix, 0) == 0) port_ = std::atoi(line.c_str() + prefix.size());
  }

  ~FakeProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (stdout_ >= 0) ::close(stdout_);
  }

  int port() const { return port_; }
  bool started() const { return port_ > 0; }

  http::Client Client(http::ClientOptions options = {}) const {
    return http::Client("127.0.0.1", port_, options);
  }

  // SIGKILL: no chance to flush or clean up.
  void Kill() { Signal(SIGKILL); }
  // SIGTERM, then the exit code (or -signal).
  int Terminate() { return Signal(SIGTERM); }

  // Waits up to 10 s for the process to exit by itself; its exit code, or
  // nullopt if it is still running.
  std::optional<int> WaitExit() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
      }
      pollfd p{stdout_, POLLIN, 0};  // paces the loop; wakes when the pipe closes
      ::poll(&p, 1, 20);
      if (p.revents & POLLIN) {
        char drain[256];
        (void)!::read(stdout_, drain, sizeof drain);
      }
    }
    return std::nullopt;
  }

 private:
  int Signal(int sig) {
    if (pid_ <= 0 || exited_) return 0;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

  pid_t pid_ = -1;
  int stdout_ = -1;
  int port_ = 0;
  bool exited_ = false;
};

// Runs `binary args...` to completion; its exit code.
inline int RunToExit(const std::string& binary, std::vector<std::string> args) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    std::string b = binary;
    argv.push_back(b.data());
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

// A fresh directory for one test.
inline std::filesystem::path TempDir() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              absl::StrCat("mutualaid-gateways-", ::getpid(), "-",
                                           info->test_suite_name(), "-", info->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline json::Value ParseOrDie(std::string_view text) {
  absl::StatusOr<json::Value> v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << v.status() << ": " << text;
  return v.ok() ? *v : json::Value();
}

inline std::string Str(const json::Value& object, std::string_view field) {
  const json::Value* v = object.Find(field);
  return v == nullptr ? "<missing>" : v->string_value();
}

}  // namespace mutualaid::testing

#endif  // MUTUALAID_TESTS_GATEWAYS_FAKE_PROCESS_H_
